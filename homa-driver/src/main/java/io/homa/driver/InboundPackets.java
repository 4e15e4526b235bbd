package io.homa.driver;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The ring from the Receiver to the conductor when they run on different threads (DEDICATED, SHARED_NETWORK).
 * One producer, one consumer, no allocation. The receive system call writes each datagram straight into ring
 * memory, so the payload's one user-space copy is still the engine's copy into the receive pool.
 * <p>
 * Why not Agrona's {@code OneToOneRingBuffer}: the producer must reserve room for the largest datagram before it
 * knows the size of the next one, and Agrona's ring can neither shrink a claim on commit nor skip zeroing what the
 * consumer read, so every 100-byte packet would cost a 64 KiB claim and a 64 KiB memset on loopback. Here the
 * producer publishes a record only by moving the tail, so it reserves {@link #slotCapacity()} bytes, receives,
 * and then commits just the bytes that arrived.
 * <p>
 * Record layout (64-byte aligned): length (int) | type (int) | source IPv4 (int) | source port (int) | packet.
 * The trailer holds the tail and head positions (longs) on their own cache lines.
 */
final class InboundPackets
{
    /** Header before each packet. */
    static final int HEADER_LENGTH = 16;
    /** Records start on cache-line boundaries. */
    static final int ALIGNMENT = BitUtil.CACHE_LINE_LENGTH;
    /** Trailer: padding, tail, padding, head, each on a 128-byte stretch so prefetching does not share lines. */
    static final int TRAILER_LENGTH = 384;

    private static final int LENGTH_OFFSET = 0;
    private static final int TYPE_OFFSET = 4;
    private static final int SOURCE_IPV4_OFFSET = 8;
    private static final int SOURCE_PORT_OFFSET = 12;
    private static final int PACKET_TYPE = 1;
    private static final int UNREACHABLE_TYPE = 2;
    private static final int UNREACHABLE_LENGTH = 8;
    private static final int PADDING_TYPE = -1;

    /**
     * Receives packets from {@link #read(PacketHandler, int)}.
     */
    @FunctionalInterface
    interface PacketHandler
    {
        /**
         * @param buffer  ring memory.
         * @param offset  where the packet starts.
         * @param length  packet length.
         * @param srcIpv4 sender's address.
         * @param srcPort sender's transport port.
         */
        void onPacket(DirectBuffer buffer, int offset, int length, int srcIpv4, int srcPort);

        /**
         * An ICMP unreachability report the receiver saw; see {@code PacketTransport.UnreachableHandler}.
         *
         * @param ipv4      the peer's address.
         * @param port      the peer's transport port.
         * @param homaPort  the Homa port with no socket, or 0 for the whole peer.
         * @param errorCode what matching client RPCs fail with.
         */
        default void onUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
        {
        }
    }

    private final UnsafeBuffer buffer;
    private final int capacity;
    private final int mask;
    private final int slotCapacity;
    private final int slotRecordLength;
    private final int tailPositionIndex;
    private final int headPositionIndex;

    // Producer state.
    private long headCache;
    private int claimedIndex = -1;

    /**
     * @param capacity     ring bytes, a power of two and at least eight slots.
     * @param slotCapacity the most bytes one receive may write.
     */
    InboundPackets(final int capacity, final int slotCapacity)
    {
        if (!BitUtil.isPowerOfTwo(capacity))
        {
            throw new IllegalArgumentException("inbound ring capacity must be a power of two: " + capacity);
        }
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.slotCapacity = slotCapacity;
        this.slotRecordLength = BitUtil.align(HEADER_LENGTH + slotCapacity, ALIGNMENT);
        if (slotRecordLength > capacity / 8)
        {
            throw new IllegalArgumentException(
                "inbound ring of " + capacity + " bytes is too small for packets of " + slotCapacity);
        }
        buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity + TRAILER_LENGTH, ALIGNMENT));
        tailPositionIndex = capacity + 128;
        headPositionIndex = capacity + 256;
    }

    /**
     * @return the most bytes one claim may take.
     */
    int slotCapacity()
    {
        return slotCapacity;
    }

    /**
     * @return the ring memory; a claimed slot is written through its native address.
     */
    UnsafeBuffer buffer()
    {
        return buffer;
    }

    /**
     * Producer: reserves a slot of {@link #slotCapacity()} bytes. Until {@link #commit} the same slot is returned
     * again, so a receive that finds nothing costs nothing.
     *
     * @return offset in {@link #buffer()} where the packet goes, or -1 while the ring is too full.
     */
    int claim()
    {
        if (claimedIndex >= 0)
        {
            return claimedIndex + HEADER_LENGTH;
        }

        final UnsafeBuffer buffer = this.buffer;
        final long tail = buffer.getLong(tailPositionIndex);
        final int tailIndex = (int)tail & mask;
        final int toEnd = capacity - tailIndex;
        final int padding = toEnd < slotRecordLength ? toEnd : 0;
        final long needed = tail + padding + slotRecordLength;

        if (needed - headCache > capacity)
        {
            headCache = buffer.getLongVolatile(headPositionIndex);
            if (needed - headCache > capacity)
            {
                return -1;
            }
        }

        if (padding > 0)
        {
            // Not enough contiguous room before the end: publish a padding record and start again at 0.
            buffer.putInt(tailIndex + LENGTH_OFFSET, padding);
            buffer.putInt(tailIndex + TYPE_OFFSET, PADDING_TYPE);
            buffer.putLongRelease(tailPositionIndex, tail + padding);
            claimedIndex = 0;
        }
        else
        {
            claimedIndex = tailIndex;
        }
        return claimedIndex + HEADER_LENGTH;
    }

    /**
     * Producer: publishes the claimed slot holding {@code length} packet bytes.
     *
     * @param length  packet bytes written (at most {@link #slotCapacity()}).
     * @param srcIpv4 sender's address.
     * @param srcPort sender's transport port.
     */
    void commit(final int length, final int srcIpv4, final int srcPort)
    {
        final int index = claimedIndex;
        if (index < 0)
        {
            throw new IllegalStateException("no claimed slot");
        }
        final UnsafeBuffer buffer = this.buffer;
        buffer.putInt(index + LENGTH_OFFSET, length);
        buffer.putInt(index + TYPE_OFFSET, PACKET_TYPE);
        buffer.putInt(index + SOURCE_IPV4_OFFSET, srcIpv4);
        buffer.putInt(index + SOURCE_PORT_OFFSET, srcPort);
        final long tail = buffer.getLong(tailPositionIndex);
        buffer.putLongRelease(tailPositionIndex, tail + BitUtil.align(HEADER_LENGTH + length, ALIGNMENT));
        claimedIndex = -1;
    }

    /**
     * Producer: publishes an unreachability report in the claimed slot, so the engine hears of it on its own thread.
     *
     * @param ipv4      the peer's address.
     * @param port      the peer's transport port.
     * @param homaPort  the Homa port with no socket, or 0.
     * @param errorCode what matching client RPCs fail with.
     */
    void commitUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        final int index = claimedIndex;
        if (index < 0)
        {
            throw new IllegalStateException("no claimed slot");
        }
        final UnsafeBuffer buffer = this.buffer;
        buffer.putInt(index + HEADER_LENGTH, homaPort);
        buffer.putInt(index + HEADER_LENGTH + 4, errorCode);
        buffer.putInt(index + LENGTH_OFFSET, UNREACHABLE_LENGTH);
        buffer.putInt(index + TYPE_OFFSET, UNREACHABLE_TYPE);
        buffer.putInt(index + SOURCE_IPV4_OFFSET, ipv4);
        buffer.putInt(index + SOURCE_PORT_OFFSET, port);
        final long tail = buffer.getLong(tailPositionIndex);
        buffer.putLongRelease(tailPositionIndex, tail + BitUtil.align(HEADER_LENGTH + UNREACHABLE_LENGTH, ALIGNMENT));
        claimedIndex = -1;
    }

    /**
     * Consumer: hands up to {@code limit} packets to the handler, in ring memory.
     *
     * @param handler gets each packet.
     * @param limit   most packets.
     * @return packets handled.
     */
    int read(final PacketHandler handler, final int limit)
    {
        final UnsafeBuffer buffer = this.buffer;
        final long tail = buffer.getLongVolatile(tailPositionIndex);
        final long headStart = buffer.getLong(headPositionIndex);
        long head = headStart;
        int packets = 0;
        try
        {
            while (head < tail && packets < limit)
            {
                final int index = (int)head & mask;
                final int length = buffer.getInt(index + LENGTH_OFFSET);
                final int type = buffer.getInt(index + TYPE_OFFSET);
                if (PADDING_TYPE == type)
                {
                    head += length;
                    continue;
                }
                head += BitUtil.align(HEADER_LENGTH + length, ALIGNMENT);
                packets++;
                if (UNREACHABLE_TYPE == type)
                {
                    handler.onUnreachable(buffer.getInt(index + SOURCE_IPV4_OFFSET),
                        buffer.getInt(index + SOURCE_PORT_OFFSET), buffer.getInt(index + HEADER_LENGTH),
                        buffer.getInt(index + HEADER_LENGTH + 4));
                    continue;
                }
                handler.onPacket(buffer, index + HEADER_LENGTH, length,
                    buffer.getInt(index + SOURCE_IPV4_OFFSET), buffer.getInt(index + SOURCE_PORT_OFFSET));
            }
        }
        finally
        {
            if (head != headStart)
            {
                buffer.putLongRelease(headPositionIndex, head);
            }
        }
        return packets;
    }

    /**
     * @return bytes published and not yet read (may be stale by the time it returns).
     */
    int size()
    {
        return (int)(buffer.getLongVolatile(tailPositionIndex) - buffer.getLongVolatile(headPositionIndex));
    }
}
