package io.homa.codecs;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static io.homa.codecs.HomaWire.ACK;
import static io.homa.codecs.HomaWire.BUSY;
import static io.homa.codecs.HomaWire.CUTOFFS;
import static io.homa.codecs.HomaWire.DATA;
import static io.homa.codecs.HomaWire.FREEZE;
import static io.homa.codecs.HomaWire.GRANT;
import static io.homa.codecs.HomaWire.NEED_ACK;
import static io.homa.codecs.HomaWire.PORT_UNREACHABLE;
import static io.homa.codecs.HomaWire.RESEND;
import static io.homa.codecs.HomaWire.RPC_UNKNOWN;
import static io.homa.codecs.PacketClassifier.classify;
import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketClassifierTest
{
    private static final int[] ALL_TYPES =
        { DATA, GRANT, RESEND, RPC_UNKNOWN, BUSY, CUTOFFS, FREEZE, NEED_ACK, ACK, PORT_UNREACHABLE };

    private final PacketWriter writer = new PacketWriter();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);

    @Test
    void shouldAcceptEveryTypeAtItsMinimumLengthAndRejectOneByteShorter()
    {
        for (final int type : ALL_TYPES)
        {
            final int headerLength = write(type, 0);
            // DATA must carry at least one payload byte (see shouldRejectDataWithoutPayload).
            final int minimum = DATA == type ? HomaWire.DATA_HEADER_LENGTH + 1 : HomaWire.minLength(type);
            final String name = HomaWire.typeName(type);

            assertEquals(type, classify(buffer, 0, minimum, true), name);
            final int fullLength = DATA == type ? headerLength + 1 : headerLength;
            assertEquals(type, classify(buffer, 0, fullLength, true), name + " at full header length");
            assertEquals(
                RejectReason.TOO_SHORT,
                classify(buffer, 0, HomaWire.minLength(type) - 1, true),
                name + " one byte short");
        }
    }

    @Test
    void shouldAcceptUpstreamResendWithoutPriority()
    {
        writer.resend(buffer, 0, 1, 2, 3, 0, -1, 7);
        buffer.putByte(36, (byte)0xFF);

        assertEquals(RESEND, classify(buffer, 0, 36, false));
        assertEquals(RejectReason.RESEND_BAD_PRIORITY, classify(buffer, 0, 37, false));
    }

    @Test
    void shouldRejectAnythingShorterThanCommonHeader()
    {
        write(NEED_ACK, 0);
        for (int length = 0; length < HomaWire.COMMON_HEADER_LENGTH; length++)
        {
            assertEquals(RejectReason.TOO_SHORT, classify(buffer, 0, length, true), "length " + length);
        }
    }

    @Test
    void shouldRejectUnknownTypes()
    {
        final int[] unknown = { 0x00, 0x01, 0x0F, 0x19, 0x20, 0x7F, 0x80, 0xEF, 0xF1, 0xFF };
        for (final int type : unknown)
        {
            writer.busy(buffer, 0, 1, 2, 3);
            buffer.putByte(11, (byte)type);
            assertEquals(RejectReason.UNKNOWN_TYPE, classify(buffer, 0, 100, false), "type " + type);
            assertEquals(RejectReason.UNKNOWN_TYPE, classify(buffer, 0, 100, true), "type " + type + " over UDP");
        }
    }

    @Test
    void shouldAcceptPortUnreachableOnlyOverUdp()
    {
        writer.portUnreachable(buffer, 0, 1, 2, 3);

        assertEquals(PORT_UNREACHABLE, classify(buffer, 0, 28, true));
        assertEquals(RejectReason.UNKNOWN_TYPE, classify(buffer, 0, 28, false));
    }

    @Test
    void shouldRejectBadMessageLength()
    {
        writer.data(buffer, 0, 1, 2, 3, 0, 0, 0, 0, 0, false, 0);
        assertEquals(RejectReason.DATA_BAD_MESSAGE_LENGTH, classify(buffer, 0, 100, false));

        writer.data(buffer, 0, 1, 2, 3, 1_000_001, 0, 0, 0, 0, false, 0);
        assertEquals(RejectReason.DATA_BAD_MESSAGE_LENGTH, classify(buffer, 0, 100, false));

        writer.data(buffer, 0, 1, 2, 3, -1, 0, 0, 0, 0, false, 0);
        assertEquals(RejectReason.DATA_BAD_MESSAGE_LENGTH, classify(buffer, 0, 100, false), "0xFFFFFFFF");

        writer.data(buffer, 0, 1, 2, 3, 1_000_000, 0, 0, 0, 0, false, 0);
        assertEquals(DATA, classify(buffer, 0, 100, false));
    }

    @Test
    void shouldRejectDataBeyondMessage()
    {
        writer.data(buffer, 0, 1, 2, 3, 100, 100, 0, 0, 0, false, 98);
        assertEquals(DATA, classify(buffer, 0, 56 + 2, false));
        assertEquals(RejectReason.DATA_BEYOND_MESSAGE, classify(buffer, 0, 56 + 3, false));

        writer.data(buffer, 0, 1, 2, 3, 100, 100, 0, 0, 0, false, 0);
        assertEquals(DATA, classify(buffer, 0, 56 + 100, false));
        assertEquals(RejectReason.DATA_BEYOND_MESSAGE, classify(buffer, 0, 56 + 101, false));
    }

    @Test
    void shouldApplyOffsetRuleWhenCheckingDataRange()
    {
        writer.data(buffer, 0, 1, 2, 3, 100, 100, 0, 0, 0, false, 0);
        buffer.putInt(52, -1);
        buffer.putInt(4, 99, BIG_ENDIAN);
        assertEquals(DATA, classify(buffer, 0, 57, false), "offset 99 from sequence, 1 byte");
        assertEquals(RejectReason.DATA_BEYOND_MESSAGE, classify(buffer, 0, 58, false));

        buffer.putInt(52, 0xFFFF_FFF0, BIG_ENDIAN);
        assertEquals(RejectReason.DATA_BEYOND_MESSAGE, classify(buffer, 0, 57, false), "no int overflow");
    }

    @Test
    void shouldRejectDataWithoutPayload()
    {
        writer.data(buffer, 0, 1, 2, 3, 100, 100, 0, 0, 0, false, 0);
        assertEquals(RejectReason.DATA_EMPTY, classify(buffer, 0, 56, false));
    }

    @Test
    void shouldRejectTooManyAcks()
    {
        writer.ack(buffer, 0, 1, 2, 3, 5, new long[5], new int[5]);
        assertEquals(ACK, classify(buffer, 0, 80, false));

        buffer.putShort(28, (short)6, BIG_ENDIAN);
        assertEquals(RejectReason.ACK_TOO_MANY, classify(buffer, 0, 80, false));

        buffer.putShort(28, (short)0xFFFF, BIG_ENDIAN);
        assertEquals(RejectReason.ACK_TOO_MANY, classify(buffer, 0, 80, false));
    }

    @Test
    void shouldRejectBadPriorities()
    {
        writer.grant(buffer, 0, 1, 2, 3, 10_000, 7);
        assertEquals(GRANT, classify(buffer, 0, 33, false));
        writer.grant(buffer, 0, 1, 2, 3, 10_000, 8);
        assertEquals(RejectReason.GRANT_BAD_PRIORITY, classify(buffer, 0, 33, false));

        writer.resend(buffer, 0, 1, 2, 3, 0, 100, 7);
        assertEquals(RESEND, classify(buffer, 0, 37, false));
        writer.resend(buffer, 0, 1, 2, 3, 0, 100, 200);
        assertEquals(RejectReason.RESEND_BAD_PRIORITY, classify(buffer, 0, 37, false));
    }

    @Test
    void shouldIgnoreTcpLookAlikeFields()
    {
        for (final int type : ALL_TYPES)
        {
            final int length = write(type, 0) + (DATA == type ? 10 : 0);
            buffer.putBytes(8, new byte[]{ 1, 2, 3 });
            buffer.putByte(12, (byte)0xD0);
            buffer.putByte(13, (byte)0);
            buffer.putShort(14, (short)0x7777);
            buffer.putShort(16, (short)0xCAFE);
            buffer.putShort(18, (short)0);
            if (DATA != type)
            {
                buffer.putInt(4, 0x55555555);
            }

            assertEquals(type, classify(buffer, 0, length, true), HomaWire.typeName(type));
        }
    }

    @Test
    void shouldAcceptTrailingBytesAfterHeader()
    {
        for (final int type : ALL_TYPES)
        {
            if (DATA != type)
            {
                final int length = write(type, 0);
                assertEquals(type, classify(buffer, 0, length + 20, true), HomaWire.typeName(type));
            }
        }
    }

    @Test
    void shouldRejectWindowsOutsideTheBuffer()
    {
        write(BUSY, 0);
        final int capacity = buffer.capacity();

        assertEquals(RejectReason.BAD_BUFFER, classify(null, 0, 28, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, -1, 28, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, 0, -1, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, Integer.MIN_VALUE, 28, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, 0, Integer.MIN_VALUE, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, capacity - 27, 28, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, 0, capacity + 1, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, Integer.MAX_VALUE, Integer.MAX_VALUE, false));
        assertEquals(RejectReason.BAD_BUFFER, classify(buffer, 1, Integer.MAX_VALUE, false));

        assertEquals(BUSY, classify(buffer, 0, capacity, false), "whole buffer is a legal window");
        write(BUSY, capacity - 28);
        assertEquals(BUSY, classify(buffer, capacity - 28, 28, false), "window ending at capacity");
        assertEquals(RejectReason.TOO_SHORT, classify(buffer, capacity, 0, false), "empty window at the end");
    }

    @Test
    void shouldNameEveryRejectReasonDistinctly()
    {
        final Set<String> names = new HashSet<>();
        for (int code = -1; code >= -RejectReason.COUNT; code--)
        {
            final String name = RejectReason.name(code);
            assertFalse(name.startsWith("UNKNOWN_REASON"), "code " + code);
            assertTrue(names.add(name), name);
        }
        assertTrue(RejectReason.name(0).startsWith("UNKNOWN_REASON"));
        assertTrue(RejectReason.name(-RejectReason.COUNT - 1).startsWith("UNKNOWN_REASON"));
    }

    private int write(final int type, final int offset)
    {
        buffer.setMemory(0, buffer.capacity(), (byte)0);
        switch (type)
        {
            case DATA:
                return writer.data(buffer, offset, 0x8000, 4000, 2, 1000, 1000, 0, 0, 1, false, 0);
            case GRANT:
                return writer.grant(buffer, offset, 4000, 0x8000, 3, 20_000, 3);
            case RESEND:
                return writer.resend(buffer, offset, 4000, 0x8000, 3, 0, -1, 7);
            case RPC_UNKNOWN:
                return writer.rpcUnknown(buffer, offset, 4000, 0x8000, 3);
            case BUSY:
                return writer.busy(buffer, offset, 4000, 0x8000, 3);
            case CUTOFFS:
                return writer.cutoffs(buffer, offset, 4000, 0x8000, 3, HomaWire.defaultCutoffs(), 1);
            case FREEZE:
                return writer.freeze(buffer, offset, 4000, 0, 0);
            case NEED_ACK:
                return writer.needAck(buffer, offset, 4000, 0x8000, 3);
            case ACK:
                return writer.ack(buffer, offset, 0x8000, 4000, 2, 1, new long[]{ 4 }, new int[]{ 4000 });
            case PORT_UNREACHABLE:
                return writer.portUnreachable(buffer, offset, 4000, 0x8000, 3);
            default:
                throw new IllegalArgumentException("type " + type);
        }
    }
}
