package io.homa.codecs;

import io.homa.codecs.pcap.PcapReader;
import io.homa.codecs.pcap.SharedDir;
import io.homa.codecs.wire.AckDecoder;
import io.homa.codecs.wire.BusyDecoder;
import io.homa.codecs.wire.CommonHeaderDecoder;
import io.homa.codecs.wire.CutoffsDecoder;
import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.codecs.wire.FreezeDecoder;
import io.homa.codecs.wire.GrantDecoder;
import io.homa.codecs.wire.HomaAckDecoder;
import io.homa.codecs.wire.NeedAckDecoder;
import io.homa.codecs.wire.PortUnreachableDecoder;
import io.homa.codecs.wire.ResendDecoder;
import io.homa.codecs.wire.RpcUnknownDecoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The readers' layout comes from the generated flyweights; this checks it three ways: against the numbers of
 * Linux's C structs (homa_wire.h at 9edb958, as in the protocol reference), against the flyweights themselves
 * on every packet of both Linux captures, and against the wire variants Linux sends besides the current form.
 */
class WireLayoutTest
{
    private static final String[] CAPTURES = { "small_100B.pcap", "medium_10KB_100KB.pcap" };

    @Test
    void shouldDeriveEveryOffsetAsInLinuxStructs()
    {
        // { derived, generated, Linux }: the Linux column is written out from the C structs on purpose.
        final int[][] fields =
        {
            { HomaWire.SPORT_OFFSET, CommonHeaderDecoder.sportEncodingOffset(), 0 },
            { HomaWire.DPORT_OFFSET, CommonHeaderDecoder.dportEncodingOffset(), 2 },
            { HomaWire.SEQUENCE_OFFSET, CommonHeaderDecoder.sequenceEncodingOffset(), 4 },
            { HomaWire.TYPE_OFFSET, CommonHeaderDecoder.typeEncodingOffset(), 11 },
            { HomaWire.DOFF_OFFSET, CommonHeaderDecoder.doffEncodingOffset(), 12 },
            { HomaWire.FLAGS_OFFSET, CommonHeaderDecoder.flagsEncodingOffset(), 13 },
            { HomaWire.URGENT_OFFSET, CommonHeaderDecoder.urgentEncodingOffset(), 18 },
            { HomaWire.SENDER_ID_OFFSET, CommonHeaderDecoder.senderIdEncodingOffset(), 20 },
            { HomaWire.MESSAGE_LENGTH_OFFSET, DataHeaderDecoder.messageLengthEncodingOffset(), 28 },
            { HomaWire.INCOMING_OFFSET, DataHeaderDecoder.incomingEncodingOffset(), 32 },
            { HomaWire.DATA_ACK_OFFSET, DataHeaderDecoder.ackEncodingOffset(), 36 },
            { HomaWire.ACK_CLIENT_ID_OFFSET, HomaAckDecoder.clientIdEncodingOffset(), 0 },
            { HomaWire.ACK_SERVER_PORT_OFFSET, HomaAckDecoder.serverPortEncodingOffset(), 8 },
            { HomaWire.HOMA_ACK_LENGTH, HomaAckDecoder.ENCODED_LENGTH, 10 },
            { HomaWire.DATA_CUTOFF_VERSION_OFFSET, DataHeaderDecoder.cutoffVersionEncodingOffset(), 46 },
            { HomaWire.RETRANSMIT_OFFSET, DataHeaderDecoder.retransmitEncodingOffset(), 48 },
            { HomaWire.SEG_OFFSET_OFFSET, DataHeaderDecoder.segOffsetEncodingOffset(), 52 },
            { HomaWire.GRANT_OFFSET_OFFSET, GrantDecoder.grantOffsetEncodingOffset(), 28 },
            { HomaWire.GRANT_PRIORITY_OFFSET, GrantDecoder.priorityEncodingOffset(), 32 },
            { HomaWire.RESEND_OFFSET_OFFSET, ResendDecoder.resendOffsetEncodingOffset(), 28 },
            { HomaWire.RESEND_LENGTH_OFFSET, ResendDecoder.resendLengthEncodingOffset(), 32 },
            { HomaWire.RESEND_PRIORITY_OFFSET, ResendDecoder.priorityEncodingOffset(), 36 },
            { HomaWire.CUTOFFS_ARRAY_OFFSET, CutoffsDecoder.unschedCutoffsEncodingOffset(), 28 },
            { HomaWire.CUTOFF_LENGTH, CutoffsDecoder.unschedCutoffsEncodingLength() / 8, 4 },
            { HomaWire.CUTOFFS_VERSION_OFFSET, CutoffsDecoder.cutoffVersionEncodingOffset(), 60 },
            { HomaWire.NUM_ACKS_OFFSET, AckDecoder.numAcksEncodingOffset(), 28 },
            { HomaWire.ACKS_OFFSET, AckDecoder.ack0EncodingOffset(), 30 },
        };

        for (int i = 0; i < fields.length; i++)
        {
            assertEquals(fields[i][2], fields[i][1], "generated field " + i);
            assertEquals(fields[i][2], fields[i][0], "derived field " + i);
        }
    }

    @Test
    void shouldDeriveEveryLengthAndTypeAsInLinuxStructs()
    {
        final int[][] lengths =
        {
            { HomaWire.COMMON_HEADER_LENGTH, 28 }, { HomaWire.DATA_HEADER_LENGTH, 56 }, { HomaWire.GRANT_LENGTH, 33 },
            { HomaWire.RESEND_LENGTH, 37 }, { HomaWire.RESEND_MIN_LENGTH, 36 }, { HomaWire.RPC_UNKNOWN_LENGTH, 28 },
            { HomaWire.BUSY_LENGTH, 28 }, { HomaWire.CUTOFFS_LENGTH, 62 }, { HomaWire.FREEZE_LENGTH, 28 },
            { HomaWire.NEED_ACK_LENGTH, 28 }, { HomaWire.ACK_LENGTH, 80 }, { HomaWire.PORT_UNREACHABLE_LENGTH, 28 },
            { WireVariants.RESEND_UPSTREAM_LENGTH, 36 }, { WireVariants.GRANT_WITH_RESEND_ALL_LENGTH, 34 },
            { WireVariants.DOFF_GSO_DATA, 0xD0 },
        };
        for (int i = 0; i < lengths.length; i++)
        {
            assertEquals(lengths[i][1], lengths[i][0], "length " + i);
        }

        final int[] types =
        {
            HomaWire.DATA, HomaWire.GRANT, HomaWire.RESEND, HomaWire.RPC_UNKNOWN, HomaWire.BUSY, HomaWire.CUTOFFS,
            HomaWire.FREEZE, HomaWire.NEED_ACK, HomaWire.ACK,
        };
        for (int i = 0; i < types.length; i++)
        {
            assertEquals(0x10 + i, types[i]);
        }
        assertEquals(0xF0, HomaWire.PORT_UNREACHABLE);
        assertEquals(0xFFFF_FFFFL, HomaWire.NO_SEG_OFFSET);
    }

    @Test
    void shouldFindOneConsistentLayoutInTheSchema()
    {
        // The readers assume the common header at 0 in every message and the ACK slots back to back.
        final int[] commonOffsets =
        {
            DataHeaderDecoder.commonEncodingOffset(), GrantDecoder.commonEncodingOffset(),
            ResendDecoder.commonEncodingOffset(), RpcUnknownDecoder.commonEncodingOffset(),
            BusyDecoder.commonEncodingOffset(), CutoffsDecoder.commonEncodingOffset(),
            FreezeDecoder.commonEncodingOffset(), NeedAckDecoder.commonEncodingOffset(),
            AckDecoder.commonEncodingOffset(), PortUnreachableDecoder.commonEncodingOffset(),
        };
        for (final int commonOffset : commonOffsets)
        {
            assertEquals(0, commonOffset);
        }

        final int[] slots =
        {
            AckDecoder.ack0EncodingOffset(), AckDecoder.ack1EncodingOffset(), AckDecoder.ack2EncodingOffset(),
            AckDecoder.ack3EncodingOffset(), AckDecoder.ack4EncodingOffset(),
        };
        assertEquals(HomaWire.HOMA_MAX_ACKS, slots.length);
        for (int i = 0; i < slots.length; i++)
        {
            assertEquals(HomaWire.ACKS_OFFSET + i * HomaWire.HOMA_ACK_LENGTH, slots[i]);
        }
        assertEquals(HomaWire.ACK_LENGTH, slots[4] + HomaWire.HOMA_ACK_LENGTH);
        assertEquals(HomaWire.HOMA_MAX_PRIORITIES, CutoffsDecoder.unschedCutoffsLength());
        assertEquals(HomaWire.CUTOFFS_VERSION_OFFSET, HomaWire.CUTOFFS_ARRAY_OFFSET + 8 * HomaWire.CUTOFF_LENGTH);
    }

    @Test
    void shouldReadCapturedBytesWhereLinuxPutThem() throws IOException
    {
        // The first GRANT of the medium capture, as tcpdump shows it: server 4000 to client 32769, id 0x11,
        // granting up to 100,000 at priority 0.
        final DirectBuffer grant = firstOf(HomaWire.GRANT);
        assertEquals(HomaWire.GRANT_LENGTH, grant.capacity());
        assertEquals("0fa0800100000000000000115006000014f2b97d000000000000000d000186a000", hex(grant));
        assertEquals(4000, HomaWire.sport(grant, 0));
        assertEquals(0x8001, HomaWire.dport(grant, 0));
        assertEquals(HomaWire.GRANT, HomaWire.type(grant, 0));
        assertEquals(HomaWire.DOFF_CONTROL, grant.getByte(HomaWire.DOFF_OFFSET) & 0xFF);
        assertEquals(HomaWire.FLAGS, grant.getByte(HomaWire.FLAGS_OFFSET) & 0xFF);
        assertEquals(HomaWire.URGENT, grant.getShort(HomaWire.URGENT_OFFSET, BIG_ENDIAN) & 0xFFFF);
        assertEquals(0x0DL, HomaWire.senderId(grant, 0));
        assertEquals(100_000L, HomaWire.grantOffset(grant, 0));
        assertEquals(0, HomaWire.grantPriority(grant, 0));

        int controlPackets = 0;
        for (final DirectBuffer packet : homaPackets())
        {
            final int type = HomaWire.type(packet, 0);
            if (HomaWire.DATA != type)
            {
                controlPackets++;
                // Linux sends every control packet at exactly its struct's size (RESEND in the full form).
                assertEquals(HomaWire.minLength(type) + (HomaWire.RESEND == type ? 1 : 0), packet.capacity());
            }
        }
        assertEquals(2 + 1 + 2 + 41 + 1 + 3 + 4 + 2, controlPackets);
    }

    @Test
    void shouldReadEveryCapturedPacketAsTheFlyweightsDo() throws IOException
    {
        final CommonHeaderDecoder common = new CommonHeaderDecoder();
        final DataHeaderDecoder data = new DataHeaderDecoder();
        final GrantDecoder grant = new GrantDecoder();
        final ResendDecoder resend = new ResendDecoder();
        final CutoffsDecoder cutoffs = new CutoffsDecoder();
        final AckDecoder ack = new AckDecoder();
        final List<DirectBuffer> packets = homaPackets();
        assertEquals(46 + 564, packets.size());

        for (final DirectBuffer packet : packets)
        {
            final int length = packet.capacity();
            assertTrue(PacketClassifier.classify(packet, 0, length, false) > 0);
            common.wrap(packet, 0);
            assertEquals(common.sport(), HomaWire.sport(packet, 0));
            assertEquals(common.dport(), HomaWire.dport(packet, 0));
            assertEquals(common.sequence(), HomaWire.sequence(packet, 0));
            assertEquals(common.typeRaw(), HomaWire.type(packet, 0));
            assertEquals(common.senderId(), HomaWire.senderId(packet, 0));
            switch (HomaWire.type(packet, 0))
            {
                case HomaWire.DATA ->
                {
                    data.wrap(packet, 0, DataHeaderDecoder.BLOCK_LENGTH, DataHeaderDecoder.SCHEMA_VERSION);
                    assertEquals(data.messageLength(), HomaWire.messageLength(packet, 0));
                    assertEquals(data.incoming(), HomaWire.incoming(packet, 0));
                    assertEquals(data.ack().clientId(), HomaWire.ackClientId(packet, 0));
                    assertEquals(data.ack().serverPort(), HomaWire.ackServerPort(packet, 0));
                    assertEquals(data.cutoffVersion(), HomaWire.cutoffVersion(packet, 0));
                    assertEquals(0 != data.retransmit(), HomaWire.retransmit(packet, 0));
                    assertEquals(data.segOffset(), HomaWire.segOffset(packet, 0));
                }
                case HomaWire.GRANT ->
                {
                    grant.wrap(packet, 0, GrantDecoder.BLOCK_LENGTH, GrantDecoder.SCHEMA_VERSION);
                    assertEquals(grant.grantOffset(), HomaWire.grantOffset(packet, 0));
                    assertEquals(grant.priority(), HomaWire.grantPriority(packet, 0));
                }
                case HomaWire.RESEND ->
                {
                    resend.wrap(packet, 0, ResendDecoder.BLOCK_LENGTH, ResendDecoder.SCHEMA_VERSION);
                    assertEquals(resend.resendOffset(), HomaWire.resendOffset(packet, 0));
                    assertEquals(resend.resendLength(), HomaWire.resendLength(packet, 0));
                    assertEquals(resend.priority(), HomaWire.resendPriority(packet, 0, length));
                }
                case HomaWire.CUTOFFS ->
                {
                    cutoffs.wrap(packet, 0, CutoffsDecoder.BLOCK_LENGTH, CutoffsDecoder.SCHEMA_VERSION);
                    for (int i = 1; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                    {
                        assertEquals(cutoffs.unschedCutoffs(i), HomaWire.cutoff(packet, 0, i));
                    }
                    assertEquals(cutoffs.cutoffVersion(), HomaWire.cutoffsVersion(packet, 0));
                }
                case HomaWire.ACK ->
                {
                    ack.wrap(packet, 0, AckDecoder.BLOCK_LENGTH, AckDecoder.SCHEMA_VERSION);
                    assertEquals(ack.numAcks(), HomaWire.numAcks(packet, 0));
                    for (int i = 0; i < HomaWire.HOMA_MAX_ACKS; i++)
                    {
                        final HomaAckDecoder slot = slotOf(ack, i);
                        assertEquals(slot.clientId(), HomaWire.ackClientId(packet, 0, i));
                        assertEquals(slot.serverPort(), HomaWire.ackServerPort(packet, 0, i));
                    }
                }
                default ->
                {
                    // No body.
                }
            }
        }
    }

    @Test
    void shouldAcceptUpstreamResendWithoutPriority() throws IOException
    {
        final DirectBuffer full = firstOf(HomaWire.RESEND);
        final DirectBuffer upstream = copy(full, WireVariants.RESEND_UPSTREAM_LENGTH);

        assertTrue(WireVariants.resendHasPriority(full.capacity()));
        assertFalse(WireVariants.resendHasPriority(upstream.capacity()));
        assertEquals(HomaWire.RESEND, PacketClassifier.classify(upstream, 0, upstream.capacity(), false));
        assertEquals(HomaWire.resendOffset(full, 0), HomaWire.resendOffset(upstream, 0));
        assertEquals(HomaWire.resendLength(full, 0), HomaWire.resendLength(upstream, 0));
        assertEquals(WireVariants.RESEND_DEFAULT_PRIORITY, HomaWire.resendPriority(upstream, 0, upstream.capacity()));
        assertEquals(RejectReason.TOO_SHORT, PacketClassifier.classify(
            upstream, 0, WireVariants.RESEND_UPSTREAM_LENGTH - 1, false));
    }

    @Test
    void shouldAcceptOlderGrantWithResendAllByte() throws IOException
    {
        final DirectBuffer current = firstOf(HomaWire.GRANT);
        final UnsafeBuffer older = copy(current, WireVariants.GRANT_WITH_RESEND_ALL_LENGTH);
        older.putByte(HomaWire.GRANT_LENGTH, (byte)1);

        assertEquals(HomaWire.GRANT, PacketClassifier.classify(older, 0, older.capacity(), false));
        assertEquals(HomaWire.grantOffset(current, 0), HomaWire.grantOffset(older, 0));
        assertEquals(HomaWire.grantPriority(current, 0), HomaWire.grantPriority(older, 0));
        assertEquals(HomaWire.senderId(current, 0), HomaWire.senderId(older, 0));
    }

    @Test
    void shouldTakeGsoSegmentOffsetFromSegOffset() throws IOException
    {
        // A first transmission as captured: offset in sequence, seg.offset all ones.
        final DirectBuffer captured = secondDataOfAMessage();
        assertEquals(HomaWire.NO_SEG_OFFSET, HomaWire.segOffset(captured, 0));
        final long offset = HomaWire.sequence(captured, 0);
        assertEquals(offset, HomaWire.dataOffset(captured, 0));

        // The same bytes as the second segment of a GSO batch: doff 13 words, sequence repeats the batch start.
        final UnsafeBuffer segment = copy(captured, captured.capacity());
        segment.putByte(HomaWire.DOFF_OFFSET, (byte)WireVariants.DOFF_GSO_DATA);
        segment.putInt(HomaWire.SEQUENCE_OFFSET, 0, BIG_ENDIAN);
        segment.putInt(HomaWire.SEG_OFFSET_OFFSET, (int)offset, BIG_ENDIAN);

        assertEquals(HomaWire.DATA, PacketClassifier.classify(segment, 0, segment.capacity(), false));
        assertEquals(offset, HomaWire.dataOffset(segment, 0));
        assertEquals(offset, WireVariants.dataOffset(segment, 0));
    }

    private static HomaAckDecoder slotOf(final AckDecoder ack, final int index)
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

    private static DirectBuffer secondDataOfAMessage() throws IOException
    {
        for (final DirectBuffer packet : homaPackets())
        {
            if (HomaWire.DATA == HomaWire.type(packet, 0) && HomaWire.sequence(packet, 0) > 0 &&
                !HomaWire.retransmit(packet, 0))
            {
                assertNotEquals(0L, HomaWire.dataOffset(packet, 0));
                return packet;
            }
        }
        throw new AssertionError("no DATA past offset 0 in the captures");
    }

    private static DirectBuffer firstOf(final int type) throws IOException
    {
        for (final DirectBuffer packet : homaPackets())
        {
            if (type == HomaWire.type(packet, 0))
            {
                return packet;
            }
        }
        throw new AssertionError("no " + HomaWire.typeName(type) + " in the captures");
    }

    private static UnsafeBuffer copy(final DirectBuffer packet, final int length)
    {
        final byte[] bytes = new byte[length];
        packet.getBytes(0, bytes, 0, Math.min(length, packet.capacity()));
        return new UnsafeBuffer(bytes);
    }

    private static String hex(final DirectBuffer packet)
    {
        final StringBuilder builder = new StringBuilder();
        for (int i = 0; i < packet.capacity(); i++)
        {
            builder.append(String.format("%02x", packet.getByte(i) & 0xFF));
        }
        return builder.toString();
    }

    /** Every Homa packet of both captures, each in a buffer of exactly its length, in capture order. */
    private static List<DirectBuffer> homaPackets() throws IOException
    {
        final List<DirectBuffer> packets = new ArrayList<>();
        for (final String name : CAPTURES)
        {
            try (PcapReader reader = PcapReader.open(SharedDir.linuxCaptures().resolve(name)))
            {
                reader.readAll((protocol, tos, buffer, offset, length, addressOffset, addressLength) ->
                {
                    if (PcapReader.IPPROTO_HOMA == protocol)
                    {
                        final byte[] bytes = new byte[length];
                        buffer.getBytes(offset, bytes);
                        packets.add(new UnsafeBuffer(bytes));
                    }
                });
            }
        }
        return packets;
    }
}
