package io.homa.driver.transport;

import io.homa.driver.net.UdpSocket;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;

/**
 * Homa over UDP: one UDP socket per driver, the Homa header unchanged right behind the UDP header. A peer is an
 * IPv4 address plus a UDP port, so several drivers can share one address. The socket is FFM-owned, which gives
 * per-packet TOS (Homa priorities) and kernel buffer sizes beyond rmem_max when running as root.
 */
public final class UdpTransport implements PacketTransport
{
    /** Largest UDP payload one IPv4 datagram carries. */
    public static final int MAX_UDP_PAYLOAD = 65_507;
    /** IPv4 header (no options) plus UDP header. */
    public static final int IPV4_UDP_OVERHEAD = 28;

    private final UdpSocket socket;
    private final int maxPacketLength;
    private final int mtu;

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
        socket = UdpSocket.open(address, port);
        try
        {
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
