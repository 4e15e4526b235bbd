package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import org.agrona.DirectBuffer;
import java.util.ArrayList;

/**
 * The receiving side of messages (HomaModule's homa_incoming.c): DATA into the receive pool, server RPCs made by a
 * first packet, completion and delivery to the socket, failed client RPCs, and RPCs waiting for pool space.
 */
final class Incoming
{
    /** Waiting RPCs over their budget that one admission pass looks past before it stops. */
    static final int MAX_WAITERS_SKIPPED = 64;

    final ArrayList<Rpc> scratch = new ArrayList<>();
    private final PeerTable peers;
    private final GrantScheduler grants;
    private final RpcTimer timer;
    private final EventLog events;
    private final EngineMetrics metrics;
    private final RpcTable rpcs;
    private final SocketTable socketTable;
    private final Outgoing outgoing;
    private final ControlSender controlSender;
    private final IncomingLimits limits;
    /** Where the next payload probably goes, and where this packet's payload landed (see {@link ReceiveHint}). */
    final ReceiveHint receiveHint = new ReceiveHint();

    Incoming(
        final PeerTable peers,
        final GrantScheduler grants,
        final RpcTimer timer,
        final EventLog events,
        final EngineMetrics metrics,
        final RpcTable rpcs,
        final SocketTable socketTable,
        final Outgoing outgoing,
        final ControlSender controlSender,
        final IncomingLimits limits)
    {
        this.limits = limits;
        this.peers = peers;
        this.grants = grants;
        this.timer = timer;
        this.events = events;
        this.metrics = metrics;
        this.rpcs = rpcs;
        this.socketTable = socketTable;
        this.outgoing = outgoing;
        this.controlSender = controlSender;
    }

    void onData(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int srcIpv4,
        final int srcPort,
        final long nowNs)
    {
        final Peer peer = peers.lookupOrCreateForPacket(srcIpv4, srcPort);
        if (null == peer)
        {
            metrics.peerLimitDrops.incrementRelease();
            return;
        }
        final long senderId = HomaWire.senderId(buffer, offset);
        final int sport = HomaWire.sport(buffer, offset);
        final int dport = HomaWire.dport(buffer, offset);

        final long ackClientId = HomaWire.ackClientId(buffer, offset);
        if (0 != ackClientId)
        {
            rpcs.onAcked(peer, ackClientId);
        }

        final int messageLength = (int)HomaWire.messageLength(buffer, offset);
        final int dataOffset = (int)HomaWire.dataOffset(buffer, offset);
        final int payloadLength = length - HomaWire.DATA_HEADER_LENGTH;

        final Rpc rpc;
        if (0 == (senderId & 1))
        {
            rpc = serverRpcFor(peer, senderId, sport, dport, messageLength, srcIpv4, srcPort, buffer, offset, length);
            if (null == rpc)
            {
                return;
            }
            rpc.silentTicks = 0;
            if (Rpc.SERVER_INCOMING != rpc.state)
            {
                metrics.duplicateData.incrementRelease();
                return;
            }
        }
        else
        {
            rpc = rpcs.clientRpcs.get(senderId ^ 1);
            if (null == rpc || rpc.peer != peer || rpc.isDeliveryPending)
            {
                metrics.unknownRpcs.incrementRelease();
                return;
            }
            rpc.silentTicks = 0;
            if (Rpc.CLIENT_OUTGOING == rpc.state)
            {
                rpc.state = Rpc.CLIENT_INCOMING;
                outgoing.stopSending(rpc);
            }
        }

        controlSender.checkCutoffVersion(HomaWire.cutoffVersion(buffer, offset), rpc, nowNs);
        if (!rpc.rx.isInitialised())
        {
            final int unscheduled = (int)Math.min(HomaWire.incoming(buffer, offset), messageLength);
            if (!rpc.isWaitingForBuffer && !limits.admitsReservation(rpc, messageLength - payloadLength))
            {
                // A long claim from a peer (or to a socket) whose unearned budget is full: wait as for pool space.
                metrics.droppedNoBufs.incrementRelease();
                waitForBuffer(rpc, messageLength, unscheduled, false);
                return;
            }
            final int poolOffset = rpc.isWaitingForBuffer ? -1 : rpc.socket.poolAllocator.allocate(messageLength);
            if (poolOffset < 0)
            {
                // Linux (section 2.9): drop it, queue the RPC for space; a RESEND restarts the sender later.
                metrics.droppedNoBufs.incrementRelease();
                waitForBuffer(rpc, messageLength, unscheduled, true);
                return;
            }
            rpc.rx.init(messageLength, poolOffset);
            rpc.rxUnscheduled = unscheduled;
            grants.initMessage(rpc, unscheduled);
            limits.update(rpc, unscheduled);
        }
        else if (rpc.rx.length() != messageLength)
        {
            metrics.packetDiscards.incrementRelease();
            return;
        }

        if (0 == rpc.rx.add(dataOffset, dataOffset + payloadLength))
        {
            metrics.duplicateData.incrementRelease();
            return;
        }
        if (receiveHint.copyPayload(
            rpc.socket.poolBuffer, rpc.rx.poolOffset() + dataOffset, buffer, offset + HomaWire.DATA_HEADER_LENGTH,
            payloadLength))
        {
            metrics.dataReceivedInPlace.incrementRelease();
        }
        receiveHint.dataArrived(rpc);
        grants.onDataReceived(rpc);
        limits.update(rpc, rpc.rxUnscheduled);

        if (rpc.rx.isComplete())
        {
            onMessageComplete(rpc);
        }
    }

    private Rpc serverRpcFor(
        final Peer peer,
        final long senderId,
        final int sport,
        final int dport,
        final int messageLength,
        final int srcIpv4,
        final int srcPort,
        final DirectBuffer packet,
        final int packetOffset,
        final int packetLength)
    {
        final long id = senderId | 1;
        Rpc rpc = peer.serverRpcs.get(id);
        if (null == rpc)
        {
            final DriverSocket socket = socketTable.socketsByPort.get(dport);
            if (null == socket || !socket.isServer())
            {
                // Linux answers with ICMP port-unreachable; over UDP we send our own packet type.
                // A payload received in place lies elsewhere: then only the header is quoted.
                controlSender.sendPortUnreachable(srcIpv4, srcPort, dport, sport, senderId, packet, packetOffset,
                    receiveHint.hasLanded() ? HomaWire.DATA_HEADER_LENGTH : packetLength, packetLength);
                return null;
            }
            if (peer.isRecentlyAcked(id, timer.ticks()))
            {
                // A copy of a request that already ran and was acked (delayed or duplicated in the network):
                // creating the RPC again would run it twice.
                metrics.ackedRpcDrops.incrementRelease();
                return null;
            }
            if (!limits.admitsServerRpc(peer))
            {
                return null;
            }
            rpc = rpcs.newRpc();
            rpc.state = Rpc.SERVER_INCOMING;
            rpc.id = id;
            rpc.handle = rpcs.nextServerHandle;
            rpcs.nextServerHandle += 2;
            rpc.socket = socket;
            rpc.peer = peer;
            peer.rpcCount++;
            rpc.peerPort = sport;
            peer.serverRpcs.put(id, rpc);
            rpcs.serverRpcsByHandle.put(rpc.handle, rpc);
            rpc.record(events, EventType.RPC_CREATED, 0, messageLength, Rpc.SERVER_INCOMING.code());
        }
        return rpc;
    }

    private void onMessageComplete(final Rpc rpc)
    {
        rpc.record(events, EventType.MESSAGE_COMPLETE, 0, rpc.rx.length(), rpc.state.code());
        grants.remove(rpc);
        if (Rpc.SERVER_INCOMING == rpc.state)
        {
            rpc.state = Rpc.SERVER_IN_SERVICE;
            metrics.serverRequestsDone.incrementRelease();
        }
        else
        {
            metrics.clientResponsesDone.incrementRelease();
        }
        deliver(rpc);
    }

    void deliver(final Rpc rpc)
    {
        final boolean delivered = 0 == rpc.errorCode ? rpc.socket.offerMessage(rpc) : rpc.socket.offerError(rpc);
        if (!delivered)
        {
            if (!rpc.isDeliveryPending)
            {
                rpc.isDeliveryPending = true;
                rpcs.pendingDeliveries.add(rpc);
            }
            return;
        }

        rpcs.stopPendingDelivery(rpc);
        if (Rpc.CLIENT_INCOMING == rpc.state || Rpc.CLIENT_OUTGOING == rpc.state)
        {
            if (0 == rpc.errorCode)
            {
                controlSender.addPendingAck(rpc);
            }
            // The pool block now belongs to the application: forget it before ending the RPC.
            rpc.rx.reset();
            rpcs.endClientRpc(rpc);
        }
        else
        {
            limits.release(rpc);
            rpc.rxDeliveredLength = rpc.rx.length();
            rpc.rx.reset();
        }
    }

    /**
     * Linux's homa_abort_rpcs: the network says a peer, or one Homa port of it, cannot be reached. Client RPCs to it
     * fail with the error; server RPCs from it end (nobody is left to take the response or ack it), counted in
     * {@code server_rpc_discards} as Linux does and in {@code unreachable_server_rpcs}.
     *
     * @param peer      the peer.
     * @param peerPort  the peer's Homa port that has no socket (a client RPC's server port, a server RPC's client
     *                  port), or 0 for every RPC of the peer.
     * @param errorCode what the client RPCs fail with.
     */
    void abortRpcs(final Peer peer, final int peerPort, final int errorCode)
    {
        failClientRpcs(peer, peerPort, errorCode);
        scratch.clear();
        for (final Rpc rpc : peer.serverRpcs.values())
        {
            if (0 == peerPort || rpc.peerPort == peerPort)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            final Rpc rpc = scratch.get(i);
            rpc.record(events, EventType.RPC_FAILED, 0, 0, errorCode);
            metrics.serverRpcDiscards.incrementRelease();
            metrics.unreachableServerRpcs.incrementRelease();
            rpcs.endServerRpc(rpc);
        }
        scratch.clear();
    }

    void failClientRpcs(final Peer peer, final int serverPort, final int errorCode)
    {
        scratch.clear();
        for (final Rpc rpc : rpcs.clientRpcs.values())
        {
            if (rpc.peer == peer && (0 == serverPort || rpc.peerPort == serverPort) && !rpc.isDeliveryPending)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            failClientRpc(scratch.get(i), errorCode);
        }
        scratch.clear();
    }

    void failClientRpc(final Rpc rpc, final int errorCode)
    {
        outgoing.stopSending(rpc);
        rpcs.stopWaitingForBuffer(rpc);
        grants.remove(rpc);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
            rpc.rx.reset();
        }
        rpc.errorCode = errorCode;
        metrics.clientRpcsFailed.incrementRelease();
        rpc.record(events, EventType.RPC_FAILED, 0, 0, errorCode);
        deliver(rpc);
    }

    private void waitForBuffer(
        final Rpc rpc, final int messageLength, final int unscheduledBytes, final boolean isPoolFull)
    {
        if (rpc.isWaitingForBuffer)
        {
            return;
        }
        final BufferWaiters waiters = rpc.socket.bufferWaiters;
        if (!rpc.isClient() && waiters.size() >= limits.settings().waitingRpcsPerSocket())
        {
            // Full: keep the shorter claims (SRPT), so a flood of long forged requests cannot push out a real
            // one that is shorter; drop the RPC outright (it holds nothing yet and has run nothing: its sender's
            // RESEND finds no RPC and restarts it, as after a loss).
            final Rpc longest = waiters.last();
            metrics.waitingRpcLimitDrops.incrementRelease();
            if (null == longest || longest.isClient() ||
                BufferWaiters.classOf(longest.rxWaitLength) <= BufferWaiters.classOf(messageLength))
            {
                rpcs.endServerRpc(rpc);
                return;
            }
            rpcs.endServerRpc(longest);
        }
        rpc.isWaitingForBuffer = true;
        rpc.rxWaitLength = messageLength;
        rpc.rxWaitUnscheduled = unscheduledBytes;
        rpc.record(events, EventType.BUFFER_WAIT, 0, messageLength, rpc.state.code());
        rpc.socket.bufferWaiters.add(rpc);
        if (isPoolFull)
        {
            metrics.bufferAllocFailures.incrementRelease();
        }
        metrics.bufferWaitingRpcs.incrementRelease();
    }

    /**
     * Gives freed pool space to waiting RPCs, shortest first, and restarts each one's sender with RESEND(0, -1) at
     * priority 6 (Linux: num_priorities - 2).
     */
    int admitBufferWaiters(final DriverSocket socket)
    {
        final long freeBytes = socket.poolAllocator.freeBytes();
        if (freeBytes == socket.poolFreeBytesSeen)
        {
            return 0;
        }
        int admitted = 0;
        int skipped = 0;
        final BufferWaiters waiters = socket.bufferWaiters;
        Rpc next = waiters.first();
        while (null != next)
        {
            final Rpc rpc = next;
            next = waiters.next(rpc);
            if (!limits.fits(rpc, rpc.rxWaitLength))
            {
                // Its peer's budget is full (or the socket's): others behind it may still fit. The look is
                // bounded so that a long queue of one hostile peer's claims costs little per cycle.
                if (++skipped > MAX_WAITERS_SKIPPED)
                {
                    break;
                }
                continue;
            }
            final int poolOffset = socket.poolAllocator.allocate(rpc.rxWaitLength);
            if (poolOffset < 0)
            {
                break;
            }
            rpcs.stopWaitingForBuffer(rpc);
            rpc.rx.init(rpc.rxWaitLength, poolOffset);
            rpc.rxUnscheduled = rpc.rxWaitUnscheduled;
            limits.update(rpc, rpc.rxUnscheduled);
            // As if its first packet had just arrived: the scheduler must own it, or nobody ever grants the rest.
            grants.initMessage(rpc, rpc.rxWaitUnscheduled);
            rpc.silentTicks = 0;
            controlSender.sendResend(rpc, 0, -1, HomaEngine.DEFAULT_UNSCHED_PRIORITY);
            admitted++;
        }
        socket.poolFreeBytesSeen = socket.poolAllocator.freeBytes();
        return admitted;
    }
}
