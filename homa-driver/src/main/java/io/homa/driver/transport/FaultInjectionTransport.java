package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import org.agrona.BufferUtil;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.SplittableRandom;

/**
 * A lossy network in front of a real transport, for tests: packets entering the driver are dropped, duplicated,
 * held back (so later ones overtake them) or have a header bit flipped, as {@link FaultInjection} says. Faults are
 * applied on the receive side, like Aeron's debug receive endpoints, so every decision is taken on the receiving
 * agent's thread; decorate both drivers to disturb both directions. Sending passes straight through.
 * <p>
 * Held-back and duplicated packets wait in a fixed set of preallocated slots and are handed out by later
 * {@link #receive(long, int)} calls once due, so nothing is allocated per packet. When every slot is busy a packet
 * goes through undisturbed.
 */
public final class FaultInjectionTransport extends ForwardingPacketTransport
{
    /** Packets that can be held back at once. */
    static final int SLOTS = 64;

    private final FaultInjection faults;
    private final NanoClock clock;
    private final SplittableRandom random;
    private final AtomicCounter dropped;
    private final AtomicCounter duplicated;
    private final AtomicCounter delayed;
    private final AtomicCounter corrupted;
    private final UnsafeBuffer packet = new UnsafeBuffer(0, 0);
    private final long[] arrivalsByType = new long[256];

    private final UnsafeBuffer slots;
    private final int slotLength;
    private final int[] slotPacketLength = new int[SLOTS];
    private final int[] slotSourceIpv4 = new int[SLOTS];
    private final int[] slotSourcePort = new int[SLOTS];
    private final int[] slotTos = new int[SLOTS];
    private final long[] slotDueNs = new long[SLOTS];
    private final boolean[] slotBusy = new boolean[SLOTS];
    private int heldCount;

    private int lastSourceIpv4;
    private int lastSourcePort;
    private int lastTos;
    private boolean lastTruncated;

    /**
     * @param delegate   the real transport.
     * @param faults     what to do to arriving packets.
     * @param clock      time for held-back packets.
     * @param dropped    counts packets dropped.
     * @param duplicated counts packets delivered twice.
     * @param delayed    counts packets held back.
     * @param corrupted  counts packets with a flipped header bit.
     */
    public FaultInjectionTransport(
        final PacketTransport delegate,
        final FaultInjection faults,
        final NanoClock clock,
        final AtomicCounter dropped,
        final AtomicCounter duplicated,
        final AtomicCounter delayed,
        final AtomicCounter corrupted)
    {
        super(delegate);
        if (delegate.isBatchReceiveOnly())
        {
            throw new IllegalArgumentException(
                "fault injection needs a transport that receives one packet at a time (udp, udp-batch, raw)");
        }
        this.faults = faults;
        this.clock = clock;
        this.random = new SplittableRandom(faults.seed());
        this.dropped = dropped;
        this.duplicated = duplicated;
        this.delayed = delayed;
        this.corrupted = corrupted;

        final boolean holds = faults.dataDuplicateRate() > 0 || faults.controlDuplicateRate() > 0 ||
            faults.dataReorderRate() > 0 || faults.controlReorderRate() > 0;
        slotLength = org.agrona.BitUtil.align(delegate.maxPacketLength(), 64);
        slots = holds ?
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(slotLength * SLOTS, 64)) : new UnsafeBuffer(0, 0);
    }

    /**
     * Packets are taken one at a time through {@link #receive(long, int)}, where the faults are applied.
     *
     * @return 0: no batch receive through this decorator.
     */
    public int receiveBatchLimit()
    {
        return 0;
    }

    /**
     * Faults are injected on the plain receive path only, so receive in place is off behind this decorator.
     */
    public boolean canReceiveScattered()
    {
        return false;
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        if (heldCount > 0)
        {
            final int slot = dueSlot(clock.nanoTime());
            if (slot >= 0)
            {
                return release(slot, address, capacity);
            }
        }

        while (true)
        {
            final int length = delegate.receive(address, capacity);
            if (length < 0)
            {
                return length;
            }
            lastSourceIpv4 = delegate.lastSourceIpv4();
            lastSourcePort = delegate.lastSourcePort();
            lastTos = delegate.lastTos();
            lastTruncated = delegate.lastTruncated();
            if (lastTruncated || length < HomaWire.COMMON_HEADER_LENGTH)
            {
                return length;
            }

            packet.wrap(address, length);
            final int type = HomaWire.type(packet, 0) & 0xFF;
            final boolean isData = HomaWire.DATA == type;
            final long index = arrivalsByType[type]++;

            if (faults.isDropIndex(type, index) ||
                random.nextDouble() < (isData ? faults.dataDropRate() : faults.controlDropRate()))
            {
                dropped.incrementRelease();
                continue;
            }
            if (random.nextDouble() < (isData ? faults.dataCorruptRate() : faults.controlCorruptRate()))
            {
                final int headerLength = Math.min(length, isData ? HomaWire.DATA_HEADER_LENGTH : length);
                final int bit = random.nextInt(headerLength * 8);
                packet.putByte(bit >> 3, (byte)(packet.getByte(bit >> 3) ^ (1 << (bit & 7))));
                corrupted.incrementRelease();
            }
            if (random.nextDouble() < (isData ? faults.dataReorderRate() : faults.controlReorderRate()))
            {
                final long delayNs = faults.reorderDelayNs();
                final long dueNs = clock.nanoTime() + (delayNs > 0 ? random.nextLong(delayNs + 1) : 0);
                if (hold(length, dueNs))
                {
                    delayed.incrementRelease();
                    continue;
                }
            }
            if (random.nextDouble() < (isData ? faults.dataDuplicateRate() : faults.controlDuplicateRate()) &&
                hold(length, clock.nanoTime() + faults.duplicateDelayNs()))
            {
                duplicated.incrementRelease();
            }
            return length;
        }
    }

    private boolean hold(final int length, final long dueNs)
    {
        if (heldCount == SLOTS || length > slotLength)
        {
            return false;
        }
        for (int i = 0; i < SLOTS; i++)
        {
            if (!slotBusy[i])
            {
                slots.putBytes(i * slotLength, packet, 0, length);
                slotPacketLength[i] = length;
                slotSourceIpv4[i] = lastSourceIpv4;
                slotSourcePort[i] = lastSourcePort;
                slotTos[i] = lastTos;
                slotDueNs[i] = dueNs;
                slotBusy[i] = true;
                heldCount++;
                return true;
            }
        }
        return false;
    }

    private int dueSlot(final long nowNs)
    {
        int best = -1;
        for (int i = 0; i < SLOTS; i++)
        {
            if (slotBusy[i] && nowNs - slotDueNs[i] >= 0 && (best < 0 || slotDueNs[i] - slotDueNs[best] < 0))
            {
                best = i;
            }
        }
        return best;
    }

    private int release(final int slot, final long address, final int capacity)
    {
        final int length = Math.min(slotPacketLength[slot], capacity);
        packet.wrap(address, capacity);
        packet.putBytes(0, slots, slot * slotLength, length);
        lastSourceIpv4 = slotSourceIpv4[slot];
        lastSourcePort = slotSourcePort[slot];
        lastTos = slotTos[slot];
        lastTruncated = length < slotPacketLength[slot];
        slotBusy[slot] = false;
        heldCount--;
        return length;
    }

    /**
     * {@inheritDoc} A held-back packet falls due without any descriptor saying so.
     */
    public long nextDeadlineNs()
    {
        long earliest = delegate.nextDeadlineNs();
        if (heldCount > 0)
        {
            for (int i = 0; i < SLOTS; i++)
            {
                if (slotBusy[i] && slotDueNs[i] - earliest < 0)
                {
                    earliest = slotDueNs[i];
                }
            }
        }
        return earliest;
    }

    /**
     * @return packets being held back now.
     */
    public int heldCount()
    {
        return heldCount;
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourceIpv4()
    {
        return lastSourceIpv4;
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourcePort()
    {
        return lastSourcePort;
    }

    /**
     * {@inheritDoc}
     */
    public int lastTos()
    {
        return lastTos;
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return lastTruncated;
    }

    /**
     * {@inheritDoc}
     */
    public int localIpv4()
    {
        return delegate.localIpv4();
    }

    /**
     * {@inheritDoc}
     */
    public int localPort()
    {
        return delegate.localPort();
    }

    /**
     * {@inheritDoc}
     */
    public int maxPacketLength()
    {
        return delegate.maxPacketLength();
    }

    /**
     * {@inheritDoc}
     */
    public long receiveDrops()
    {
        return delegate.receiveDrops();
    }

    /**
     * {@inheritDoc}
     */
    public void close()
    {
        delegate.close();
        if (slots.capacity() > 0)
        {
            BufferUtil.free(slots);
        }
    }
}
