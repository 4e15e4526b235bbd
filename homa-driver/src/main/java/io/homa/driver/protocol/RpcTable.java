package io.homa.driver.protocol;

import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import org.agrona.collections.Long2ObjectHashMap;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * Every live RPC and its lifecycle (HomaModule's homa_rpc.c): client RPCs by id, server RPCs by handle (and per peer
 * by id), the pool RPCs are recycled through, deliveries that wait for room in a socket's event ring, the end of an
 * RPC and the at-most-once memory of ended server RPCs.
 */
final class RpcTable
{
    final Long2ObjectHashMap<Rpc> clientRpcs = new Long2ObjectHashMap<>();
    final Long2ObjectHashMap<Rpc> serverRpcsByHandle = new Long2ObjectHashMap<>();
    private final ArrayDeque<Rpc> rpcPool = new ArrayDeque<>();
    long nextServerHandle = 1;
    final PendingDeliveries pendingDeliveries = new PendingDeliveries();
    private final ArrayList<Rpc> scratch = new ArrayList<>();
    private final GrantScheduler grants;
    private final RecoverySettings recovery;
    private final RpcTimer timer;
    private final EventLog events;
    private final EngineMetrics metrics;
    private final SocketTable socketTable;
    private final Outgoing outgoing;
    private final IncomingLimits limits;

    RpcTable(
        final GrantScheduler grants,
        final RecoverySettings recovery,
        final RpcTimer timer,
        final EventLog events,
        final EngineMetrics metrics,
        final SocketTable socketTable,
        final Outgoing outgoing,
        final IncomingLimits limits)
    {
        this.limits = limits;
        this.grants = grants;
        this.recovery = recovery;
        this.timer = timer;
        this.events = events;
        this.metrics = metrics;
        this.socketTable = socketTable;
        this.outgoing = outgoing;
    }

    Rpc newRpc()
    {
        final Rpc pooled = rpcPool.pollFirst();
        metrics.rpcsActive.incrementRelease();
        final Rpc rpc = null != pooled ? pooled : new Rpc();
        timer.add(rpc);
        return rpc;
    }

    private void recycle(final Rpc rpc)
    {
        rpc.record(events, EventType.RPC_ENDED, 0, 0, rpc.state.code());
        timer.remove(rpc);
        stopWaitingForBuffer(rpc);
        limits.release(rpc);
        if (null != rpc.peer)
        {
            rpc.peer.rpcCount--;
        }
        grants.remove(rpc);
        rpc.reset();
        rpcPool.addFirst(rpc);
        metrics.rpcsActive.decrementRelease();
    }

    void endClientRpc(final Rpc rpc)
    {
        outgoing.stopSending(rpc);
        clientRpcs.remove(rpc.id);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
        }
        socketTable.releaseSendBlock(rpc.socket, rpc.txSendOffset);
        recycle(rpc);
    }

    void endServerRpc(final Rpc rpc)
    {
        outgoing.stopSending(rpc);
        if (Rpc.SERVER_IN_SERVICE == rpc.state || Rpc.SERVER_OUTGOING == rpc.state)
        {
            rememberEnded(rpc);
        }
        stopPendingDelivery(rpc);
        rpc.peer.serverRpcs.remove(rpc.id);
        serverRpcsByHandle.remove(rpc.handle);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
        }
        socketTable.releaseSendBlock(rpc.socket, rpc.txSendOffset);
        recycle(rpc);
    }

    /**
     * At-most-once: the request of this server RPC reached the application, so remember its id for a while in case
     * a copy of the request is still in the network.
     */
    private void rememberEnded(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        if (null == peer.recentAcks)
        {
            peer.recentAcks = new RecentAcks(recovery.recentAcksPerPeer());
        }
        final long tick = timer.ticks();
        peer.recentAcks.expire(tick);
        peer.recentAcks.add(rpc.id, tick + recovery.recentAckTicks());
    }

    /**
     * The RPC a control packet names, seen from here: a client's even id names our server RPC (id | 1), a server's
     * odd id names our client RPC (id ^ 1), which must be talking to that peer.
     */
    Rpc rpcFor(final Peer peer, final long senderId)
    {
        if (null == peer)
        {
            return null;
        }
        if (0 == (senderId & 1))
        {
            return peer.serverRpcs.get(senderId | 1);
        }
        final Rpc rpc = clientRpcs.get(senderId ^ 1);
        return null != rpc && rpc.peer == peer && !rpc.isDeliveryPending ? rpc : null;
    }

    void onAcked(final Peer peer, final long clientId)
    {
        // As Linux does, an ack ends the server RPC whatever its state: the client is done with it.
        final Rpc rpc = peer.serverRpcs.get(clientId | 1);
        if (null != rpc)
        {
            if (Rpc.SERVER_OUTGOING == rpc.state && !rpc.isSending)
            {
                metrics.serverResponsesDone.incrementRelease();
            }
            endServerRpc(rpc);
        }
    }

    void stopWaitingForBuffer(final Rpc rpc)
    {
        if (rpc.isWaitingForBuffer)
        {
            rpc.isWaitingForBuffer = false;
            rpc.socket.bufferWaiters.remove(rpc);
            metrics.bufferWaitingRpcs.decrementRelease();
        }
    }

    /**
     * @return RPCs alive on both sides.
     */
    public int activeRpcCount()
    {
        return clientRpcs.size() + serverRpcsByHandle.size();
    }

    /**
     * Takes the RPC off the list of deliveries that wait for room in its socket's event ring, if it is on it.
     */
    void stopPendingDelivery(final Rpc rpc)
    {
        if (rpc.isDeliveryPending)
        {
            rpc.isDeliveryPending = false;
            pendingDeliveries.remove(rpc);
        }
    }

    /**
     * A socket closes: its RPCs end with it, without answers to anyone (the client asked for the close).
     */
    void dropRpcsOf(final DriverSocket socket)
    {
        scratch.clear();
        for (final Rpc rpc : clientRpcs.values())
        {
            if (rpc.socket == socket)
            {
                scratch.add(rpc);
            }
        }
        for (final Rpc rpc : serverRpcsByHandle.values())
        {
            if (rpc.socket == socket)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            final Rpc rpc = scratch.get(i);
            stopPendingDelivery(rpc);
            outgoing.stopSending(rpc);
            if (0 == (rpc.id & 1))
            {
                clientRpcs.remove(rpc.id);
            }
            else
            {
                rpc.peer.serverRpcs.remove(rpc.id);
                serverRpcsByHandle.remove(rpc.handle);
            }
            recycle(rpc);
        }
        scratch.clear();
    }
}
