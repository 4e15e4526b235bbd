package io.homa.driver.net;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    /**
     * The kernel's own list of IPv6 addresses (the JDK hides them from tests, which run with preferIPv4Stack):
     * address, index, prefix length, scope, flags, name per line.
     */
    private static List<String[]> procIpv6Addresses() throws Exception
    {
        final Path ifInet6 = Path.of("/proc/net/if_inet6");
        assumeTrue(Files.exists(ifInet6), "IPv6 is disabled");
        final List<String[]> result = new ArrayList<>();
        for (final String line : Files.readAllLines(ifInet6))
        {
            final String[] fields = line.trim().split("\\s+");
            // Scope 0x20 is link-local: the driver refuses those.
            if (6 == fields.length && 0x20 != Integer.parseInt(fields[3], 16))
            {
                result.add(fields);
            }
        }
        return result;
    }

    private static InetAddress parseHex(final String hex) throws Exception
    {
        final byte[] bytes = new byte[16];
        for (int i = 0; i < 16; i++)
        {
            bytes[i] = (byte)Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return InetAddress.getByAddress(bytes);
    }

    @Test
    void shouldAgreeWithProcOnEveryIpv6InterfaceAddress() throws Exception
    {
        final List<String[]> addresses = procIpv6Addresses();
        assumeTrue(!addresses.isEmpty(), "no IPv6 address on this host");
        for (final String[] fields : addresses)
        {
            final NicDiscovery.Nic nic = NicDiscovery.discover(parseHex(fields[0]));
            final String name = fields[5];
            assertEquals(name, nic.name(), fields[0]);
            assertEquals(Integer.parseInt(fields[1], 16), nic.index(), fields[0]);
            final int ipv6Mtu = Integer.parseInt(
                Files.readAllLines(Path.of("/proc/sys/net/ipv6/conf", name, "mtu")).get(0).trim());
            assertEquals(ipv6Mtu, nic.mtu(), fields[0]);
        }
    }

    @Test
    void shouldFindInterfaceWhoseIpv6PrefixCoversAnUnassignedAddress() throws Exception
    {
        for (final String[] fields : procIpv6Addresses())
        {
            if (Integer.parseInt(fields[2], 16) <= 120)
            {
                final byte[] other = parseHex(fields[0]).getAddress();
                other[15] ^= 0x55;
                final NicDiscovery.Nic nic = NicDiscovery.discover(InetAddress.getByAddress(other));
                assertEquals(fields[5], nic.name(), fields[0]);
                return;
            }
        }
        assumeTrue(false, "no IPv6 address with a prefix on this host");
    }

    @Test
    void shouldSayWhyNoInterfaceHoldsAnIpv6Address() throws Exception
    {
        assumeTrue(Files.exists(Path.of("/proc/net/if_inet6")), "IPv6 is disabled");
        // 2001:db8::/32 is for documentation: no interface here holds or covers it.
        final NicDiscovery.Nic nic = NicDiscovery.discover(InetAddress.getByName("2001:db8::1"));
        assertEquals(0, nic.index());
        assertTrue(nic.mtuSource().contains("no interface holds or covers 2001:db8::1"), nic.mtuSource());
    }

    @Test
    void shouldFindLoopbackForIpv6Localhost() throws Exception
    {
        assumeTrue(Files.exists(Path.of("/proc/net/if_inet6")), "IPv6 is disabled");
        final NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("127.0.0.1"));
        final NicDiscovery.Nic nic = NicDiscovery.discover(InetAddress.getByName("::1"));
        assertEquals(lo.getName(), nic.name());
        assertEquals(lo.getMTU(), nic.mtu());
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
