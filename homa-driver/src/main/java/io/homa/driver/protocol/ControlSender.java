package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

import java.nio.ByteOrder;

/**
 * Every control packet this host sends: GRANT, RESEND, CUTOFFS, ACK (with the acks a peer has pending) and the
 * 28-byte ones (NEED_ACK, BUSY, RPC_UNKNOWN, PORT_UNREACHABLE). A full outbound ring is counted, never waited on.
 */
final class ControlSender
{
    private final long[] ackIds = new long[HomaWire.HOMA_MAX_ACKS];
    private final int[] ackPorts = new int[HomaWire.HOMA_MAX_ACKS];
    private final HomaEngine.Settings settings;
    private final PacketSink outbound;
    private final AtomicBuffer outBuffer;
    private final PacketWriter writer;
    private final Priorities priorities;
    private final int controlTos;
    private final EventLog events;
    private final EngineMetrics metrics;

    ControlSender(
        final HomaEngine.Settings settings,
        final PacketSink outbound,
        final PacketWriter writer,
        final Priorities priorities,
        final int controlTos,
        final EventLog events,
        final EngineMetrics metrics)
    {
        this.settings = settings;
        this.outbound = outbound;
        this.outBuffer = outbound.buffer();
        this.writer = writer;
        this.priorities = priorities;
        this.controlTos = controlTos;
        this.events = events;
        this.metrics = metrics;
    }

    boolean sendControl(
        final int type, final int ipv4, final int port, final int sport, final int dport, final long senderId)
    {
        final int index = outbound.claim(HomaWire.COMMON_HEADER_LENGTH, ipv4, port, controlTos, type);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return false;
        }
        final int packetOffset = index + OutboundPackets.PREFIX_LENGTH;
        switch (type)
        {
            case HomaWire.NEED_ACK -> writer.needAck(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.PORT_UNREACHABLE -> writer.portUnreachable(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.BUSY -> writer.busy(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.RPC_UNKNOWN -> writer.rpcUnknown(outBuffer, packetOffset, sport, dport, senderId);
            default -> throw new IllegalArgumentException("not a 28-byte control type: " + type);
        }
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | type, senderId, ipv4, port, sport, dport, 0, 0, 0, 0, 0);
        return true;
    }

    /**
     * Most of an offending packet a PORT_UNREACHABLE carries for a raw-IP transport to quote in its ICMP error: what
     * an ICMPv6 error holds within 1,280 bytes (RFC 4443) after its IPv6 and ICMPv6 headers and the offending
     * packet's IPv6 header. IPv4 quotes less (576 bytes in all, RFC 1812): the transport cuts it.
     */
    static final int MAX_ICMP_QUOTE = 1_280 - 40 - 8 - 40;
    /** The common header's sequence field (sport, dport, then sequence). */
    private static final int SEQUENCE_OFFSET = 4;

    /**
     * PORT_UNREACHABLE for a packet to a port with no socket. To a raw-IP peer (UDP port 0), where the transport
     * answers with a real ICMP error, the offending packet's first bytes follow the header (up to
     * {@link #MAX_ICMP_QUOTE}) and the header's sequence holds its whole length, so the ICMP can quote it as Linux
     * does; over UDP it stays our 28-byte packet. {@code contiguousLength}: how much of the packet lies in
     * {@code offending} as it arrived (less than its length when its payload was received in place elsewhere).
     */
    boolean sendPortUnreachable(
        final int ipv4,
        final int port,
        final int sport,
        final int dport,
        final long senderId,
        final DirectBuffer offending,
        final int offendingOffset,
        final int contiguousLength,
        final int offendingLength)
    {
        final int quote = 0 == port ? Math.min(contiguousLength, MAX_ICMP_QUOTE) : 0;
        final int index = outbound.claim(
            HomaWire.COMMON_HEADER_LENGTH + quote, ipv4, port, controlTos, HomaWire.PORT_UNREACHABLE);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return false;
        }
        final int packetOffset = index + OutboundPackets.PREFIX_LENGTH;
        writer.portUnreachable(outBuffer, packetOffset, sport, dport, senderId);
        if (quote > 0)
        {
            outBuffer.putInt(packetOffset + SEQUENCE_OFFSET, offendingLength, ByteOrder.BIG_ENDIAN);
            outBuffer.putBytes(packetOffset + HomaWire.COMMON_HEADER_LENGTH, offending, offendingOffset, quote);
        }
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.PORT_UNREACHABLE, senderId, ipv4, port, sport, dport, 0, 0, 0,
            0, 0);
        return true;
    }

    /**
     * BUSY for one RPC: alive, nothing to send yet.
     */
    void sendBusy(final Rpc rpc)
    {
        sendControl(HomaWire.BUSY, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
    }

    /**
     * Sends an ACK naming {@code senderId} in its header and carrying the first {@code count} of the peer's pending
     * acks.
     *
     * @return false when the outbound ring is full (the acks stay pending).
     */
    boolean sendPendingAcks(final Peer peer, final int sport, final int dport, final long senderId, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            ackIds[i] = peer.ackClientIds[i];
            ackPorts[i] = peer.ackServerPorts[i];
        }
        final int index = outbound.claim(HomaWire.ACK_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.ACK);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return false;
        }
        writer.ack(outBuffer, index + OutboundPackets.PREFIX_LENGTH, sport, dport, senderId, count, ackIds, ackPorts);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.ACK, senderId, peer.ipv4, peer.port, sport, dport, 0, 0, count,
            0, 0);
        return true;
    }

    boolean sendGrant(final Rpc rpc, final int grantOffset, final int priority)
    {
        final Peer peer = rpc.peer;
        final int index = outbound.claim(HomaWire.GRANT_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.GRANT);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return false;
        }
        writer.grant(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            grantOffset, priority);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.GRANT, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, grantOffset, 0, priority, rpc.rx.length(), 0);
        return true;
    }

    boolean sendResend(final Rpc rpc, final int resendOffset, final int resendLength, final int priority)
    {
        final Peer peer = rpc.peer;
        final int index = outbound.claim(
            HomaWire.RESEND_LENGTH, peer.ipv4, peer.port, HomaWire.tos(HomaEngine.CONTROL_PRIORITY), HomaWire.RESEND);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return false;
        }
        writer.resend(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            resendOffset, resendLength, priority);
        outbound.commit(index);
        rpc.resends++;
        events.record(EventType.PACKET_OUT | HomaWire.RESEND, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, resendOffset, resendLength, priority, 0, 0);
        return true;
    }

    /**
     * Asks the peer for what the incoming message lacks: RESEND(0, -1) from a client that has heard nothing of its
     * response, else one RESEND per gap plus one for the tail up to what was granted.
     */
    void requestRetransmission(final Rpc rpc)
    {
        if (rpc.isWaitingForBuffer)
        {
            return;
        }
        final IncomingMessage rx = rpc.rx;
        if (!rx.isInitialised())
        {
            if (rpc.isClient())
            {
                sendResend(rpc, 0, -1, HomaEngine.CONTROL_PRIORITY);
            }
            return;
        }
        for (int i = 0, gaps = rx.gapCount(); i < gaps; i++)
        {
            sendResend(rpc, rx.gapStart(i), rx.gapEnd(i) - rx.gapStart(i), HomaEngine.CONTROL_PRIORITY);
        }
        final int granted = RpcTimer.rxGranted(rpc);
        if (rx.recvEnd() < granted)
        {
            sendResend(rpc, rx.recvEnd(), granted - rx.recvEnd(), HomaEngine.CONTROL_PRIORITY);
        }
    }

    /**
     * A DATA arrived with the sender's idea of our cutoffs' version: if stale, send ours (once per peer per tick,
     * so a burst of stale DATA costs one CUTOFFS, and a lost one is replaced by the next stale DATA).
     */
    void checkCutoffVersion(final int version, final Rpc rpc, final long nowNs)
    {
        final Peer peer = rpc.peer;
        if (version == priorities.cutoffVersion() || nowNs - peer.lastCutoffsSentNs < settings.tickNs())
        {
            return;
        }
        final int index = outbound.claim(HomaWire.CUTOFFS_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.CUTOFFS);
        if (index <= 0)
        {
            metrics.controlRingFull.incrementRelease();
            return;
        }
        writer.cutoffs(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            priorities.wireCutoffs(), priorities.cutoffVersion());
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.CUTOFFS, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, 0, 0, priorities.cutoffVersion(), 0, 0);
        peer.lastCutoffsSentNs = nowNs;
    }

    void addPendingAck(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        if (Peer.MAX_PENDING_ACKS == peer.pendingAcks)
        {
            // Linux: a sixth ack flushes the five pending ones in an ACK packet that names this RPC in its header.
            if (sendPendingAcks(peer, rpc.socket.port, rpc.peerPort, rpc.id, Peer.MAX_PENDING_ACKS))
            {
                peer.pendingAcks = 0;
            }
            // Else the five stay pending and this RPC's ack is left to the server's NEED_ACK.
            return;
        }
        peer.ackClientIds[peer.pendingAcks] = rpc.id;
        peer.ackServerPorts[peer.pendingAcks] = rpc.peerPort;
        peer.pendingAcks++;
    }
}
