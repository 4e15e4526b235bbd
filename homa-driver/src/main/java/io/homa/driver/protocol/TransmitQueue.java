package io.homa.driver.protocol;

import java.util.Arrays;

/**
 * Outgoing messages that have granted bytes not yet sent ("ready"), for the transmit pick: the one with fewest bytes
 * left (SRPT, ties to the older) and the oldest (the pacer's FIFO share), each found in O(1) and kept in O(log n)
 * per packet however many messages wait.
 * <p>
 * The pick used to scan every unfinished message (also those waiting for grants) up to 32 times per duty cycle.
 * Here a message is in the queue only while it is ready; it holds two slots, one in a binary min-heap ordered by
 * (bytes left, birth) and one in a min-heap ordered by birth, whose positions it keeps in
 * {@link Rpc#srptSlot} / {@link Rpc#fifoSlot}. Sending a packet only lowers a message's bytes left, so the
 * SRPT heap only sifts it toward the top; a message whose grants are used up leaves both heaps until a GRANT or a
 * RESEND makes it ready again. The arrays grow by doubling and are never shrunk: no allocation in steady state.
 * <p>
 * Its two heaps are written out here rather than built on {@link IndexedHeap}: on this per-packet path the shared
 * sift code's calls through the subclass cost a GRANT for one of 10,000 waiting messages 34.6 ns instead of
 * 11.4 ns ({@code SchedulingBenchmark.transmitPick}), because the sift code no longer inlines one order.
 */
final class TransmitQueue
{
    private Rpc[] srpt = new Rpc[64];
    private Rpc[] fifo = new Rpc[64];
    private int size;

    int size()
    {
        return size;
    }

    /**
     * @return the ready message with fewest bytes left (ties to the older), or null.
     */
    Rpc shortest()
    {
        return 0 == size ? null : srpt[0];
    }

    /**
     * @return the oldest ready message, or null.
     */
    Rpc oldest()
    {
        return 0 == size ? null : fifo[0];
    }

    /**
     * Puts the message in or takes it out as its state says (sending, with granted bytes not yet sent), and
     * restores the order after its bytes left went down. Call after every change of txNext, txGranted or isSending.
     */
    void update(final Rpc rpc)
    {
        final boolean ready = rpc.isSending && rpc.txNext < rpc.txGranted;
        if (rpc.srptSlot < 0)
        {
            if (ready)
            {
                add(rpc);
            }
        }
        else if (!ready)
        {
            remove(rpc);
        }
        else
        {
            siftUpSrpt(rpc.srptSlot);
        }
    }

    /**
     * Takes the message out if it is in.
     */
    void remove(final Rpc rpc)
    {
        if (rpc.srptSlot < 0)
        {
            return;
        }
        final int last = --size;
        final int s = rpc.srptSlot;
        final Rpc movedSrpt = srpt[last];
        srpt[last] = null;
        if (s != last)
        {
            srpt[s] = movedSrpt;
            movedSrpt.srptSlot = s;
            siftDownSrpt(s);
            siftUpSrpt(movedSrpt.srptSlot);
        }
        final int f = rpc.fifoSlot;
        final Rpc movedFifo = fifo[last];
        fifo[last] = null;
        if (f != last)
        {
            fifo[f] = movedFifo;
            movedFifo.fifoSlot = f;
            siftDownFifo(f);
            siftUpFifo(movedFifo.fifoSlot);
        }
        rpc.srptSlot = -1;
        rpc.fifoSlot = -1;
    }

    private void add(final Rpc rpc)
    {
        if (size == srpt.length)
        {
            srpt = Arrays.copyOf(srpt, size * 2);
            fifo = Arrays.copyOf(fifo, size * 2);
        }
        final int slot = size++;
        srpt[slot] = rpc;
        rpc.srptSlot = slot;
        siftUpSrpt(slot);
        fifo[slot] = rpc;
        rpc.fifoSlot = slot;
        siftUpFifo(slot);
    }

    private static boolean shorter(final Rpc a, final Rpc b)
    {
        final int left = a.txRemaining();
        final int otherLeft = b.txRemaining();
        return left < otherLeft || (left == otherLeft && a.txBirth < b.txBirth);
    }

    private void siftUpSrpt(final int from)
    {
        int slot = from;
        final Rpc rpc = srpt[slot];
        while (slot > 0)
        {
            final int parent = (slot - 1) >>> 1;
            final Rpc above = srpt[parent];
            if (!shorter(rpc, above))
            {
                break;
            }
            srpt[slot] = above;
            above.srptSlot = slot;
            slot = parent;
        }
        srpt[slot] = rpc;
        rpc.srptSlot = slot;
    }

    private void siftDownSrpt(final int from)
    {
        int slot = from;
        final Rpc rpc = srpt[slot];
        while (true)
        {
            int child = 2 * slot + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && shorter(srpt[child + 1], srpt[child]))
            {
                child++;
            }
            final Rpc below = srpt[child];
            if (!shorter(below, rpc))
            {
                break;
            }
            srpt[slot] = below;
            below.srptSlot = slot;
            slot = child;
        }
        srpt[slot] = rpc;
        rpc.srptSlot = slot;
    }

    private void siftUpFifo(final int from)
    {
        int slot = from;
        final Rpc rpc = fifo[slot];
        while (slot > 0)
        {
            final int parent = (slot - 1) >>> 1;
            final Rpc above = fifo[parent];
            if (rpc.txBirth >= above.txBirth)
            {
                break;
            }
            fifo[slot] = above;
            above.fifoSlot = slot;
            slot = parent;
        }
        fifo[slot] = rpc;
        rpc.fifoSlot = slot;
    }

    private void siftDownFifo(final int from)
    {
        int slot = from;
        final Rpc rpc = fifo[slot];
        while (true)
        {
            int child = 2 * slot + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && fifo[child + 1].txBirth < fifo[child].txBirth)
            {
                child++;
            }
            final Rpc below = fifo[child];
            if (below.txBirth >= rpc.txBirth)
            {
                break;
            }
            fifo[slot] = below;
            below.fifoSlot = slot;
            slot = child;
        }
        fifo[slot] = rpc;
        rpc.fifoSlot = slot;
    }
}
