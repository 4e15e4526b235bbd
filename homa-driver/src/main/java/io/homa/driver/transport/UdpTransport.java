package io.homa.driver.transport;

import io.homa.client.HomaError;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.status.TransportCounters;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;

/**
 * Homa over UDP: one UDP socket per driver, the Homa header unchanged right behind the UDP header. A peer is an
 * IPv4 address plus a UDP port, so several drivers can share one address. The socket is FFM-owned, which gives
 * per-packet TOS (Homa priorities) and kernel buffer sizes beyond rmem_max when running as root.
 * <p>
 * With IP_RECVERR the kernel queues the ICMP errors that come back about our datagrams: an ICMP port-unreachable
 * for a peer's UDP port means no driver listens there any more (its process ended), so every RPC of that peer is
 * aborted at once ({@link #pollUnreachable}), as Linux does on an ICMP port-unreachable for a Homa port.
 */
public final class UdpTransport implements PacketTransport
{
    /** Largest UDP payload one IPv4 datagram carries. */
    public static final int MAX_UDP_PAYLOAD = 65_507;
    /** IPv4 header (no options) plus UDP header. */
    public static final int IPV4_UDP_OVERHEAD = 28;

    private static final int ICMP_DEST_UNREACH = 3;
    private static final int ICMP_PORT_UNREACH = 3;
    private static final int ICMP_PROT_UNREACH = 2;
    private static final int ICMP_FRAG_NEEDED = 4;
    private static final int ERROR_POLL_LIMIT = 16;
    /** Only the Homa common header of our datagram is looked at. */
    private static final int ERROR_PAYLOAD_CAPACITY = 64;

    private final UdpSocket socket;
    private final int maxPacketLength;
    private final int mtu;
    private final UnsafeBuffer errorPayload =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(ERROR_PAYLOAD_CAPACITY, 64));
    private final AtomicCounter icmpReceived;
    private final AtomicCounter icmpIgnored;

    /**
     * @param address       local IPv4 address to bind.
     * @param port          local UDP port, 0 for any.
     * @param mtuLength     path MTU, or 0 to read it from the interface that owns the address.
     * @param rcvBufBytes   kernel receive buffer wanted.
     * @param sndBufBytes   kernel send buffer wanted.
     */
    public UdpTransport(
        final InetAddress address, final int port, final int mtuLength, final int rcvBufBytes, final int sndBufBytes)
    {
        this(address, port, mtuLength, rcvBufBytes, sndBufBytes, null);
    }

    /**
     * @param address       local IPv4 address to bind.
     * @param port          local UDP port, 0 for any.
     * @param mtuLength     path MTU, or 0 to read it from the interface that owns the address.
     * @param rcvBufBytes   kernel receive buffer wanted.
     * @param sndBufBytes   kernel send buffer wanted.
     * @param counters      where ICMP errors received are counted ({@code icmp_unreach_rcvd}, {@code icmp_ignored}),
     *                      or null.
     */
    public UdpTransport(
        final InetAddress address,
        final int port,
        final int mtuLength,
        final int rcvBufBytes,
        final int sndBufBytes,
        final TransportCounters counters)
    {
        icmpReceived = null == counters ? null : counters.get(TransportCounterDescriptor.ICMP_UNREACH_RCVD);
        icmpIgnored = null == counters ? null : counters.get(TransportCounterDescriptor.ICMP_IGNORED);
        socket = UdpSocket.open(address, port);
        try
        {
            socket.receiveErrors();
            socket.receiveBufferSize(rcvBufBytes);
            socket.sendBufferSize(sndBufBytes);
            mtu = mtuLength > 0 ? mtuLength : discoverMtu(address);
            maxPacketLength = Math.min(mtu - IPV4_UDP_OVERHEAD, MAX_UDP_PAYLOAD);
        }
        catch (final RuntimeException ex)
        {
            socket.close();
            throw ex;
        }
    }

    /**
     * @param address an interface address.
     * @return that interface's MTU, or 1500 if it cannot be read.
     */
    public static int discoverMtu(final InetAddress address)
    {
        try
        {
            final NetworkInterface nif = address.isAnyLocalAddress() ? null : NetworkInterface.getByInetAddress(address);
            if (null != nif)
            {
                return nif.getMTU();
            }
        }
        catch (final SocketException ignore)
        {
            // Fall through to the Ethernet default.
        }
        return 1500;
    }

    /**
     * {@inheritDoc}
     */
    public int send(final long address, final int length, final int ipv4, final int port, final int tos)
    {
        return socket.send(address, length, ipv4, port, tos);
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
        return socket.send(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos);
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        return socket.receive(address, capacity);
    }

    /**
     * Drains the socket's error queue when a send or receive found it non-empty (no system call otherwise): an ICMP
     * port-unreachable about a datagram to a peer aborts every RPC of that peer (address and UDP port: its driver
     * is gone) with ENOTCONN, another destination-unreachable (host, network, protocol) with EHOSTUNREACH or
     * EPROTONOSUPPORT; fragmentation-needed and everything else is left to the kernel and counted as ignored.
     */
    public int pollUnreachable(final UnreachableHandler handler)
    {
        if (!socket.isErrorQueued())
        {
            return 0;
        }
        socket.clearErrorQueued();
        int work = 0;
        for (int i = 0; i < ERROR_POLL_LIMIT; i++)
        {
            final int length = socket.receiveError(errorPayload.addressOffset(), ERROR_PAYLOAD_CAPACITY);
            if (length < 0)
            {
                return work;
            }
            work++;
            final int type = socket.lastErrorType();
            final int code = socket.lastErrorCode();
            if (UdpSocket.SO_EE_ORIGIN_ICMP != socket.lastErrorOrigin() || ICMP_DEST_UNREACH != type ||
                ICMP_FRAG_NEEDED == code)
            {
                if (null != icmpIgnored)
                {
                    icmpIgnored.incrementRelease();
                }
                continue;
            }
            if (null != icmpReceived)
            {
                icmpReceived.incrementRelease();
            }
            final int errorCode = ICMP_PORT_UNREACH == code ? HomaError.ENOTCONN :
                ICMP_PROT_UNREACH == code ? HomaError.EPROTONOSUPPORT : HomaError.EHOSTUNREACH;
            handler.onUnreachable(socket.lastErrorDestinationIpv4(), socket.lastErrorDestinationPort(), 0, errorCode);
        }
        // More may wait: look again next cycle.
        socket.markErrorQueued();
        return work;
    }

    /**
     * {@inheritDoc}
     */
    public boolean canReceiveScattered()
    {
        return true;
    }

    /**
     * {@inheritDoc}
     */
    public int receiveScattered(
        final long headerAddress,
        final int headerLength,
        final long hintAddress,
        final int hintLength,
        final long restAddress,
        final int restLength)
    {
        return socket.receiveScattered(headerAddress, headerLength, hintAddress, hintLength, restAddress, restLength);
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourceIpv4()
    {
        return socket.lastSourceIpv4();
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourcePort()
    {
        return socket.lastSourcePort();
    }

    /**
     * {@inheritDoc}
     */
    public int lastTos()
    {
        return socket.lastTos();
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return socket.lastTruncated();
    }

    /**
     * {@inheritDoc}
     */
    public int localIpv4()
    {
        return socket.localAddressInt();
    }

    /**
     * {@inheritDoc}
     */
    public int[] pollFds()
    {
        return new int[]{ socket.fd() };
    }

    /**
     * {@inheritDoc}
     */
    public int localPort()
    {
        return socket.localPort();
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
     * @return the kernel receive buffer the socket got.
     */
    public int receiveBufferSize()
    {
        return socket.receiveBufferSize();
    }

    /**
     * {@inheritDoc}
     */
    public long receiveDrops()
    {
        return socket.receiveDrops();
    }

    /**
     * {@inheritDoc}
     */
    public void close()
    {
        socket.close();
    }
}
