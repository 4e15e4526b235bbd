package io.homa.driver.protocol;

import io.homa.client.HomaSocket;
import io.homa.client.RpcInfo;
import io.homa.client.internal.control.OnRpcInfoEncoder;
import io.homa.client.internal.control.RpcState;
import io.homa.codecs.HomaWire;
import io.homa.codecs.RejectReason;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.RpcStateCode;
import org.agrona.DirectBuffer;

/**
 * What the engine shows of itself without changing anything: packets and RPCs in the event log, Linux's FREEZE, the
 * rpc-info snapshot (HOMAIOCINFO) and the counters of rejected packets. Off the fast path except for the recording
 * guards.
 */
final class Diagnostics
{
    private boolean isFreezeAccepted;
    private final ClientEvents clientProxy;
    private final EventLog events;
    private final EngineMetrics metrics;
    private final RpcTable rpcs;
    private final SocketTable socketTable;

    Diagnostics(
        final ClientEvents clientProxy,
        final EventLog events,
        final EngineMetrics metrics,
        final RpcTable rpcs,
        final SocketTable socketTable)
    {
        this.clientProxy = clientProxy;
        this.events = events;
        this.metrics = metrics;
        this.rpcs = rpcs;
        this.socketTable = socketTable;
    }

    void recordPacketIn(
        final int type,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int srcIpv4,
        final int srcPort)
    {
        // Ids as this host knows the RPC: the sender's id with bit 0 flipped.
        final long senderId = HomaWire.senderId(buffer, offset);
        final long id = 0 == senderId ? 0 : senderId ^ 1;
        int at = 0;
        int bytes = 0;
        int arg = 0;
        int extra = 0;
        int flags = 0;
        switch (type)
        {
            case HomaWire.DATA ->
            {
                at = (int)HomaWire.dataOffset(buffer, offset);
                bytes = length - HomaWire.DATA_HEADER_LENGTH;
                arg = (int)HomaWire.incoming(buffer, offset);
                extra = (int)HomaWire.messageLength(buffer, offset);
                flags = HomaWire.retransmit(buffer, offset) ? EventType.FLAG_RETRANSMIT : 0;
            }
            case HomaWire.GRANT ->
            {
                at = (int)HomaWire.grantOffset(buffer, offset);
                arg = HomaWire.grantPriority(buffer, offset);
            }
            case HomaWire.RESEND ->
            {
                at = (int)HomaWire.resendOffset(buffer, offset);
                bytes = (int)HomaWire.resendLength(buffer, offset);
                arg = HomaWire.resendPriority(buffer, offset, length);
            }
            case HomaWire.CUTOFFS -> arg = HomaWire.cutoffsVersion(buffer, offset);
            case HomaWire.ACK -> arg = HomaWire.numAcks(buffer, offset);
            default ->
            {
                // The common header is all there is.
            }
        }
        events.record(EventType.PACKET_IN | type, id, srcIpv4, srcPort, HomaWire.dport(buffer, offset),
            HomaWire.sport(buffer, offset), at, bytes, arg, extra, flags);
    }

    /**
     * Linux's FREEZE handling: whatever RPC or socket it names, the first FREEZE puts the live RPCs into the event
     * log and freezes it (then dumped to a text file); later ones change nothing until the log is unfrozen.
     */
    void acceptFreeze(final boolean accept)
    {
        isFreezeAccepted = accept;
    }

    void onFreeze(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        if (!isFreezeAccepted)
        {
            metrics.freezesRefused.incrementRelease();
            return;
        }
        if (!events.isRecording())
        {
            return;
        }
        int budget = events.capacity() / 4;
        for (final Rpc rpc : rpcs.clientRpcs.values())
        {
            if (budget-- > 0)
            {
                recordActive(rpc);
            }
        }
        for (final Rpc rpc : rpcs.serverRpcsByHandle.values())
        {
            if (budget-- > 0)
            {
                recordActive(rpc);
            }
        }
        if (events.freeze(srcIpv4, srcPort, HomaWire.dport(buffer, offset), HomaWire.sport(buffer, offset)))
        {
            metrics.eventLogFreezes.incrementRelease();
        }
    }

    private void recordActive(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        final int rxLength = rx.isInitialised() ? rx.length() : rpc.rxDeliveredLength;
        final int rxReceived = rx.isInitialised() ? rx.received() : Math.max(0, rpc.rxDeliveredLength);
        events.record(EventType.RPC_ACTIVE, rpc.id, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort,
            rpc.txNext, rpc.txSendOffset >= 0 ? rpc.txLength : -1, rpc.state.code(), rxReceived, rxLength);
    }

    void countReject(final int reason)
    {
        if (RejectReason.TOO_SHORT == reason)
        {
            metrics.shortPackets.incrementRelease();
        }
        else if (RejectReason.UNKNOWN_TYPE == reason)
        {
            metrics.unknownTypes.incrementRelease();
        }
        else
        {
            metrics.packetDiscards.incrementRelease();
        }
    }

    /**
     * Answers with a snapshot of the live RPCs (Linux's HOMAIOCINFO): off the fast path, it reads RPC state and
     * changes none of it.
     *
     * @param correlationId to answer with.
     * @param port          a socket's port, or 0 for every socket.
     */
    public void onRpcInfo(final long correlationId, final int port)
    {
        metrics.rpcInfoRequests.incrementRelease();
        final DriverSocket only = 0 == port ? null : socketTable.socketsByPort.get(port);
        int total = 0;
        if (0 == port || null != only)
        {
            for (final Rpc rpc : rpcs.clientRpcs.values())
            {
                total += null == only || rpc.socket == only ? 1 : 0;
            }
            for (final Rpc rpc : rpcs.serverRpcsByHandle.values())
            {
                total += null == only || rpc.socket == only ? 1 : 0;
            }
        }

        final int count = Math.min(total, clientProxy.maxRpcInfoEntries());
        final OnRpcInfoEncoder.RpcsEncoder entries = clientProxy.rpcInfo(
            correlationId, total, null == only ? -1 : only.poolAllocator.freeBytes(), count);
        int written = 0;
        if (count > 0)
        {
            for (final Rpc rpc : rpcs.clientRpcs.values())
            {
                if (written < count && (null == only || rpc.socket == only))
                {
                    encodeRpcInfo(entries.next(), rpc);
                    written++;
                }
            }
            for (final Rpc rpc : rpcs.serverRpcsByHandle.values())
            {
                if (written < count && (null == only || rpc.socket == only))
                {
                    encodeRpcInfo(entries.next(), rpc);
                    written++;
                }
            }
        }
        clientProxy.transmitRpcInfo();
    }

    private static void encodeRpcInfo(final OnRpcInfoEncoder.RpcsEncoder entry, final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        int rxLength = -1;
        int rxRemaining = 0;
        int rxGapBytes = 0;
        int rxGranted = 0;
        if (rx.isInitialised())
        {
            rxLength = rx.length();
            rxRemaining = rx.bytesRemaining();
            for (int i = 0, gaps = rx.gapCount(); i < gaps; i++)
            {
                rxGapBytes += rx.gapEnd(i) - rx.gapStart(i);
            }
            rxGranted = rx.granted;
        }
        else if (rpc.isWaitingForBuffer)
        {
            rxLength = rpc.rxWaitLength;
            rxRemaining = rpc.rxWaitLength;
        }
        else if (rpc.rxDeliveredLength >= 0)
        {
            rxLength = rpc.rxDeliveredLength;
            rxGranted = rpc.rxDeliveredLength;
        }

        int flags = 0;
        if (rpc.isWaitingForBuffer)
        {
            flags |= RpcInfo.FLAG_BUFFER_STALL;
        }
        if (rpc.isClient() && 0 != (rpc.flags & HomaSocket.FLAG_PRIVATE))
        {
            flags |= RpcInfo.FLAG_PRIVATE;
        }
        if (rpc.isDeliveryPending)
        {
            flags |= RpcInfo.FLAG_RX_READY;
        }

        final boolean hasTx = rpc.txSendOffset >= 0;
        entry
            .id(rpc.id)
            .applicationId(rpc.handle)
            .completionCookie(rpc.cookie)
            .localPort(rpc.socket.port)
            .peerAddress(rpc.peer.ipv4)
            .peerUdpPort(rpc.peer.port)
            .peerPort(rpc.peerPort)
            .txLength(hasTx ? rpc.txLength : -1)
            .txSent(hasTx ? rpc.txNext : 0)
            .txGranted(hasTx ? rpc.txGranted : 0)
            .txPriority(rpc.txPriority)
            .rxLength(rxLength)
            .rxRemaining(rxRemaining)
            .rxGaps(rx.isInitialised() ? rx.gapCount() : 0)
            .rxGapBytes(rxGapBytes)
            .rxGranted(rxGranted)
            .silentTicks(rpc.silentTicks)
            .resends(rpc.resends)
            .retransmits(rpc.retransmits)
            .state(rpcState(rpc.state))
            .flags((short)flags);
    }

    /** The control protocol's names for the live states (same codes). */
    private static RpcState rpcState(final RpcStateCode state)
    {
        return switch (state)
        {
            case CLIENT_OUTGOING -> RpcState.CLIENT_OUTGOING;
            case CLIENT_INCOMING -> RpcState.CLIENT_INCOMING;
            case SERVER_INCOMING -> RpcState.SERVER_INCOMING;
            case SERVER_IN_SERVICE -> RpcState.SERVER_IN_SERVICE;
            case SERVER_OUTGOING -> RpcState.SERVER_OUTGOING;
            case FREE, DEAD -> RpcState.NULL_VAL;
        };
    }
}
