package io.homa.driver;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Internal, no compatibility promise: drives the package-private receiver-to-conductor ring
 * ({@link InboundPackets}) for the JMH benchmark in homa-samples ({@code io.homa.samples.bench.InboundRingBenchmark}),
 * one packet per call on one thread, allocating nothing. Not used by the driver itself.
 */
public final class InboundRingBenchDriver
{
    private static final int SOURCE_IPV4 = 0x7F000001;
    private static final int SOURCE_PORT = 4000;

    private final InboundPackets inbound;
    private final UnsafeBuffer ring;
    private final InboundPackets.PacketHandler handler = this::onPacket;
    private long sum;

    /**
     * @param ringCapacity ring bytes, a power of two.
     * @param slotCapacity largest datagram the transport may deliver (every record takes a whole slot).
     */
    public InboundRingBenchDriver(final int ringCapacity, final int slotCapacity)
    {
        inbound = new InboundPackets(ringCapacity, slotCapacity);
        ring = inbound.buffer();
    }

    /**
     * What the receiver and the conductor do for one datagram: claim a slot, let {@code length} bytes "arrive" in
     * it (a copy from {@code arrived} stands in for the receive system call), commit, and consume it.
     *
     * @param arrived the bytes that arrive.
     * @param length  how many, at most the slot capacity.
     * @return a running sum of what the consumer saw, so the work is not dead.
     */
    public long onePacket(final DirectBuffer arrived, final int length)
    {
        final int offset = inbound.claim();
        ring.putBytes(offset, arrived, 0, length);
        inbound.commit(length, SOURCE_IPV4, SOURCE_PORT);
        inbound.read(handler, Integer.MAX_VALUE);
        return sum;
    }

    private void onPacket(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort)
    {
        sum += buffer.getByte(offset) + length + srcPort;
    }
}
