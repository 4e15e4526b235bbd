package io.homa.codecs;

/**
 * Why {@link PacketClassifier} rejected a packet. Codes are negative so that one {@code int} carries either a
 * type code (positive) or a reject reason, and they are stable so they can index counters.
 */
public final class RejectReason
{
    /** Shorter than the common header or than the minimum for its type. */
    public static final int TOO_SHORT = -1;
    /** Type byte outside 0x10..0x18 (0xF0 is accepted only over UDP). */
    public static final int UNKNOWN_TYPE = -2;
    /** DATA message_length is 0 or above {@link HomaWire#HOMA_MAX_MESSAGE_LENGTH}. */
    public static final int DATA_BAD_MESSAGE_LENGTH = -3;
    /** DATA payload ends after message_length. */
    public static final int DATA_BEYOND_MESSAGE = -4;
    /** DATA with no payload bytes: never sent by Linux, carries nothing a receiver can use. */
    public static final int DATA_EMPTY = -5;
    /** ACK num_acks above {@link HomaWire#HOMA_MAX_ACKS}. */
    public static final int ACK_TOO_MANY = -6;
    /** GRANT priority above 7. */
    public static final int GRANT_BAD_PRIORITY = -7;
    /** RESEND priority above 7. */
    public static final int RESEND_BAD_PRIORITY = -8;
    /** Null buffer, or offset/length not inside the buffer. */
    public static final int BAD_BUFFER = -9;

    /** Number of reject codes: codes run from -1 to -COUNT, handy for sizing counter arrays. */
    public static final int COUNT = 9;

    private RejectReason()
    {
    }

    /**
     * Name of a reject code, for logs and tools.
     *
     * @param code a negative code from this class.
     * @return its name, or {@code "UNKNOWN_REASON(n)"}; allocates only for unknown codes.
     */
    public static String name(final int code)
    {
        switch (code)
        {
            case TOO_SHORT:
                return "TOO_SHORT";
            case UNKNOWN_TYPE:
                return "UNKNOWN_TYPE";
            case DATA_BAD_MESSAGE_LENGTH:
                return "DATA_BAD_MESSAGE_LENGTH";
            case DATA_BEYOND_MESSAGE:
                return "DATA_BEYOND_MESSAGE";
            case DATA_EMPTY:
                return "DATA_EMPTY";
            case ACK_TOO_MANY:
                return "ACK_TOO_MANY";
            case GRANT_BAD_PRIORITY:
                return "GRANT_BAD_PRIORITY";
            case RESEND_BAD_PRIORITY:
                return "RESEND_BAD_PRIORITY";
            case BAD_BUFFER:
                return "BAD_BUFFER";
            default:
                return "UNKNOWN_REASON(" + code + ")";
        }
    }
}
