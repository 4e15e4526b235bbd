package io.homa.sim;

import io.homa.codecs.HomaWire;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One packet in the simulated network: the Homa packet's bytes as the engine wrote them (header and payload), where
 * it goes, and its priority from the TOS the engine chose. While it travels a link it is itself the event of its
 * arrival at the far end. Pooled: the network recycles packets it drops or delivers.
 */
final class Packet implements SimEvent
{
    /** Room for the largest packet a simulated NIC carries (the MTU is at most 9,000 in practice; 1,500 here). */
    static final int CAPACITY = 9_216;
    /** Ethernet framing per packet (header, CRC, preamble, gap: 42 bytes, as Linux's pacer counts it). */
    static final int ETHERNET_OVERHEAD = 42;
    /** IPv4 and UDP headers. */
    static final int IP_UDP_OVERHEAD = 28;

    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[CAPACITY]);
    int length;
    int wireBytes;
    int srcHost;
    int dstHost;
    int priority;
    int type;
    long senderId;
    int dataOffset;
    int payloadLength;
    boolean isRetransmit;
    /** A copy {@link DropRules} made: not copied again. */
    boolean isLateCopy;
    Node target;
    Packet next;
    private final Network network;

    Packet(final Network network)
    {
        this.network = network;
    }

    /**
     * Reads what the network and the statistics need from the header once, when the packet is made.
     */
    void parse()
    {
        wireBytes = length + IP_UDP_OVERHEAD + ETHERNET_OVERHEAD;
        type = HomaWire.type(buffer, 0);
        senderId = HomaWire.senderId(buffer, 0);
        if (HomaWire.DATA == type)
        {
            dataOffset = (int)HomaWire.dataOffset(buffer, 0);
            payloadLength = length - HomaWire.DATA_HEADER_LENGTH;
            isRetransmit = HomaWire.retransmit(buffer, 0);
        }
        else
        {
            dataOffset = 0;
            payloadLength = 0;
            isRetransmit = false;
        }
    }

    void copyFrom(final Packet other)
    {
        buffer.putBytes(0, other.buffer, 0, other.length);
        length = other.length;
        wireBytes = other.wireBytes;
        srcHost = other.srcHost;
        dstHost = other.dstHost;
        priority = other.priority;
        type = other.type;
        senderId = other.senderId;
        dataOffset = other.dataOffset;
        payloadLength = other.payloadLength;
        isRetransmit = other.isRetransmit;
    }

    public void onEvent(final long nowNs)
    {
        network.packetArrivals++;
        final Node node = target;
        target = null;
        node.receive(this, nowNs);
    }

    public int traceKind()
    {
        return 1;
    }

    public void trace(final Trace trace)
    {
        trace.add(((long)target.nodeId() << 48) | ((long)type << 40) | ((long)priority << 32) |
            ((long)(srcHost & 0xFFFF) << 16) | (dstHost & 0xFFFF));
        trace.add(senderId);
        trace.add(((long)dataOffset << 32) | length);
    }
}
