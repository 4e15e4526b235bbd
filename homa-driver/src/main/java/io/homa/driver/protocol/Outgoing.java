package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The sending side of messages (HomaModule's homa_outgoing.c): which messages have granted bytes to send, the pick
 * of the next one (SRPT through the pacer), the framing of every DATA packet, first sends and retransmissions.
 */
final class Outgoing
{
    /** Messages with granted bytes not yet sent; others still sending wait for GRANTs outside it. */
    final TransmitQueue ready = new TransmitQueue();
    final int maxDataPerPacket;
    private long nextTxBirth = 1;
    private static final int MAX_PACKETS_PER_CYCLE = 32;
    private final HomaEngine.Settings settings;
    private final PacketSink outbound;
    private final AtomicBuffer outBuffer;
    private final PacketWriter writer;
    private final Priorities priorities;
    private final Pacer pacer;
    private final RpcTimer timer;
    private final EventLog events;
    private final EngineMetrics metrics;

    Outgoing(
        final HomaEngine.Settings settings,
        final PacketSink outbound,
        final PacketWriter writer,
        final Priorities priorities,
        final Pacer pacer,
        final RpcTimer timer,
        final EventLog events,
        final EngineMetrics metrics)
    {
        this.settings = settings;
        this.outbound = outbound;
        this.outBuffer = outbound.buffer();
        this.writer = writer;
        this.priorities = priorities;
        this.pacer = pacer;
        this.timer = timer;
        this.events = events;
        this.metrics = metrics;
        maxDataPerPacket =
            Math.min(settings.maxPacketLength(), outbound.maxPacketLength()) - HomaWire.DATA_HEADER_LENGTH;
    }

    int transmit(final long nowNs)
    {
        int packets = 0;
        while (packets < MAX_PACKETS_PER_CYCLE)
        {
            // SRPT among messages with granted bytes to send (a share to the oldest); the pacer may hold it back.
            final Rpc best = pacer.pick(ready);
            if (null == best)
            {
                break;
            }
            if (!pacer.mayTransmit(best.txRemaining(), nowNs))
            {
                // Held for the NIC queue estimate to drain within microseconds: keep the duty cycle busy.
                packets++;
                break;
            }
            final int txNextBefore = best.txNext;
            if (!sendNextDataPacket(best, nowNs))
            {
                break;
            }
            pacer.onTransmit(best.txNext - txNextBefore, nowNs);
            packets++;
        }
        return packets;
    }

    private boolean sendNextDataPacket(final Rpc rpc, final long nowNs)
    {
        final int start = rpc.txNext;
        int end = Math.min(start + maxDataPerPacket, rpc.txGranted);
        final int unsched = settings.unschedBytes();
        if (start < unsched && end > unsched)
        {
            end = unsched;
        }
        if (!sendDataPacket(rpc, start, end, unschedLimit(rpc), false, dataTos(rpc, start)))
        {
            return false;
        }
        metrics.sentMsgBytes.getAndAddRelease(end - start);

        rpc.txNext = end;
        if (rpc.txNext >= rpc.txLength)
        {
            stopSending(rpc);
            if (Rpc.SERVER_OUTGOING == rpc.state)
            {
                rpc.txDoneTick = timer.ticks();
                rpc.silentTicks = 0;
            }
        }
        else
        {
            ready.update(rpc);
        }
        return true;
    }

    /**
     * Builds one DATA packet for bytes [start, end) of the RPC's outgoing message: the one place DATA is framed,
     * for first transmissions and retransmissions alike. Piggy-backs a pending ack for the peer if there is one.
     *
     * @return false when the outbound ring is full.
     */
    private boolean sendDataPacket(
        final Rpc rpc, final int start, final int end, final int incoming, final boolean retransmit, final int tos)
    {
        final int payload = end - start;
        final Peer peer = rpc.peer;
        // The header goes into the ring; the payload stays in the send region and the sender gathers both.
        final int index = outbound.claim(
            HomaWire.DATA_HEADER_LENGTH, peer.ipv4, peer.port, tos, HomaWire.DATA,
            rpc.socket.sendRegion.addressOffset() + rpc.txSendOffset + start, payload);
        if (index <= 0)
        {
            return false;
        }

        long ackId = 0;
        int ackPort = 0;
        if (peer.pendingAcks > 0)
        {
            peer.pendingAcks--;
            ackId = peer.ackClientIds[peer.pendingAcks];
            ackPort = peer.ackServerPorts[peer.pendingAcks];
            metrics.acksPiggybacked.incrementRelease();
        }

        final int packetOffset = index + OutboundPackets.PREFIX_LENGTH;
        writer.data(outBuffer, packetOffset, rpc.socket.port, rpc.peerPort, rpc.id, rpc.txLength, incoming,
            ackId, ackPort, peer.cutoffVersion, retransmit, start);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.DATA, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, start, payload, HomaWire.priorityFromTos(tos), rpc.txLength,
            retransmit ? EventType.FLAG_RETRANSMIT : 0);
        return true;
    }

    /**
     * Sends bytes [start, end) again as DATA with retransmit=1 and incoming=end. What does not fit in the outbound
     * ring is left for the receiver's next RESEND.
     */
    void retransmit(final Rpc rpc, final int start, final int end, final int priority)
    {
        int next = start;
        while (next < end)
        {
            final int packetEnd = Math.min(next + maxDataPerPacket, end);
            if (!sendDataPacket(rpc, next, packetEnd, end, true, priorities.tos(priority)))
            {
                break;
            }
            metrics.resentPackets.incrementRelease();
            rpc.retransmits++;
            next = packetEnd;
        }
    }

    void startSending(final Rpc rpc, final int sendOffset, final int length)
    {
        rpc.txSendOffset = sendOffset;
        rpc.txLength = length;
        rpc.txNext = 0;
        // Only the unscheduled bytes go without permission; GRANTs raise txGranted.
        rpc.txGranted = unschedLimit(rpc);
        rpc.txPriority = 0;
        rpc.txBirth = nextTxBirth++;
        rpc.isSending = true;
        ready.update(rpc);
    }

    void stopSending(final Rpc rpc)
    {
        if (rpc.isSending)
        {
            rpc.isSending = false;
            ready.remove(rpc);
        }
    }

    /**
     * A GRANT or a RESEND raised what the message may send: it may be ready again.
     */
    void onGranted(final Rpc rpc)
    {
        if (!rpc.isSending && rpc.txNext < rpc.txGranted)
        {
            // Only a RESEND asking beyond what we saw granted restarts a stopped message (a GRANT was lost).
            rpc.isSending = true;
        }
        ready.update(rpc);
    }

    private int unschedLimit(final Rpc rpc)
    {
        return Math.min(settings.unschedBytes(), rpc.txLength);
    }

    /**
     * TOS of a DATA packet starting at {@code start}: unscheduled bytes at the level the receiver's cutoffs choose
     * for the message's length, scheduled bytes at the level of the latest GRANT.
     */
    private int dataTos(final Rpc rpc, final int start)
    {
        return start < unschedLimit(rpc) ?
            priorities.tos(priorities.unschedPriority(rpc.peer.unschedCutoffs, rpc.txLength)) :
            priorities.tos(rpc.txPriority);
    }

    boolean isTransmitBacklogged()
    {
        return outbound.backlogBytes() > outbound.capacity() / 4;
    }
}
