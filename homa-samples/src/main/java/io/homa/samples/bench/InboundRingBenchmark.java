package io.homa.samples.bench;

import io.homa.driver.InboundRingBenchDriver;
import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

import static org.agrona.concurrent.ringbuffer.RecordDescriptor.HEADER_LENGTH;

/**
 * Cost per packet of the receiver -> conductor ring of the threaded modes ({@code InboundPackets}, an Agrona
 * {@code OneToOneRingBuffer}). The receiver must claim room for the largest datagram before the receive call says
 * how big the next one is, so every record is a whole slot; this measures whether that costs time (it should not:
 * Agrona's consumer does not zero what it read) for slots of Ethernet, jumbo and loopback size. Claim, let a
 * {@code packetLength}-byte "receive" land in the slot, commit, consume, on one thread. The second variant does the
 * same with the unused tail of the claim turned into a padding record (exact records, more bookkeeping).
 * <pre>
 * java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp homa-samples/target/homa-samples.jar \
 *     org.openjdk.jmh.Main InboundRingBenchmark -prof gc
 * </pre>
 * The ring is package-private in the driver: {@link InboundRingBenchDriver} runs it.
 */
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class InboundRingBenchmark
{
    private static final int RING_CAPACITY = 4 * 1024 * 1024;
    private static final int META_LENGTH = 8;
    private static final int PACKET_MSG_TYPE_ID = 1;

    /** Bytes that arrive. */
    @Param({ "100", "1400" })
    public int packetLength;

    /** Largest datagram the transport may deliver: Ethernet, jumbo, loopback. */
    @Param({ "1500", "9000", "65536" })
    public int slotCapacity;

    private InboundRingBenchDriver inbound;
    private OneToOneRingBuffer agrona;
    private final UnsafeBuffer arrived = new UnsafeBuffer(BufferUtil.allocateDirectAligned(65_536, 64));
    private long sum;

    private final MessageHandler agronaHandler = this::onAgronaMessage;

    /**
     * Both rings, empty.
     */
    @Setup
    public void setup()
    {
        inbound = new InboundRingBenchDriver(RING_CAPACITY, slotCapacity);
        agrona = new OneToOneRingBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 64)));
        arrived.setMemory(0, arrived.capacity(), (byte)7);
    }

    /**
     * @return a value so the work is not dead.
     */
    @Benchmark
    public long inboundPackets()
    {
        return inbound.onePacket(arrived, packetLength);
    }

    /**
     * @return a value so the work is not dead.
     */
    @Benchmark
    public long agronaExactRecords()
    {
        final OneToOneRingBuffer ring = agrona;
        final int claimLength = META_LENGTH + slotCapacity;
        final int index = ring.tryClaim(PACKET_MSG_TYPE_ID, claimLength);
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putInt(index, 0x7F000001);
        buffer.putInt(index + 4, 4000);
        receive(buffer, index + META_LENGTH);
        shrink(buffer, index - HEADER_LENGTH, claimLength, META_LENGTH + packetLength);
        ring.commit(index);
        ring.read(agronaHandler);
        return sum;
    }

    private void receive(final MutableDirectBuffer buffer, final int offset)
    {
        // Stands in for recvmsg writing the datagram into ring memory.
        buffer.putBytes(offset, arrived, 0, packetLength);
    }

    /**
     * Cuts a claimed record down to the bytes used and publishes the rest as padding the consumer skips.
     */
    private static void shrink(
        final MutableDirectBuffer buffer, final int recordIndex, final int claimedLength, final int usedLength)
    {
        final int claimed = BitUtil.align(HEADER_LENGTH + claimedLength, 8);
        final int used = BitUtil.align(HEADER_LENGTH + usedLength, 8);
        if (claimed - used >= HEADER_LENGTH)
        {
            buffer.putInt(recordIndex + used, claimed - used);
            buffer.putInt(recordIndex + used + 4, OneToOneRingBuffer.PADDING_MSG_TYPE_ID);
            buffer.putInt(recordIndex, -(HEADER_LENGTH + usedLength));
        }
    }

    private void onAgronaMessage(final int msgTypeId, final DirectBuffer buffer, final int index, final int length)
    {
        sum += buffer.getByte(index + META_LENGTH) + length + buffer.getInt(index + 4);
    }
}
