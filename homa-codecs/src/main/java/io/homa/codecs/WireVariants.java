package io.homa.codecs;

import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.codecs.wire.GrantDecoder;
import io.homa.codecs.wire.ResendDecoder;
import org.agrona.DirectBuffer;

/**
 * The forms Linux puts on the wire besides the current layout in {@code homa-wire.xml}, kept in this one place
 * so the schema stays a plain copy of the C structs and every deviation from it is listed here.
 * <ul>
 *     <li><b>Upstream RESEND, 36 bytes.</b> The net-next module drops the priority byte, so the packet ends
 *     where that byte would start. Accepted; its priority is taken as {@link #RESEND_DEFAULT_PRIORITY}.</li>
 *     <li><b>GRANT with resend_all, 34 bytes.</b> Modules before the 2025-06 resend rework append a resend_all
 *     byte to the 33-byte GRANT. Accepted as a GRANT; the extra byte is ignored, as a current Linux receiver
 *     ignores it (RESEND with length 0xFFFFFFFF replaced it).</li>
 *     <li><b>GSO DATA.</b> Segments cut from a GSO batch carry doff {@link #DOFF_GSO_DATA} (ignored: the
 *     payload always starts at 56) and repeat the batch's first offset in {@code sequence}; their real
 *     offset is in {@code seg.offset}. Non-GSO first transmissions put the offset in {@code sequence} and
 *     {@link #NO_SEG_OFFSET} in {@code seg.offset}. {@link #dataOffset} applies Linux's rule to both.</li>
 * </ul>
 * Lengths and offsets derive from the generated flyweights; only the facts the schema cannot express are here.
 * Allocation-free and stateless. Like {@link HomaWire}, no length checks beyond the ones documented.
 */
public final class WireVariants
{
    /** Upstream RESEND: the full one up to, not including, its priority byte. */
    public static final int RESEND_UPSTREAM_LENGTH = ResendDecoder.priorityEncodingOffset();
    /** Priority for a RESEND without the byte: receivers send RESEND at the top level. */
    public static final int RESEND_DEFAULT_PRIORITY = HomaWire.HOMA_MAX_PRIORITIES - 1;
    /** GRANT of modules before 2025-06: the current one plus a resend_all byte. */
    public static final int GRANT_WITH_RESEND_ALL_LENGTH = GrantDecoder.BLOCK_LENGTH + 1;
    /** seg.offset meaning "the offset is in sequence": all ones, which is also SBE's null for a uint32. */
    public static final long NO_SEG_OFFSET = DataHeaderDecoder.segOffsetNullValue();
    /** doff of DATA cut from a non-hijacked GSO batch: 52 / 4, so TSO replicates all but seg.offset. */
    public static final int DOFF_GSO_DATA = (DataHeaderDecoder.BLOCK_LENGTH - 4) << 2;

    private static final int RESEND_PRIORITY = ResendDecoder.priorityEncodingOffset();

    private WireVariants()
    {
    }

    /**
     * @param length of a RESEND packet, at least {@link #RESEND_UPSTREAM_LENGTH}.
     * @return true if it carries the priority byte (full module), false for the upstream form.
     */
    public static boolean resendHasPriority(final int length)
    {
        return length > RESEND_PRIORITY;
    }

    /**
     * Priority for the retransmitted DATA a RESEND asks for, in either form.
     *
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @param length of the Homa packet, at least {@link #RESEND_UPSTREAM_LENGTH}.
     * @return the priority byte, 0 to 255 on the wire, or {@link #RESEND_DEFAULT_PRIORITY} if there is none.
     */
    public static int resendPriority(final DirectBuffer buffer, final int offset, final int length)
    {
        return resendHasPriority(length) ? buffer.getByte(offset + RESEND_PRIORITY) & 0xFF : RESEND_DEFAULT_PRIORITY;
    }

    /**
     * Offset in the message of a DATA packet's first payload byte, by Linux's rule ({@code homa_get_offset}):
     * seg.offset unless it is {@link #NO_SEG_OFFSET}, in which case sequence.
     *
     * @param buffer holding the packet.
     * @param offset of the Homa header.
     * @return the data offset, unsigned.
     */
    public static long dataOffset(final DirectBuffer buffer, final int offset)
    {
        final long segOffset = HomaWire.segOffset(buffer, offset);
        return NO_SEG_OFFSET != segOffset ? segOffset : HomaWire.sequence(buffer, offset);
    }
}
