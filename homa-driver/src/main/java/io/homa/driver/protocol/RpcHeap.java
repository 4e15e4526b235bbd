package io.homa.driver.protocol;

import java.util.Arrays;

/**
 * An indexed binary min-heap of incoming messages for the {@link GrantQueue}: either by grant rank (the bytes left
 * as of the message's last place in the queue, ties to the older), its slot in {@link IncomingMessage#queueSlot},
 * or by birth, its slot in {@link IncomingMessage#fifoSlot}. Each message knows its slot, so taking one out or
 * moving it after its key changed is O(log n). The array grows by doubling and is never shrunk.
 */
final class RpcHeap
{
    private final boolean byBirth;
    private Rpc[] heap = new Rpc[8];
    private int size;

    /**
     * @param byBirth order by birth (oldest first) instead of by grant rank.
     */
    RpcHeap(final boolean byBirth)
    {
        this.byBirth = byBirth;
    }

    int size()
    {
        return size;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    /**
     * @return the first message, or null.
     */
    Rpc top()
    {
        return 0 == size ? null : heap[0];
    }

    void add(final Rpc rpc)
    {
        if (size == heap.length)
        {
            heap = Arrays.copyOf(heap, size * 2);
        }
        final int slot = size++;
        heap[slot] = rpc;
        siftUp(slot);
    }

    void remove(final Rpc rpc)
    {
        final int slot = slotOf(rpc);
        final int last = --size;
        final Rpc moved = heap[last];
        heap[last] = null;
        if (slot != last)
        {
            heap[slot] = moved;
            siftDown(slot);
            siftUp(slotOf(moved));
        }
        setSlot(rpc, -1);
    }

    /**
     * Restores the order after the message's key changed either way.
     */
    void update(final Rpc rpc)
    {
        final int slot = slotOf(rpc);
        siftUp(slot);
        siftDown(slotOf(rpc));
    }

    /**
     * True if {@code a} comes before {@code b} in grant rank: fewer bytes left as last ranked, or as many and older.
     */
    static boolean ranksBefore(final Rpc a, final Rpc b)
    {
        final int left = a.rx.queuedRemaining;
        final int otherLeft = b.rx.queuedRemaining;
        return left < otherLeft || (left == otherLeft && a.rx.birth < b.rx.birth);
    }

    private boolean before(final Rpc a, final Rpc b)
    {
        return byBirth ? a.rx.birth < b.rx.birth : ranksBefore(a, b);
    }

    private int slotOf(final Rpc rpc)
    {
        return byBirth ? rpc.rx.fifoSlot : rpc.rx.queueSlot;
    }

    private void setSlot(final Rpc rpc, final int slot)
    {
        if (byBirth)
        {
            rpc.rx.fifoSlot = slot;
        }
        else
        {
            rpc.rx.queueSlot = slot;
        }
    }

    private void siftUp(final int from)
    {
        int slot = from;
        final Rpc rpc = heap[slot];
        while (slot > 0)
        {
            final int parent = (slot - 1) >>> 1;
            final Rpc above = heap[parent];
            if (!before(rpc, above))
            {
                break;
            }
            heap[slot] = above;
            setSlot(above, slot);
            slot = parent;
        }
        heap[slot] = rpc;
        setSlot(rpc, slot);
    }

    private void siftDown(final int from)
    {
        int slot = from;
        final Rpc rpc = heap[slot];
        while (true)
        {
            int child = 2 * slot + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && before(heap[child + 1], heap[child]))
            {
                child++;
            }
            final Rpc below = heap[child];
            if (!before(below, rpc))
            {
                break;
            }
            heap[slot] = below;
            setSlot(below, slot);
            slot = child;
        }
        heap[slot] = rpc;
        setSlot(rpc, slot);
    }
}
