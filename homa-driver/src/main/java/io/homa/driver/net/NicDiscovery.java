/*
 * Copyright 2026 The Homa for the JVM authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.homa.driver.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.homa.driver.net.LibC.AF_INET;
import static io.homa.driver.net.LibC.AF_INET6;
import static io.homa.driver.net.LibC.AF_NETLINK;
import static io.homa.driver.net.LibC.SIOCETHTOOL;
import static io.homa.driver.net.LibC.SOCK_CLOEXEC;
import static io.homa.driver.net.LibC.SOCK_DGRAM;
import static io.homa.driver.net.LibC.SOCK_RAW;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * What the driver learns at start about the network interface behind its address: the interface (rtnetlink
 * {@code RTM_GETADDR} for the address's family: the one holding the address, else the one whose prefix covers it,
 * as 127.0.0.2 is covered by lo's 127.0.0.1/8), its MTU (rtnetlink {@code RTM_GETLINK}; for IPv6 the interface's
 * own IPv6 MTU from {@code /proc/sys/net/ipv6/conf/<name>/mtu} where it can be read) and its link speed
 * ({@code SIOCETHTOOL} {@code ETHTOOL_GLINKSETTINGS}, falling back to the legacy {@code ETHTOOL_GSET}).
 * <p>
 * Setup-time only: it allocates freely and never throws for a missing fact; an unknown value is reported as 0 with
 * the reason in {@link Nic#speedSource()} / {@link Nic#mtuSource()}. Loopback has no ethtool support
 * (EOPNOTSUPP), virtio reports SPEED_UNKNOWN, veth reports 10000 Mb/s.
 */
public final class NicDiscovery
{
    private static final ValueLayout.OfInt NETWORK_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);

    private static final int NETLINK_ROUTE = 0;
    private static final int NLMSG_HEADER_LENGTH = 16;
    private static final int NLMSG_ERROR = 2;
    private static final int NLMSG_DONE = 3;
    private static final int NLM_F_REQUEST = 0x1;
    private static final int NLM_F_DUMP = 0x300;
    private static final int RTM_NEWLINK = 16;
    private static final int RTM_GETLINK = 18;
    private static final int RTM_NEWADDR = 20;
    private static final int RTM_GETADDR = 22;
    private static final int IFINFOMSG_LENGTH = 16;
    private static final int IFADDRMSG_LENGTH = 8;
    private static final int IFLA_ADDRESS = 1;
    private static final int IFLA_IFNAME = 3;
    private static final int RTM_NEWNEIGH = 28;
    private static final int RTM_GETNEIGH = 30;
    private static final int NDMSG_LENGTH = 12;
    private static final int NDA_DST = 1;
    private static final int NDA_LLADDR = 2;
    private static final int NUD_INCOMPLETE = 0x01;
    private static final int NUD_FAILED = 0x20;
    private static final int IFLA_MTU = 4;
    private static final int IFA_ADDRESS = 1;
    private static final int IFA_LOCAL = 2;
    private static final int IFF_UP = 0x1;
    private static final int IFF_LOOPBACK = 0x8;

    private static final int IFREQ_LENGTH = 40;
    private static final int IFREQ_DATA_OFFSET = 16;
    private static final int ETHTOOL_GSET = 0x1;
    private static final int ETHTOOL_GLINKSETTINGS = 0x4c;
    private static final int LINK_SETTINGS_LENGTH = 48;
    private static final int LINK_SETTINGS_NWORDS_OFFSET = 15;
    /** {@code struct ethtool_cmd}: speed u16 @12, speed_hi u16 @28. */
    private static final int ETHTOOL_CMD_LENGTH = 44;
    private static final long SPEED_UNKNOWN = 0xFFFF_FFFFL;

    private static final int BUFFER_LENGTH = 64 * 1024;

    /**
     * Facts about one interface.
     *
     * @param name        interface name, e.g. {@code lo}, {@code eth0}, {@code veth1}.
     * @param index       interface index.
     * @param mtu         MTU in bytes, 0 if unknown.
     * @param linkMbps    link speed in Mb/s, 0 if unknown.
     * @param mtuSource   where the MTU came from, or why it is unknown.
     * @param speedSource where the speed came from, or why it is unknown.
     * @param hardwareAddress the interface's MAC address in the low 48 bits (0 for loopback or unknown).
     */
    public record Nic(
        String name, int index, int mtu, int linkMbps, String mtuSource, String speedSource, long hardwareAddress)
    {
        /**
         * @return one line for logs.
         */
        public String describe()
        {
            return "nic " + name + " (index " + index + "): mtu " + (mtu > 0 ? mtu : "unknown") + " (" + mtuSource +
                "), link " + (linkMbps > 0 ? linkMbps + " Mb/s" : "speed unknown") + " (" + speedSource + ")";
        }
    }

    private NicDiscovery()
    {
    }

    /**
     * Finds the interface for a local IPv4 or IPv6 address and reads its MTU and link speed.
     *
     * @param address local address; a wildcard picks the first interface that is up and not loopback.
     * @return what was found; {@code index} 0 and name {@code "?"}, with the reason, when no interface matches.
     */
    public static Nic discover(final InetAddress address)
    {
        if (!(address instanceof Inet6Address))
        {
            return discover(UdpSocket.ipv4ToInt(address));
        }
        final byte[] bytes = address.getAddress();
        final List<Ipv6Address> addresses;
        final List<Link> links;
        try
        {
            addresses = dumpIpv6Addresses();
            links = dumpLinks();
        }
        catch (final RuntimeException ex)
        {
            return new Nic("?", 0, 0, 0, "rtnetlink failed: " + ex.getMessage(), "not read", 0);
        }
        final boolean isAny = address.isAnyLocalAddress();
        final int index = isAny ? chooseInterface(0, List.of(), links) : chooseIpv6Interface(bytes, addresses);
        final Link link = linkOf(index, links);
        if (null == link)
        {
            return new Nic("?", 0, 0, 0, "no interface holds or covers " +
                io.homa.client.HomaAddress.ipv6ToString(bytes) +
                " (rtnetlink RTM_GETADDR, AF_INET6)", "not read", 0);
        }
        int mtu = link.mtu;
        String mtuSource = "rtnetlink";
        try
        {
            // readAllLines: Files.readString takes a short read of a sysctl file as its end.
            final int ipv6Mtu = Integer.parseInt(
                Files.readAllLines(Path.of("/proc/sys/net/ipv6/conf", link.name, "mtu")).get(0).trim());
            if (ipv6Mtu > 0)
            {
                mtu = ipv6Mtu;
                mtuSource = "rtnetlink, IPv6 MTU from /proc/sys/net/ipv6/conf/" + link.name + "/mtu";
            }
        }
        catch (final java.io.IOException | RuntimeException ignore)
        {
            // The link MTU is IPv6's too unless someone lowered it there.
        }
        return withSpeed(link, mtu, mtuSource);
    }

    private static Link linkOf(final int index, final List<Link> links)
    {
        for (final Link candidate : links)
        {
            if (candidate.index == index)
            {
                return candidate;
            }
        }
        return null;
    }

    private static Nic withSpeed(final Link link, final int mtu, final String mtuSource)
    {
        final int[] speed = linkSpeedMbps(link.name);
        final String speedSource = speed[0] > 0 ? speed[1] == ETHTOOL_GLINKSETTINGS ?
            "ethtool GLINKSETTINGS" : "ethtool GSET" : speedFailure(speed[1]);
        return new Nic(link.name, link.index, mtu, Math.max(speed[0], 0), mtuSource, speedSource, link.mac);
    }

    /**
     * An IPv6 address of an interface.
     *
     * @param index   interface index.
     * @param address 16 bytes.
     * @param prefix  prefix length.
     */
    record Ipv6Address(int index, byte[] address, int prefix)
    {
    }

    static int chooseIpv6Interface(final byte[] wanted, final List<Ipv6Address> addresses)
    {
        int bestIndex = 0;
        int bestPrefix = -1;
        for (final Ipv6Address candidate : addresses)
        {
            if (java.util.Arrays.equals(candidate.address, wanted))
            {
                return candidate.index;
            }
            if (candidate.prefix > bestPrefix && samePrefix(candidate.address, wanted, candidate.prefix))
            {
                bestIndex = candidate.index;
                bestPrefix = candidate.prefix;
            }
        }
        return bestIndex;
    }

    private static boolean samePrefix(final byte[] a, final byte[] b, final int prefix)
    {
        for (int bit = 0; bit < prefix; bit += 8)
        {
            final int bits = Math.min(8, prefix - bit);
            final int mask = (0xFF << (8 - bits)) & 0xFF;
            if ((a[bit >> 3] & mask) != (b[bit >> 3] & mask))
            {
                return false;
            }
        }
        return true;
    }

    private static List<Ipv6Address> dumpIpv6Addresses()
    {
        final List<Ipv6Address> result = new ArrayList<>();
        netlinkDump(RTM_GETADDR, IFADDRMSG_LENGTH, AF_INET6, (type, message, offset, length) ->
        {
            if (RTM_NEWADDR != type || AF_INET6 != (message.get(JAVA_BYTE, offset) & 0xFF))
            {
                return;
            }
            final int prefix = message.get(JAVA_BYTE, offset + 1) & 0xFF;
            final int index = message.get(JAVA_INT, offset + 4);
            byte[] local = null;
            byte[] address = null;
            int attr = offset + IFADDRMSG_LENGTH;
            while (attr + 4 <= offset + length)
            {
                final int attrLength = message.get(JAVA_SHORT, attr) & 0xFFFF;
                final int attrType = message.get(JAVA_SHORT, attr + 2) & 0x3FFF;
                if (attrLength < 4)
                {
                    break;
                }
                if ((IFA_LOCAL == attrType || IFA_ADDRESS == attrType) && attrLength >= 4 + 16)
                {
                    final byte[] bytes = message.asSlice(attr + 4, 16).toArray(JAVA_BYTE);
                    if (IFA_LOCAL == attrType)
                    {
                        local = bytes;
                    }
                    else
                    {
                        address = bytes;
                    }
                }
                attr += (attrLength + 3) & ~3;
            }
            // IPv6 puts the local address in IFA_ADDRESS (IFA_LOCAL only on point-to-point links).
            final byte[] own = null != local ? local : address;
            if (null != own)
            {
                result.add(new Ipv6Address(index, own, prefix));
            }
        });
        return result;
    }

    /**
     * Finds the interface for a local IPv4 address and reads its MTU and link speed.
     *
     * @param ipv4 local address as {@code a << 24 | b << 16 | c << 8 | d}; 0 (any) picks the first interface that
     *             is up and not loopback, else loopback.
     * @return what was found; {@code index} 0 and name {@code "?"} when no interface matches.
     */
    public static Nic discover(final int ipv4)
    {
        final List<int[]> addresses;
        final List<Link> links;
        try
        {
            addresses = dumpAddresses();
            links = dumpLinks();
        }
        catch (final RuntimeException ex)
        {
            return new Nic("?", 0, 0, 0, "rtnetlink failed: " + ex.getMessage(), "not read", 0);
        }

        final int index = chooseInterface(ipv4, addresses, links);
        final Link link = linkOf(index, links);
        if (null == link)
        {
            return new Nic("?", 0, 0, 0, "no interface for " + UdpSocket.ipv4ToString(ipv4), "not read", 0);
        }
        return withSpeed(link, link.mtu, "rtnetlink");
    }

    private static String speedFailure(final int code)
    {
        if (0 == code)
        {
            return "driver reports SPEED_UNKNOWN";
        }
        return "ethtool: " + LibC.describe(code);
    }

    private record Link(int index, String name, int mtu, int flags, long mac)
    {
    }

    static int chooseInterface(final int ipv4, final List<int[]> addresses, final List<Link> links)
    {
        if (0 == ipv4)
        {
            int loopback = 0;
            for (final Link link : links)
            {
                if (0 != (link.flags & IFF_UP))
                {
                    if (0 == (link.flags & IFF_LOOPBACK))
                    {
                        return link.index;
                    }
                    loopback = link.index;
                }
            }
            return loopback;
        }

        int bestIndex = 0;
        int bestPrefix = -1;
        for (final int[] address : addresses)
        {
            // {index, address, prefixLength}
            final int prefix = address[2];
            final int mask = 0 == prefix ? 0 : -1 << (32 - prefix);
            if (address[1] == ipv4)
            {
                return address[0];
            }
            if ((address[1] & mask) == (ipv4 & mask) && prefix > bestPrefix)
            {
                bestIndex = address[0];
                bestPrefix = prefix;
            }
        }
        return bestIndex;
    }

    private static List<int[]> dumpAddresses()
    {
        final List<int[]> result = new ArrayList<>();
        netlinkDump(RTM_GETADDR, IFADDRMSG_LENGTH, AF_INET, (type, message, offset, length) ->
        {
            if (RTM_NEWADDR != type || AF_INET != (message.get(JAVA_BYTE, offset) & 0xFF))
            {
                return;
            }
            final int prefix = message.get(JAVA_BYTE, offset + 1) & 0xFF;
            final int index = message.get(JAVA_INT, offset + 4);
            int local = 0;
            int address = 0;
            boolean hasLocal = false;
            int attr = offset + IFADDRMSG_LENGTH;
            while (attr + 4 <= offset + length)
            {
                final int attrLength = message.get(JAVA_SHORT, attr) & 0xFFFF;
                final int attrType = message.get(JAVA_SHORT, attr + 2) & 0x3FFF;
                if (attrLength < 4)
                {
                    break;
                }
                if (IFA_LOCAL == attrType && attrLength >= 8)
                {
                    local = message.get(NETWORK_INT, attr + 4);
                    hasLocal = true;
                }
                else if (IFA_ADDRESS == attrType && attrLength >= 8)
                {
                    address = message.get(NETWORK_INT, attr + 4);
                }
                attr += (attrLength + 3) & ~3;
            }
            result.add(new int[]{ index, hasLocal ? local : address, prefix });
        });
        return result;
    }

    private static List<Link> dumpLinks()
    {
        final List<Link> result = new ArrayList<>();
        netlinkDump(RTM_GETLINK, IFINFOMSG_LENGTH, AF_INET, (type, message, offset, length) ->
        {
            if (RTM_NEWLINK != type)
            {
                return;
            }
            final int index = message.get(JAVA_INT, offset + 4);
            final int flags = message.get(JAVA_INT, offset + 8);
            String name = "?";
            int mtu = 0;
            long mac = 0;
            int attr = offset + IFINFOMSG_LENGTH;
            while (attr + 4 <= offset + length)
            {
                final int attrLength = message.get(JAVA_SHORT, attr) & 0xFFFF;
                final int attrType = message.get(JAVA_SHORT, attr + 2) & 0x3FFF;
                if (attrLength < 4)
                {
                    break;
                }
                if (IFLA_IFNAME == attrType)
                {
                    name = message.asSlice(attr + 4, attrLength - 4).getString(0);
                }
                else if (IFLA_MTU == attrType && attrLength >= 8)
                {
                    mtu = message.get(JAVA_INT, attr + 4);
                }
                else if (IFLA_ADDRESS == attrType && 4 + 6 == attrLength)
                {
                    mac = readMac(message, attr + 4);
                }
                attr += (attrLength + 3) & ~3;
            }
            result.add(new Link(index, name, mtu, flags, mac));
        });
        return result;
    }

    private static long readMac(final MemorySegment message, final int offset)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = mac << 8 | (message.get(JAVA_BYTE, offset + i) & 0xFF);
        }
        return mac;
    }

    /**
     * The kernel's IPv4 neighbour table for one interface (rtnetlink {@code RTM_GETNEIGH}): address to MAC, for
     * entries that have one (not incomplete or failed). Allocates; for setup and cache misses only.
     *
     * @param ifindex interface index.
     * @return {ipv4, mac} pairs.
     */
    public static List<long[]> neighbours(final int ifindex)
    {
        final List<long[]> result = new ArrayList<>();
        netlinkDump(RTM_GETNEIGH, NDMSG_LENGTH, AF_INET, (type, message, offset, length) ->
        {
            if (RTM_NEWNEIGH != type || AF_INET != (message.get(JAVA_BYTE, offset) & 0xFF) ||
                ifindex != message.get(JAVA_INT, offset + 4))
            {
                return;
            }
            final int state = message.get(JAVA_SHORT, offset + 8) & 0xFFFF;
            if (0 != (state & (NUD_INCOMPLETE | NUD_FAILED)))
            {
                return;
            }
            long dst = -1;
            long mac = -1;
            int attr = offset + NDMSG_LENGTH;
            while (attr + 4 <= offset + length)
            {
                final int attrLength = message.get(JAVA_SHORT, attr) & 0xFFFF;
                final int attrType = message.get(JAVA_SHORT, attr + 2) & 0x3FFF;
                if (attrLength < 4)
                {
                    break;
                }
                if (NDA_DST == attrType && 8 == attrLength)
                {
                    dst = message.get(NETWORK_INT, attr + 4) & 0xFFFF_FFFFL;
                }
                else if (NDA_LLADDR == attrType && 4 + 6 == attrLength)
                {
                    mac = readMac(message, attr + 4);
                }
                attr += (attrLength + 3) & ~3;
            }
            if (dst >= 0 && mac >= 0)
            {
                result.add(new long[]{ dst, mac });
            }
        });
        return result;
    }

    @FunctionalInterface
    private interface NetlinkHandler
    {
        void onMessage(int type, MemorySegment message, int payloadOffset, int payloadLength);
    }

    /**
     * Sends one dump request (the family in the request's first byte) and hands every reply message to the
     * handler until NLMSG_DONE.
     */
    private static void netlinkDump(
        final int requestType, final int bodyLength, final int family, final NetlinkHandler handler)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment errno = arena.allocate(LibC.errnoStateLayout());
            final int fd = LibC.socket(errno, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
            if (fd < 0)
            {
                throw new IllegalStateException("socket(AF_NETLINK): " + LibC.describe(LibC.errno(errno)));
            }
            try
            {
                final int requestLength = NLMSG_HEADER_LENGTH + bodyLength;
                final MemorySegment request = arena.allocate(requestLength, 8);
                request.set(JAVA_INT, 0, requestLength);
                request.set(JAVA_SHORT, 4, (short)requestType);
                request.set(JAVA_SHORT, 6, (short)(NLM_F_REQUEST | NLM_F_DUMP));
                request.set(JAVA_INT, 8, 1);
                request.set(JAVA_BYTE, NLMSG_HEADER_LENGTH, (byte)family);
                if (LibC.send(errno, fd, request, requestLength, 0) < 0)
                {
                    throw new IllegalStateException("netlink send: " + LibC.describe(LibC.errno(errno)));
                }

                final MemorySegment buffer = arena.allocate(BUFFER_LENGTH, 8);
                // Bounded: a dump of a few hundred interfaces fits in a handful of reads.
                for (int reads = 0; reads < 10_000; reads++)
                {
                    final long received = LibC.recv(errno, fd, buffer, BUFFER_LENGTH, 0);
                    if (received < 0)
                    {
                        throw new IllegalStateException("netlink recv: " + LibC.describe(LibC.errno(errno)));
                    }
                    int offset = 0;
                    while (offset + NLMSG_HEADER_LENGTH <= received)
                    {
                        final int length = buffer.get(JAVA_INT, offset);
                        final int type = buffer.get(JAVA_SHORT, offset + 4) & 0xFFFF;
                        if (length < NLMSG_HEADER_LENGTH || offset + length > received)
                        {
                            break;
                        }
                        if (NLMSG_DONE == type)
                        {
                            return;
                        }
                        if (NLMSG_ERROR == type)
                        {
                            final int error = -buffer.get(JAVA_INT, offset + NLMSG_HEADER_LENGTH);
                            throw new IllegalStateException("netlink error: " + LibC.describe(error));
                        }
                        handler.onMessage(
                            type, buffer, offset + NLMSG_HEADER_LENGTH, length - NLMSG_HEADER_LENGTH);
                        offset += (length + 3) & ~3;
                    }
                }
                throw new IllegalStateException("netlink dump did not end");
            }
            finally
            {
                LibC.close(errno, fd);
            }
        }
    }

    /**
     * @return {speed in Mb/s or 0 if unknown or -1 on error, the ethtool command that answered or the errno}.
     */
    static int[] linkSpeedMbps(final String interfaceName)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment errno = arena.allocate(LibC.errnoStateLayout());
            final int fd = LibC.socket(errno, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                return new int[]{ -1, LibC.errno(errno) };
            }
            try
            {
                final MemorySegment ifreq = arena.allocate(IFREQ_LENGTH, 8);
                ifreq.setString(0, interfaceName.length() > 15 ? interfaceName.substring(0, 15) : interfaceName);

                // GLINKSETTINGS handshake: ask with nwords 0, the kernel answers with -nwords; ask again with it.
                final MemorySegment probe = arena.allocate(LINK_SETTINGS_LENGTH, 8);
                probe.set(JAVA_INT, 0, ETHTOOL_GLINKSETTINGS);
                ifreq.set(JAVA_LONG, IFREQ_DATA_OFFSET, probe.address());
                if (LibC.ioctl(errno, fd, SIOCETHTOOL, ifreq) == 0)
                {
                    final int nwords = -probe.get(JAVA_BYTE, LINK_SETTINGS_NWORDS_OFFSET);
                    if (nwords > 0 && nwords < 128)
                    {
                        final MemorySegment settings = arena.allocate(LINK_SETTINGS_LENGTH + 12L * nwords, 8);
                        settings.set(JAVA_INT, 0, ETHTOOL_GLINKSETTINGS);
                        settings.set(JAVA_BYTE, LINK_SETTINGS_NWORDS_OFFSET, (byte)nwords);
                        ifreq.set(JAVA_LONG, IFREQ_DATA_OFFSET, settings.address());
                        if (LibC.ioctl(errno, fd, SIOCETHTOOL, ifreq) == 0)
                        {
                            return speedOf(settings.get(JAVA_INT, 4) & 0xFFFF_FFFFL, ETHTOOL_GLINKSETTINGS);
                        }
                    }
                }

                final MemorySegment cmd = arena.allocate(ETHTOOL_CMD_LENGTH, 8);
                cmd.set(JAVA_INT, 0, ETHTOOL_GSET);
                ifreq.set(JAVA_LONG, IFREQ_DATA_OFFSET, cmd.address());
                if (LibC.ioctl(errno, fd, SIOCETHTOOL, ifreq) == 0)
                {
                    final long speed = (cmd.get(JAVA_SHORT, 12) & 0xFFFFL) | (cmd.get(JAVA_SHORT, 28) & 0xFFFFL) << 16;
                    return speedOf(speed, ETHTOOL_GSET);
                }
                return new int[]{ -1, LibC.errno(errno) };
            }
            finally
            {
                LibC.close(errno, fd);
            }
        }
    }

    private static int[] speedOf(final long speed, final int command)
    {
        return 0 == speed || SPEED_UNKNOWN == speed || speed > Integer.MAX_VALUE ?
            new int[]{ 0, 0 } : new int[]{ (int)speed, command };
    }
}
