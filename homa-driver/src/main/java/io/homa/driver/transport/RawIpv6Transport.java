package io.homa.driver.transport;

import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import io.homa.driver.net.RawIp6Socket;
import io.homa.driver.net.UdpBatchSender;
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
 * Homa straight over IPv6, next header 146, as the Linux kernel module speaks it: the same Homa bytes as over
 * IPv4, the priority in the traffic class (priority &lt;&lt; 5), and a peer is an address (port 0). The engine and
 * the control protocol keep 32-bit peers: each IPv6 address gets a key from an {@link Ipv6AddressTable}, mapped
 * back to the address on send and made from the source on receive, so nothing above this class changes.
 * <p>
 * One raw socket bound to the driver's address carries Homa ({@code sendmmsg} batches out, {@code recvmmsg} in;
 * IPv6 raw sockets deliver no IP header, the source comes with each datagram). A second one, for ICMPv6, sends
 * destination-unreachable / port-unreachable for packets to ports with no socket (asked for by the engine with
 * its UDP-only PORT_UNREACHABLE packet) and receives errors about our packets, mapped as Linux maps them:
 * port unreachable fails the RPCs to that port with ENOTCONN, address unreachable all RPCs to the peer with
 * EHOSTUNREACH, parameter problem "unrecognised next header" (no Homa at that address) with EPROTONOSUPPORT; other
 * codes are ignored and the RPCs time out, as in Linux.
 * <p>
 * Refuses a link-local, multicast or unspecified address, the host's missing IPv6 and the loaded Linux Homa module.
 */
public final class RawIpv6Transport implements PacketTransport
{
    static final int ICMPV6_DEST_UNREACH = 1;
    static final int ICMPV6_ADDR_UNREACH = 3;
    static final int ICMPV6_PORT_UNREACH = 4;
    static final int ICMPV6_PARAMPROB = 4;
    static final int ICMPV6_UNK_NEXTHDR = 1;
    /** Linux's ICMPv6 errors go out with traffic class 0, as its ICMP ones with TOS 0. */
    static final int ICMP_TRAFFIC_CLASS = 0;
    private static final int ICMPV6_HEADER_LENGTH = 8;
    private static final int IPPROTO_ICMPV6 = 58;
    private static final int IPV6 = RawIp6Socket.IPV6_HEADER_LENGTH;
    /** Our port-unreachable quotes an IPv6 header and the offending packet's 28-byte common header. */
    /** An ICMPv6 error fits the IPv6 minimum MTU (RFC 4443): at most 1,280 bytes with its own IPv6 header. */
    public static final int ICMP_ERROR_MAX_LENGTH = 1_280 - IPV6;
    /** Homa bytes of the offending packet an ICMPv6 error quotes at most (1,192). */
    public static final int ICMP_QUOTE_MAX = ICMP_ERROR_MAX_LENGTH - ICMPV6_HEADER_LENGTH - IPV6;
    private static final int ICMP_RECEIVE_CAPACITY = 1280;
    private static final int ICMP_POLL_LIMIT = 16;
    private static final int ERROR_QUEUE_CAPACITY = 16;
    private static final int RECEIVE_BATCH = 32;
    private static final int EHOSTUNREACH = 113;
    private static final int ENETUNREACH = 101;
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    private final Ipv6AddressTable peers;
    private final RawIp6Socket homaSocket;
    private final RawIp6Socket icmpSocket;
    private final long localHigh;
    private final long localLow;
    private final int localKey;
    private final int mtu;
    private final int maxPacketLength;
    // Its views are one per direction: in DEDICATED mode the sender and the receiver run at once.
    private final RawIpFraming framing = new RawIpFraming();
    private final UnsafeBuffer icmpOut =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(BitUtil.align(ICMP_ERROR_MAX_LENGTH, 64), 64));
    private final UnsafeBuffer icmpIn = new UnsafeBuffer(BufferUtil.allocateDirectAligned(ICMP_RECEIVE_CAPACITY, 64));
    private final UdpBatchSender sender;
    private final int slotCapacity;
    private final UnsafeBuffer slots;
    private final long[] batchAddresses = new long[RECEIVE_BATCH];
    private final int[] batchLengths = new int[RECEIVE_BATCH];
    private final int[] batchSources = new int[RECEIVE_BATCH];
    /** Filled on the sender's thread, drained on the receiver's. */
    private final UnreachableQueue sendFailures = new UnreachableQueue(ERROR_QUEUE_CAPACITY);

    private final AtomicCounter badPackets;
    private final AtomicCounter icmpSent;
    private final AtomicCounter icmpReceived;
    private final AtomicCounter icmpIgnored;
    private final AtomicCounter sendSyscalls;
    private final AtomicCounter sendUnreachable;
    private final AtomicCounter batchSendErrors;
    private final AtomicCounter receiveSyscalls;
    private final AtomicCounter peersCounter;
    private final AtomicCounter tableFull;

    private int lastSource;
    private int lastTrafficClass;
    private boolean lastTruncated;

    /**
     * @param localAddress the driver's address, 16 bytes (a global or unique-local unicast address of this host).
     * @param mtu          path MTU (at least 1280).
     * @param rcvBufBytes  kernel receive buffer wanted.
     * @param sndBufBytes  kernel send buffer wanted.
     * @param counters     where malformed and ICMPv6 packets and the address table are counted.
     * @throws IllegalStateException for an unusable address, the Linux Homa module or a host without IPv6.
     * @throws java.io.UncheckedIOException if the kernel refuses (e.g. no CAP_NET_RAW, with a clear message).
     */
    public RawIpv6Transport(
        final byte[] localAddress,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters)
    {
        this(localAddress, mtu, rcvBufBytes, sndBufBytes, counters, Ipv6AddressTable.DEFAULT_CAPACITY);
    }

    RawIpv6Transport(
        final byte[] localAddress,
        final int mtu,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters,
        final int peerCapacity)
    {
        final String unusable = unusableAddressReason(localAddress);
        if (null != unusable)
        {
            throw new IllegalStateException("raw IPv6 transport: " + unusable);
        }
        if (mtu < RawIp6Socket.MIN_IPV6_MTU)
        {
            throw new IllegalStateException("raw IPv6 transport: MTU " + mtu + " is below IPv6's minimum of " +
                RawIp6Socket.MIN_IPV6_MTU);
        }
        final String disabled = ipv6DisabledReason(Path.of("/proc/net/if_inet6"),
            Path.of("/proc/sys/net/ipv6/conf/all/disable_ipv6"));
        if (null != disabled)
        {
            throw new IllegalStateException("refusing " + RawIp6Socket.toString(RawIp6Socket.high(localAddress),
                RawIp6Socket.low(localAddress)) + " for homa.udp.address: " + disabled);
        }
        final String module = RawIpTransport.linuxHomaModule(Path.of("/sys/module/homa"), Path.of("/proc/modules"));
        if (null != module)
        {
            throw new IllegalStateException("refusing raw IPv6 next header 146: the Linux Homa module is loaded (" +
                module + ") and would answer the same packets; unload it (rmmod homa)");
        }
        this.localHigh = RawIp6Socket.high(localAddress);
        this.localLow = RawIp6Socket.low(localAddress);
        this.mtu = mtu;
        this.maxPacketLength = Math.min(mtu - IPV6, RawIp6Socket.MAX_IPV6_PAYLOAD);

        badPackets = counters.get(TransportCounterDescriptor.RAW_BAD_PACKETS);
        icmpSent = counters.get(TransportCounterDescriptor.ICMP_UNREACH_SENT);
        icmpReceived = counters.get(TransportCounterDescriptor.ICMP_UNREACH_RCVD);
        icmpIgnored = counters.get(TransportCounterDescriptor.ICMP_IGNORED);
        sendSyscalls = counters.get(TransportCounterDescriptor.SEND_SYSCALLS);
        sendUnreachable = counters.get(TransportCounterDescriptor.SEND_UNREACHABLE);
        batchSendErrors = counters.get(TransportCounterDescriptor.BATCH_SEND_ERRORS);
        receiveSyscalls = counters.get(TransportCounterDescriptor.RECEIVE_SYSCALLS);
        peersCounter = counters.get(TransportCounterDescriptor.IPV6_PEERS);
        tableFull = counters.get(TransportCounterDescriptor.IPV6_PEER_TABLE_FULL);

        peers = new Ipv6AddressTable(peerCapacity);
        // Our own address is a peer too (a client may call a server of its own driver).
        localKey = peers.intern(localHigh, localLow);
        peersCounter.setRelease(peers.size());
        slotCapacity = BitUtil.align(maxPacketLength + 1, 64);
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slotCapacity * RECEIVE_BATCH, 64));

        homaSocket = RawIp6Socket.open(HomaWire.IPPROTO_HOMA, localHigh, localLow);
        RawIp6Socket icmp = null;
        try
        {
            homaSocket.receiveBufferSize(rcvBufBytes);
            homaSocket.sendBufferSize(sndBufBytes);
            icmp = RawIp6Socket.open(IPPROTO_ICMPV6, localHigh, localLow);
            icmp.icmp6Pass(ICMPV6_DEST_UNREACH, ICMPV6_PARAMPROB);
        }
        catch (final RuntimeException ex)
        {
            homaSocket.close();
            throw ex;
        }
        icmpSocket = icmp;
        sender = new UdpBatchSender(homaSocket, maxPacketLength);
        sender.refusalListener((peer, errno) ->
        {
            if (EHOSTUNREACH == errno || ENETUNREACH == errno)
            {
                noteSendFailure(peer, HomaError.EHOSTUNREACH);
            }
        });
    }

    /**
     * Why an address cannot be a raw-IPv6 driver's own, or null if it can.
     *
     * @param address 16 bytes.
     * @return the reason, or null.
     */
    static String unusableAddressReason(final byte[] address)
    {
        final long high = RawIp6Socket.high(address);
        final long low = RawIp6Socket.low(address);
        if (0 == high && 0 == low)
        {
            return "needs a specific local address (homa.udp.address), not ::: one raw-IP driver owns one address";
        }
        if (0xFF == (address[0] & 0xFF))
        {
            return "a multicast address cannot be a driver's own: " + RawIp6Socket.toString(high, low);
        }
        if (0xFE == (address[0] & 0xFF) && 0x80 == (address[1] & 0xC0))
        {
            return "link-local " + RawIp6Socket.toString(high, low) + " needs a scope id; use a global or " +
                "unique-local (fc00::/7) address of the interface";
        }
        return null;
    }

    /**
     * Why this host cannot speak IPv6, or null if it can.
     *
     * @param ifInet6     {@code /proc/net/if_inet6}, absent when the kernel runs with {@code ipv6.disable=1}.
     * @param disableIpv6 {@code /proc/sys/net/ipv6/conf/all/disable_ipv6}.
     * @return the reason, or null.
     */
    public static String ipv6DisabledReason(final Path ifInet6, final Path disableIpv6)
    {
        if (!Files.exists(ifInet6))
        {
            return "IPv6 is disabled on this host (no " + ifInet6 + ": the kernel runs with ipv6.disable=1 or " +
                "without IPv6); use an IPv4 address";
        }
        try
        {
            final java.util.List<String> lines = Files.readAllLines(disableIpv6);
            if (!lines.isEmpty() && "1".equals(lines.get(0).trim()))
            {
                return "IPv6 is disabled on this host (" + disableIpv6 + " is 1; sysctl -w " +
                    "net.ipv6.conf.all.disable_ipv6=0 enables it); use an IPv4 address";
            }
        }
        catch (final IOException ignore)
        {
            // No sysctl to read: the socket calls will say what is wrong.
        }
        return null;
    }

    /**
     * {@inheritDoc}
     */
    public int ipv6PeerKey(final long high, final long low)
    {
        // Unspecified, multicast, and link-local (the kernel needs a scope id to send there).
        if ((0 == high && 0 == low) || 0xFF == high >>> 56 || 0x3FA == high >>> 54)
        {
            return -HomaError.EINVAL;
        }
        final int key = peers.intern(high, low);
        if (0 == key)
        {
            tableFull.incrementRelease();
            return -HomaError.ENOMEM;
        }
        peersCounter.setRelease(peers.size());
        return key;
    }

    /**
     * @param key a peer key.
     * @return its address as text, or null if the key is not one of ours (allocates: for logs and tests).
     */
    public String peerAddress(final int key)
    {
        return peers.isKey(key) ? RawIp6Socket.toString(peers.high(key), peers.low(key)) : null;
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
        if (!peers.isKey(ipv4))
        {
            // An IPv4 address (or a key of another driver): this driver has no route to it.
            noteSendFailure(ipv4, 0 == ipv4 >>> 24 ? HomaError.EHOSTUNREACH : HomaError.EAFNOSUPPORT);
            return -HomaError.EAFNOSUPPORT;
        }
        final UnsafeBuffer portUnreachable = framing.portUnreachableToSend(headerAddress, headerLength);
        if (null != portUnreachable)
        {
            return sendPortUnreachable(portUnreachable, ipv4, headerLength);
        }
        final long high = peers.high(ipv4);
        final long low = peers.low(ipv4);
        if (!sender.add6(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, high, low, tos))
        {
            flush();
            if (!sender.add6(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, high, low, tos))
            {
                // Full of stashed packets the kernel has not taken yet: this one waits in the caller's ring.
                return 0;
            }
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
        if (0 == sender.pendingMessages())
        {
            return 0;
        }
        final int sent = sender.flush();
        if (sender.pendingMessages() > 0)
        {
            sender.stash();
        }
        sendSyscalls.setRelease(sender.syscalls());
        batchSendErrors.setRelease(sender.errors());
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
        int count;
        int valid;
        // A full batch whose datagrams were all dropped still means "more may be waiting".
        do
        {
            count = homaSocket.receiveBatch(slots.addressOffset(), slotCapacity, RECEIVE_BATCH);
            if (count <= 0)
            {
                return count;
            }
            receiveSyscalls.incrementRelease();
            valid = 0;
            for (int i = 0; i < count; i++)
            {
                final int length = homaSocket.batchLength(i);
                final long address = slots.addressOffset() + (long)i * slotCapacity;
                if (isPortUnreachable(address, length))
                {
                    continue;
                }
                final int source = sourceKey(homaSocket.batchSourceHigh(i), homaSocket.batchSourceLow(i));
                if (0 == source)
                {
                    continue;
                }
                // A truncated datagram is reported longer than the largest packet: the receiver drops it.
                batchAddresses[valid] = address;
                batchLengths[valid] = homaSocket.batchTruncated(i) ? maxPacketLength + 1 : length;
                batchSources[valid] = source;
                valid++;
            }
        }
        while (0 == valid && RECEIVE_BATCH == count);
        return valid;
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        // Bounded: each pass consumes one datagram; give up after a handful of dropped ones.
        for (int i = 0; i < 16; i++)
        {
            final int length = homaSocket.receive(address, capacity);
            if (length < 0)
            {
                return length;
            }
            if (isPortUnreachable(address, length))
            {
                continue;
            }
            final int source = sourceKey(homaSocket.lastSourceHigh(), homaSocket.lastSourceLow());
            if (0 == source)
            {
                continue;
            }
            lastSource = source;
            lastTrafficClass = homaSocket.lastTrafficClass();
            lastTruncated = homaSocket.lastTruncated();
            return length;
        }
        return RawIp6Socket.RECEIVE_WOULD_BLOCK;
    }

    private boolean isPortUnreachable(final long address, final int length)
    {
        if (framing.isPortUnreachableReceived(address, length))
        {
            // Our UDP-only type has no meaning on the wire Linux shares: ICMPv6 does that job here.
            badPackets.incrementRelease();
            return true;
        }
        return false;
    }

    /**
     * The key of a packet's source: found, or made for a new peer; 0 (packet dropped) when the table is full.
     */
    private int sourceKey(final long high, final long low)
    {
        int key = peers.lookup(high, low);
        if (0 == key)
        {
            key = peers.intern(high, low);
            if (0 == key)
            {
                tableFull.incrementRelease();
                return 0;
            }
            peersCounter.setRelease(peers.size());
        }
        return key;
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
     * Builds ICMPv6 destination-unreachable / port-unreachable (type 1 code 4) for the packet the engine could not
     * deliver: an IPv6 header for it (rebuilt: traffic class, flow label and hop limit are not kept) and as much of
     * the packet as the engine passed, at most {@link #ICMP_QUOTE_MAX} bytes, as Linux quotes (the destination port
     * is what a Linux receiver reads back to pick the RPCs to fail). The kernel fills in the ICMPv6 checksum.
     */
    private int sendPortUnreachable(final UnsafeBuffer request, final int peer, final int requestLength)
    {
        final long peerHigh = peers.high(peer);
        final long peerLow = peers.low(peer);
        final UnsafeBuffer out = icmpOut;
        final int icmpLength =
            RawIpFraming.icmpv6PortUnreachable(out, request, requestLength, peerHigh, peerLow, localHigh, localLow);
        final int result = icmpSocket.send(
            out.addressOffset(), icmpLength, 0L, 0, peerHigh, peerLow, ICMP_TRAFFIC_CLASS);
        if (result > 0)
        {
            icmpSent.incrementRelease();
        }
        return result;
    }

    private void noteSendFailure(final int peer, final int errorCode)
    {
        sendUnreachable.incrementRelease();
        sendFailures.offer(peer, errorCode);
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
            if (length < 0)
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
     * Maps an ICMPv6 error about one of our Homa packets (the quoted IPv6 header names us as source and next
     * header 146) as Linux does; everything else is ignored.
     */
    private boolean onIcmp(final int length, final UnreachableHandler handler)
    {
        final UnsafeBuffer in = icmpIn;
        final int ip = ICMPV6_HEADER_LENGTH;
        if (length < ip + IPV6 + 4 || 6 != (in.getByte(ip) & 0xFF) >>> 4 ||
            HomaWire.IPPROTO_HOMA != (in.getByte(ip + 6) & 0xFF) ||
            in.getLong(ip + 8, NETWORK) != localHigh || in.getLong(ip + 16, NETWORK) != localLow)
        {
            return false;
        }
        final int type = in.getByte(0) & 0xFF;
        final int code = in.getByte(1) & 0xFF;
        final int errorCode;
        if (ICMPV6_DEST_UNREACH == type && ICMPV6_PORT_UNREACH == code)
        {
            errorCode = HomaError.ENOTCONN;
        }
        else if (ICMPV6_DEST_UNREACH == type && ICMPV6_ADDR_UNREACH == code)
        {
            errorCode = HomaError.EHOSTUNREACH;
        }
        else if (ICMPV6_PARAMPROB == type && ICMPV6_UNK_NEXTHDR == code)
        {
            errorCode = HomaError.EPROTONOSUPPORT;
        }
        else
        {
            return false;
        }
        // Only peers we know can have RPCs to fail: never make a key for an ICMPv6 message.
        final int peer = peers.lookup(in.getLong(ip + 24, NETWORK), in.getLong(ip + 32, NETWORK));
        if (0 == peer)
        {
            return false;
        }
        icmpReceived.incrementRelease();
        final int homaPort = HomaError.ENOTCONN == errorCode ? in.getShort(ip + IPV6 + 2, NETWORK) & 0xFFFF : 0;
        handler.onUnreachable(peer, 0, homaPort, errorCode);
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
        return lastSource;
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourcePort()
    {
        return 0;
    }

    /**
     * @return -1: the driver does not ask the kernel for each packet's traffic class (nothing reads it).
     */
    public int lastTos()
    {
        return lastTrafficClass;
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return lastTruncated;
    }

    /**
     * @return the peer key of the driver's own address (what the CnC publishes where an IPv4 driver puts its
     * address).
     */
    public int localIpv4()
    {
        return localKey;
    }

    /**
     * {@inheritDoc}
     */
    public int[] pollFds()
    {
        return null == icmpSocket ? new int[]{ homaSocket.fd() } : new int[]{ homaSocket.fd(), icmpSocket.fd() };
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
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return "RawIpv6Transport{" + RawIp6Socket.toString(localHigh, localLow) + ", mtu=" + mtu + "}";
    }
}
