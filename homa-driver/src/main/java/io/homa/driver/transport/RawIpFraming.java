package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import io.homa.driver.net.RawIp6Socket;
import io.homa.driver.net.RawIpSocket;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * The byte work of {@link RawIpTransport} and {@link RawIpv6Transport} that needs no socket: recognising the
 * engine's PORT_UNREACHABLE on the way out and building the ICMP(v6) port-unreachable from it, and dropping
 * PORT_UNREACHABLE (and checking hijacked segments) on the way in.
 * <p>
 * In DEDICATED mode the sender and the receiver call one transport at once, so the send side and the receive side
 * each have their own view: {@link #portUnreachableToSend} is for the sender's thread only, the
 * {@code ...Received} methods for the receiver's thread only. The JCStress case {@code RawIpFramingStress} (module
 * homa-concurrency-tests) runs both at once. Package-private: nothing outside the transports uses it.
 */
final class RawIpFraming
{
    private static final int ICMP_HEADER_LENGTH = 8;
    private static final int ICMPV6_HEADER_LENGTH = 8;
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    // One view per direction: in DEDICATED mode the sender and the receiver run at once.
    private final UnsafeBuffer sendView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer receiveView = new UnsafeBuffer(0, 0);

    /**
     * Sender's thread.
     *
     * @param headerAddress the packet's Homa header.
     * @param headerLength  its length.
     * @return the send side's view on the header if it is the engine's PORT_UNREACHABLE (to be turned into ICMP;
     * valid until the next call), else null.
     */
    UnsafeBuffer portUnreachableToSend(final long headerAddress, final int headerLength)
    {
        if (headerLength >= HomaWire.COMMON_HEADER_LENGTH)
        {
            sendView.wrap(headerAddress, headerLength);
            if (HomaWire.PORT_UNREACHABLE == HomaWire.type(sendView, 0))
            {
                return sendView;
            }
        }
        return null;
    }

    /**
     * Receiver's thread.
     *
     * @param address where the received Homa packet is.
     * @param length  its length.
     * @return true for our UDP-only PORT_UNREACHABLE, which has no meaning on the wire Linux shares (ICMP does
     * that job there): the packet is to be dropped.
     */
    boolean isPortUnreachableReceived(final long address, final int length)
    {
        if (length >= HomaWire.COMMON_HEADER_LENGTH)
        {
            receiveView.wrap(address, length);
            return HomaWire.PORT_UNREACHABLE == HomaWire.type(receiveView, 0);
        }
        return false;
    }

    /**
     * Receiver's thread.
     *
     * @param address where a segment from the TCP socket is.
     * @param length  its length.
     * @return true if it carries the marks of hijacked Homa ({@link TcpHijack#isHijacked}).
     */
    boolean isHijackedReceived(final long address, final int length)
    {
        receiveView.wrap(address, Math.max(length, 0));
        return TcpHijack.isHijacked(receiveView, length);
    }

    /**
     * Writes the Homa part of an ICMP(v6) port-unreachable's quote at {@code at}: the {@code quoted} bytes of the
     * offending packet the engine passed behind its PORT_UNREACHABLE or, if it passed none, the common header rebuilt
     * from the PORT_UNREACHABLE itself (both transports, IPv4 and IPv6, quote the same way).
     */
    static void quoteOffendingPacket(
        final UnsafeBuffer out, final int at, final UnsafeBuffer request, final int requestLength, final int quoted)
    {
        if (requestLength > HomaWire.COMMON_HEADER_LENGTH)
        {
            out.putBytes(at, request, HomaWire.COMMON_HEADER_LENGTH, quoted);
        }
        else
        {
            // The engine's PORT_UNREACHABLE has the ports of its answer: the offending packet had them swapped.
            out.putBytes(at, request, 0, Math.min(requestLength, HomaWire.COMMON_HEADER_LENGTH));
            out.putShort(at, request.getShort(2), ByteOrder.nativeOrder());
            out.putShort(at + 2, request.getShort(0), ByteOrder.nativeOrder());
            out.putByte(at + 11, (byte)HomaWire.DATA);
        }
    }

    /**
     * Builds ICMP destination-unreachable / port-unreachable (type 3 code 3) for the packet the engine could not
     * deliver: an IPv4 header for it (rebuilt: its TOS, id and TTL are not kept) and as much of the packet as the
     * engine passed behind its PORT_UNREACHABLE, at most {@link RawIpTransport#ICMP_QUOTE_MAX} bytes, as Linux
     * quotes (ports are what a Linux receiver reads back to pick the RPCs to fail). An engine that passed nothing
     * gets the common header rebuilt from its PORT_UNREACHABLE.
     *
     * @return the ICMP message's length in {@code out}.
     */
    static int icmpv4PortUnreachable(
        final UnsafeBuffer out,
        final UnsafeBuffer request,
        final int requestLength,
        final int peerIpv4,
        final int localIpv4)
    {
        final int passed = requestLength - HomaWire.COMMON_HEADER_LENGTH;
        final int quoted = passed > 0 ?
            Math.min(passed, RawIpTransport.ICMP_QUOTE_MAX) : HomaWire.COMMON_HEADER_LENGTH;
        final int offendingLength = passed > 0 ?
            (int)Math.max(HomaWire.sequence(request, 0), quoted) : HomaWire.COMMON_HEADER_LENGTH;
        final int icmpLength = ICMP_HEADER_LENGTH + RawIpSocket.IPV4_HEADER_LENGTH + quoted;
        out.setMemory(0, icmpLength, (byte)0);
        out.putByte(0, (byte)RawIpTransport.ICMP_DEST_UNREACH);
        out.putByte(1, (byte)RawIpTransport.ICMP_PORT_UNREACH);

        final int ip = ICMP_HEADER_LENGTH;
        out.putByte(ip, (byte)0x45);
        out.putShort(ip + 2, (short)Math.min(RawIpSocket.IPV4_HEADER_LENGTH + offendingLength, 0xFFFF), NETWORK);
        out.putShort(ip + 6, (short)0x4000, NETWORK);
        out.putByte(ip + 8, (byte)64);
        out.putByte(ip + 9, (byte)HomaWire.IPPROTO_HOMA);
        out.putInt(ip + 12, peerIpv4, NETWORK);
        out.putInt(ip + 16, localIpv4, NETWORK);
        out.putShort(ip + 10, (short)RawIpSocket.internetChecksum(out, ip, RawIpSocket.IPV4_HEADER_LENGTH), NETWORK);

        quoteOffendingPacket(out, ip + RawIpSocket.IPV4_HEADER_LENGTH, request, requestLength, quoted);

        out.putShort(2, (short)RawIpSocket.internetChecksum(out, 0, icmpLength), NETWORK);
        return icmpLength;
    }

    /**
     * Builds ICMPv6 destination-unreachable / port-unreachable (type 1 code 4) for the packet the engine could not
     * deliver: an IPv6 header for it (rebuilt: traffic class, flow label and hop limit are not kept) and as much of
     * the packet as the engine passed, at most {@link RawIpv6Transport#ICMP_QUOTE_MAX} bytes, as Linux quotes (the
     * destination port is what a Linux receiver reads back to pick the RPCs to fail). The checksum is left 0: the
     * kernel fills it in.
     *
     * @return the ICMPv6 message's length in {@code out}.
     */
    static int icmpv6PortUnreachable(
        final UnsafeBuffer out,
        final UnsafeBuffer request,
        final int requestLength,
        final long peerHigh,
        final long peerLow,
        final long localHigh,
        final long localLow)
    {
        final int ipv6 = RawIp6Socket.IPV6_HEADER_LENGTH;
        final int passed = requestLength - HomaWire.COMMON_HEADER_LENGTH;
        final int quoted = passed > 0 ?
            Math.min(passed, RawIpv6Transport.ICMP_QUOTE_MAX) : HomaWire.COMMON_HEADER_LENGTH;
        final int offendingLength = passed > 0 ?
            (int)Math.max(HomaWire.sequence(request, 0), quoted) : HomaWire.COMMON_HEADER_LENGTH;
        final int icmpLength = ICMPV6_HEADER_LENGTH + ipv6 + quoted;
        out.setMemory(0, icmpLength, (byte)0);
        out.putByte(0, (byte)RawIpv6Transport.ICMPV6_DEST_UNREACH);
        out.putByte(1, (byte)RawIpv6Transport.ICMPV6_PORT_UNREACH);

        final int ip = ICMPV6_HEADER_LENGTH;
        out.putInt(ip, 0x6000_0000, NETWORK);
        out.putShort(ip + 4, (short)Math.min(offendingLength, 0xFFFF), NETWORK);
        out.putByte(ip + 6, (byte)HomaWire.IPPROTO_HOMA);
        out.putByte(ip + 7, (byte)64);
        out.putLong(ip + 8, peerHigh, NETWORK);
        out.putLong(ip + 16, peerLow, NETWORK);
        out.putLong(ip + 24, localHigh, NETWORK);
        out.putLong(ip + 32, localLow, NETWORK);

        quoteOffendingPacket(out, ip + ipv6, request, requestLength, quoted);
        return icmpLength;
    }
}
