package io.homa.driver.transport;

import io.homa.driver.net.NicDiscovery;
import io.homa.driver.net.PacketRingSocket;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.status.TransportCounters;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Homa over IPv4 protocol 146 through memory-mapped {@code AF_PACKET} rings ({@link PacketRingSocket}): the same
 * packets as {@link RawIpTransport}, but received in place from the RX ring with no system call per packet, and
 * sent by writing whole frames (Ethernet and IPv4 headers built here, TOS per packet) into the TX ring, one
 * {@code send} flushing all of a cycle's frames. The next hop's MAC comes from the kernel's neighbour table
 * (rtnetlink); a packet to a peer the table does not know yet goes through the kernel's raw-socket path instead,
 * which also makes the kernel resolve it (ARP). Loopback needs no MACs.
 * <p>
 * The kernel's IP stack still sees every frame; an embedded {@link RawIpTransport} keeps a protocol-146 socket
 * open (filtered to queue nothing) so the kernel does not answer ICMP protocol-unreachable, and does the ICMP
 * work: port-unreachable out, destination-unreachable in.
 */
public final class PacketRingTransport implements PacketTransport
{
    private static final int ETH_HEADER_LENGTH = PacketRingFraming.ETH_HEADER_LENGTH;
    private static final int IP_HEADER_LENGTH = PacketRingFraming.IP_HEADER_LENGTH;
    private static final int RX_BLOCKS = 32;
    private static final int RX_BLOCK_TIMEOUT_MS = 1;
    private static final long NO_MAC = -1;
    private static final long NEIGHBOUR_REFRESH_NS = 1_000_000;

    private final RawIpTransport raw;
    private final PacketRingSocket ring;
    private final int localIpv4;
    private final int ifindex;
    private final long localMac;
    private final boolean isLoopback;
    private final int mtu;
    private final int maxPacketLength;
    private final Long2LongHashMap neighbours = new Long2LongHashMap(NO_MAC);
    // Its views are one per direction: in DEDICATED mode the sender and the receiver run at once.
    private final PacketRingFraming framing;
    private final long[] batchAddresses = new long[PacketRingSocket.RECEIVE_BATCH];
    private final int[] batchLengths = new int[PacketRingSocket.RECEIVE_BATCH];
    private final int[] batchSources = new int[PacketRingSocket.RECEIVE_BATCH];
    private final AtomicCounter ringFlushes;
    private final AtomicCounter receiveBatches;
    private final AtomicCounter badPackets;
    private final AtomicCounter neighbourMisses;
    private long lastNeighbourRefreshNs;

    /**
     * @param version     TPACKET version, 3 or 2 (see {@link PacketRingSocket}).
     * @param localIpv4   the driver's address.
     * @param nic         the interface that holds it (from {@link NicDiscovery}).
     * @param mtu         path MTU.
     * @param sndBufBytes kernel send buffer of the fallback raw socket.
     * @param counters    transport counters.
     */
    public PacketRingTransport(
        final int version, final int localIpv4, final NicDiscovery.Nic nic, final int mtu, final int sndBufBytes,
        final TransportCounters counters)
    {
        if (2 != version && 3 != version)
        {
            throw new IllegalArgumentException("TPACKET version must be 2 or 3: " + version);
        }
        if (nic.index() <= 0)
        {
            throw new IllegalStateException("packet rings need the interface of " +
                UdpSocket.ipv4ToString(localIpv4) + ": " + nic.describe());
        }
        this.localIpv4 = localIpv4;
        this.ifindex = nic.index();
        this.localMac = nic.hardwareAddress();
        this.isLoopback = "lo".equals(nic.name()) || 0 == nic.hardwareAddress();
        this.mtu = mtu;
        this.maxPacketLength = Math.min(mtu, RawIpSocket.MAX_IPV4_DATAGRAM) - IP_HEADER_LENGTH;
        this.framing = new PacketRingFraming(localIpv4, localMac);

        raw = new RawIpTransport(localIpv4, mtu, 0, sndBufBytes, counters, false, false);
        try
        {
            final int frameLength = 48 + ETH_HEADER_LENGTH + IP_HEADER_LENGTH + maxPacketLength;
            final int txFrameSize = Math.max(2_048, Integer.highestOneBit(frameLength - 1) << 1);
            final int txFrames = Math.max(16, Math.min(512, (8 << 20) / txFrameSize));
            final int rxBlockSize = Math.max(256 * 1024, txFrameSize * 2);
            ring = PacketRingSocket.open(version, ifindex, PacketRingSocket.homaFilter(localIpv4), rxBlockSize,
                RX_BLOCKS, RX_BLOCK_TIMEOUT_MS, txFrameSize, txFrames);
        }
        catch (final RuntimeException ex)
        {
            raw.close();
            throw ex;
        }
        ringFlushes = counters.get(TransportCounterDescriptor.RING_FLUSHES);
        receiveBatches = counters.get(TransportCounterDescriptor.RECEIVE_SYSCALLS);
        badPackets = counters.get(TransportCounterDescriptor.RAW_BAD_PACKETS);
        neighbourMisses = counters.get(TransportCounterDescriptor.NEIGHBOUR_MISSES);
        if (!isLoopback)
        {
            refreshNeighbours();
        }
    }

    private void refreshNeighbours()
    {
        lastNeighbourRefreshNs = System.nanoTime();
        try
        {
            for (final long[] entry : NicDiscovery.neighbours(ifindex))
            {
                neighbours.put(entry[0], entry[1]);
            }
        }
        catch (final RuntimeException ignore)
        {
            // Keep what we have; the kernel path still carries packets to unknown peers.
        }
    }

    private long nextHopMac(final int ipv4)
    {
        if (isLoopback)
        {
            return 0;
        }
        long mac = neighbours.get(ipv4 & 0xFFFF_FFFFL);
        if (NO_MAC == mac && System.nanoTime() - lastNeighbourRefreshNs > NEIGHBOUR_REFRESH_NS)
        {
            refreshNeighbours();
            mac = neighbours.get(ipv4 & 0xFFFF_FFFFL);
        }
        return mac;
    }

    /**
     * {@inheritDoc}
     */
    public boolean isBatching()
    {
        return true;
    }

    /**
     * {@inheritDoc}
     */
    public int send(final long address, final int length, final int ipv4, final int port, final int tos)
    {
        return send(address, length, 0L, 0, ipv4, port, tos);
    }

    /**
     * {@inheritDoc}
     */
    public int send(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int port,
        final int tos)
    {
        if (framing.isPortUnreachableToSend(headerAddress, headerLength))
        {
            return raw.send(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos);
        }
        final long mac = nextHopMac(ipv4);
        if (NO_MAC == mac)
        {
            // Unknown next hop: the kernel sends this one and resolves the neighbour on the way.
            neighbourMisses.incrementRelease();
            return raw.send(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos);
        }

        long address = ring.claimTxFrame();
        if (0 == address)
        {
            flush();
            address = ring.claimTxFrame();
            if (0 == address)
            {
                return 0;
            }
        }
        ring.commitTxFrame(framing.writeFrame(
            address, mac, headerAddress, headerLength, payloadAddress, payloadLength, ipv4, tos));
        return headerLength + payloadLength;
    }

    /**
     * {@inheritDoc}
     */
    public int flush()
    {
        // Port-unreachables and packets to peers without a known MAC went to the raw transport's batch.
        int sent = raw.flush();
        if (ring.hasPendingTx())
        {
            ringFlushes.incrementRelease();
            sent += ring.flush();
        }
        return sent;
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        // Packets arrive through receiveBatch() only.
        return RawIpSocket.RECEIVE_WOULD_BLOCK;
    }

    /**
     * {@inheritDoc}
     */
    public boolean isBatchReceiveOnly()
    {
        return true;
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatchLimit()
    {
        return PacketRingSocket.RECEIVE_BATCH;
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatch()
    {
        int count;
        int valid = 0;
        // A full batch whose packets were all dropped still means "more may be waiting".
        do
        {
            count = ring.receive();
            valid = takeValid(count);
        }
        while (0 == valid && PacketRingSocket.RECEIVE_BATCH == count);
        return valid;
    }

    private int takeValid(final int count)
    {
        int valid = 0;
        for (int i = 0; i < count; i++)
        {
            final long address = ring.packet(i);
            final int ihl = framing.parse(address, ring.packetLength(i));
            if (ihl < 0)
            {
                badPackets.incrementRelease();
                continue;
            }
            batchAddresses[valid] = address + ihl;
            batchLengths[valid] = framing.parsedHomaLength();
            batchSources[valid] = framing.parsedSourceIpv4();
            valid++;
        }
        if (count > 0)
        {
            receiveBatches.incrementRelease();
        }
        return valid;
    }

    /**
     * {@inheritDoc}
     */
    public long batchAddress(final int i)
    {
        return batchAddresses[i];
    }

    /**
     * {@inheritDoc}
     */
    public int batchLength(final int i)
    {
        return batchLengths[i];
    }

    /**
     * {@inheritDoc}
     */
    public int batchSourceIpv4(final int i)
    {
        return batchSources[i];
    }

    /**
     * {@inheritDoc}
     */
    public int batchSourcePort(final int i)
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public boolean batchTruncated(final int i)
    {
        return false;
    }

    /**
     * {@inheritDoc}
     */
    public int pollUnreachable(final UnreachableHandler handler)
    {
        return raw.pollUnreachable(handler);
    }

    /**
     * {@inheritDoc}
     */
    public int peerPort(final int port)
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourceIpv4()
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourcePort()
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public int lastTos()
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return false;
    }

    /**
     * {@inheritDoc}
     */
    public int localIpv4()
    {
        return localIpv4;
    }

    /**
     * {@inheritDoc} The ring's socket, and the fallback raw transport's ICMP socket.
     */
    public int[] pollFds()
    {
        final int[] rawFds = raw.pollFds();
        final int[] fds = java.util.Arrays.copyOf(rawFds, rawFds.length + 1);
        fds[rawFds.length] = ring.fd();
        return fds;
    }

    /**
     * {@inheritDoc}
     */
    public int localPort()
    {
        return 0;
    }

    /**
     * {@inheritDoc}
     */
    public int maxPacketLength()
    {
        return maxPacketLength;
    }

    /**
     * @return the MTU in use.
     */
    public int mtu()
    {
        return mtu;
    }

    /**
     * {@inheritDoc}
     */
    public long receiveDrops()
    {
        return -1;
    }

    /**
     * {@inheritDoc}
     */
    public void close()
    {
        ring.close();
        raw.close();
    }
}
