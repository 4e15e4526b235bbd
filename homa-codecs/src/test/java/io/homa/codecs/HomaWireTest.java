package io.homa.codecs;

import io.homa.codecs.wire.AckDecoder;
import io.homa.codecs.wire.CommonHeaderDecoder;
import io.homa.codecs.wire.CutoffsDecoder;
import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.codecs.wire.GrantDecoder;
import io.homa.codecs.wire.HomaAckDecoder;
import io.homa.codecs.wire.ResendDecoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HomaWireTest
{
    @Test
    void shouldUseSequenceWhenSegOffsetIsAllOnes()
    {
        // First transmission without GSO, as Linux sends it: offset in sequence, seg.offset = 0xFFFFFFFF.
        final UnsafeBuffer buffer = new UnsafeBuffer(Hex.bytes(
            "8000 0fa0 00002c80 000000 10 e0 06 0000 1234 b97d 0000000000000002" +
            "00002710 00002710 0000000000000000 0000 0001 00 000000 ffffffff"));

        assertEquals(HomaWire.NO_SEG_OFFSET, HomaWire.segOffset(buffer, 0));
        assertEquals(0x2C80L, HomaWire.sequence(buffer, 0));
        assertEquals(0x2C80L, HomaWire.dataOffset(buffer, 0));
    }

    @Test
    void shouldPreferSegOffsetOverSequence()
    {
        // GSO segment: sequence repeats the batch's first offset, seg.offset is the truth.
        final UnsafeBuffer buffer = new UnsafeBuffer(Hex.bytes(
            "8000 0fa0 00000000 000000 10 d0 06 0000 0000 b97d 0000000000000002" +
            "00002710 00002710 0000000000000000 0000 0001 00 000000 00000590"));

        assertEquals(0x590L, HomaWire.dataOffset(buffer, 0));
    }

    @Test
    void shouldReportPrioritySevenForShortResend()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(Hex.bytes(
            "0fa0 8000 00000000 000000 12 50 06 0000 0000 b97d 0000000000000003 00000000 ffffffff 02"));

        assertEquals(7, HomaWire.resendPriority(buffer, 0, HomaWire.RESEND_MIN_LENGTH));
        assertEquals(2, HomaWire.resendPriority(buffer, 0, HomaWire.RESEND_LENGTH));
        assertEquals(HomaWire.RESEND_ALL, HomaWire.resendLength(buffer, 0));
    }

    @Test
    void shouldTreatCutoffEntryZeroAsIntMax()
    {
        final UnsafeBuffer zero = new UnsafeBuffer(Hex.bytes(
            "0fa0 8000 00000000 000000 15 50 06 0000 0000 b97d 0000000000000003" +
            "00000000 00000000 00000000 00000000 000f4240 00003a98 00000af0 000000c8 0001"));
        final UnsafeBuffer intMax = new UnsafeBuffer(Hex.bytes(
            "0fa0 8000 00000000 000000 15 50 06 0000 0000 b97d 0000000000000003" +
            "7fffffff 00000000 00000000 00000000 000f4240 00003a98 00000af0 000000c8 0002"));
        final UnsafeBuffer junk = new UnsafeBuffer(Hex.bytes(
            "0fa0 8000 00000000 000000 15 50 06 0000 0000 b97d 0000000000000003" +
            "00000005 00000000 00000000 00000000 000f4240 00003a98 00000af0 ffffffff 0003"));

        assertEquals(Integer.MAX_VALUE, HomaWire.cutoff(zero, 0, 0));
        assertEquals(Integer.MAX_VALUE, HomaWire.cutoff(intMax, 0, 0));
        assertEquals(Integer.MAX_VALUE, HomaWire.cutoff(junk, 0, 0));
        assertEquals(1, HomaWire.cutoffsVersion(zero, 0));
        assertEquals(2, HomaWire.cutoffsVersion(intMax, 0));

        for (int i = 1; i < 8; i++)
        {
            assertEquals(HomaWire.DEFAULT_CUTOFFS[i], HomaWire.cutoff(zero, 0, i));
        }
        assertEquals(Integer.MAX_VALUE, HomaWire.cutoff(junk, 0, 7), "above INT_MAX clamps");
    }

    @Test
    void shouldMapPriorityToTosAndBack()
    {
        for (int priority = 0; priority < HomaWire.HOMA_MAX_PRIORITIES; priority++)
        {
            final int tos = HomaWire.tos(priority);
            assertEquals(priority, HomaWire.priorityFromTos(tos));
            assertEquals(priority, HomaWire.priorityFromTos(tos | 0x1F), "low DSCP and ECN bits ignored");
        }
        assertEquals(0xE0, HomaWire.tos(7));
        assertEquals(0xC0, HomaWire.tos(6));
    }

    @Test
    void shouldNameTypes()
    {
        assertEquals("DATA", HomaWire.typeName(0x10));
        assertEquals("GRANT", HomaWire.typeName(0x11));
        assertEquals("RESEND", HomaWire.typeName(0x12));
        assertEquals("RPC_UNKNOWN", HomaWire.typeName(0x13));
        assertEquals("BUSY", HomaWire.typeName(0x14));
        assertEquals("CUTOFFS", HomaWire.typeName(0x15));
        assertEquals("FREEZE", HomaWire.typeName(0x16));
        assertEquals("NEED_ACK", HomaWire.typeName(0x17));
        assertEquals("ACK", HomaWire.typeName(0x18));
        assertEquals("PORT_UNREACHABLE", HomaWire.typeName(0xF0));
        assertTrue(HomaWire.typeName(0x19).startsWith("UNKNOWN"));
    }

    @Test
    void shouldGiveLinuxMinimumLengths()
    {
        assertEquals(56, HomaWire.minLength(HomaWire.DATA));
        assertEquals(33, HomaWire.minLength(HomaWire.GRANT));
        assertEquals(36, HomaWire.minLength(HomaWire.RESEND));
        assertEquals(28, HomaWire.minLength(HomaWire.RPC_UNKNOWN));
        assertEquals(28, HomaWire.minLength(HomaWire.BUSY));
        assertEquals(62, HomaWire.minLength(HomaWire.CUTOFFS));
        assertEquals(28, HomaWire.minLength(HomaWire.FREEZE));
        assertEquals(28, HomaWire.minLength(HomaWire.NEED_ACK));
        assertEquals(80, HomaWire.minLength(HomaWire.ACK));
        assertEquals(28, HomaWire.minLength(HomaWire.PORT_UNREACHABLE));
        assertEquals(-1, HomaWire.minLength(0x0F));
        assertEquals(-1, HomaWire.minLength(0x19));
    }

    @Test
    void shouldHandOutCopiesOfDefaultCutoffs()
    {
        final int[] copy = HomaWire.defaultCutoffs();
        assertNotSame(HomaWire.DEFAULT_CUTOFFS, copy);
        assertArrayEquals(new int[]{ 0, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 }, copy);
    }

    @Test
    void shouldAgreeWithGeneratedLayout()
    {
        assertEquals(HomaWire.COMMON_HEADER_LENGTH, CommonHeaderDecoder.ENCODED_LENGTH);
        assertEquals(HomaWire.SPORT_OFFSET, CommonHeaderDecoder.sportEncodingOffset());
        assertEquals(HomaWire.DPORT_OFFSET, CommonHeaderDecoder.dportEncodingOffset());
        assertEquals(HomaWire.SEQUENCE_OFFSET, CommonHeaderDecoder.sequenceEncodingOffset());
        assertEquals(HomaWire.TYPE_OFFSET, CommonHeaderDecoder.typeEncodingOffset());
        assertEquals(HomaWire.DOFF_OFFSET, CommonHeaderDecoder.doffEncodingOffset());
        assertEquals(HomaWire.FLAGS_OFFSET, CommonHeaderDecoder.flagsEncodingOffset());
        assertEquals(HomaWire.URGENT_OFFSET, CommonHeaderDecoder.urgentEncodingOffset());
        assertEquals(HomaWire.SENDER_ID_OFFSET, CommonHeaderDecoder.senderIdEncodingOffset());

        assertEquals(HomaWire.DATA_HEADER_LENGTH, DataHeaderDecoder.BLOCK_LENGTH);
        assertEquals(HomaWire.MESSAGE_LENGTH_OFFSET, DataHeaderDecoder.messageLengthEncodingOffset());
        assertEquals(HomaWire.INCOMING_OFFSET, DataHeaderDecoder.incomingEncodingOffset());
        assertEquals(HomaWire.DATA_ACK_OFFSET, DataHeaderDecoder.ackEncodingOffset());
        assertEquals(HomaWire.ACK_CLIENT_ID_OFFSET, HomaAckDecoder.clientIdEncodingOffset());
        assertEquals(HomaWire.ACK_SERVER_PORT_OFFSET, HomaAckDecoder.serverPortEncodingOffset());
        assertEquals(HomaWire.HOMA_ACK_LENGTH, HomaAckDecoder.ENCODED_LENGTH);
        assertEquals(HomaWire.DATA_CUTOFF_VERSION_OFFSET, DataHeaderDecoder.cutoffVersionEncodingOffset());
        assertEquals(HomaWire.RETRANSMIT_OFFSET, DataHeaderDecoder.retransmitEncodingOffset());
        assertEquals(HomaWire.SEG_OFFSET_OFFSET, DataHeaderDecoder.segOffsetEncodingOffset());

        assertEquals(HomaWire.GRANT_LENGTH, GrantDecoder.BLOCK_LENGTH);
        assertEquals(HomaWire.GRANT_OFFSET_OFFSET, GrantDecoder.grantOffsetEncodingOffset());
        assertEquals(HomaWire.GRANT_PRIORITY_OFFSET, GrantDecoder.priorityEncodingOffset());

        assertEquals(HomaWire.RESEND_LENGTH, ResendDecoder.BLOCK_LENGTH);
        assertEquals(HomaWire.RESEND_OFFSET_OFFSET, ResendDecoder.resendOffsetEncodingOffset());
        assertEquals(HomaWire.RESEND_LENGTH_OFFSET, ResendDecoder.resendLengthEncodingOffset());
        assertEquals(HomaWire.RESEND_PRIORITY_OFFSET, ResendDecoder.priorityEncodingOffset());

        assertEquals(HomaWire.CUTOFFS_LENGTH, CutoffsDecoder.BLOCK_LENGTH);
        assertEquals(HomaWire.CUTOFFS_ARRAY_OFFSET, CutoffsDecoder.unschedCutoffsEncodingOffset());
        assertEquals(HomaWire.CUTOFFS_VERSION_OFFSET, CutoffsDecoder.cutoffVersionEncodingOffset());

        assertEquals(HomaWire.ACK_LENGTH, AckDecoder.BLOCK_LENGTH);
        assertEquals(HomaWire.NUM_ACKS_OFFSET, AckDecoder.numAcksEncodingOffset());
        assertEquals(HomaWire.ACKS_OFFSET, AckDecoder.ack0EncodingOffset());
        assertEquals(HomaWire.ACKS_OFFSET + 4 * HomaWire.HOMA_ACK_LENGTH, AckDecoder.ack4EncodingOffset());
    }
}
