package io.homa.driver.transport;

import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import io.homa.driver.net.PacketRingSocket;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.net.UdpBatchSender;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.status.TransportCounters;
import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Homa straight over IPv4, protocol 146, as the Linux kernel module speaks it: the Homa header is the IP payload,
 * the priority rides in the TOS byte, and a peer is just an address (port 0). Packets go out in {@code sendmmsg}
 * batches and come in with {@code recvmmsg}, IP headers stripped into separate memory so payloads land in place. One raw socket bound to the driver's
 * address carries Homa; a second one, for ICMP, sends port-unreachable for packets to ports with no socket (the
 * engine asks for that with our UDP-only PORT_UNREACHABLE packet, which this transport turns into the real ICMP
 * message) and receives destination-unreachable reports about our packets, which
 * {@link #pollUnreachable(UnreachableHandler)} hands to the engine.
 * <p>
 * A raw socket bound to an address gets only datagrams for that address, so drivers on distinct addresses share
 * a host (as with the kernel module, one driver owns an address). Refuses to start without CAP_NET_RAW and when
 * the Linux Homa module is loaded (both would answer the same packets).
 */
public final class RawIpTransport implements PacketTransport
{
    /** IANA protocol number of Homa. */
    public static final int IPPROTO_HOMA = HomaWire.IPPROTO_HOMA;

    static final int ICMP_DEST_UNREACH = 3;
    static final int ICMP_PROT_UNREACH = 2;
    static final int ICMP_PORT_UNREACH = 3;
    static final int ICMP_FRAG_NEEDED = 4;
    /** Linux's ICMP errors go out with TOS 0 (and DF clear: see the socket's setup). */
    static final int ICMP_TOS = 0;
    private static final int ICMP_HEADER_LENGTH = 8;
    /**
     * Our port-unreachable, as Linux's (RFC 1812): the offending packet's IPv4 header and as much of the packet as
     * fits an ICMP error of 576 bytes with its own IPv4 header.
     */
    public static final int ICMP_ERROR_MAX_LENGTH = 576 - RawIpSocket.IPV4_HEADER_LENGTH;
    /** Homa bytes of the offending packet an ICMP error quotes at most (528). */
    public static final int ICMP_QUOTE_MAX = ICMP_ERROR_MAX_LENGTH - ICMP_HEADER_LENGTH - RawIpSocket.IPV4_HEADER_LENGTH;
    private static final int ICMP_RECEIVE_CAPACITY = 1024;
    private static final int ICMP_POLL_LIMIT = 16;
    private static final int ERROR_QUEUE_CAPACITY = 16;
    /** Datagrams one receive system call may return. */
    private static final int RECEIVE_BATCH = 32;
    private static final int EHOSTUNREACH = 113;
    private static final int ENETUNREACH = 101;
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    private final RawIpSocket homaSocket;
    private final RawIpSocket icmpSocket;
    private final boolean receivesHoma;
    private final int localIpv4;
    private final int mtu;
    private final int maxPacketLength;
    // Its views are one per direction: in DEDICATED mode the sender and the receiver run at once.
    private final RawIpFraming framing = new RawIpFraming();
    private final UnsafeBuffer icmpOut =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(BitUtil.align(ICMP_ERROR_MAX_LENGTH, 64), 64));
    private final UnsafeBuffer icmpIn =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(ICMP_RECEIVE_CAPACITY, 64));
    private final UdpBatchSender sender;
    private final int slotCapacity;
    private final UnsafeBuffer slots;
    private final long[] batchAddresses = new long[RECEIVE_BATCH];
    private final int[] batchLengths = new int[RECEIVE_BATCH];
    private final int[] batchSources = new int[RECEIVE_BATCH];
    private final AtomicCounter batchSendErrors;
    private final AtomicCounter receiveSyscalls;
    // Filled by the sender's thread, drained by the receiver's: they differ in DEDICATED and SHARED_NETWORK.
    private final UnreachableQueue sendFailures = new UnreachableQueue(Integer.highestOneBit(ERROR_QUEUE_CAPACITY));

    private final AtomicCounter foreignPackets;
    private final AtomicCounter badPackets;
    private final AtomicCounter icmpSent;
    private final AtomicCounter icmpReceived;
    private final AtomicCounter icmpIgnored;
    private final AtomicCounter sendSyscalls;
    private final AtomicCounter sendUnreachable;

    private int lastSourceIpv4;
    private int lastTos;
    private boolean lastTruncated;
    /** Hijacked Homa (IP protocol 6) in and, with {@link #hijackSends}, out; null under a packet ring. */
    private final TcpHijack hijack;
    private final boolean hijackSends;
    private boolean hijackFirst;

    /**
     * @param localIpv4   the driver's address (must be a specific local address).
     * @param mtu         path MTU.
     * @param rcvBufBytes kernel receive buffer wanted.
     * @param sndBufBytes kernel send buffer wanted.
     * @param counters    where foreign, malformed and ICMP packets are counted.
     * @throws IllegalStateException if the Linux Homa module is loaded, or the address is 0.0.0.0.
     * @throws java.io.UncheckedIOException if the kernel refuses (e.g. no CAP_NET_RAW, with a clear message).
     */
    public RawIpTransport(
        final int localIpv4,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters)
    {
        this(localIpv4, mtu, rcvBufBytes, sndBufBytes, counters, true, false);
    }

    /**
     * @param localIpv4    the driver's address (must be a specific local address).
     * @param mtu          path MTU.
     * @param rcvBufBytes  kernel receive buffer wanted.
     * @param sndBufBytes  kernel send buffer wanted.
     * @param counters     where foreign, malformed and ICMP packets are counted.
     * @param receivesHoma false when another path (a packet ring) receives Homa packets: the protocol-146 socket
     *                     then only keeps the kernel from answering protocol-unreachable, and a filter keeps its
     *                     queue empty.
     * @param hijackTcp    send Homa as TCP-lookalike segments, as Linux with {@code hijack_tcp=1}
     *                     ({@code homa.hijack.tcp}); such packets are received whatever this says.
     */
    public RawIpTransport(
        final int localIpv4,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters,
        final boolean receivesHoma,
        final boolean hijackTcp)
    {
        if (0 == localIpv4)
        {
            throw new IllegalStateException(
                "raw IP transport needs a specific local address (homa.udp.address), not 0.0.0.0: " +
                "one raw-IP driver owns one address");
        }
        final String module = linuxHomaModule(Path.of("/sys/module/homa"), Path.of("/proc/modules"));
        if (null != module)
        {
            throw new IllegalStateException("refusing raw IP protocol 146: the Linux Homa module is loaded (" +
                module + ") and would answer the same packets; unload it (rmmod homa) or use homa.transport=udp");
        }
        this.localIpv4 = localIpv4;
        this.mtu = mtu;
        this.maxPacketLength = Math.min(mtu, RawIpSocket.MAX_IPV4_DATAGRAM) - RawIpSocket.IPV4_HEADER_LENGTH;

        foreignPackets = counters.get(TransportCounterDescriptor.RAW_FOREIGN_PACKETS);
        badPackets = counters.get(TransportCounterDescriptor.RAW_BAD_PACKETS);
        icmpSent = counters.get(TransportCounterDescriptor.ICMP_UNREACH_SENT);
        icmpReceived = counters.get(TransportCounterDescriptor.ICMP_UNREACH_RCVD);
        icmpIgnored = counters.get(TransportCounterDescriptor.ICMP_IGNORED);
        sendSyscalls = counters.get(TransportCounterDescriptor.SEND_SYSCALLS);
        sendUnreachable = counters.get(TransportCounterDescriptor.SEND_UNREACHABLE);
        batchSendErrors = counters.get(TransportCounterDescriptor.BATCH_SEND_ERRORS);
        receiveSyscalls = counters.get(TransportCounterDescriptor.RECEIVE_SYSCALLS);
        slotCapacity = org.agrona.BitUtil.align(maxPacketLength + 1, 64);
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(receivesHoma ? slotCapacity * RECEIVE_BATCH : 64,
            64));

        this.receivesHoma = receivesHoma;
        homaSocket = RawIpSocket.open(IPPROTO_HOMA, localIpv4);
        RawIpSocket icmp = null;
        try
        {
            if (receivesHoma)
            {
                homaSocket.receiveBufferSize(rcvBufBytes);
            }
            else
            {
                PacketRingSocket.attachFilter(homaSocket.fd(), new long[]{ PacketRingSocket.bpf(0x06, 0, 0, 0) });
            }
            homaSocket.sendBufferSize(sndBufBytes);
            icmp = RawIpSocket.open(1, localIpv4);
            // Only destination-unreachable is of interest: keep echo replies and the rest out of the queue.
            icmp.icmpFilter(~(1 << ICMP_DEST_UNREACH));
            icmp.allowFragmentation();
        }
        catch (final RuntimeException ex)
        {
            homaSocket.close();
            throw ex;
        }
        icmpSocket = icmp;
        sender = new UdpBatchSender(homaSocket, maxPacketLength);
        final UdpBatchSender.RefusalListener refusals = (ipv4, errno) ->
        {
            if (EHOSTUNREACH == errno || ENETUNREACH == errno)
            {
                noteSendFailure(ipv4);
            }
        };
        sender.refusalListener(refusals);
        TcpHijack tcp = null;
        if (receivesHoma)
        {
            try
            {
                tcp = TcpHijack.open(localIpv4, maxPacketLength, rcvBufBytes, sndBufBytes,
                    counters.get(TransportCounterDescriptor.TCP_HIJACK_SENT),
                    counters.get(TransportCounterDescriptor.TCP_HIJACK_RCVD), refusals);
            }
            catch (final RuntimeException ex)
            {
                sender.close();
                homaSocket.close();
                icmpSocket.close();
                throw ex;
            }
        }
        hijack = tcp;
        hijackSends = hijackTcp && null != tcp;
    }

    /**
     * Where the Linux Homa module shows itself, if it is loaded.
     *
     * @param sysModule   the module's sysfs directory ({@code /sys/module/homa}).
     * @param procModules the list of loaded modules ({@code /proc/modules}).
     * @return the directory or the /proc/modules line that shows it, or null if it is not loaded.
     */
    public static String linuxHomaModule(final Path sysModule, final Path procModules)
    {
        if (Files.isDirectory(sysModule))
        {
            return sysModule.toString();
        }
        try
        {
            for (final String line : Files.readAllLines(procModules))
            {
                if (line.startsWith("homa "))
                {
                    return "/proc/modules: " + line;
                }
            }
        }
        catch (final IOException | RuntimeException ignore)
        {
            // No /proc/modules (e.g. a kernel without modules): nothing can be loaded.
        }
        return null;
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
        final UnsafeBuffer portUnreachable = framing.portUnreachableToSend(headerAddress, headerLength);
        if (null != portUnreachable)
        {
            return sendPortUnreachable(portUnreachable, ipv4, headerLength);
        }
        // With hijacking on, every Homa packet goes as TCP: one sender, so packets keep their order.
        final boolean hijacked = hijackSends && headerLength >= HomaWire.COMMON_HEADER_LENGTH;
        final UdpBatchSender out = hijacked ? hijack.sender() : sender;
        if (hijacked)
        {
            hijack.stamp(headerAddress, headerLength, payloadAddress, payloadLength, ipv4);
        }
        if (!out.add(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos))
        {
            flush();
            if (!out.add(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos))
            {
                // Full of stashed packets the kernel has not taken yet: this one waits in the caller's ring.
                return 0;
            }
        }
        if (hijacked)
        {
            hijack.onSent();
        }
        return headerLength + payloadLength;
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
    public int flush()
    {
        int sent = flush(sender);
        long syscalls = sender.syscalls();
        long errors = sender.errors();
        if (null != hijack)
        {
            sent += flush(hijack.sender());
            syscalls += hijack.sender().syscalls();
            errors += hijack.sender().errors();
        }
        sendSyscalls.setRelease(syscalls);
        batchSendErrors.setRelease(errors);
        return sent;
    }

    private static int flush(final UdpBatchSender sender)
    {
        if (0 == sender.pendingMessages())
        {
            return 0;
        }
        final int sent = sender.flush();
        if (sender.pendingMessages() > 0)
        {
            sender.stash();
        }
        return sent;
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatchLimit()
    {
        return RECEIVE_BATCH;
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatch()
    {
        if (null == hijack)
        {
            return receiveBatch(homaSocket);
        }
        // Both sockets get a turn, first one then the other, so neither kind of peer starves the other.
        hijackFirst = !hijackFirst;
        final RawIpSocket first = hijackFirst ? hijack.socket() : homaSocket;
        final int count = receiveBatch(first);
        return 0 != count ? count : receiveBatch(hijackFirst ? homaSocket : hijack.socket());
    }

    private int receiveBatch(final RawIpSocket socket)
    {
        final boolean isTcp = null != hijack && socket == hijack.socket();
        int count;
        int valid;
        // A full batch whose datagrams were all dropped still means "more may be waiting".
        do
        {
            count = socket.receiveBatch(slots.addressOffset(), slotCapacity, RECEIVE_BATCH);
            if (count <= 0)
            {
                return count;
            }
            receiveSyscalls.incrementRelease();
            valid = 0;
            for (int i = 0; i < count; i++)
            {
                final int length = socket.batchLength(i);
                if (RawIpSocket.RECEIVE_BAD_HEADER == length)
                {
                    badPackets.incrementRelease();
                    continue;
                }
                if (socket.batchDestinationIpv4(i) != localIpv4)
                {
                    foreignPackets.incrementRelease();
                    continue;
                }
                final long address = slots.addressOffset() + (long)i * slotCapacity;
                if (framing.isPortUnreachableReceived(address, length))
                {
                    badPackets.incrementRelease();
                    continue;
                }
                if (isTcp)
                {
                    if (!framing.isHijackedReceived(address, length))
                    {
                        foreignPackets.incrementRelease();
                        continue;
                    }
                    hijack.onReceived();
                }
                // A truncated datagram is reported longer than the largest packet: the receiver drops it.
                batchAddresses[valid] = address;
                batchLengths[valid] = socket.batchTruncated(i) ? maxPacketLength + 1 : length;
                batchSources[valid] = socket.batchSourceIpv4(i);
                valid++;
            }
        }
        while (0 == valid && RECEIVE_BATCH == count);
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
        return batchLengths[i] > maxPacketLength;
    }

    /**
     * Builds ICMP destination-unreachable / port-unreachable (type 3 code 3) for the packet the engine could not
     * deliver: an IPv4 header for it (rebuilt: its TOS, id and TTL are not kept) and as much of the packet as the
     * engine passed behind its PORT_UNREACHABLE, at most {@link #ICMP_QUOTE_MAX} bytes, as Linux quotes (ports are
     * what a Linux receiver reads back to pick the RPCs to fail). An engine that passed nothing gets the common
     * header rebuilt from its PORT_UNREACHABLE.
     */
    private int sendPortUnreachable(final UnsafeBuffer request, final int peerIpv4, final int requestLength)
    {
        final UnsafeBuffer out = icmpOut;
        final int icmpLength = RawIpFraming.icmpv4PortUnreachable(out, request, requestLength, peerIpv4, localIpv4);
        final int result = icmpSocket.send(out.addressOffset(), icmpLength, 0L, 0, peerIpv4, ICMP_TOS);
        if (result > 0)
        {
            icmpSent.incrementRelease();
        }
        return result;
    }

    private void noteSendFailure(final int ipv4)
    {
        sendUnreachable.incrementRelease();
        // A full queue drops the report: the next failed send to that peer reports it again.
        sendFailures.offer(ipv4, HomaError.EHOSTUNREACH);
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        final int length = receive(homaSocket, address, capacity);
        return null == hijack || RawIpSocket.RECEIVE_WOULD_BLOCK != length ?
            length : receive(hijack.socket(), address, capacity);
    }

    private int receive(final RawIpSocket socket, final long address, final int capacity)
    {
        final boolean isTcp = null != hijack && socket == hijack.socket();
        // Bounded: each pass consumes one datagram; give up after a handful of foreign or bad ones.
        for (int i = 0; i < 16; i++)
        {
            final int length = socket.receive(address, capacity);
            if (RawIpSocket.RECEIVE_BAD_HEADER == length)
            {
                badPackets.incrementRelease();
                continue;
            }
            if (length < 0)
            {
                return length;
            }
            if (socket.lastDestinationIpv4() != localIpv4)
            {
                foreignPackets.incrementRelease();
                continue;
            }
            if (framing.isPortUnreachableReceived(address, length))
            {
                // Our UDP-only type has no meaning on the wire Linux shares: ICMP does that job here.
                badPackets.incrementRelease();
                continue;
            }
            if (isTcp)
            {
                if (!framing.isHijackedReceived(address, length))
                {
                    foreignPackets.incrementRelease();
                    continue;
                }
                hijack.onReceived();
            }
            lastSourceIpv4 = socket.lastSourceIpv4();
            lastTos = socket.lastTos();
            lastTruncated = socket.lastTruncated();
            return length;
        }
        return RawIpSocket.RECEIVE_WOULD_BLOCK;
    }

    /**
     * {@inheritDoc}
     */
    public int pollUnreachable(final UnreachableHandler handler)
    {
        int work = sendFailures.drain(handler);

        for (int i = 0; i < ICMP_POLL_LIMIT; i++)
        {
            final int length = icmpSocket.receive(icmpIn.addressOffset(), ICMP_RECEIVE_CAPACITY);
            if (RawIpSocket.RECEIVE_WOULD_BLOCK == length || (length < 0 && RawIpSocket.RECEIVE_BAD_HEADER != length))
            {
                break;
            }
            work++;
            if (!onIcmp(length, handler))
            {
                icmpIgnored.incrementRelease();
            }
        }
        return work;
    }

    /**
     * Maps an ICMP destination-unreachable about one of our Homa packets to the errors Linux uses: port
     * unreachable fails the RPCs to that port with ENOTCONN, protocol unreachable (no Homa at that address) all
     * RPCs to the peer with EPROTONOSUPPORT, the other codes with EHOSTUNREACH. Fragmentation-needed is left to
     * the kernel's path-MTU handling.
     */
    private boolean onIcmp(final int length, final UnreachableHandler handler)
    {
        final UnsafeBuffer in = icmpIn;
        if (length < ICMP_HEADER_LENGTH + RawIpSocket.IPV4_HEADER_LENGTH + 4 ||
            ICMP_DEST_UNREACH != (in.getByte(0) & 0xFF))
        {
            return false;
        }
        final int code = in.getByte(1) & 0xFF;
        final int ip = ICMP_HEADER_LENGTH;
        final int versionAndIhl = in.getByte(ip) & 0xFF;
        final int ihl = (versionAndIhl & 0xF) << 2;
        if (4 != versionAndIhl >>> 4 || ihl < RawIpSocket.IPV4_HEADER_LENGTH ||
            IPPROTO_HOMA != (in.getByte(ip + 9) & 0xFF) || in.getInt(ip + 12, NETWORK) != localIpv4 ||
            ICMP_FRAG_NEEDED == code || ip + ihl + 4 > length)
        {
            return false;
        }
        final int peerIpv4 = in.getInt(ip + 16, NETWORK);
        icmpReceived.incrementRelease();
        if (ICMP_PORT_UNREACH == code)
        {
            final int homaPort = in.getShort(ip + ihl + 2, NETWORK) & 0xFFFF;
            handler.onUnreachable(peerIpv4, 0, homaPort, HomaError.ENOTCONN);
        }
        else
        {
            handler.onUnreachable(
                peerIpv4, 0, 0, ICMP_PROT_UNREACH == code ? HomaError.EPROTONOSUPPORT : HomaError.EHOSTUNREACH);
        }
        return true;
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
        return lastSourceIpv4;
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
        return lastTos;
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return lastTruncated;
    }

    /**
     * {@inheritDoc}
     */
    public int localIpv4()
    {
        return localIpv4;
    }

    /**
     * {@inheritDoc} Under a packet ring the Homa socket receives nothing (a filter drops all): only ICMP counts.
     */
    public int[] pollFds()
    {
        if (!receivesHoma)
        {
            return new int[]{ icmpSocket.fd() };
        }
        return null == hijack ? new int[]{ homaSocket.fd(), icmpSocket.fd() } :
            new int[]{ homaSocket.fd(), icmpSocket.fd(), hijack.socket().fd() };
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
        sender.close();
        homaSocket.close();
        icmpSocket.close();
        if (null != hijack)
        {
            hijack.close();
        }
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return "RawIpTransport{" + UdpSocket.ipv4ToString(localIpv4) + ", mtu=" + mtu + "}";
    }
}
