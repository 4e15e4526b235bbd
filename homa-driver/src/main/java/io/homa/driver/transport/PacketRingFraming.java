package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import io.homa.driver.net.RawIpSocket;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * The byte work of {@link PacketRingTransport} that needs no socket: writing a whole Ethernet + IPv4 + Homa frame
 * into a TX-ring slot, and checking a frame from the RX ring and finding its Homa packet and source.
 * <p>
 * In DEDICATED mode the sender and the receiver call the transport at once, so each direction has its own views:
 * {@link #isPortUnreachableToSend} and {@link #writeFrame} are for the sender's thread only, {@link #parse} and
 * its results for the receiver's thread only. The JCStress case {@code PacketRingFramingStress} (module
 * homa-concurrency-tests) runs both at once. Package-private: nothing outside the transport uses it.
 */
final class PacketRingFraming
{
    static final int ETH_HEADER_LENGTH = 14;
    static final int IP_HEADER_LENGTH = RawIpSocket.IPV4_HEADER_LENGTH;
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    private final int localIpv4;
    private final long localMac;
    // Sender's thread.
    private final UnsafeBuffer frame = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer piece = new UnsafeBuffer(0, 0);
    private short ipId;
    // Receiver's thread: one view per direction, as the sender and the receiver run at once in DEDICATED mode.
    private final UnsafeBuffer received = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer receivePiece = new UnsafeBuffer(0, 0);
    private int parsedHomaLength;
    private int parsedSourceIpv4;

    /**
     * @param localIpv4 the driver's address: the source of frames written, the destination of frames accepted.
     * @param localMac  the interface's MAC in the low 48 bits (0 on loopback).
     */
    PacketRingFraming(final int localIpv4, final long localMac)
    {
        this.localIpv4 = localIpv4;
        this.localMac = localMac;
    }

    /**
     * Sender's thread.
     *
     * @return true if the header is the engine's PORT_UNREACHABLE (which goes out as ICMP, not in a frame).
     */
    boolean isPortUnreachableToSend(final long headerAddress, final int headerLength)
    {
        if (headerLength < HomaWire.COMMON_HEADER_LENGTH)
        {
            return false;
        }
        piece.wrap(headerAddress, headerLength);
        return HomaWire.PORT_UNREACHABLE == HomaWire.type(piece, 0);
    }

    /**
     * Sender's thread. Writes the Ethernet header (to {@code mac}), an IPv4 header (protocol 146, DF, TTL 64, the
     * next id, its checksum) and the Homa header and payload at {@code frameAddress}.
     *
     * @return the frame's length.
     */
    int writeFrame(
        final long frameAddress,
        final long mac,
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int tos)
    {
        final int length = headerLength + payloadLength;
        piece.wrap(headerAddress, headerLength);
        final int frameLength = ETH_HEADER_LENGTH + IP_HEADER_LENGTH + length;
        frame.wrap(frameAddress, frameLength);
        frame.putShort(0, (short)(mac >>> 32), NETWORK);
        frame.putInt(2, (int)mac, NETWORK);
        frame.putShort(6, (short)(localMac >>> 32), NETWORK);
        frame.putInt(8, (int)localMac, NETWORK);
        frame.putShort(12, (short)0x0800, NETWORK);

        final int ip = ETH_HEADER_LENGTH;
        frame.putByte(ip, (byte)0x45);
        frame.putByte(ip + 1, (byte)tos);
        frame.putShort(ip + 2, (short)(IP_HEADER_LENGTH + length), NETWORK);
        frame.putShort(ip + 4, ipId++, NETWORK);
        frame.putShort(ip + 6, (short)0x4000, NETWORK);
        frame.putByte(ip + 8, (byte)64);
        frame.putByte(ip + 9, (byte)RawIpTransport.IPPROTO_HOMA);
        frame.putShort(ip + 10, (short)0);
        frame.putInt(ip + 12, localIpv4, NETWORK);
        frame.putInt(ip + 16, ipv4, NETWORK);
        frame.putShort(ip + 10, (short)RawIpSocket.internetChecksum(frame, ip, IP_HEADER_LENGTH), NETWORK);

        frame.putBytes(ip + IP_HEADER_LENGTH, piece, 0, headerLength);
        if (payloadLength > 0)
        {
            piece.wrap(payloadAddress, payloadLength);
            frame.putBytes(ip + IP_HEADER_LENGTH + headerLength, piece, 0, payloadLength);
        }
        return frameLength;
    }

    /**
     * Receiver's thread. Checks a captured IPv4 packet (the RX ring strips the Ethernet header): version 4, a
     * sane header and total length, protocol 146, to our address, and not our UDP-only PORT_UNREACHABLE.
     *
     * @param address  where the IPv4 header starts.
     * @param captured bytes captured.
     * @return the IPv4 header's length (the Homa packet starts that far from {@code address}), or -1 to drop the
     * packet as bad; after a non-negative result, {@link #parsedHomaLength} and {@link #parsedSourceIpv4} hold
     * the rest.
     */
    int parse(final long address, final int captured)
    {
        received.wrap(address, Math.max(captured, 0));
        if (captured < IP_HEADER_LENGTH)
        {
            return -1;
        }
        final int versionAndIhl = received.getByte(0) & 0xFF;
        final int ihl = (versionAndIhl & 0xF) << 2;
        final int total = received.getShort(2, NETWORK) & 0xFFFF;
        if (4 != versionAndIhl >>> 4 || ihl < IP_HEADER_LENGTH || total < ihl || total > captured ||
            RawIpTransport.IPPROTO_HOMA != (received.getByte(9) & 0xFF) ||
            received.getInt(16, NETWORK) != localIpv4)
        {
            return -1;
        }
        final int homaLength = total - ihl;
        if (homaLength >= HomaWire.COMMON_HEADER_LENGTH)
        {
            receivePiece.wrap(address + ihl, homaLength);
            if (HomaWire.PORT_UNREACHABLE == HomaWire.type(receivePiece, 0))
            {
                return -1;
            }
        }
        parsedHomaLength = homaLength;
        parsedSourceIpv4 = received.getInt(12, NETWORK);
        return ihl;
    }

    /**
     * Receiver's thread.
     *
     * @return the Homa length of the packet {@link #parse} last accepted.
     */
    int parsedHomaLength()
    {
        return parsedHomaLength;
    }

    /**
     * Receiver's thread.
     *
     * @return the source address of the packet {@link #parse} last accepted.
     */
    int parsedSourceIpv4()
    {
        return parsedSourceIpv4;
    }
}
