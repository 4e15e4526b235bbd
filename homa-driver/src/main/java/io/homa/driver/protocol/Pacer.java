package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Sender side of Homa's scheduling (Linux homa_pacer.c), run inside the engine's transmit loop:
 * <ul>
 *   <li>which message transmits next: of those with granted bytes not yet sent, the one with fewest bytes left
 *   (SRPT, ties to the oldest), except that {@code pacerFifoFraction}/1000 of picks go to the oldest so long
 *   messages never starve;</li>
 *   <li>whether the NIC can take another packet: an estimate of when the link goes idle grows by each DATA
 *   packet's wire time ({@code (payload + DATA header + IP/UDP + 42 Ethernet bytes) x 8 / link_mbps}, 1%
 *   pessimistic); while it is more than {@code maxNicEstBacklogNs} ahead, DATA waits here rather than in a NIC
 *   queue where SRPT order would be lost. Messages with at most {@code deferMinBytes} left never wait.</li>
 * </ul>
 * With pacing off (the default where the link speed is unknown and there is no NIC queue, as on loopback) only the
 * choice is made and nothing ever waits.
 */
final class Pacer
{
    /** Per-packet Ethernet cost beyond the IP packet: header and CRC 18, preamble, SFD and gap 24 (Linux). */
    static final int ETHERNET_OVERHEAD = 42;
    /** IPv4 header (no options) plus UDP header, our encapsulation. */
    static final int IPV4_UDP_HEADER_LENGTH = 28;

    private final boolean isPacing;
    private final long picosPerWireByte;
    private final long maxBacklogNs;
    private final int deferMinBytes;
    private final int fifoFraction;
    private final int perPacketOverhead;
    private final AtomicCounter throttleListAdds;
    private final AtomicCounter pacerPackets;
    private final AtomicCounter pacerBytes;
    private final AtomicCounter fifoPicks;

    private long linkIdleTimeNs;
    private boolean isLinkClockStarted;
    private boolean isThrottled;
    private int fifoCount = 1000;

    /**
     * @param settings scheduling settings (pacing switch, link speed, backlog limit, defer and FIFO shares).
     * @param counters where statistics go.
     */
    Pacer(final SchedulingSettings settings, final SystemCounters counters)
    {
        this.isPacing = settings.pacing();
        // 8 bits per byte at link_mbps, overestimated by 1% as Linux does: 8,080,000 / mbps picoseconds per byte.
        this.picosPerWireByte = 8_080_000L / Math.max(1, settings.linkMbps());
        this.maxBacklogNs = settings.maxNicEstBacklogNs();
        this.deferMinBytes = settings.deferMinBytes();
        this.fifoFraction = settings.pacerFifoFraction();
        this.perPacketOverhead = HomaWire.DATA_HEADER_LENGTH + IPV4_UDP_HEADER_LENGTH + ETHERNET_OVERHEAD;
        throttleListAdds = counters.get(SystemCounterDescriptor.THROTTLE_LIST_ADDS);
        pacerPackets = counters.get(SystemCounterDescriptor.PACER_HOMA_PACKETS);
        pacerBytes = counters.get(SystemCounterDescriptor.PACER_HOMA_BYTES);
        fifoPicks = counters.get(SystemCounterDescriptor.PACER_FIFO_PICKS);
    }

    /**
     * @return true if DATA may be held back for the NIC queue estimate.
     */
    boolean isPacing()
    {
        return isPacing;
    }

    /**
     * Link time of one DATA packet.
     *
     * @param payloadLength its payload.
     * @return ns on the wire.
     */
    long wireTimeNs(final int payloadLength)
    {
        return (payloadLength + perPacketOverhead) * picosPerWireByte / 1000;
    }

    /**
     * Chooses the next message to transmit from.
     *
     * @param ready messages with granted bytes not yet transmitted.
     * @return the one with fewest bytes left, or (its share) the oldest; null if none is ready.
     */
    Rpc pick(final TransmitQueue ready)
    {
        final Rpc shortest = ready.shortest();
        if (null == shortest)
        {
            isThrottled = false;
            return null;
        }
        if (ready.size() > 1)
        {
            fifoCount -= fifoFraction;
            if (fifoCount <= 0)
            {
                fifoCount += 1000;
                final Rpc oldest = ready.oldest();
                if (oldest != shortest)
                {
                    fifoPicks.incrementRelease();
                }
                return oldest;
            }
        }
        return shortest;
    }

    /**
     * Linux's homa_pacer_check_nic_q, first half: may a packet of a message with {@code bytesLeft} left go now?
     *
     * @param bytesLeft bytes of the message not yet transmitted.
     * @param nowNs     current time.
     * @return false if it must wait for the NIC queue estimate to drain.
     */
    boolean mayTransmit(final int bytesLeft, final long nowNs)
    {
        if (!isPacing || bytesLeft <= deferMinBytes)
        {
            return true;
        }
        if (isLinkClockStarted && linkIdleTimeNs - nowNs > maxBacklogNs)
        {
            if (!isThrottled)
            {
                isThrottled = true;
                throttleListAdds.incrementRelease();
            }
            return false;
        }
        return true;
    }

    /**
     * Second half: a DATA packet went to the transport; the queue estimate grows by its wire time.
     *
     * @param payloadLength its payload.
     * @param nowNs         current time.
     */
    void onTransmit(final int payloadLength, final long nowNs)
    {
        if (!isPacing)
        {
            return;
        }
        if (!isLinkClockStarted || linkIdleTimeNs - nowNs < 0)
        {
            isLinkClockStarted = true;
            linkIdleTimeNs = nowNs;
        }
        linkIdleTimeNs += wireTimeNs(payloadLength);
        if (isThrottled)
        {
            pacerPackets.incrementRelease();
            pacerBytes.getAndAddRelease(payloadLength);
        }
    }

    /**
     * @param nowNs current time.
     * @return how far ahead of now the link's idle time is estimated, 0 if idle.
     */
    long backlogNs(final long nowNs)
    {
        return isLinkClockStarted ? Math.max(0, linkIdleTimeNs - nowNs) : 0;
    }
}
