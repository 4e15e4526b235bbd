package io.homa.samples.bench;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.pcap.PcapReader;
import io.homa.codecs.wire.AckDecoder;
import io.homa.codecs.wire.CommonHeaderDecoder;
import io.homa.codecs.wire.CutoffsDecoder;
import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.codecs.wire.GrantDecoder;
import io.homa.codecs.wire.HomaAckDecoder;
import io.homa.codecs.wire.ResendDecoder;
import io.homa.samples.workload.MessageSizeDistribution;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Per-packet decode cost on the receive path (issue #21): every field a receiver reads, for each packet of a
 * Linux capture in turn, through {@link HomaWire} (offsets derived from the generated flyweights), through the
 * generated decoders wrapped once per packet, and through {@link LegacyWireReaders} (the hand-kept offsets
 * HomaWire had before). Run with {@code -prof gc}: all three should allocate nothing.
 * <pre>
 * java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp homa-samples/target/homa-samples.jar \
 *     org.openjdk.jmh.Main WireDecodeBenchmark -prof gc
 * </pre>
 * The captures are found under {@code -Dhoma.shared.dir} (passed to the fork with {@code -jvmArgsAppend}), else
 * {@code ../shared} or {@code ../../shared} from the working directory.
 */
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class WireDecodeBenchmark
{
    private static final int SLOT = 2048;
    private static final int HEADROOM = 14 + 20;
    private static final int MAX_PACKETS = 1024;

    /** Capture whose Homa packets are decoded, in capture order. */
    @Param({ "small_100B.pcap", "medium_10KB_100KB.pcap" })
    public String capture;

    private final CommonHeaderDecoder common = new CommonHeaderDecoder();
    private final DataHeaderDecoder data = new DataHeaderDecoder();
    private final GrantDecoder grant = new GrantDecoder();
    private final ResendDecoder resend = new ResendDecoder();
    private final CutoffsDecoder cutoffs = new CutoffsDecoder();
    private final AckDecoder ack = new AckDecoder();
    private final UnsafeBuffer packets = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SLOT * MAX_PACKETS, 64));
    private final int[] lengths = new int[MAX_PACKETS];
    private int count;
    private int next;

    /**
     * Lay each Homa packet of the capture out as a receive buffer would hold it, after Ethernet and IPv4.
     *
     * @throws IOException if the capture cannot be read.
     */
    @Setup
    public void setup() throws IOException
    {
        count = 0;
        try (PcapReader reader = PcapReader.open(captures().resolve(capture)))
        {
            reader.readAll((protocol, tos, buffer, offset, length, addressOffset, addressLength) ->
            {
                if (PcapReader.IPPROTO_HOMA == protocol && HEADROOM + length <= SLOT)
                {
                    packets.putBytes(count * SLOT + HEADROOM, buffer, offset, length);
                    lengths[count++] = length;
                }
            });
        }
        for (int i = 0; i < count; i++)
        {
            if (PacketClassifier.classify(packets, i * SLOT + HEADROOM, lengths[i], false) < 0)
            {
                throw new IllegalStateException(capture + ": packet " + i + " rejected");
            }
        }
        if (0 == count || decodeAll(true) != decodeAll(false))
        {
            throw new IllegalStateException(capture + ": readers disagree or no packets");
        }
    }

    /**
     * @return a fold of every field of the next packet, read through HomaWire's derived offsets.
     */
    @Benchmark
    public long derivedReaders()
    {
        final int i = advance();
        return homaWire(packets, i * SLOT + HEADROOM, lengths[i]);
    }

    /**
     * @return a fold of every field of the next packet, read through the generated decoders.
     */
    @Benchmark
    public long flyweights()
    {
        final int i = advance();
        return flyweights(packets, i * SLOT + HEADROOM, lengths[i]);
    }

    /**
     * @return a fold of every field of the next packet, read through the pre-#21 hand-kept offsets.
     */
    @Benchmark
    public long legacyReaders()
    {
        final int i = advance();
        return legacy(packets, i * SLOT + HEADROOM, lengths[i]);
    }

    private int advance()
    {
        final int i = next;
        next = i + 1 == count ? 0 : i + 1;
        return i;
    }

    private long decodeAll(final boolean legacy)
    {
        long fold = 0;
        for (int i = 0; i < count; i++)
        {
            final int offset = i * SLOT + HEADROOM;
            final long value = legacy ? legacy(packets, offset, lengths[i]) : homaWire(packets, offset, lengths[i]);
            if (value != flyweights(packets, offset, lengths[i]))
            {
                throw new IllegalStateException(capture + ": packet " + i + " decodes differently");
            }
            fold = fold * 31 + value;
        }
        return fold;
    }

    private static long homaWire(final DirectBuffer buffer, final int offset, final int length)
    {
        final int type = HomaWire.type(buffer, offset);
        long fold = type ^ HomaWire.sport(buffer, offset) ^ (long)HomaWire.dport(buffer, offset) << 16 ^
            HomaWire.senderId(buffer, offset);
        switch (type)
        {
            case HomaWire.DATA -> fold = fold * 31 + (HomaWire.messageLength(buffer, offset) ^
                HomaWire.incoming(buffer, offset) << 20 ^ HomaWire.dataOffset(buffer, offset) << 40 ^
                HomaWire.ackClientId(buffer, offset) ^ HomaWire.ackServerPort(buffer, offset) ^
                HomaWire.cutoffVersion(buffer, offset) ^ (HomaWire.retransmit(buffer, offset) ? 1 : 0));
            case HomaWire.GRANT -> fold = fold * 31 + (HomaWire.grantOffset(buffer, offset) ^
                HomaWire.grantPriority(buffer, offset));
            case HomaWire.RESEND -> fold = fold * 31 + (HomaWire.resendOffset(buffer, offset) ^
                HomaWire.resendLength(buffer, offset) << 8 ^ HomaWire.resendPriority(buffer, offset, length));
            case HomaWire.CUTOFFS ->
            {
                for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                {
                    fold = fold * 31 + HomaWire.cutoff(buffer, offset, i);
                }
                fold = fold * 31 + HomaWire.cutoffsVersion(buffer, offset);
            }
            case HomaWire.ACK ->
            {
                final int numAcks = HomaWire.numAcks(buffer, offset);
                for (int i = 0; i < numAcks; i++)
                {
                    fold = fold * 31 + (HomaWire.ackClientId(buffer, offset, i) ^
                        HomaWire.ackServerPort(buffer, offset, i));
                }
            }
            default ->
            {
                // No body.
            }
        }
        return fold;
    }

    private long flyweights(final DirectBuffer buffer, final int offset, final int length)
    {
        common.wrap(buffer, offset);
        final int type = common.typeRaw();
        long fold = type ^ common.sport() ^ (long)common.dport() << 16 ^ common.senderId();
        switch (type)
        {
            case HomaWire.DATA ->
            {
                data.wrap(buffer, offset, DataHeaderDecoder.BLOCK_LENGTH, DataHeaderDecoder.SCHEMA_VERSION);
                final long segOffset = data.segOffset();
                final long dataOffset = DataHeaderDecoder.segOffsetNullValue() != segOffset ?
                    segOffset : common.sequence();
                final HomaAckDecoder piggyBack = data.ack();
                fold = fold * 31 + (data.messageLength() ^ data.incoming() << 20 ^ dataOffset << 40 ^
                    piggyBack.clientId() ^ piggyBack.serverPort() ^ data.cutoffVersion() ^
                    (0 != data.retransmit() ? 1 : 0));
            }
            case HomaWire.GRANT ->
            {
                grant.wrap(buffer, offset, GrantDecoder.BLOCK_LENGTH, GrantDecoder.SCHEMA_VERSION);
                fold = fold * 31 + (grant.grantOffset() ^ grant.priority());
            }
            case HomaWire.RESEND ->
            {
                // A 36-byte upstream RESEND has no priority byte: the flyweight must not read it.
                resend.wrap(buffer, offset, length, ResendDecoder.SCHEMA_VERSION);
                final int priority = length < ResendDecoder.BLOCK_LENGTH ? 7 : resend.priority();
                fold = fold * 31 + (resend.resendOffset() ^ resend.resendLength() << 8 ^ priority);
            }
            case HomaWire.CUTOFFS ->
            {
                cutoffs.wrap(buffer, offset, CutoffsDecoder.BLOCK_LENGTH, CutoffsDecoder.SCHEMA_VERSION);
                fold = fold * 31 + Integer.MAX_VALUE;
                for (int i = 1; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                {
                    fold = fold * 31 + (int)Math.min(cutoffs.unschedCutoffs(i), Integer.MAX_VALUE);
                }
                fold = fold * 31 + cutoffs.cutoffVersion();
            }
            case HomaWire.ACK ->
            {
                ack.wrap(buffer, offset, AckDecoder.BLOCK_LENGTH, AckDecoder.SCHEMA_VERSION);
                final int numAcks = ack.numAcks();
                for (int i = 0; i < numAcks; i++)
                {
                    final HomaAckDecoder slot = slot(i);
                    fold = fold * 31 + (slot.clientId() ^ slot.serverPort());
                }
            }
            default ->
            {
                // No body.
            }
        }
        return fold;
    }

    private HomaAckDecoder slot(final int index)
    {
        return switch (index)
        {
            case 0 -> ack.ack0();
            case 1 -> ack.ack1();
            case 2 -> ack.ack2();
            case 3 -> ack.ack3();
            default -> ack.ack4();
        };
    }

    private static long legacy(final DirectBuffer buffer, final int offset, final int length)
    {
        final int type = LegacyWireReaders.type(buffer, offset);
        long fold = type ^ LegacyWireReaders.sport(buffer, offset) ^
            (long)LegacyWireReaders.dport(buffer, offset) << 16 ^ LegacyWireReaders.senderId(buffer, offset);
        switch (type)
        {
            case LegacyWireReaders.DATA -> fold = fold * 31 + (LegacyWireReaders.messageLength(buffer, offset) ^
                LegacyWireReaders.incoming(buffer, offset) << 20 ^
                LegacyWireReaders.dataOffset(buffer, offset) << 40 ^
                LegacyWireReaders.ackClientId(buffer, offset) ^ LegacyWireReaders.ackServerPort(buffer, offset) ^
                LegacyWireReaders.cutoffVersion(buffer, offset) ^
                (LegacyWireReaders.retransmit(buffer, offset) ? 1 : 0));
            case LegacyWireReaders.GRANT -> fold = fold * 31 + (LegacyWireReaders.grantOffset(buffer, offset) ^
                LegacyWireReaders.grantPriority(buffer, offset));
            case LegacyWireReaders.RESEND -> fold = fold * 31 + (LegacyWireReaders.resendOffset(buffer, offset) ^
                LegacyWireReaders.resendLength(buffer, offset) << 8 ^
                LegacyWireReaders.resendPriority(buffer, offset, length));
            case LegacyWireReaders.CUTOFFS ->
            {
                for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                {
                    fold = fold * 31 + LegacyWireReaders.cutoff(buffer, offset, i);
                }
                fold = fold * 31 + LegacyWireReaders.cutoffsVersion(buffer, offset);
            }
            case LegacyWireReaders.ACK ->
            {
                final int numAcks = LegacyWireReaders.numAcks(buffer, offset);
                for (int i = 0; i < numAcks; i++)
                {
                    fold = fold * 31 + (LegacyWireReaders.ackClientId(buffer, offset, i) ^
                        LegacyWireReaders.ackServerPort(buffer, offset, i));
                }
            }
            default ->
            {
                // No body.
            }
        }
        return fold;
    }

    private static Path captures()
    {
        final String shared = System.getProperty(MessageSizeDistribution.SHARED_DIR_PROP_NAME);
        final Path[] candidates = { null == shared ? null : Path.of(shared), Path.of("..", "shared"),
            Path.of("..", "..", "shared") };
        for (final Path candidate : candidates)
        {
            if (null != candidate && Files.isDirectory(candidate.resolve("linux-captures")))
            {
                return candidate.resolve("linux-captures");
            }
        }
        throw new IllegalStateException("linux-captures not found: set -D" +
            MessageSizeDistribution.SHARED_DIR_PROP_NAME + "=<dir holding linux-captures/>");
    }
}
