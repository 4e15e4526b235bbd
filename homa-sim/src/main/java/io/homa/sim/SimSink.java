package io.homa.sim;

import io.homa.driver.protocol.OutboundPackets;
import io.homa.driver.protocol.PacketSink;
import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The engine's packet sink in the simulator: each committed record becomes a {@link Packet} at once (header and
 * payload copied out of the send region, as a NIC's DMA would), queued on the host's NIC. Nothing is left pointing
 * into socket memory, so the sink reports every record sent as soon as it is committed; its backlog is the NIC's
 * queue, which is what the engine's transmit-backlog check is about.
 */
final class SimSink implements PacketSink
{
    private static final int RECORD_INDEX = 64;
    private static final int CAPACITY = 64 << 20;

    private final UnsafeBuffer buffer;
    private final UnsafeBuffer payloadView = new UnsafeBuffer(0, 0);
    private final int maxPacketLength;
    private final SimHost host;
    private long position;
    private int claimedLength;
    private int claimedIpv4;
    private int claimedTos;
    private long claimedPayloadAddress;
    private int claimedPayloadLength;

    SimSink(final SimHost host, final int maxPacketLength)
    {
        this.host = host;
        this.maxPacketLength = maxPacketLength;
        buffer = new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(RECORD_INDEX + OutboundPackets.PREFIX_LENGTH + maxPacketLength + 64, 64));
    }

    public int claim(final int packetLength, final int ipv4, final int port, final int tos, final int type)
    {
        return claim(packetLength, ipv4, port, tos, type, 0L, 0);
    }

    public int claim(
        final int headerLength,
        final int ipv4,
        final int port,
        final int tos,
        final int type,
        final long payloadAddress,
        final int payloadLength)
    {
        claimedLength = headerLength;
        claimedIpv4 = ipv4;
        claimedTos = tos;
        claimedPayloadAddress = payloadAddress;
        claimedPayloadLength = payloadLength;
        return RECORD_INDEX;
    }

    public void commit(final int index)
    {
        final Packet packet = host.network.newPacket();
        packet.buffer.putBytes(0, buffer, index + OutboundPackets.PREFIX_LENGTH, claimedLength);
        if (claimedPayloadLength > 0)
        {
            payloadView.wrap(claimedPayloadAddress, claimedPayloadLength);
            packet.buffer.putBytes(claimedLength, payloadView, 0, claimedPayloadLength);
        }
        packet.length = claimedLength + claimedPayloadLength;
        packet.srcHost = host.index;
        packet.dstHost = Network.hostOf(claimedIpv4);
        packet.priority = io.homa.codecs.HomaWire.priorityFromTos(claimedTos);
        packet.parse();
        position += OutboundPackets.PREFIX_LENGTH + claimedLength;
        host.transmit(packet);
    }

    public AtomicBuffer buffer()
    {
        return buffer;
    }

    public long producerPosition()
    {
        return position;
    }

    public long consumerPosition()
    {
        return position;
    }

    public int backlogBytes()
    {
        return host.nicQueuedBytes();
    }

    public int capacity()
    {
        return CAPACITY;
    }

    public int maxPacketLength()
    {
        return maxPacketLength;
    }
}
