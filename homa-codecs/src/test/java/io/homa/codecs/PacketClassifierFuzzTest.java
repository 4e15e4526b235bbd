package io.homa.codecs;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property test: for random and mutated packets, the classifier never throws, never reads outside
 * {@code [offset, offset + length)}, agrees with an independent ByteBuffer model of the rules, and every packet
 * it accepts can be fully decoded inside its window.
 * <p>
 * Out-of-window reads are caught two ways: the packet is classified through an {@link UnsafeBuffer} that wraps
 * exactly the window (Agrona bounds checks throw on any read past it), and the bytes around the window in
 * the backing array are re-randomised and the result must not change.
 */
class PacketClassifierFuzzTest
{
    private static final long SEED = 0x486F_6D61_2026L;
    private static final int ITERATIONS = 200_000;
    private static final int MAX_SLACK = 32;

    private final Random random = new Random(SEED);
    private final UnsafeBuffer window = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer backingBuffer = new UnsafeBuffer(0, 0);
    private final List<byte[]> seeds = new ArrayList<>();
    private long sink;

    @Test
    void shouldHaveBoundsChecksOnSoWindowReadsAreEnforced()
    {
        assertTrue(UnsafeBuffer.SHOULD_BOUNDS_CHECK, "run tests without -Dagrona.disable.bounds.checks");
        window.wrap(new byte[40], 4, 28);
        assertThrows(IndexOutOfBoundsException.class, () -> window.getByte(28));
    }

    @Test
    void shouldNeverThrowNorReadOutsideWindow()
    {
        buildSeeds();
        final int[] outcomes = new int[256 + RejectReason.COUNT + 1];

        for (int i = 0; i < ITERATIONS; i++)
        {
            final byte[] packet = nextPacket();
            final int slackBefore = random.nextInt(MAX_SLACK);
            final int slackAfter = random.nextInt(MAX_SLACK);
            final byte[] backing = new byte[slackBefore + packet.length + slackAfter];
            random.nextBytes(backing);
            System.arraycopy(packet, 0, backing, slackBefore, packet.length);

            final int length = nextLength(packet.length);
            final int offset = 0 == random.nextInt(20) ? nextWildInt() : slackBefore;
            final boolean overUdp = random.nextBoolean();

            final int result = classifySafely(backing, offset, length, overUdp, i);
            outcomes[result >= 0 ? result : 256 - result]++;

            final boolean inside = offset >= 0 && length >= 0 && (long)offset + length <= backing.length;
            if (!inside)
            {
                assertEquals(RejectReason.BAD_BUFFER, result, "iteration " + i);
                continue;
            }

            window.wrap(backing, offset, length);
            final int windowResult = classifyWindow(length, overUdp, i);
            assertEquals(result, windowResult, "iteration " + i + ": result depends on bytes outside the window");

            poisonOutside(backing, offset, length);
            assertEquals(result, classifySafely(backing, offset, length, overUdp, i), "iteration " + i);

            final byte[] copy = new byte[length];
            System.arraycopy(backing, offset, copy, 0, length);
            assertEquals(model(copy, overUdp), result, "iteration " + i + " disagrees with the model");

            if (result > 0)
            {
                decodeEverything(result, length, i);
            }
        }

        for (int type = HomaWire.DATA; type <= HomaWire.ACK; type++)
        {
            assertTrue(outcomes[type] > 100, "too few accepted " + HomaWire.typeName(type));
        }
        assertTrue(outcomes[HomaWire.PORT_UNREACHABLE] > 100, "too few accepted PORT_UNREACHABLE");
        for (int code = 1; code <= RejectReason.COUNT; code++)
        {
            assertTrue(outcomes[256 + code] > 10, "too few " + RejectReason.name(-code));
        }
    }

    private void buildSeeds()
    {
        final PacketWriter writer = new PacketWriter();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final int[] payloads = { 1, 100, 1424 };
        for (final int payload : payloads)
        {
            final int header = writer.data(buffer, 0, 0x8001, 4000, 42, 100_000, 40_000, 40, 4000, 1, false, 1424);
            seeds.add(copy(buffer, header + payload));
        }
        seeds.add(copy(buffer, writer.grant(buffer, 0, 4000, 0x8001, 43, 50_000, 2)));
        seeds.add(copy(buffer, writer.resend(buffer, 0, 4000, 0x8001, 43, 0, -1, 7)));
        seeds.add(copy(buffer, writer.resend(buffer, 0, 4000, 0x8001, 43, 0, 1000, 7) - 1));
        seeds.add(copy(buffer, writer.rpcUnknown(buffer, 0, 4000, 0x8001, 43)));
        seeds.add(copy(buffer, writer.busy(buffer, 0, 4000, 0x8001, 43)));
        seeds.add(copy(buffer, writer.cutoffs(buffer, 0, 4000, 0x8001, 43, HomaWire.defaultCutoffs(), 1)));
        seeds.add(copy(buffer, writer.freeze(buffer, 0, 4000, 0, 0)));
        seeds.add(copy(buffer, writer.needAck(buffer, 0, 4000, 0x8001, 43)));
        seeds.add(copy(buffer, writer.ack(
            buffer, 0, 0x8001, 4000, 42, 3, new long[]{ 2, 4, 6 }, new int[]{ 4000, 4000, 4001 })));
        seeds.add(copy(buffer, writer.portUnreachable(buffer, 0, 4000, 0x8001, 43)));
    }

    private static byte[] copy(final UnsafeBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    private byte[] nextPacket()
    {
        if (0 == random.nextInt(10))
        {
            final byte[] noise = new byte[random.nextInt(200)];
            random.nextBytes(noise);
            return noise;
        }

        final byte[] seed = seeds.get(random.nextInt(seeds.size()));
        final byte[] packet = new byte[seed.length];
        System.arraycopy(seed, 0, packet, 0, seed.length);

        final int flips = random.nextInt(4);
        for (int i = 0; i < flips; i++)
        {
            packet[random.nextInt(packet.length)] ^= (byte)(1 << random.nextInt(8));
        }

        switch (random.nextInt(8))
        {
            case 0:
                packet[11] = (byte)random.nextInt(256);
                break;
            case 1:
                putBoundary(packet, 28);
                break;
            case 2:
                putBoundary(packet, 52);
                break;
            case 3:
                putBoundary(packet, 4);
                break;
            case 4:
                if (packet.length > 36)
                {
                    packet[random.nextBoolean() ? 32 : 36] = (byte)(5 + random.nextInt(6));
                }
                break;
            default:
                break;
        }

        return packet;
    }

    private void putBoundary(final byte[] packet, final int offset)
    {
        if (packet.length >= offset + 4)
        {
            final int[] values = { 0, 1, 5, 6, 99, 1_000_000, 1_000_001, -1, -2, Integer.MAX_VALUE, 0x10000 };
            ByteBuffer.wrap(packet).putInt(offset, values[random.nextInt(values.length)]);
        }
    }

    private int nextLength(final int packetLength)
    {
        switch (random.nextInt(10))
        {
            case 0:
                return nextWildInt();
            case 1:
            case 2:
                return random.nextInt(packetLength + 1);
            case 3:
                return packetLength + random.nextInt(MAX_SLACK + 8);
            default:
                return packetLength;
        }
    }

    private int nextWildInt()
    {
        final int[] wild = { -1, Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE - 10, -100, 1 << 30 };
        return 0 == random.nextInt(3) ? random.nextInt() : wild[random.nextInt(wild.length)];
    }

    private void poisonOutside(final byte[] backing, final int offset, final int length)
    {
        for (int i = 0; i < offset; i++)
        {
            backing[i] = (byte)random.nextInt(256);
        }
        for (int i = offset + length; i < backing.length; i++)
        {
            backing[i] = (byte)random.nextInt(256);
        }
    }

    private int classifySafely(
        final byte[] backing, final int offset, final int length, final boolean overUdp, final int iteration)
    {
        backingBuffer.wrap(backing);
        try
        {
            return PacketClassifier.classify(backingBuffer, offset, length, overUdp);
        }
        catch (final Throwable ex)
        {
            fail("iteration " + iteration + " (seed " + SEED + ") threw, offset " + offset + " length " + length, ex);
            return 0;
        }
    }

    private int classifyWindow(final int length, final boolean overUdp, final int iteration)
    {
        try
        {
            return PacketClassifier.classify(window, 0, length, overUdp);
        }
        catch (final Throwable ex)
        {
            fail("iteration " + iteration + ": read outside the window of " + length + " bytes", ex);
            return 0;
        }
    }

    private void decodeEverything(final int type, final int length, final int iteration)
    {
        sink += HomaWire.sport(window, 0) + HomaWire.dport(window, 0) + HomaWire.senderId(window, 0) +
            HomaWire.sequence(window, 0);
        try
        {
            switch (type)
            {
                case HomaWire.DATA:
                    sink += HomaWire.messageLength(window, 0) + HomaWire.incoming(window, 0) +
                        HomaWire.dataOffset(window, 0) + HomaWire.ackClientId(window, 0) +
                        HomaWire.ackServerPort(window, 0) + HomaWire.cutoffVersion(window, 0) +
                        (HomaWire.retransmit(window, 0) ? 1 : 0);
                    window.getByte(HomaWire.DATA_HEADER_LENGTH);
                    break;
                case HomaWire.GRANT:
                    sink += HomaWire.grantOffset(window, 0) + HomaWire.grantPriority(window, 0);
                    break;
                case HomaWire.RESEND:
                    sink += HomaWire.resendOffset(window, 0) + HomaWire.resendLength(window, 0) +
                        HomaWire.resendPriority(window, 0, length);
                    break;
                case HomaWire.CUTOFFS:
                    for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                    {
                        sink += HomaWire.cutoff(window, 0, i);
                    }
                    sink += HomaWire.cutoffsVersion(window, 0);
                    break;
                case HomaWire.ACK:
                    for (int i = 0; i < HomaWire.HOMA_MAX_ACKS; i++)
                    {
                        sink += HomaWire.ackClientId(window, 0, i) + HomaWire.ackServerPort(window, 0, i);
                    }
                    sink += HomaWire.numAcks(window, 0);
                    break;
                default:
                    break;
            }
        }
        catch (final Throwable ex)
        {
            fail("iteration " + iteration + ": accepted " + HomaWire.typeName(type) + " of " + length +
                " bytes but a reader left the window", ex);
        }
    }

    /**
     * Independent statement of the acceptance rules on a copy of the window, for comparison.
     */
    private static int model(final byte[] packet, final boolean overUdp)
    {
        if (packet.length < 28)
        {
            return RejectReason.TOO_SHORT;
        }

        final ByteBuffer bytes = ByteBuffer.wrap(packet);
        final int type = packet[11] & 0xFF;
        final int minimum;
        if (0x10 == type)
        {
            minimum = 56;
        }
        else if (0x11 == type)
        {
            minimum = 33;
        }
        else if (0x12 == type)
        {
            minimum = 36;
        }
        else if (0x15 == type)
        {
            minimum = 62;
        }
        else if (0x18 == type)
        {
            minimum = 80;
        }
        else if ((type >= 0x13 && type <= 0x17) || (0xF0 == type && overUdp))
        {
            minimum = 28;
        }
        else
        {
            return RejectReason.UNKNOWN_TYPE;
        }

        if (packet.length < minimum)
        {
            return RejectReason.TOO_SHORT;
        }

        if (0x10 == type)
        {
            final long messageLength = Integer.toUnsignedLong(bytes.getInt(28));
            if (messageLength < 1 || messageLength > 1_000_000)
            {
                return RejectReason.DATA_BAD_MESSAGE_LENGTH;
            }
            final long payload = packet.length - 56;
            if (0 == payload)
            {
                return RejectReason.DATA_EMPTY;
            }
            final long seg = Integer.toUnsignedLong(bytes.getInt(52));
            final long start = 0xFFFF_FFFFL == seg ? Integer.toUnsignedLong(bytes.getInt(4)) : seg;
            return start + payload <= messageLength ? type : RejectReason.DATA_BEYOND_MESSAGE;
        }

        if (0x11 == type && (packet[32] & 0xFF) > 7)
        {
            return RejectReason.GRANT_BAD_PRIORITY;
        }

        if (0x12 == type && packet.length >= 37 && (packet[36] & 0xFF) > 7)
        {
            return RejectReason.RESEND_BAD_PRIORITY;
        }

        if (0x18 == type && Short.toUnsignedInt(bytes.getShort(28)) > 5)
        {
            return RejectReason.ACK_TOO_MANY;
        }

        return type;
    }
}
