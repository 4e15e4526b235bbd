package io.homa.driver.status;

import io.homa.codecs.HomaWire;

/**
 * What an event-log record says happened. Packets are {@link #PACKET_IN} or {@link #PACKET_OUT} plus their wire
 * type ("out" = handed to the sender agent); the rest are RPC and scheduling events. What the record's offset,
 * length, arg and extra fields hold depends on the type (see {@link EventFormatter}).
 */
public final class EventType
{
    /** A packet arrived: add its wire type. */
    public static final int PACKET_IN = 0x100;
    /** A packet was queued for the sender: add its wire type. */
    public static final int PACKET_OUT = 0x200;
    /** A malformed packet was dropped: arg = {@code RejectReason}, length = its length. */
    public static final int PACKET_REJECTED = 0x300;

    /** An RPC started: arg = its state, length = the message it starts with (request out or in). */
    public static final int RPC_CREATED = 1;
    /** An incoming message is complete: length = its length. */
    public static final int MESSAGE_COMPLETE = 2;
    /** A server application replied: length = the response's length. */
    public static final int REPLY_STARTED = 3;
    /** An RPC's state was freed: arg = the state it ended in. */
    public static final int RPC_ENDED = 4;
    /** A client RPC failed: arg = errno (ECANCELED aborted, ETIMEDOUT, ENOTCONN). */
    public static final int RPC_FAILED = 5;
    /** The timer gave up on an RPC: arg = its state. */
    public static final int RPC_TIMEOUT = 6;
    /** An incoming message found no receive-pool space and waits: length = its length. */
    public static final int BUFFER_WAIT = 7;
    /** The grant scheduler could not grant a whole window (room under max_incoming ran out): offset = granted,
     * length = message length, arg = total incoming. */
    public static final int GRANT_NEEDY = 8;
    /** The grant scheduler gave the oldest message a FIFO grant: offset = new granted, arg = priority. */
    public static final int GRANT_FIFO = 9;
    /** A live RPC as the log froze: arg = state, offset = bytes sent, length = outgoing length, extra = bytes
     * received, flags = incoming length. */
    public static final int RPC_ACTIVE = 10;
    /** The log froze (a FREEZE arrived from the peer named): arg = freeze number. */
    public static final int LOG_FROZEN = 11;
    /** A tool unfroze the log and recording resumed: arg = the freeze it ends. */
    public static final int LOG_RESUMED = 12;
    /** A client sent its first command (the rpc id field holds the client's id). */
    public static final int CLIENT_CONNECTED = 13;
    /** A client closed itself: its sockets close with it (rpc id = client id). */
    public static final int CLIENT_CLOSED = 14;
    /** A client missed its keepalives and was timed out (rpc id = client id): length = sockets closed, arg = ms
     * since its last command. */
    public static final int CLIENT_TIMEOUT = 15;

    /** DATA: sent again (retransmit bit set). */
    public static final int FLAG_RETRANSMIT = 1;

    private EventType()
    {
    }

    /**
     * @param type an event type.
     * @return true for a packet arriving or leaving.
     */
    public static boolean isPacket(final int type)
    {
        final int direction = type & 0xF00;
        return PACKET_IN == direction || PACKET_OUT == direction;
    }

    /**
     * @param type an event type.
     * @return e.g. {@code DATA_IN}, {@code GRANT_OUT}, {@code RPC_CREATED}.
     */
    public static String name(final int type)
    {
        if (isPacket(type))
        {
            return HomaWire.typeName(type & 0xFF) + (PACKET_IN == (type & 0xF00) ? "_IN" : "_OUT");
        }
        return switch (type)
        {
            case PACKET_REJECTED -> "PACKET_REJECTED";
            case RPC_CREATED -> "RPC_CREATED";
            case MESSAGE_COMPLETE -> "MESSAGE_COMPLETE";
            case REPLY_STARTED -> "REPLY_STARTED";
            case RPC_ENDED -> "RPC_ENDED";
            case RPC_FAILED -> "RPC_FAILED";
            case RPC_TIMEOUT -> "RPC_TIMEOUT";
            case BUFFER_WAIT -> "BUFFER_WAIT";
            case GRANT_NEEDY -> "GRANT_NEEDY";
            case GRANT_FIFO -> "GRANT_FIFO";
            case RPC_ACTIVE -> "RPC_ACTIVE";
            case LOG_FROZEN -> "LOG_FROZEN";
            case LOG_RESUMED -> "LOG_RESUMED";
            case CLIENT_CONNECTED -> "CLIENT_CONNECTED";
            case CLIENT_CLOSED -> "CLIENT_CLOSED";
            case CLIENT_TIMEOUT -> "CLIENT_TIMEOUT";
            default -> "EVENT_" + type;
        };
    }
}
