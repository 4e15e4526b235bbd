package io.homa.driver.net;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.util.Collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NIC discovery checked against the JDK's own view of the interfaces (which reads them another way).
 */
class NicDiscoveryTest
{
    @Test
    void shouldFindLoopbackWithItsMtuForLocalhost() throws Exception
    {
        final NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("127.0.0.1"));
        final NicDiscovery.Nic nic = NicDiscovery.discover(0x7F000001);
        assertEquals(lo.getName(), nic.name());
        assertEquals(lo.getIndex(), nic.index());
        assertEquals(lo.getMTU(), nic.mtu());
        assertEquals("rtnetlink", nic.mtuSource());
    }

    @Test
    void shouldFindInterfaceWhosePrefixCoversAnUnassignedAddress() throws Exception
    {
        // 127.0.0.2 is nobody's address, but lo's 127.0.0.1/8 covers it (and the kernel delivers it there).
        final NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("127.0.0.1"));
        final NicDiscovery.Nic nic = NicDiscovery.discover(0x7F000002);
        assertEquals(lo.getName(), nic.name());
        assertEquals(lo.getMTU(), nic.mtu());
    }

    @Test
    void shouldReportUnknownLoopbackSpeedWithTheReason()
    {
        final NicDiscovery.Nic nic = NicDiscovery.discover(0x7F000001);
        assertEquals(0, nic.linkMbps());
        // Loopback has no ethtool link settings: EOPNOTSUPP.
        assertTrue(nic.speedSource().contains("errno 95"), nic.speedSource());
        assertTrue(nic.describe().contains("speed unknown"), nic.describe());
    }

    @Test
    void shouldAgreeWithJdkOnEveryIpv4Interface() throws Exception
    {
        int checked = 0;
        for (final NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces()))
        {
            if (!nif.isUp())
            {
                continue;
            }
            for (final InterfaceAddress address : nif.getInterfaceAddresses())
            {
                if (address.getAddress() instanceof Inet4Address)
                {
                    final NicDiscovery.Nic nic = NicDiscovery.discover(UdpSocket.ipv4ToInt(address.getAddress()));
                    assertEquals(nif.getName(), nic.name(), address.toString());
                    assertEquals(nif.getMTU(), nic.mtu(), address.toString());
                    assertTrue(nic.linkMbps() >= 0);
                    checked++;
                }
            }
        }
        assertTrue(checked > 0);
    }

    @Test
    void shouldNameNoInterfaceForAnAddressNoPrefixCovers()
    {
        // 0.0.0.1 is in no interface's prefix (0.0.0.0/8 is never assigned).
        final NicDiscovery.Nic nic = NicDiscovery.discover(0x00000001);
        assertEquals(0, nic.index());
        assertEquals(0, nic.mtu());
        assertTrue(nic.mtuSource().startsWith("no interface"), nic.mtuSource());
    }

    @Test
    void shouldPickAnUpInterfaceForTheWildcardAddress()
    {
        final NicDiscovery.Nic nic = NicDiscovery.discover(0);
        assertTrue(nic.index() > 0, nic.describe());
        assertTrue(nic.mtu() >= 576, nic.describe());
    }
}
