package io.homa.driver.protocol;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * The ring from the protocol engine to the sender agent. Each record is a finished packet and where it goes:
 * <pre>
 *   destination IPv4 (int) | destination port (int) | TOS (int) | type (int) |
 *   payload address (long) | payload length (int) | pad (int) | header or whole-packet bytes ...
 * </pre>
 * Control packets are written whole into the record. DATA records hold only the 56-byte header and a reference
 * to the payload in the socket's mapped send region; the sender gathers both in one {@code sendmsg}, so the
 * payload's only copy on the send side is the kernel's. The engine keeps a send block (and a socket's mapping)
 * alive until {@link #consumerPosition()} has passed every record that points into it.
 */
public final class OutboundPackets implements PacketSink
{
    /** Record type id of a packet. */
    public static final int PACKET_MSG_TYPE_ID = 1;
    /** Offset of the destination address within a record. */
    public static final int DEST_IPV4_OFFSET = 0;
    /** Offset of the destination port within a record. */
    public static final int DEST_PORT_OFFSET = 4;
    /** Offset of the TOS byte (as an int) within a record. */
    public static final int TOS_OFFSET = 8;
    /** Offset of the packet type within a record. */
    public static final int TYPE_OFFSET = 12;
    /** Offset of the payload's native address within a record. */
    public static final int PAYLOAD_ADDRESS_OFFSET = 16;
    /** Offset of the payload length within a record (0: the record holds the whole packet). */
    public static final int PAYLOAD_LENGTH_OFFSET = 24;
    /** Length of the routing prefix before the packet bytes. */
    public static final int PREFIX_LENGTH = 32;

    private final OneToOneRingBuffer ring;
    private final AtomicBuffer buffer;

    /**
     * @param ring the ring (capacity at least 8 times the largest packet).
     */
    public OutboundPackets(final OneToOneRingBuffer ring)
    {
        this.ring = ring;
        this.buffer = ring.buffer();
    }

    /**
     * Claims room for one packet.
     *
     * @param packetLength packet bytes.
     * @param ipv4         destination address.
     * @param port         destination port.
     * @param tos          IP TOS byte.
     * @param type         Homa packet type (for counters).
     * @return index of the record (pass to {@link #commit(int)}); packet bytes start at index + PREFIX_LENGTH;
     * or a negative value when the ring is full.
     */
    public int claim(final int packetLength, final int ipv4, final int port, final int tos, final int type)
    {
        final int index = ring.tryClaim(PACKET_MSG_TYPE_ID, PREFIX_LENGTH + packetLength);
        if (index > 0)
        {
            buffer.putInt(index + DEST_IPV4_OFFSET, ipv4);
            buffer.putInt(index + DEST_PORT_OFFSET, port);
            buffer.putInt(index + TOS_OFFSET, tos);
            buffer.putInt(index + TYPE_OFFSET, type);
            buffer.putLong(index + PAYLOAD_ADDRESS_OFFSET, 0L);
            buffer.putInt(index + PAYLOAD_LENGTH_OFFSET, 0);
        }
        return index;
    }

    /**
     * Claims room for a packet header whose payload stays where it is (the socket's send region).
     *
     * @param headerLength   header bytes written into the record.
     * @param ipv4           destination address.
     * @param port           destination port.
     * @param tos            IP TOS byte.
     * @param type           Homa packet type.
     * @param payloadAddress native address of the payload.
     * @param payloadLength  payload bytes.
     * @return index of the record, or a negative value when the ring is full.
     */
    public int claim(
        final int headerLength,
        final int ipv4,
        final int port,
        final int tos,
        final int type,
        final long payloadAddress,
        final int payloadLength)
    {
        final int index = ring.tryClaim(PACKET_MSG_TYPE_ID, PREFIX_LENGTH + headerLength);
        if (index > 0)
        {
            buffer.putInt(index + DEST_IPV4_OFFSET, ipv4);
            buffer.putInt(index + DEST_PORT_OFFSET, port);
            buffer.putInt(index + TOS_OFFSET, tos);
            buffer.putInt(index + TYPE_OFFSET, type);
            buffer.putLong(index + PAYLOAD_ADDRESS_OFFSET, payloadAddress);
            buffer.putInt(index + PAYLOAD_LENGTH_OFFSET, payloadLength);
        }
        return index;
    }

    /**
     * @return position after the last record committed.
     */
    public long producerPosition()
    {
        return ring.producerPosition();
    }

    /**
     * @return position after the last record the sender has finished with.
     */
    public long consumerPosition()
    {
        return ring.consumerPosition();
    }

    /**
     * @param index a claimed record.
     */
    public void commit(final int index)
    {
        ring.commit(index);
    }

    /**
     * @return the ring's buffer, where packets are written.
     */
    public AtomicBuffer buffer()
    {
        return buffer;
    }

    /**
     * @return the ring, for the sender to drain.
     */
    public OneToOneRingBuffer ring()
    {
        return ring;
    }

    /**
     * @return bytes waiting for the sender.
     */
    public int backlogBytes()
    {
        return ring.size();
    }

    /**
     * @return the ring's capacity in bytes.
     */
    public int capacity()
    {
        return ring.capacity();
    }

    /**
     * @return the largest record the ring takes.
     */
    public int maxPacketLength()
    {
        return ring.maxMsgLength() - PREFIX_LENGTH;
    }
}
