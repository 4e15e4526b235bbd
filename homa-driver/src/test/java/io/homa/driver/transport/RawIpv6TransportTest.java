package io.homa.driver.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the raw IPv6 transport refuses before it opens anything; the transport itself is exercised between
 * network namespaces by the system tests.
 */
class RawIpv6TransportTest
{
    @TempDir
    Path dir;

    @Test
    void shouldSayWhyIpv6IsUnavailable() throws Exception
    {
        final Path ifInet6 = dir.resolve("if_inet6");
        final Path disable = dir.resolve("disable_ipv6");
        final String bootDisabled = RawIpv6Transport.ipv6DisabledReason(ifInet6, disable);
        assertTrue(bootDisabled.contains("IPv6 is disabled") && bootDisabled.contains("ipv6.disable=1"), bootDisabled);

        Files.writeString(ifInet6, "");
        Files.writeString(disable, "1\n");
        final String sysctl = RawIpv6Transport.ipv6DisabledReason(ifInet6, disable);
        assertTrue(sysctl.contains("IPv6 is disabled") && sysctl.contains("disable_ipv6"), sysctl);

        Files.writeString(disable, "0\n");
        assertNull(RawIpv6Transport.ipv6DisabledReason(ifInet6, disable));
    }

    @Test
    void shouldRefuseAddressesADriverCannotOwn() throws Exception
    {
        assertTrue(reason("::").contains("specific local address"), reason("::"));
        assertTrue(reason("ff02::1").contains("multicast"), reason("ff02::1"));
        assertTrue(reason("fe80::1").contains("link-local"), reason("fe80::1"));
        assertNull(reason("fd00::2"));
        assertNull(reason("::1"));
        assertNull(reason("2001:db8::1"));
    }

    private static String reason(final String address) throws Exception
    {
        return RawIpv6Transport.unusableAddressReason(InetAddress.getByName(address).getAddress());
    }
}
