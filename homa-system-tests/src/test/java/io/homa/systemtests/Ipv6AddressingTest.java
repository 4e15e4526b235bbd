package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 where it cannot work, without privileges: transports that speak IPv4 only refuse an IPv6 address before
 * anything is made, and an IPv4 driver refuses to name an IPv6 peer. (IPv6 itself is tested between namespaces.)
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Ipv6AddressingTest
{
    @ParameterizedTest
    @ValueSource(strings = { "packet-ring", "udp", "udp-batch" })
    void shouldRefuseAnIpv6AddressForAnIpv4OnlyTransportWithAClearMessage(final String transport)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context().transportName(transport).udpAddress("::1");
        final IllegalArgumentException refused =
            assertThrows(IllegalArgumentException.class, () -> MediaDriver.launchEmbedded(ctx));
        final String message = refused.getMessage();
        assertTrue(message.contains("homa.udp.address ::1 is IPv6 but homa.transport=" + transport), message);
        assertTrue(message.contains("IPv4 only"), message);
        assertTrue(message.contains("use homa.transport=raw for IPv6"), message);
        assertFalse(new File(ctx.homaDirectoryName()).exists(), "refused before the directory was made");
    }

    @Test
    void shouldRefuseToNameAnIpv6PeerOnAnIpv4Driver() throws Exception
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context());
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        try
        {
            assertNull(homa.driverIpv6Address());
            assertFalse(homa.driverAddress(5).isIpv6());
            final HomaException refused = assertThrows(HomaException.class,
                () -> homa.address(InetAddress.getByName("fd00::2"), 0, 99));
            assertEquals(HomaError.EAFNOSUPPORT, refused.errorCode());
            assertTrue(refused.getMessage().contains("needs an IPv6 driver"), refused.getMessage());
            // An IPv4 address needs no driver.
            assertEquals("10.0.0.2:4000/99", homa.address(InetAddress.getByName("10.0.0.2"), 4000, 99).toString());
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }
}
