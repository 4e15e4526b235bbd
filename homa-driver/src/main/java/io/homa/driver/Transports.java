package io.homa.driver;

import io.homa.driver.net.NicDiscovery;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.status.TransportCounters;
import io.homa.driver.transport.PacketTransport;
import io.homa.driver.transport.PacketRingTransport;
import io.homa.driver.transport.RawIpTransport;
import io.homa.driver.transport.RawIpv6Transport;
import io.homa.driver.transport.UdpBatchTransport;
import io.homa.driver.transport.UdpTransport;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Picks the transport named by {@code homa.transport} and the NIC facts it is sized by: what the driver context
 * resolves at start, kept out of {@link MediaDriver} so each transport's setup lives in one place.
 */
final class Transports
{
    /** {@code homa.transport} value: Homa over UDP. */
    static final String UDP = "udp";
    /** {@code homa.transport} value: Homa over UDP, sendmmsg/recvmmsg batches and GSO where the kernel has it. */
    static final String UDP_BATCH = "udp-batch";
    /** {@code homa.transport} value: Homa over IP protocol 146 (IPv4, or IPv6 next header 146). */
    static final String RAW = "raw";
    /** {@code homa.transport} value: protocol 146 through AF_PACKET TPACKET_V3 rings. */
    static final String PACKET_RING = "packet-ring";

    /** Ethernet's MTU, when neither a property nor the interface says. */
    static final int MTU_FALLBACK = 1500;

    private Transports()
    {
    }

    /**
     * MTU and link speed to use: explicit settings win, then what the NIC says, then the documented fallbacks.
     *
     * @param nic          what discovery found.
     * @param mtuLength    {@code homa.mtu.length} (0 = discover).
     * @param linkMbps     {@code homa.link.mbps} (0 = discover).
     * @param counters     where the choice is published.
     * @return {mtu, linkMbps}.
     */
    static int[] resolveNic(
        final NicDiscovery.Nic nic, final int mtuLength, final int linkMbps, final TransportCounters counters)
    {
        final int mtu = mtuLength > 0 ? mtuLength : nic.mtu() > 0 ? nic.mtu() : MTU_FALLBACK;
        final boolean speedKnown = linkMbps > 0 || nic.linkMbps() > 0;
        final int mbps = linkMbps > 0 ? linkMbps : nic.linkMbps() > 0 ? nic.linkMbps() :
            Configuration.LINK_MBPS_DEFAULT;
        counters.get(TransportCounterDescriptor.NIC_MTU).setRelease(mtu);
        counters.get(TransportCounterDescriptor.NIC_LINK_MBPS).setRelease(mbps);
        counters.get(TransportCounterDescriptor.NIC_LINK_SPEED_KNOWN).setRelease(speedKnown ? 1 : 0);
        return new int[]{ mtu, mbps };
    }

    /**
     * One line saying what was chosen and why, for the start-up log.
     */
    static String describe(
        final String transport, final NicDiscovery.Nic nic, final int mtuLength, final int linkMbps,
        final int[] resolved)
    {
        return "homa driver: transport " + transport + "; " + nic.describe() + "; using mtu " + resolved[0] +
            (mtuLength > 0 ? " (homa.mtu.length)" : nic.mtu() > 0 ? " (discovered)" : " (fallback)") +
            ", link " + resolved[1] + " Mb/s" +
            (linkMbps > 0 ? " (homa.link.mbps)" : nic.linkMbps() > 0 ? " (discovered)" :
            " (fallback: speed unknown, set homa.link.mbps)");
    }

    /**
     * Opens the transport.
     *
     * @param name        {@code homa.transport}.
     * @param nic         the interface behind the address.
     * @param address     local address.
     * @param port        UDP port (UDP only).
     * @param mtu         resolved MTU.
     * @param rcvBufBytes kernel receive buffer.
     * @param sndBufBytes kernel send buffer.
     * @param packetRingVersion TPACKET version for packet-ring.
     * @param udpGro      udp-batch: ask for UDP GRO.
     * @param hijackTcp   raw IPv4: send hijacked TCP-lookalike packets.
     * @param counters    transport counters.
     * @return the open transport.
     */
    static PacketTransport open(
        final String name,
        final NicDiscovery.Nic nic,
        final InetAddress address,
        final int port,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final int packetRingVersion,
        final boolean udpGro,
        final boolean hijackTcp,
        final TransportCounters counters)
    {
        if (address instanceof Inet6Address)
        {
            return openIpv6(name, address, mtu, rcvBufBytes, sndBufBytes, counters);
        }
        return switch (name.trim())
        {
            case UDP -> new UdpTransport(address, port, mtu, rcvBufBytes, sndBufBytes, counters);
            case UDP_BATCH -> new UdpBatchTransport(
                address, port, mtu, rcvBufBytes, sndBufBytes, true, udpGro, counters);
            case PACKET_RING -> new PacketRingTransport(packetRingVersion, UdpSocket.ipv4ToInt(address), nic, mtu,
                sndBufBytes, counters);
            case RAW -> new RawIpTransport(
                UdpSocket.ipv4ToInt(address), mtu, rcvBufBytes, sndBufBytes, counters, true, hijackTcp);
            default -> throw new IllegalArgumentException(
                "unknown " + Configuration.TRANSPORT_PROP_NAME + ": " + name + " (udp, udp-batch, raw or packet-ring)");
        };
    }

    /**
     * An IPv6 {@code homa.udp.address}: only raw IP speaks IPv6 (peers get keys from its address table).
     */
    private static PacketTransport openIpv6(
        final String name,
        final InetAddress address,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters)
    {
        checkAddressFamily(name, address);
        return new RawIpv6Transport(address.getAddress(), mtu, rcvBufBytes, sndBufBytes, counters);
    }

    /**
     * Refuses, before anything is built, a transport name that is none of the four.
     *
     * @param name {@code homa.transport}.
     * @throws IllegalArgumentException naming the setting and the transports.
     */
    static void checkName(final String name)
    {
        switch (name.trim())
        {
            case UDP, UDP_BATCH, RAW, PACKET_RING ->
            {
            }
            default -> throw new io.homa.client.HomaProperties.ConfigurationException(
                Configuration.TRANSPORT_PROP_NAME + "=" + name + " is refused: one of " + UDP + ", " + UDP_BATCH +
                ", " + RAW + ", " + PACKET_RING);
        }
    }

    /**
     * Refuses, before anything is built, a transport that cannot speak the address's family.
     *
     * @param name    {@code homa.transport}.
     * @param address {@code homa.udp.address}, resolved.
     * @throws IllegalArgumentException with what to use instead.
     */
    static void checkAddressFamily(final String name, final InetAddress address)
    {
        final String transport = name.trim();
        if (!(address instanceof Inet6Address) || RAW.equals(transport))
        {
            return;
        }
        final String why = switch (transport)
        {
            case UDP, UDP_BATCH -> "the UDP transports speak IPv4 only";
            case PACKET_RING -> "packet-ring builds Ethernet + IPv4 frames and speaks IPv4 only";
            default -> throw new IllegalArgumentException("unknown " + Configuration.TRANSPORT_PROP_NAME + ": " +
                name + " (udp, udp-batch, raw or packet-ring)");
        };
        throw new IllegalArgumentException(Configuration.UDP_ADDRESS_PROP_NAME + " " +
            io.homa.client.HomaAddress.ipv6ToString(address.getAddress()) +
            " is IPv6 but " + Configuration.TRANSPORT_PROP_NAME + "=" + transport + ": " + why + "; use " +
            Configuration.TRANSPORT_PROP_NAME + "=raw for IPv6, or an IPv4 address");
    }
}
