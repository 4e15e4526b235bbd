package io.homa.samples.bench;

import org.agrona.DirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The receive-side readers as {@code HomaWire} had them before issue #21, with the layout kept by hand in
 * numeric offsets. Benchmark baseline only: nothing outside {@link WireDecodeBenchmark} may use it.
 */
final class LegacyWireReaders
{
    static final int DATA = 0x10;
    static final int GRANT = 0x11;
    static final int RESEND = 0x12;
    static final int CUTOFFS = 0x15;
    static final int ACK = 0x18;

    private static final int RESEND_LENGTH = 37;
    private static final int SPORT_OFFSET = 0;
    private static final int DPORT_OFFSET = 2;
    private static final int SEQUENCE_OFFSET = 4;
    private static final int TYPE_OFFSET = 11;
    private static final int SENDER_ID_OFFSET = 20;
    private static final int MESSAGE_LENGTH_OFFSET = 28;
    private static final int INCOMING_OFFSET = 32;
    private static final int DATA_ACK_OFFSET = 36;
    private static final int ACK_CLIENT_ID_OFFSET = 0;
    private static final int ACK_SERVER_PORT_OFFSET = 8;
    private static final int HOMA_ACK_LENGTH = 10;
    private static final int DATA_CUTOFF_VERSION_OFFSET = 46;
    private static final int RETRANSMIT_OFFSET = 48;
    private static final int SEG_OFFSET_OFFSET = 52;
    private static final int GRANT_OFFSET_OFFSET = 28;
    private static final int GRANT_PRIORITY_OFFSET = 32;
    private static final int RESEND_OFFSET_OFFSET = 28;
    private static final int RESEND_LENGTH_OFFSET = 32;
    private static final int RESEND_PRIORITY_OFFSET = 36;
    private static final int CUTOFFS_ARRAY_OFFSET = 28;
    private static final int CUTOFFS_VERSION_OFFSET = 60;
    private static final int NUM_ACKS_OFFSET = 28;
    private static final int ACKS_OFFSET = 30;
    private static final long NO_SEG_OFFSET = 0xFFFF_FFFFL;

    private LegacyWireReaders()
    {
    }

    static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    static int sport(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + SPORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static int dport(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DPORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static long senderId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SENDER_ID_OFFSET, BIG_ENDIAN);
    }

    static long sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static long messageLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + MESSAGE_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static long incoming(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + INCOMING_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static long segOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEG_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static long dataOffset(final DirectBuffer buffer, final int offset)
    {
        final long segOffset = segOffset(buffer, offset);
        return NO_SEG_OFFSET != segOffset ? segOffset : sequence(buffer, offset);
    }

    static long ackClientId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + DATA_ACK_OFFSET + ACK_CLIENT_ID_OFFSET, BIG_ENDIAN);
    }

    static int ackServerPort(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DATA_ACK_OFFSET + ACK_SERVER_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static int cutoffVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DATA_CUTOFF_VERSION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static boolean retransmit(final DirectBuffer buffer, final int offset)
    {
        return 0 != buffer.getByte(offset + RETRANSMIT_OFFSET);
    }

    static long grantOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + GRANT_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static int grantPriority(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + GRANT_PRIORITY_OFFSET) & 0xFF;
    }

    static long resendOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESEND_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static long resendLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESEND_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    static int resendPriority(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < RESEND_LENGTH)
        {
            return 7;
        }

        return buffer.getByte(offset + RESEND_PRIORITY_OFFSET) & 0xFF;
    }

    static int numAcks(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + NUM_ACKS_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static long ackClientId(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getLong(offset + ACKS_OFFSET + index * HOMA_ACK_LENGTH + ACK_CLIENT_ID_OFFSET, BIG_ENDIAN);
    }

    static int ackServerPort(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getShort(
            offset + ACKS_OFFSET + index * HOMA_ACK_LENGTH + ACK_SERVER_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    static int cutoff(final DirectBuffer buffer, final int offset, final int index)
    {
        if (0 == index)
        {
            return Integer.MAX_VALUE;
        }

        final long value = buffer.getInt(offset + CUTOFFS_ARRAY_OFFSET + index * 4, BIG_ENDIAN) & 0xFFFF_FFFFL;
        return (int)Math.min(value, Integer.MAX_VALUE);
    }

    static int cutoffsVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CUTOFFS_VERSION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }
}
