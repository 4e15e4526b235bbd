package io.homa.driver.protocol;

import io.homa.driver.status.EventLog;
import io.homa.driver.status.RpcStateCode;

/**
 * One RPC on one side, with its outgoing and incoming message. Pooled by the engine: {@link #reset()} readies it
 * for reuse, so RPCs cost no allocation in steady state.
 */
final class Rpc
{
    static final RpcStateCode FREE = RpcStateCode.FREE;
    static final RpcStateCode CLIENT_OUTGOING = RpcStateCode.CLIENT_OUTGOING;
    static final RpcStateCode CLIENT_INCOMING = RpcStateCode.CLIENT_INCOMING;
    static final RpcStateCode SERVER_INCOMING = RpcStateCode.SERVER_INCOMING;
    static final RpcStateCode SERVER_IN_SERVICE = RpcStateCode.SERVER_IN_SERVICE;
    static final RpcStateCode SERVER_OUTGOING = RpcStateCode.SERVER_OUTGOING;
    static final RpcStateCode DEAD = RpcStateCode.DEAD;

    RpcStateCode state = FREE;
    /** The id this host uses on the wire (client: even; server: the client's id | 1). */
    long id;
    /** The id the application sees: the client's id, or the server RPC's driver-local odd handle. */
    long handle;
    long cookie;
    int flags;
    DriverSocket socket;
    Peer peer;
    /** The Homa port of the other side. */
    int peerPort;

    // Outgoing message: its bytes sit in the socket's send region.
    int txSendOffset = -1;
    int txLength;
    int txNext;
    int txGranted;
    /** Level for scheduled DATA, from the latest GRANT. */
    int txPriority;
    /** Order in which outgoing messages started: smaller is older (the pacer's FIFO share). */
    long txBirth;
    boolean isSending;
    /** Slots in the {@link TransmitQueue}'s heaps while it has granted bytes to send ({@code -1}: not there). */
    int srptSlot = -1;
    int fifoSlot = -1;

    // Incoming message: reassembled into a receive-pool block.
    final IncomingMessage rx = new IncomingMessage();
    int errorCode;
    boolean isDeliveryPending;
    /** Links of {@link PendingDeliveries}. */
    Rpc deliveryPrev;
    Rpc deliveryNext;

    // Loss recovery (RpcTimer): ticks without a sign of life from the peer, the tick the response was fully sent.
    int silentTicks;
    long txDoneTick;
    int timerIndex = -1;
    // Receive-pool exhaustion: the message length this RPC waits to get space for.
    boolean isWaitingForBuffer;
    int rxWaitLength;
    /** Links and length class in its socket's {@link BufferWaiters} ({@code -1}: not waiting). */
    Rpc waiterPrev;
    Rpc waiterNext;
    int waiterClass = -1;
    /** Unscheduled bytes its sender announced (the first DATA's incoming), for the grant scheduler later. */
    int rxWaitUnscheduled;
    /** Unscheduled bytes of the incoming message (its first DATA's incoming), for {@link IncomingLimits}. */
    int rxUnscheduled;
    /** Bytes of its pool block that have neither arrived nor been granted (server side, {@link IncomingLimits}). */
    int unearnedBytes;

    // Diagnostics only (rpc-stat): RESENDs sent, DATA packets retransmitted, length of a request the server
    // application holds (its incoming message is forgotten once delivered).
    int resends;
    int retransmits;
    int rxDeliveredLength = -1;

    boolean isClient()
    {
        return CLIENT_OUTGOING == state || CLIENT_INCOMING == state;
    }

    int txRemaining()
    {
        return txLength - txNext;
    }

    void reset()
    {
        state = FREE;
        id = 0;
        handle = 0;
        cookie = 0;
        flags = 0;
        socket = null;
        peer = null;
        peerPort = 0;
        txSendOffset = -1;
        txLength = 0;
        txNext = 0;
        txGranted = 0;
        txPriority = 0;
        txBirth = 0;
        isSending = false;
        srptSlot = -1;
        fifoSlot = -1;
        rx.reset();
        errorCode = 0;
        isDeliveryPending = false;
        deliveryPrev = null;
        deliveryNext = null;
        silentTicks = 0;
        txDoneTick = 0;
        timerIndex = -1;
        isWaitingForBuffer = false;
        rxWaitLength = 0;
        waiterPrev = null;
        waiterNext = null;
        waiterClass = -1;
        rxWaitUnscheduled = 0;
        rxUnscheduled = 0;
        unearnedBytes = 0;
        resends = 0;
        retransmits = 0;
        rxDeliveredLength = -1;
    }

    public String toString()
    {
        return "Rpc{id=" + id + ", handle=" + handle + ", state=" + state + ", tx=" + txNext + "/" +
            txLength + ", rx=" + rx.received() + "/" + rx.length() + "}";
    }

    /**
     * Records an event about this RPC (its peer and ports filled in) in the event log.
     */
    void record(final EventLog events, final int type, final int offset, final int length, final int arg)
    {
        final Peer peer = this.peer;
        events.record(type, id, null == peer ? 0 : peer.ipv4, null == peer ? 0 : peer.port,
            null == socket ? 0 : socket.port, peerPort, offset, length, arg, 0, 0);
    }
}
