package io.homa.driver;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The ring from the Receiver to the conductor when they run on different threads (DEDICATED, SHARED_NETWORK): an
 * Agrona {@link OneToOneRingBuffer}, no allocation. The receive system call writes each datagram straight into a
 * claimed record, so the payload's one user-space copy is still the engine's copy into the receive pool.
 * <p>
 * The producer must claim room for the largest datagram before the receive call says how big the next one is, so
 * every record is a whole slot ({@link #slotCapacity()} bytes) and a small header inside the record says how many
 * bytes arrived. Agrona's consumer does not zero what it read, so a 100-byte packet in a 64 KiB slot costs no more
 * than in a small one (see {@code InboundRingBenchmark}); what the slot size costs is ring space: the ring holds
 * {@code capacity / slot} packets at once, and the receiver leaves datagrams in the kernel's buffer while it is full.
 * <p>
 * Record body: packet length (int) | source IPv4 (int) | source port (int) | spare (int) | packet.
 */
final class InboundPackets
{
    /** Header inside each record, before the packet. */
    static final int META_LENGTH = 16;

    private static final int PACKET_MSG_TYPE_ID = 1;
    private static final int LENGTH_OFFSET = 0;
    private static final int SOURCE_IPV4_OFFSET = 4;
    private static final int SOURCE_PORT_OFFSET = 8;

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

    private final OneToOneRingBuffer ring;
    private final UnsafeBuffer buffer;
    private final int slotCapacity;
    private final Dispatcher dispatcher = new Dispatcher();

    // Producer state: a claimed record not yet committed, reused by the next claim.
    private int claimedIndex = -1;

    /**
     * @param capacity     ring bytes, a power of two, at least eight slots.
     * @param slotCapacity the most bytes one receive may write.
     */
    InboundPackets(final int capacity, final int slotCapacity)
    {
        if (!BitUtil.isPowerOfTwo(capacity))
        {
            throw new IllegalArgumentException("inbound ring capacity must be a power of two: " + capacity);
        }
        this.slotCapacity = slotCapacity;
        buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            capacity + RingBufferDescriptor.TRAILER_LENGTH, BitUtil.CACHE_LINE_LENGTH));
        ring = new OneToOneRingBuffer(buffer);
        if (META_LENGTH + slotCapacity > ring.maxMsgLength())
        {
            throw new IllegalArgumentException(
                "inbound ring of " + capacity + " bytes is too small for packets of " + slotCapacity);
        }
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
        if (claimedIndex < 0)
        {
            final int index = ring.tryClaim(PACKET_MSG_TYPE_ID, META_LENGTH + slotCapacity);
            if (RingBuffer.INSUFFICIENT_CAPACITY == index)
            {
                return -1;
            }
            claimedIndex = index;
        }
        return claimedIndex + META_LENGTH;
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
        buffer.putInt(index + LENGTH_OFFSET, length);
        buffer.putInt(index + SOURCE_IPV4_OFFSET, srcIpv4);
        buffer.putInt(index + SOURCE_PORT_OFFSET, srcPort);
        claimedIndex = -1;
        ring.commit(index);
    }

    /**
     * Producer: publishes an unreachability report in the claimed slot, so the engine hears of it on its own thread.
     * The record's type is set at claim time, so the report takes the packet's place: its two ints go where the
     * packet would start.
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
        buffer.putInt(index + LENGTH_OFFSET, -1);
        buffer.putInt(index + SOURCE_IPV4_OFFSET, ipv4);
        buffer.putInt(index + SOURCE_PORT_OFFSET, port);
        buffer.putInt(index + META_LENGTH, homaPort);
        buffer.putInt(index + META_LENGTH + 4, errorCode);
        claimedIndex = -1;
        ring.commit(index);
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
        dispatcher.handler = handler;
        return ring.read(dispatcher, limit);
    }

    /**
     * @return bytes published and not yet read (may be stale by the time it returns).
     */
    int size()
    {
        return ring.size();
    }

    /**
     * Turns Agrona's records back into packets or reports; a length of -1 marks a report.
     */
    private static final class Dispatcher implements MessageHandler
    {
        private PacketHandler handler;

        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            final int packetLength = buffer.getInt(index + LENGTH_OFFSET);
            final int srcIpv4 = buffer.getInt(index + SOURCE_IPV4_OFFSET);
            final int srcPort = buffer.getInt(index + SOURCE_PORT_OFFSET);
            if (packetLength < 0)
            {
                handler.onUnreachable(srcIpv4, srcPort, buffer.getInt(index + META_LENGTH),
                    buffer.getInt(index + META_LENGTH + 4));
            }
            else
            {
                handler.onPacket(buffer, index + META_LENGTH, packetLength, srcIpv4, srcPort);
            }
        }
    }
}
