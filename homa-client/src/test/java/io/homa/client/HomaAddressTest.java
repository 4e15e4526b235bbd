package io.homa.client;

import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HomaAddressTest
{
    @Test
    void shouldPrintIpv6AddressesInTheirShortForm() throws Exception
    {
        final String[][] cases = {
            { "fd00:146:1::2", "fd00:146:1::2" },
            { "::1", "::1" },
            { "::", "::" },
            { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
            { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
            { "1:0:0:0:0:0:0:0", "1::" },
            { "FD00:0:0:0:0:0:0:ABCD", "fd00::abcd" },
        };
        for (final String[] c : cases)
        {
            assertEquals(c[1], HomaAddress.ipv6ToString(InetAddress.getByName(c[0]).getAddress()), c[0]);
        }
        assertEquals("10.0.0.2", HomaAddress.ipv6ToString(new byte[]{ 10, 0, 0, 2 }));
    }

    @Test
    void shouldSendIpv6PeersToTheDriverThatNamesThem() throws Exception
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> HomaAddress.of(InetAddress.getByName("fd00::2"), 0, 99));
        assertTrue(ex.getMessage().contains("fd00::2"), ex.getMessage());
        assertTrue(ex.getMessage().contains("Homa.address(InetAddress, udpPort, port)"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HomaAddress.of("::1", 0, 99));
    }

    @Test
    void shouldShowTheIpv6FormOfADriverNamedPeer() throws Exception
    {
        final Inet6Address b = (Inet6Address)InetAddress.getByName("fd00:146:1::2");
        final HomaAddress named = HomaAddress.ofIpv6(2, b, 0, 99, 77);
        assertTrue(named.isIpv6());
        assertEquals(2, named.ipv4());
        assertEquals(b, named.inetAddress());
        assertEquals("[fd00:146:1::2]:0/99", named.toString());
        assertEquals(named, HomaAddress.ofIpv6(2, b, 0, 99, 77));
        assertNotEquals(named, HomaAddress.ofIpv6(2, b, 0, 99, 78), "another driver's key");
        assertNotEquals(named, HomaAddress.of(2, 0, 99));

        final HomaAddress ipv4 = HomaAddress.of(0x0A000002, 4000, 99);
        assertFalse(ipv4.isIpv6());
        assertEquals(InetAddress.getByName("10.0.0.2"), ipv4.inetAddress());
        assertEquals("10.0.0.2:4000/99", ipv4.toString());
    }
}
