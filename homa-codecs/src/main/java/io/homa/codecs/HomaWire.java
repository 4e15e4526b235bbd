package io.homa.codecs;

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

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Constants and allocation-free readers for the Homa wire format (HomaModule {@code main}, IP protocol 146).
 * <p>
 * Readers take the buffer and the offset of the first byte of the Homa header and read big-endian fields
 * directly, so they are safe to call from any thread and never throw on an unknown type byte. They do no
 * length checks: run {@link PacketClassifier#classify(DirectBuffer, int, int, boolean)} first, which
 * guarantees that every field of the classified type lies inside the packet.
 * <p>
 * Unsigned 32-bit fields are returned as {@code long}; {@code int} is used where the protocol bounds the value
 * (message lengths and offsets are at most {@link #HOMA_MAX_MESSAGE_LENGTH}, once classified).
 */
public final class HomaWire
{
    // Lengths and type codes come from the generated flyweights: homa-wire.xml is the one place they are written.

    /** Common header shared by every packet type: 20-byte TCP look-alike plus the 8-byte RPC id. */
    public static final int COMMON_HEADER_LENGTH = CommonHeaderDecoder.ENCODED_LENGTH;
    /** DATA header; the payload starts right after it whatever doff says. */
    public static final int DATA_HEADER_LENGTH = DataHeaderDecoder.BLOCK_LENGTH;
    /** GRANT, full module only. */
    public static final int GRANT_LENGTH = GrantDecoder.BLOCK_LENGTH;
    /** RESEND as the full module sends it, with a priority byte. */
    public static final int RESEND_LENGTH = ResendDecoder.BLOCK_LENGTH;
    /** RESEND as the upstream (net-next) module sends it, without the priority byte. */
    public static final int RESEND_MIN_LENGTH = WireVariants.RESEND_UPSTREAM_LENGTH;
    /** RPC_UNKNOWN has no body. */
    public static final int RPC_UNKNOWN_LENGTH = RpcUnknownDecoder.BLOCK_LENGTH;
    /** BUSY has no body. */
    public static final int BUSY_LENGTH = BusyDecoder.BLOCK_LENGTH;
    /** CUTOFFS: 8 cutoffs and a version. */
    public static final int CUTOFFS_LENGTH = CutoffsDecoder.BLOCK_LENGTH;
    /** FREEZE has no body. */
    public static final int FREEZE_LENGTH = FreezeDecoder.BLOCK_LENGTH;
    /** NEED_ACK has no body. */
    public static final int NEED_ACK_LENGTH = NeedAckDecoder.BLOCK_LENGTH;
    /** ACK always carries five 10-byte slots, used or not. */
    public static final int ACK_LENGTH = AckDecoder.BLOCK_LENGTH;
    /** PORT_UNREACHABLE (ours, UDP only) has no body. */
    public static final int PORT_UNREACHABLE_LENGTH = PortUnreachableDecoder.BLOCK_LENGTH;

    /** Type code: a range of message bytes. */
    public static final int DATA = DataHeaderDecoder.TEMPLATE_ID;
    /** Type code: permission to send up to an offset. */
    public static final int GRANT = GrantDecoder.TEMPLATE_ID;
    /** Type code: request for retransmission. */
    public static final int RESEND = ResendDecoder.TEMPLATE_ID;
    /** Type code: no such RPC. */
    public static final int RPC_UNKNOWN = RpcUnknownDecoder.TEMPLATE_ID;
    /** Type code: alive but deliberately not sending. */
    public static final int BUSY = BusyDecoder.TEMPLATE_ID;
    /** Type code: the receiver's unscheduled priority cutoffs. */
    public static final int CUTOFFS = CutoffsDecoder.TEMPLATE_ID;
    /** Type code: freeze the timetrace (debugging). */
    public static final int FREEZE = FreezeDecoder.TEMPLATE_ID;
    /** Type code: server asks the client to ack a completed RPC. */
    public static final int NEED_ACK = NeedAckDecoder.TEMPLATE_ID;
    /** Type code: client acks up to five RPCs plus the one in the header. */
    public static final int ACK = AckDecoder.TEMPLATE_ID;
    /** Type code: ours, the UDP framing's stand-in for ICMP port unreachable. Never sent over IP 146. */
    public static final int PORT_UNREACHABLE = PortUnreachableDecoder.TEMPLATE_ID;

    /** Largest message Homa accepts. */
    public static final int HOMA_MAX_MESSAGE_LENGTH = 1_000_000;
    /** Number of priority levels carried in the top 3 bits of TOS. */
    public static final int HOMA_MAX_PRIORITIES = 8;
    /** First port of the range Linux allocates client ports from. */
    public static final int HOMA_MIN_DEFAULT_PORT = 0x8000;
    /** log2 of the receive buffer page size. */
    public static final int HOMA_BPAGE_SHIFT = 16;
    /** Receive buffer page size. */
    public static final int HOMA_BPAGE_SIZE = 1 << HOMA_BPAGE_SHIFT;
    /** IANA protocol number for Homa. */
    public static final int IPPROTO_HOMA = 146;
    /** Slots in an ACK packet. */
    public static final int HOMA_MAX_ACKS = 5;
    /** SYN+RST, which Linux writes on every packet as half of the TCP hijack marker. */
    public static final int FLAGS = 0x06;
    /** Urgent pointer Linux writes on every packet as the other half of the hijack marker. */
    public static final int URGENT = 0xB97D;
    /** doff Linux uses for control packets: a plain 20-byte TCP header length, which some NICs insist on. */
    public static final int DOFF_CONTROL = 0x50;
    /** doff Linux uses for single-segment DATA: 56 / 4 words. */
    public static final int DOFF_DATA = 0xE0;
    /** seg.offset value meaning "the offset is in sequence"; see {@link WireVariants#NO_SEG_OFFSET}. */
    public static final long NO_SEG_OFFSET = WireVariants.NO_SEG_OFFSET;
    /** RESEND length meaning "I have nothing, resend everything you have sent". */
    public static final long RESEND_ALL = 0xFFFF_FFFFL;

    /**
     * Linux's default receiver cutoffs (index = priority). Shared array: callers must not mutate it; use
     * {@link #defaultCutoffs()} for a private copy.
     */
    public static final int[] DEFAULT_CUTOFFS = { 0, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 };

    // Field offsets from the start of the Homa header, taken from the generated flyweights (every message has
    // the common header at 0, which WireLayoutTest checks). Static finals: the JIT folds them like literals.
    static final int SPORT_OFFSET = CommonHeaderDecoder.sportEncodingOffset();
    static final int DPORT_OFFSET = CommonHeaderDecoder.dportEncodingOffset();
    static final int SEQUENCE_OFFSET = CommonHeaderDecoder.sequenceEncodingOffset();
    static final int TYPE_OFFSET = CommonHeaderDecoder.typeEncodingOffset();
    static final int DOFF_OFFSET = CommonHeaderDecoder.doffEncodingOffset();
    static final int FLAGS_OFFSET = CommonHeaderDecoder.flagsEncodingOffset();
    static final int URGENT_OFFSET = CommonHeaderDecoder.urgentEncodingOffset();
    static final int SENDER_ID_OFFSET = CommonHeaderDecoder.senderIdEncodingOffset();
    static final int MESSAGE_LENGTH_OFFSET = DataHeaderDecoder.messageLengthEncodingOffset();
    static final int INCOMING_OFFSET = DataHeaderDecoder.incomingEncodingOffset();
    static final int DATA_ACK_OFFSET = DataHeaderDecoder.ackEncodingOffset();
    static final int ACK_CLIENT_ID_OFFSET = HomaAckDecoder.clientIdEncodingOffset();
    static final int ACK_SERVER_PORT_OFFSET = HomaAckDecoder.serverPortEncodingOffset();
    static final int HOMA_ACK_LENGTH = HomaAckDecoder.ENCODED_LENGTH;
    static final int DATA_CUTOFF_VERSION_OFFSET = DataHeaderDecoder.cutoffVersionEncodingOffset();
    static final int RETRANSMIT_OFFSET = DataHeaderDecoder.retransmitEncodingOffset();
    static final int SEG_OFFSET_OFFSET = DataHeaderDecoder.segOffsetEncodingOffset();
    static final int GRANT_OFFSET_OFFSET = GrantDecoder.grantOffsetEncodingOffset();
    static final int GRANT_PRIORITY_OFFSET = GrantDecoder.priorityEncodingOffset();
    static final int RESEND_OFFSET_OFFSET = ResendDecoder.resendOffsetEncodingOffset();
    static final int RESEND_LENGTH_OFFSET = ResendDecoder.resendLengthEncodingOffset();
    static final int RESEND_PRIORITY_OFFSET = ResendDecoder.priorityEncodingOffset();
    static final int CUTOFFS_ARRAY_OFFSET = CutoffsDecoder.unschedCutoffsEncodingOffset();
    static final int CUTOFF_LENGTH =
        CutoffsDecoder.unschedCutoffsEncodingLength() / CutoffsDecoder.unschedCutoffsLength();
    static final int CUTOFFS_VERSION_OFFSET = CutoffsDecoder.cutoffVersionEncodingOffset();
    static final int NUM_ACKS_OFFSET = AckDecoder.numAcksEncodingOffset();
    static final int ACKS_OFFSET = AckDecoder.ack0EncodingOffset();

    private HomaWire()
    {
    }

    /**
     * A private copy of {@link #DEFAULT_CUTOFFS}.
     *
     * @return a new array the caller may modify.
     */
    public static int[] defaultCutoffs()
    {
        return DEFAULT_CUTOFFS.clone();
    }

    /**
     * Human-readable name for a type code, for logs and tools.
     *
     * @param type code from the type byte.
     * @return the name, or {@code "UNKNOWN(0x..)"}; allocates only for unknown codes.
     */
    public static String typeName(final int type)
    {
        switch (type)
        {
            case DATA:
                return "DATA";
            case GRANT:
                return "GRANT";
            case RESEND:
                return "RESEND";
            case RPC_UNKNOWN:
                return "RPC_UNKNOWN";
            case BUSY:
                return "BUSY";
            case CUTOFFS:
                return "CUTOFFS";
            case FREEZE:
                return "FREEZE";
            case NEED_ACK:
                return "NEED_ACK";
            case ACK:
                return "ACK";
            case PORT_UNREACHABLE:
                return "PORT_UNREACHABLE";
            default:
                return "UNKNOWN(0x" + Integer.toHexString(type) + ")";
        }
    }

    /**
     * Shortest packet of a type that a receiver accepts: Linux's header size, except RESEND where the
     * 36-byte upstream form is tolerated.
     *
     * @param type code from the type byte.
     * @return minimum length in bytes, or -1 for an unknown type.
     */
    public static int minLength(final int type)
    {
        switch (type)
        {
            case DATA:
                return DATA_HEADER_LENGTH;
            case GRANT:
                return GRANT_LENGTH;
            case RESEND:
                return RESEND_MIN_LENGTH;
            case CUTOFFS:
                return CUTOFFS_LENGTH;
            case ACK:
                return ACK_LENGTH;
            case RPC_UNKNOWN:
            case BUSY:
            case FREEZE:
            case NEED_ACK:
            case PORT_UNREACHABLE:
                return COMMON_HEADER_LENGTH;
            default:
                return -1;
        }
    }

    /**
     * IP TOS (or IPv6 traffic class) byte for a Homa priority: the priority sits in the top 3 DSCP bits.
     *
     * @param priority 0 (lowest) to 7.
     * @return TOS byte value.
     */
    public static int tos(final int priority)
    {
        return priority << 5;
    }

    /**
     * Homa priority carried in a TOS or traffic class byte.
     *
     * @param tos TOS byte value.
     * @return priority 0 to 7.
     */
    public static int priorityFromTos(final int tos)
    {
        return (tos >> 5) & 7;
    }

    // ---------------------------------------------------------------- common header

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the raw type byte, 0 to 255.
     */
    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the sender's Homa port.
     */
    public static int sport(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + SPORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the receiver's Homa port.
     */
    public static int dport(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DPORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the RPC id as known on the sending host (flip bit 0 for the local id).
     */
    public static long senderId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SENDER_ID_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the TCP-style sequence field, unsigned; only meaningful in DATA.
     */
    public static long sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    // ---------------------------------------------------------------- DATA

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return total length of the message, unsigned.
     */
    public static long messageLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + MESSAGE_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return bytes the sender will send unsolicited (or the end of a retransmitted range), unsigned.
     */
    public static long incoming(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + INCOMING_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the raw seg.offset field, unsigned; {@link #NO_SEG_OFFSET} means "look in sequence".
     */
    public static long segOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEG_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * Offset of the first payload byte within the message, applying Linux's rule: seg.offset unless it is
     * 0xFFFFFFFF, in which case sequence. Both forms occur on the wire; see {@link WireVariants}.
     *
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the data offset, unsigned.
     */
    public static long dataOffset(final DirectBuffer buffer, final int offset)
    {
        return WireVariants.dataOffset(buffer, offset);
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return client id of the piggy-backed ack in a DATA packet, 0 for none.
     */
    public static long ackClientId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + DATA_ACK_OFFSET + ACK_CLIENT_ID_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return server port of the piggy-backed ack in a DATA packet.
     */
    public static int ackServerPort(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DATA_ACK_OFFSET + ACK_SERVER_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return version of the receiver's cutoffs the DATA sender used, 0 if it has none.
     */
    public static int cutoffVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + DATA_CUTOFF_VERSION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return true if the DATA was sent in response to a RESEND.
     */
    public static boolean retransmit(final DirectBuffer buffer, final int offset)
    {
        return 0 != buffer.getByte(offset + RETRANSMIT_OFFSET);
    }

    // ---------------------------------------------------------------- GRANT

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return offset below which the sender may now transmit, unsigned.
     */
    public static long grantOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + GRANT_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return priority for the scheduled DATA the grant allows, 0 to 255 on the wire.
     */
    public static int grantPriority(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + GRANT_PRIORITY_OFFSET) & 0xFF;
    }

    // ---------------------------------------------------------------- RESEND

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return first byte to retransmit, unsigned.
     */
    public static long resendOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESEND_OFFSET_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return bytes to retransmit, unsigned; {@link #RESEND_ALL} means everything sent so far.
     */
    public static long resendLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESEND_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    /**
     * Priority for retransmitted DATA. The 36-byte upstream RESEND has no priority byte; receivers send
     * RESEND at the highest level, so 7 is assumed then (see {@link WireVariants}).
     *
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @param length of the Homa packet.
     * @return priority, 0 to 255 on the wire.
     */
    public static int resendPriority(final DirectBuffer buffer, final int offset, final int length)
    {
        return WireVariants.resendPriority(buffer, offset, length);
    }

    // ---------------------------------------------------------------- ACK

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return number of used ack slots as on the wire (valid packets: at most {@link #HOMA_MAX_ACKS}).
     */
    public static int numAcks(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + NUM_ACKS_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @param index  slot, 0 to 4.
     * @return client id acked in that slot.
     */
    public static long ackClientId(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getLong(offset + ACKS_OFFSET + index * HOMA_ACK_LENGTH + ACK_CLIENT_ID_OFFSET, BIG_ENDIAN);
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @param index  slot, 0 to 4.
     * @return server port acked in that slot.
     */
    public static int ackServerPort(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getShort(
            offset + ACKS_OFFSET + index * HOMA_ACK_LENGTH + ACK_SERVER_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    // ---------------------------------------------------------------- CUTOFFS

    /**
     * Cutoff for a priority level as a receiver of CUTOFFS must use it: entry 0 is sent as 0 (defaults) or
     * INT_MAX (rewritten cutoffs) and is always treated as INT_MAX, so the lowest level accepts anything.
     *
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @param index  priority level, 0 to 7.
     * @return the cutoff in bytes; values above INT_MAX on the wire are clamped to INT_MAX.
     */
    public static int cutoff(final DirectBuffer buffer, final int offset, final int index)
    {
        if (0 == index)
        {
            return Integer.MAX_VALUE;
        }

        final int at = offset + CUTOFFS_ARRAY_OFFSET + index * CUTOFF_LENGTH;
        final long value = buffer.getInt(at, BIG_ENDIAN) & 0xFFFF_FFFFL;
        return (int)Math.min(value, Integer.MAX_VALUE);
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the version of the cutoffs carried by a CUTOFFS packet.
     */
    public static int cutoffsVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CUTOFFS_VERSION_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }
}
