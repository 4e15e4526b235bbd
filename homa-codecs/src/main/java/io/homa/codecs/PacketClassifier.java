package io.homa.codecs;

import org.agrona.DirectBuffer;

import static io.homa.codecs.HomaWire.ACK;
import static io.homa.codecs.HomaWire.COMMON_HEADER_LENGTH;
import static io.homa.codecs.HomaWire.DATA;
import static io.homa.codecs.HomaWire.DATA_HEADER_LENGTH;
import static io.homa.codecs.HomaWire.GRANT;
import static io.homa.codecs.HomaWire.HOMA_MAX_ACKS;
import static io.homa.codecs.HomaWire.HOMA_MAX_MESSAGE_LENGTH;
import static io.homa.codecs.HomaWire.HOMA_MAX_PRIORITIES;
import static io.homa.codecs.HomaWire.PORT_UNREACHABLE;
import static io.homa.codecs.HomaWire.RESEND;

/**
 * First look at a received packet: decides whether it is a Homa packet the rest of the driver may decode
 * with the {@link HomaWire} readers, without ever throwing and without reading outside
 * {@code [offset, offset + length)}.
 * <p>
 * It is lenient in the same places Linux is: doff, checksum, window, ack[3], flags and urgent are ignored,
 * a 36-byte RESEND is accepted, and a DATA seg.offset of 0xFFFFFFFF means the offset is in sequence (the
 * variants are listed in {@link WireVariants}).
 * It is strict where a bad value would otherwise reach protocol state: message length, data range, ack
 * count and priorities are checked here, so the handlers need not.
 * <p>
 * DATA without payload is rejected ({@link RejectReason#DATA_EMPTY}): a message is at least one byte, Linux
 * never sends such a packet (none in the reference captures) and it could not advance any state.
 */
public final class PacketClassifier
{
    private PacketClassifier()
    {
    }

    /**
     * Classify a packet.
     *
     * @param buffer   holding the packet; may be null (rejected).
     * @param offset   of the Homa header in the buffer.
     * @param length   of the Homa packet (IP or UDP payload length).
     * @param overUdp  true if the packet came over our UDP framing, where {@link HomaWire#PORT_UNREACHABLE}
     *                 is legal.
     * @return the type code (positive) or a negative {@link RejectReason} code.
     */
    public static int classify(final DirectBuffer buffer, final int offset, final int length, final boolean overUdp)
    {
        if (null == buffer || offset < 0 || length < 0 || (long)offset + length > buffer.capacity())
        {
            return RejectReason.BAD_BUFFER;
        }

        if (length < COMMON_HEADER_LENGTH)
        {
            return RejectReason.TOO_SHORT;
        }

        final int type = HomaWire.type(buffer, offset);
        final boolean known = (type >= DATA && type <= ACK) || (overUdp && PORT_UNREACHABLE == type);
        if (!known)
        {
            return RejectReason.UNKNOWN_TYPE;
        }

        if (length < HomaWire.minLength(type))
        {
            return RejectReason.TOO_SHORT;
        }

        switch (type)
        {
            case DATA:
                return classifyData(buffer, offset, length);

            case GRANT:
                return HomaWire.grantPriority(buffer, offset) < HOMA_MAX_PRIORITIES ?
                    GRANT : RejectReason.GRANT_BAD_PRIORITY;

            case RESEND:
                return !WireVariants.resendHasPriority(length) ||
                    HomaWire.resendPriority(buffer, offset, length) < HOMA_MAX_PRIORITIES ?
                    RESEND : RejectReason.RESEND_BAD_PRIORITY;

            case ACK:
                return HomaWire.numAcks(buffer, offset) <= HOMA_MAX_ACKS ? ACK : RejectReason.ACK_TOO_MANY;

            default:
                return type;
        }
    }

    private static int classifyData(final DirectBuffer buffer, final int offset, final int length)
    {
        final long messageLength = HomaWire.messageLength(buffer, offset);
        if (0 == messageLength || messageLength > HOMA_MAX_MESSAGE_LENGTH)
        {
            return RejectReason.DATA_BAD_MESSAGE_LENGTH;
        }

        final int payloadLength = length - DATA_HEADER_LENGTH;
        if (0 == payloadLength)
        {
            return RejectReason.DATA_EMPTY;
        }

        if (HomaWire.dataOffset(buffer, offset) + payloadLength > messageLength)
        {
            return RejectReason.DATA_BEYOND_MESSAGE;
        }

        return DATA;
    }
}
