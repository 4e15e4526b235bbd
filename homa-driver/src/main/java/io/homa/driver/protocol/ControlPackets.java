package io.homa.driver.protocol;

import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import org.agrona.DirectBuffer;

/**
 * Control packets from peers: GRANT and CUTOFFS (scheduling), ACK and NEED_ACK (at-most-once), RESEND, BUSY and
 * RPC_UNKNOWN (loss recovery), PORT_UNREACHABLE. Each finds its RPC as seen from this host and changes only that.
 */
final class ControlPackets
{
    private final PeerTable peers;
    private final EngineMetrics metrics;
    private final RpcTable rpcs;
    private final Outgoing outgoing;
    private final Incoming incoming;
    private final ControlSender controlSender;

    ControlPackets(
        final PeerTable peers,
        final EngineMetrics metrics,
        final RpcTable rpcs,
        final Outgoing outgoing,
        final Incoming incoming,
        final ControlSender controlSender)
    {
        this.peers = peers;
        this.metrics = metrics;
        this.rpcs = rpcs;
        this.outgoing = outgoing;
        this.incoming = incoming;
        this.controlSender = controlSender;
    }

    void onAck(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookup(srcIpv4, srcPort);
        if (null == peer)
        {
            metrics.unknownRpcs.incrementRelease();
            return;
        }
        rpcs.onAcked(peer, HomaWire.senderId(buffer, offset));
        final int numAcks = HomaWire.numAcks(buffer, offset);
        for (int i = 0; i < numAcks; i++)
        {
            rpcs.onAcked(peer, HomaWire.ackClientId(buffer, offset, i));
        }
    }

    void onNeedAck(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final long clientId = HomaWire.senderId(buffer, offset) ^ 1;
        final Rpc rpc = rpcs.clientRpcs.get(clientId);
        if (null != rpc)
        {
            // The response is not complete here yet: ask for what is missing instead of acking.
            if (rpc.peer == peers.lookup(srcIpv4, srcPort) && !rpc.isDeliveryPending)
            {
                controlSender.requestRetransmission(rpc);
            }
            return;
        }
        final Peer peer = peers.lookupOrCreateForPacket(srcIpv4, srcPort);
        if (null == peer)
        {
            metrics.peerLimitDrops.incrementRelease();
            return;
        }
        final int count = Math.min(peer.pendingAcks, HomaWire.HOMA_MAX_ACKS);
        if (controlSender.sendPendingAcks(
            peer, HomaWire.dport(buffer, offset), HomaWire.sport(buffer, offset), clientId, count))
        {
            peer.pendingAcks = 0;
        }
    }

    void onPortUnreachable(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookup(srcIpv4, srcPort);
        if (null == peer)
        {
            return;
        }
        final int deadPort = HomaWire.sport(buffer, offset);
        incoming.abortRpcs(peer, deadPort, HomaError.ENOTCONN);
    }

    void onResend(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort)
    {
        final long senderId = HomaWire.senderId(buffer, offset);
        final Rpc rpc = rpcs.rpcFor(peers.lookup(srcIpv4, srcPort), senderId);
        if (null == rpc)
        {
            metrics.unknownRpcs.incrementRelease();
            controlSender.sendControl(HomaWire.RPC_UNKNOWN, srcIpv4, srcPort, HomaWire.dport(buffer, offset),
                HomaWire.sport(buffer, offset), senderId ^ 1);
            return;
        }

        if (!rpc.isClient())
        {
            if (Rpc.SERVER_OUTGOING != rpc.state)
            {
                // The client is alive and waits for us (e.g. for pool space): its RESENDs keep the RPC from timing out.
                rpc.silentTicks = 0;
                controlSender.sendBusy(rpc);
                return;
            }
            // The client is alive and still wants the response: no reason to give up on its ack.
            rpc.silentTicks = 0;
        }

        final long start = HomaWire.resendOffset(buffer, offset);
        final long resendLength = HomaWire.resendLength(buffer, offset);
        long end = HomaWire.RESEND_ALL == resendLength ? rpc.txNext : Math.min(start + resendLength, rpc.txLength);
        if (end > rpc.txGranted)
        {
            // Asking beyond what we think was granted means a GRANT was lost.
            rpc.txGranted = (int)end;
            outgoing.onGranted(rpc);
        }
        if (start >= rpc.txNext || start >= end)
        {
            // Nothing asked for has been sent yet: it is coming.
            controlSender.sendBusy(rpc);
            return;
        }
        end = Math.min(end, rpc.txNext);
        if (end - start > outgoing.maxDataPerPacket && outgoing.isTransmitBacklogged())
        {
            // Alive but not sending now: retransmitting a large range into a backed-up ring is how loss turns into
            // collapse. BUSY keeps the peer waiting; it asks again after resend_interval.
            controlSender.sendBusy(rpc);
            return;
        }
        final int priority = Math.min(HomaWire.resendPriority(buffer, offset, length), HomaEngine.CONTROL_PRIORITY);
        outgoing.retransmit(rpc, (int)start, (int)end, priority);
    }

    void onBusy(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Rpc rpc = rpcs.rpcFor(peers.lookup(srcIpv4, srcPort), HomaWire.senderId(buffer, offset));
        if (null != rpc)
        {
            rpc.silentTicks = 0;
        }
        else
        {
            metrics.unknownRpcs.incrementRelease();
        }
    }

    void onRpcUnknown(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Rpc rpc = rpcs.rpcFor(peers.lookup(srcIpv4, srcPort), HomaWire.senderId(buffer, offset));
        if (null == rpc)
        {
            metrics.unknownRpcs.incrementRelease();
            return;
        }
        if (rpc.isClient())
        {
            if (Rpc.CLIENT_OUTGOING == rpc.state)
            {
                // The server lost the request (or restarted): send again everything sent so far.
                metrics.rpcRestarts.incrementRelease();
                outgoing.retransmit(rpc, 0, rpc.txNext, HomaEngine.DEFAULT_UNSCHED_PRIORITY);
            }
            return;
        }
        // The client no longer knows this RPC: nobody wants the response.
        metrics.serverRpcDiscards.incrementRelease();
        rpcs.endServerRpc(rpc);
    }

    void onGrant(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        // The GRANT carries the receiver's id for the RPC; ours differs in bit 0.
        final long id = HomaWire.senderId(buffer, offset) ^ 1;
        final Rpc rpc;
        if (0 == (id & 1))
        {
            rpc = rpcs.clientRpcs.get(id);
        }
        else
        {
            final Peer peer = peers.lookup(srcIpv4, srcPort);
            rpc = null == peer ? null : peer.serverRpcs.get(id);
        }
        if (null == rpc || rpc.peer.ipv4 != srcIpv4 || rpc.peer.port != srcPort)
        {
            metrics.unknownRpcs.incrementRelease();
            return;
        }
        if (Rpc.CLIENT_OUTGOING != rpc.state && Rpc.SERVER_OUTGOING != rpc.state)
        {
            return;
        }
        // The receiver is alive: a response waiting for its grants counts silence only between GRANTs.
        rpc.silentTicks = 0;
        // Offsets are absolute: a late, duplicate or repeated GRANT changes nothing.
        final long grantOffset = HomaWire.grantOffset(buffer, offset);
        if (grantOffset > rpc.txGranted)
        {
            rpc.txGranted = (int)Math.min(grantOffset, rpc.txLength);
            outgoing.ready.update(rpc);
        }
        rpc.txPriority = HomaWire.grantPriority(buffer, offset);
    }

    void onCutoffs(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookupOrCreateForPacket(srcIpv4, srcPort);
        if (null == peer)
        {
            metrics.peerLimitDrops.incrementRelease();
            return;
        }
        for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
        {
            peer.unschedCutoffs[i] = HomaWire.cutoff(buffer, offset, i);
        }
        peer.cutoffVersion = HomaWire.cutoffsVersion(buffer, offset);
    }
}
