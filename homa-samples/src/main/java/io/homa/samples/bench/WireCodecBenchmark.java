package io.homa.samples.bench;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.PacketWriter;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Cost of the per-packet wire work on the driver's hot path: writing a DATA or GRANT header with the
 * SBE flyweights, classifying a received packet, and reading its fields. Run with {@code -prof gc} to
 * confirm that none of it allocates.
 * <pre>
 * java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp homa-samples/target/homa-samples.jar \
 *     org.openjdk.jmh.Main WireCodecBenchmark -prof gc
 * </pre>
 */
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class WireCodecBenchmark
{
    private static final int PACKET_OFFSET = 14 + 20;
    private static final int PAYLOAD_LENGTH = 1424;
    private static final int MESSAGE_LENGTH = 100_000;

    private final PacketWriter writer = new PacketWriter();
    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
    private final UnsafeBuffer dataPacket = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
    private final UnsafeBuffer grantPacket = new UnsafeBuffer(BufferUtil.allocateDirectAligned(128, 64));

    private long rpcId = 2;
    private int dataOffset;
    private int grantOffset = 40_000;

    /**
     * Prepare one received DATA and one received GRANT, laid out after Ethernet and IPv4 headers as a
     * receive buffer would hold them.
     */
    @Setup
    public void setup()
    {
        writer.data(dataPacket, PACKET_OFFSET, 0x8000, 4000, 42, MESSAGE_LENGTH, 40_000, 40, 4000, 1, false, 14240);
        writer.grant(grantPacket, PACKET_OFFSET, 4000, 0x8000, 43, 60_000, 2);
    }

    /**
     * Write a DATA header into a send buffer.
     *
     * @return header length, to keep the work observable.
     */
    @Benchmark
    public int encodeData()
    {
        rpcId += 2;
        dataOffset = dataOffset + 2 * PAYLOAD_LENGTH > MESSAGE_LENGTH ? 0 : dataOffset + PAYLOAD_LENGTH;
        return writer.data(
            sendBuffer, PACKET_OFFSET, 0x8000, 4000, rpcId, MESSAGE_LENGTH, 40_000, 0, 0, 1, false, dataOffset);
    }

    /**
     * Classify a received DATA packet.
     *
     * @return the type code.
     */
    @Benchmark
    public int classifyData()
    {
        return PacketClassifier.classify(
            dataPacket, PACKET_OFFSET, HomaWire.DATA_HEADER_LENGTH + PAYLOAD_LENGTH, false);
    }

    /**
     * Classify a received DATA packet and read every field a receiver uses.
     *
     * @return a combination of the fields.
     */
    @Benchmark
    public long classifyAndDecodeData()
    {
        final int length = HomaWire.DATA_HEADER_LENGTH + PAYLOAD_LENGTH;
        if (HomaWire.DATA != PacketClassifier.classify(dataPacket, PACKET_OFFSET, length, false))
        {
            return -1;
        }

        return HomaWire.senderId(dataPacket, PACKET_OFFSET) ^
            HomaWire.sport(dataPacket, PACKET_OFFSET) ^
            HomaWire.dport(dataPacket, PACKET_OFFSET) ^
            HomaWire.messageLength(dataPacket, PACKET_OFFSET) ^
            HomaWire.incoming(dataPacket, PACKET_OFFSET) ^
            HomaWire.dataOffset(dataPacket, PACKET_OFFSET) ^
            HomaWire.ackClientId(dataPacket, PACKET_OFFSET) ^
            HomaWire.ackServerPort(dataPacket, PACKET_OFFSET) ^
            HomaWire.cutoffVersion(dataPacket, PACKET_OFFSET) ^
            (HomaWire.retransmit(dataPacket, PACKET_OFFSET) ? 1 : 0);
    }

    /**
     * Write a DATA header then classify and decode it, as a loopback round trip.
     *
     * @return a combination of the fields.
     */
    @Benchmark
    public long roundTripData()
    {
        final int length = encodeData() + PAYLOAD_LENGTH;
        final int type = PacketClassifier.classify(sendBuffer, PACKET_OFFSET, length, false);
        return type ^ HomaWire.senderId(sendBuffer, PACKET_OFFSET) ^ HomaWire.dataOffset(sendBuffer, PACKET_OFFSET) ^
            HomaWire.messageLength(sendBuffer, PACKET_OFFSET);
    }

    /**
     * Write a GRANT.
     *
     * @return packet length.
     */
    @Benchmark
    public int encodeGrant()
    {
        grantOffset = grantOffset >= MESSAGE_LENGTH ? 40_000 : grantOffset + PAYLOAD_LENGTH;
        return writer.grant(sendBuffer, PACKET_OFFSET, 4000, 0x8000, 43, grantOffset, 2);
    }

    /**
     * Classify a received GRANT and read its fields.
     *
     * @return a combination of the fields.
     */
    @Benchmark
    public long classifyAndDecodeGrant()
    {
        if (HomaWire.GRANT != PacketClassifier.classify(grantPacket, PACKET_OFFSET, HomaWire.GRANT_LENGTH, false))
        {
            return -1;
        }

        return HomaWire.senderId(grantPacket, PACKET_OFFSET) ^
            HomaWire.grantOffset(grantPacket, PACKET_OFFSET) ^
            HomaWire.grantPriority(grantPacket, PACKET_OFFSET);
    }

    /**
     * Write a GRANT then classify and decode it.
     *
     * @return a combination of the fields.
     */
    @Benchmark
    public long roundTripGrant()
    {
        final int length = encodeGrant();
        final int type = PacketClassifier.classify(sendBuffer, PACKET_OFFSET, length, false);
        return type ^ HomaWire.senderId(sendBuffer, PACKET_OFFSET) ^ HomaWire.grantOffset(sendBuffer, PACKET_OFFSET) ^
            HomaWire.grantPriority(sendBuffer, PACKET_OFFSET);
    }
}
