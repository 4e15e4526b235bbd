package io.homa.driver.transport;

import io.homa.driver.net.PacketRingSocket;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.net.UdpBatchSender;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.ByteOrder;

/**
 * TCP hijacking, as Linux Homa does it with {@code net.homa.hijack_tcp=1}: Homa packets travel as IP protocol 6
 * (TCP) so that NICs segment and spread them as they do TCP. The Homa common header already has a TCP header's
 * shape; a hijacked packet is marked by a flags byte of exactly SYN|RST (a combination TCP never sends) and
 * the urgent pointer 0xB97D, and carries a real TCP checksum, as a NIC or the peer may check it. Linux's own TCP
 * stack drops such segments without an answer (it never answers a RST), so both stacks can share the address.
 * <p>
 * This class owns the raw IPPROTO_TCP socket of an IPv4 raw-IP transport: a kernel filter lets only hijacked Homa
 * packets to our address into its queue (every other TCP segment stays with the kernel's TCP), and a batch sender
 * sends on it when {@code homa.hijack.tcp} is on. Receiving is always on, so a Linux peer with hijacking enabled is
 * understood whatever our own setting.
 */
final class TcpHijack implements AutoCloseable
{
    static final int IPPROTO_TCP = 6;
    /** The flags byte of a hijacked packet: SYN | RST. */
    static final int HIJACK_FLAGS = 6;
    /** The urgent pointer of a hijacked packet. */
    static final int HIJACK_URGENT = 0xB97D;
    static final int FLAGS_OFFSET = 13;
    static final int CHECKSUM_OFFSET = 16;
    static final int URGENT_OFFSET = 18;
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    private final RawIpSocket socket;
    private final UdpBatchSender sender;
    private final int localIpv4;
    private final AtomicCounter sent;
    private final AtomicCounter received;
    // Used by the sending thread only.
    private final UnsafeBuffer headerView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer payloadView = new UnsafeBuffer(0, 0);

    private TcpHijack(
        final RawIpSocket socket,
        final UdpBatchSender sender,
        final int localIpv4,
        final AtomicCounter sent,
        final AtomicCounter received)
    {
        this.socket = socket;
        this.sender = sender;
        this.localIpv4 = localIpv4;
        this.sent = sent;
        this.received = received;
    }

    /**
     * Opens the IPPROTO_TCP raw socket bound to our address, with the filter that keeps out real TCP.
     *
     * @param localIpv4        our address.
     * @param maxPacketLength  largest IP payload.
     * @param rcvBufBytes      kernel receive buffer wanted.
     * @param sndBufBytes      kernel send buffer wanted.
     * @param sent             counts hijacked packets sent.
     * @param received         counts hijacked packets received.
     * @param refusals         told about sends the kernel refused.
     * @return the open hijack path.
     */
    static TcpHijack open(
        final int localIpv4,
        final int maxPacketLength,
        final int rcvBufBytes,
        final int sndBufBytes,
        final AtomicCounter sent,
        final AtomicCounter received,
        final UdpBatchSender.RefusalListener refusals)
    {
        final RawIpSocket socket = RawIpSocket.open(IPPROTO_TCP, localIpv4);
        try
        {
            PacketRingSocket.attachFilter(socket.fd(), filter());
            socket.receiveBufferSize(rcvBufBytes);
            socket.sendBufferSize(sndBufBytes);
            final UdpBatchSender sender = new UdpBatchSender(socket, maxPacketLength);
            sender.refusalListener(refusals);
            return new TcpHijack(socket, sender, localIpv4, sent, received);
        }
        catch (final RuntimeException ex)
        {
            socket.close();
            throw ex;
        }
    }

    /**
     * The classic BPF program of the receive socket. A raw IPv4 socket's filter sees the packet from its IP header:
     * take the TCP header's place from the IHL, then accept only flags SYN|RST with urgent pointer 0xB97D.
     *
     * @return the program.
     */
    static long[] filter()
    {
        return new long[]{
            PacketRingSocket.bpf(0xB1, 0, 0, 0),              // ldxb 4*([0]&0xf): X = IP header length
            PacketRingSocket.bpf(0x50, 0, 0, FLAGS_OFFSET),   // ldb [x+13]: TCP flags
            PacketRingSocket.bpf(0x15, 0, 3, HIJACK_FLAGS),   // jeq SYN|RST, else drop
            PacketRingSocket.bpf(0x48, 0, 0, URGENT_OFFSET),  // ldh [x+18]: urgent pointer
            PacketRingSocket.bpf(0x15, 0, 1, HIJACK_URGENT),  // jeq 0xB97D, else drop
            PacketRingSocket.bpf(0x06, 0, 0, 0x0004_0000),    // accept the whole packet
            PacketRingSocket.bpf(0x06, 0, 0, 0) };            // drop
    }

    RawIpSocket socket()
    {
        return socket;
    }

    UdpBatchSender sender()
    {
        return sender;
    }

    /**
     * Marks an outgoing packet as hijacked and fills in its TCP checksum (header and payload must stay as they are
     * until sent).
     *
     * @param headerAddress  the Homa header.
     * @param headerLength   its length (at least the common header's).
     * @param payloadAddress payload, or 0.
     * @param payloadLength  its length.
     * @param destinationIpv4 the peer.
     */
    void stamp(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int destinationIpv4)
    {
        final UnsafeBuffer header = headerView;
        header.wrap(headerAddress, headerLength);
        header.putByte(FLAGS_OFFSET, (byte)HIJACK_FLAGS);
        header.putShort(URGENT_OFFSET, (short)HIJACK_URGENT, NETWORK);
        header.putShort(CHECKSUM_OFFSET, (short)0);
        long sum = pseudoHeaderSum(localIpv4, destinationIpv4, headerLength + payloadLength);
        sum = add(sum, header, 0, headerLength, 0);
        if (payloadLength > 0)
        {
            payloadView.wrap(payloadAddress, payloadLength);
            sum = add(sum, payloadView, 0, payloadLength, headerLength);
        }
        header.putShort(CHECKSUM_OFFSET, (short)fold(sum), NETWORK);
    }

    void onSent()
    {
        sent.incrementRelease();
    }

    /**
     * @param segment a received TCP segment (from its TCP header).
     * @param length  its length.
     * @return true if it is a hijacked Homa packet (the socket's filter already let only those in).
     */
    static boolean isHijacked(final DirectBuffer segment, final int length)
    {
        return length > URGENT_OFFSET + 1 && HIJACK_FLAGS == (segment.getByte(FLAGS_OFFSET) & 0xFF) &&
            HIJACK_URGENT == (segment.getShort(URGENT_OFFSET, NETWORK) & 0xFFFF);
    }

    void onReceived()
    {
        received.incrementRelease();
    }

    /**
     * The TCP checksum of a whole segment as a receiver computes it (0 when it is right), for tests.
     *
     * @param sourceIpv4      sender.
     * @param destinationIpv4 receiver.
     * @param segment         the segment, checksum included.
     * @param length          its length.
     * @return the folded, complemented sum: 0 for a correct checksum.
     */
    static int verify(final int sourceIpv4, final int destinationIpv4, final DirectBuffer segment, final int length)
    {
        return fold(add(pseudoHeaderSum(sourceIpv4, destinationIpv4, length), segment, 0, length, 0));
    }

    private static long pseudoHeaderSum(final int sourceIpv4, final int destinationIpv4, final int tcpLength)
    {
        return (sourceIpv4 >>> 16) + (sourceIpv4 & 0xFFFF) + (destinationIpv4 >>> 16) + (destinationIpv4 & 0xFFFF) +
            IPPROTO_TCP + tcpLength;
    }

    /**
     * Adds bytes to a ones'-complement sum; {@code position} is where they sit in the segment, so a range that
     * starts at an odd position contributes its bytes in the other half of each 16-bit word.
     */
    private static long add(
        final long start, final DirectBuffer buffer, final int offset, final int length, final int position)
    {
        long even = 0;
        long odd = 0;
        int i = 0;
        for (; i + 1 < length; i += 2)
        {
            even += buffer.getByte(offset + i) & 0xFF;
            odd += buffer.getByte(offset + i + 1) & 0xFF;
        }
        if (i < length)
        {
            even += buffer.getByte(offset + i) & 0xFF;
        }
        final long words = 0 == (position & 1) ? (even << 8) + odd : (odd << 8) + even;
        return start + words;
    }

    private static int fold(final long sum)
    {
        long folded = sum;
        while (0 != (folded >>> 16))
        {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        return (int)(~folded & 0xFFFF);
    }

    /**
     * Closes the sender and the socket.
     */
    public void close()
    {
        sender.close();
        socket.close();
    }
}
