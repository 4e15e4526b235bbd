package io.homa.codecs;

import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.codecs.wire.PacketType;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every expected packet below was written by hand from the offset tables in the protocol reference
 * (common header: sport, dport, sequence, ack[3], type, doff, flags, window, checksum, urgent, sender_id),
 * not produced by the code under test.
 */
class PacketWriterTest
{
    private static final int SPORT = 0x1234;
    private static final int DPORT = 0xBEEF;
    private static final long SENDER_ID = 0x0102030405060708L;
    private static final int UNALIGNED_OFFSET = 7;
    private static final int LARGE_BUFFER_LENGTH = 200;
    private static final byte FILL = (byte)0xA5;

    private final PacketWriter writer = new PacketWriter();

    @FunctionalInterface
    interface Encode
    {
        int encode(MutableDirectBuffer buffer, int offset);
    }

    @FunctionalInterface
    interface Check
    {
        void check(DirectBuffer buffer, int offset, int length);
    }

    @Test
    void shouldEncodeData()
    {
        final String expected =
            "1234 beef 00012345 000000 10 e0 06 0000 0000 b97d 0102030405060708" +
            "000f4240 00009c40 1122334455667788 0fa0 0003 01 000000 00012345";

        assertEncodes(
            expected,
            (buffer, offset) -> writer.data(
                buffer, offset, SPORT, DPORT, SENDER_ID, 1_000_000, 40_000, 0x1122334455667788L, 4000, 3, true,
                0x12345),
            (buffer, offset, length) ->
            {
                assertCommon(buffer, offset, HomaWire.DATA);
                assertEquals(0x12345L, HomaWire.sequence(buffer, offset));
                assertEquals(1_000_000L, HomaWire.messageLength(buffer, offset));
                assertEquals(40_000L, HomaWire.incoming(buffer, offset));
                assertEquals(0x1122334455667788L, HomaWire.ackClientId(buffer, offset));
                assertEquals(4000, HomaWire.ackServerPort(buffer, offset));
                assertEquals(3, HomaWire.cutoffVersion(buffer, offset));
                assertTrue(HomaWire.retransmit(buffer, offset));
                assertEquals(0x12345L, HomaWire.segOffset(buffer, offset));
                assertEquals(0x12345L, HomaWire.dataOffset(buffer, offset));
            });
    }

    @Test
    void shouldEncodeDataWithoutAckOrRetransmit()
    {
        final String expected =
            "8000 0fa0 00000000 000000 10 e0 06 0000 0000 b97d 000000000000002a" +
            "00000064 00000064 0000000000000000 0000 0000 00 000000 00000000";

        assertEncodes(
            expected,
            (buffer, offset) -> writer.data(buffer, offset, 0x8000, 4000, 42, 100, 100, 0, 0, 0, false, 0),
            (buffer, offset, length) ->
            {
                assertEquals(0x8000, HomaWire.sport(buffer, offset));
                assertEquals(4000, HomaWire.dport(buffer, offset));
                assertEquals(42L, HomaWire.senderId(buffer, offset));
                assertFalse(HomaWire.retransmit(buffer, offset));
                assertEquals(0L, HomaWire.dataOffset(buffer, offset));
                assertEquals(0L, HomaWire.ackClientId(buffer, offset));
            });
    }

    @Test
    void shouldEncodeGrant()
    {
        assertEncodes(
            "1234 beef 00000000 000000 11 50 06 0000 0000 b97d 0102030405060708 0001d4c0 03",
            (buffer, offset) -> writer.grant(buffer, offset, SPORT, DPORT, SENDER_ID, 120_000, 3),
            (buffer, offset, length) ->
            {
                assertCommon(buffer, offset, HomaWire.GRANT);
                assertEquals(120_000L, HomaWire.grantOffset(buffer, offset));
                assertEquals(3, HomaWire.grantPriority(buffer, offset));
            });
    }

    @Test
    void shouldEncodeResend()
    {
        assertEncodes(
            "1234 beef 00000000 000000 12 50 06 0000 0000 b97d 0102030405060708 00002710 000005b0 05",
            (buffer, offset) -> writer.resend(buffer, offset, SPORT, DPORT, SENDER_ID, 10_000, 1456, 5),
            (buffer, offset, length) ->
            {
                assertCommon(buffer, offset, HomaWire.RESEND);
                assertEquals(10_000L, HomaWire.resendOffset(buffer, offset));
                assertEquals(1456L, HomaWire.resendLength(buffer, offset));
                assertEquals(5, HomaWire.resendPriority(buffer, offset, length));
            });
    }

    @Test
    void shouldEncodeResendAll()
    {
        assertEncodes(
            "1234 beef 00000000 000000 12 50 06 0000 0000 b97d 0102030405060708 00000000 ffffffff 07",
            (buffer, offset) -> writer.resend(buffer, offset, SPORT, DPORT, SENDER_ID, 0, -1, 7),
            (buffer, offset, length) ->
            {
                assertEquals(0L, HomaWire.resendOffset(buffer, offset));
                assertEquals(HomaWire.RESEND_ALL, HomaWire.resendLength(buffer, offset));
                assertEquals(7, HomaWire.resendPriority(buffer, offset, length));
            });
    }

    @Test
    void shouldEncodeRpcUnknown()
    {
        assertEncodes(
            "1234 beef 00000000 000000 13 50 06 0000 0000 b97d 0102030405060708",
            (buffer, offset) -> writer.rpcUnknown(buffer, offset, SPORT, DPORT, SENDER_ID),
            (buffer, offset, length) -> assertCommon(buffer, offset, HomaWire.RPC_UNKNOWN));
    }

    @Test
    void shouldEncodeBusy()
    {
        assertEncodes(
            "1234 beef 00000000 000000 14 50 06 0000 0000 b97d 0102030405060708",
            (buffer, offset) -> writer.busy(buffer, offset, SPORT, DPORT, SENDER_ID),
            (buffer, offset, length) -> assertCommon(buffer, offset, HomaWire.BUSY));
    }

    @Test
    void shouldEncodeCutoffs()
    {
        final int[] cutoffs = { Integer.MAX_VALUE, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 };
        assertEncodes(
            "1234 beef 00000000 000000 15 50 06 0000 0000 b97d 0102030405060708" +
            "7fffffff 00000000 00000000 00000000 000f4240 00003a98 00000af0 000000c8 0002",
            (buffer, offset) -> writer.cutoffs(buffer, offset, SPORT, DPORT, SENDER_ID, cutoffs, 2),
            (buffer, offset, length) ->
            {
                assertCommon(buffer, offset, HomaWire.CUTOFFS);
                for (int i = 0; i < 8; i++)
                {
                    assertEquals(cutoffs[i], HomaWire.cutoff(buffer, offset, i), "cutoff " + i);
                }
                assertEquals(2, HomaWire.cutoffsVersion(buffer, offset));
            });
    }

    @Test
    void shouldEncodeFreeze()
    {
        assertEncodes(
            "1234 beef 00000000 000000 16 50 06 0000 0000 b97d 0102030405060708",
            (buffer, offset) -> writer.freeze(buffer, offset, SPORT, DPORT, SENDER_ID),
            (buffer, offset, length) -> assertCommon(buffer, offset, HomaWire.FREEZE));
    }

    @Test
    void shouldEncodeNeedAck()
    {
        assertEncodes(
            "1234 beef 00000000 000000 17 50 06 0000 0000 b97d 0102030405060708",
            (buffer, offset) -> writer.needAck(buffer, offset, SPORT, DPORT, SENDER_ID),
            (buffer, offset, length) -> assertCommon(buffer, offset, HomaWire.NEED_ACK));
    }

    @Test
    void shouldEncodeAckAndZeroUnusedSlots()
    {
        final long[] clientIds = { 0x0A0B0C0D0E0F1011L, 0x2222L, 0x3333L };
        final int[] serverPorts = { 0x8001, 0x0FA1, 0x0FA2 };
        assertEncodes(
            "1234 beef 00000000 000000 18 50 06 0000 0000 b97d 0102030405060708" +
            "0002 0a0b0c0d0e0f1011 8001 0000000000002222 0fa1" +
            "0000000000000000 0000 0000000000000000 0000 0000000000000000 0000",
            (buffer, offset) -> writer.ack(buffer, offset, SPORT, DPORT, SENDER_ID, 2, clientIds, serverPorts),
            (buffer, offset, length) ->
            {
                assertCommon(buffer, offset, HomaWire.ACK);
                assertEquals(2, HomaWire.numAcks(buffer, offset));
                assertEquals(0x0A0B0C0D0E0F1011L, HomaWire.ackClientId(buffer, offset, 0));
                assertEquals(0x8001, HomaWire.ackServerPort(buffer, offset, 0));
                assertEquals(0x2222L, HomaWire.ackClientId(buffer, offset, 1));
                assertEquals(0x0FA1, HomaWire.ackServerPort(buffer, offset, 1));
                assertEquals(0L, HomaWire.ackClientId(buffer, offset, 2));
                assertEquals(0, HomaWire.ackServerPort(buffer, offset, 4));
            });
    }

    @Test
    void shouldEncodeAckWithAllFiveSlots()
    {
        final long[] clientIds = { 2, 4, 6, 8, 10 };
        final int[] serverPorts = { 1, 2, 3, 4, 5 };
        assertEncodes(
            "0fa0 8000 00000000 000000 18 50 06 0000 0000 b97d 000000000000000c" +
            "0005 0000000000000002 0001 0000000000000004 0002 0000000000000006 0003" +
            "0000000000000008 0004 000000000000000a 0005",
            (buffer, offset) -> writer.ack(buffer, offset, 4000, 0x8000, 12, 5, clientIds, serverPorts),
            (buffer, offset, length) ->
            {
                assertEquals(5, HomaWire.numAcks(buffer, offset));
                for (int i = 0; i < 5; i++)
                {
                    assertEquals(clientIds[i], HomaWire.ackClientId(buffer, offset, i));
                    assertEquals(serverPorts[i], HomaWire.ackServerPort(buffer, offset, i));
                }
            });
    }

    @Test
    void shouldRejectTooManyAcks()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        final long[] clientIds = new long[6];
        final int[] serverPorts = new int[6];
        assertThrows(IllegalArgumentException.class,
            () -> writer.ack(buffer, 0, SPORT, DPORT, SENDER_ID, 6, clientIds, serverPorts));
        assertThrows(IllegalArgumentException.class,
            () -> writer.ack(buffer, 0, SPORT, DPORT, SENDER_ID, -1, clientIds, serverPorts));
        assertThrows(IllegalArgumentException.class,
            () -> writer.ack(buffer, 0, SPORT, DPORT, SENDER_ID, 3, new long[2], serverPorts));
    }

    @Test
    void shouldRejectWrongNumberOfCutoffs()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        assertThrows(IllegalArgumentException.class,
            () -> writer.cutoffs(buffer, 0, SPORT, DPORT, SENDER_ID, new int[7], 1));
    }

    @Test
    void shouldEncodePortUnreachable()
    {
        assertEncodes(
            "1234 beef 00000000 000000 f0 50 06 0000 0000 b97d 0102030405060708",
            (buffer, offset) -> writer.portUnreachable(buffer, offset, SPORT, DPORT, SENDER_ID),
            (buffer, offset, length) -> assertCommon(buffer, offset, HomaWire.PORT_UNREACHABLE));
    }

    @Test
    void shouldDecodeDataWithGeneratedDecoderToo()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        writer.data(buffer, 3, SPORT, DPORT, SENDER_ID, 5000, 4000, 10, 11, 12, false, 1424);

        final DataHeaderDecoder decoder = new DataHeaderDecoder()
            .wrap(buffer, 3, DataHeaderDecoder.BLOCK_LENGTH, DataHeaderDecoder.SCHEMA_VERSION);
        assertEquals(PacketType.DATA, decoder.common().type());
        assertEquals(HomaWire.DATA, decoder.common().typeRaw());
        assertEquals(SENDER_ID, decoder.common().senderId());
        assertEquals(1424L, decoder.common().sequence());
        assertEquals(5000L, decoder.messageLength());
        assertEquals(4000L, decoder.incoming());
        assertEquals(10L, decoder.ack().clientId());
        assertEquals(11, decoder.ack().serverPort());
        assertEquals(12, decoder.cutoffVersion());
        assertEquals(1424L, decoder.segOffset());
    }

    @Test
    void shouldReturnHeaderLengths()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        assertEquals(HomaWire.DATA_HEADER_LENGTH,
            writer.data(buffer, 0, 1, 2, 3, 4, 5, 6, 7, 8, false, 0));
        assertEquals(HomaWire.GRANT_LENGTH, writer.grant(buffer, 0, 1, 2, 3, 4, 5));
        assertEquals(HomaWire.RESEND_LENGTH, writer.resend(buffer, 0, 1, 2, 3, 4, 5, 6));
        assertEquals(HomaWire.RPC_UNKNOWN_LENGTH, writer.rpcUnknown(buffer, 0, 1, 2, 3));
        assertEquals(HomaWire.BUSY_LENGTH, writer.busy(buffer, 0, 1, 2, 3));
        assertEquals(HomaWire.FREEZE_LENGTH, writer.freeze(buffer, 0, 1, 2, 3));
        assertEquals(HomaWire.NEED_ACK_LENGTH, writer.needAck(buffer, 0, 1, 2, 3));
        assertEquals(HomaWire.PORT_UNREACHABLE_LENGTH, writer.portUnreachable(buffer, 0, 1, 2, 3));
        assertEquals(HomaWire.CUTOFFS_LENGTH, writer.cutoffs(buffer, 0, 1, 2, 3, HomaWire.defaultCutoffs(), 1));
        assertEquals(HomaWire.ACK_LENGTH, writer.ack(buffer, 0, 1, 2, 3, 0, new long[0], new int[0]));
    }

    private void assertEncodes(final String expectedHex, final Encode encode, final Check check)
    {
        final byte[] expected = Hex.bytes(expectedHex);

        final byte[] exact = new byte[expected.length];
        Arrays.fill(exact, FILL);
        final UnsafeBuffer exactBuffer = new UnsafeBuffer(exact);
        assertEquals(expected.length, encode.encode(exactBuffer, 0));
        assertEquals(Hex.normalise(expectedHex), Hex.string(exactBuffer, 0, expected.length));
        check.check(exactBuffer, 0, expected.length);

        final byte[] large = new byte[LARGE_BUFFER_LENGTH];
        Arrays.fill(large, FILL);
        final UnsafeBuffer largeBuffer = new UnsafeBuffer(large);
        assertEquals(expected.length, encode.encode(largeBuffer, UNALIGNED_OFFSET));
        final byte[] written = new byte[expected.length];
        largeBuffer.getBytes(UNALIGNED_OFFSET, written);
        assertArrayEquals(expected, written);
        for (int i = 0; i < LARGE_BUFFER_LENGTH; i++)
        {
            if (i < UNALIGNED_OFFSET || i >= UNALIGNED_OFFSET + expected.length)
            {
                assertEquals(FILL, large[i], "byte " + i + " outside the packet was touched");
            }
        }
        check.check(largeBuffer, UNALIGNED_OFFSET, expected.length);

        final int type = HomaWire.type(largeBuffer, UNALIGNED_OFFSET);
        final int payloadLength = HomaWire.DATA == type ? 16 : 0;
        assertEquals(
            type,
            PacketClassifier.classify(largeBuffer, UNALIGNED_OFFSET, expected.length + payloadLength, true),
            "a freshly encoded packet classifies as its own type");
    }

    private static void assertCommon(final DirectBuffer buffer, final int offset, final int type)
    {
        assertEquals(type, HomaWire.type(buffer, offset));
        assertEquals(SPORT, HomaWire.sport(buffer, offset));
        assertEquals(DPORT, HomaWire.dport(buffer, offset));
        assertEquals(SENDER_ID, HomaWire.senderId(buffer, offset));
        if (HomaWire.DATA != type)
        {
            assertEquals(0L, HomaWire.sequence(buffer, offset));
        }
    }
}
