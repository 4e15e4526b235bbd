package io.homa.driver.protocol;

import java.util.Arrays;

/**
 * A binary min-heap whose elements know their own slot, so taking any one out or moving it after its key changed
 * costs O(log n) and finding the first costs O(1): behind the grant queue's per-peer and FIFO heaps
 * ({@link RpcHeap}) and its heap of peers. (The transmit queue keeps its own, see {@link TransmitQueue}: with two
 * element orders here the sift code still inlines both.) A subclass says the order and where an element keeps its slot
 * ({@code -1} while it is in no heap of that kind). The array grows by doubling and is never shrunk: no
 * allocation in steady state.
 *
 * @param <T> the element type.
 */
abstract class IndexedHeap<T>
{
    private T[] heap;
    private int size;

    @SuppressWarnings("unchecked")
    IndexedHeap(final int initialCapacity)
    {
        heap = (T[])new Object[initialCapacity];
    }

    /**
     * @return true if {@code a} comes before {@code b}.
     */
    abstract boolean before(T a, T b);

    abstract int slotOf(T element);

    abstract void setSlot(T element, int slot);

    final int size()
    {
        return size;
    }

    final boolean isEmpty()
    {
        return 0 == size;
    }

    final boolean contains(final T element)
    {
        return slotOf(element) >= 0;
    }

    /**
     * @return the first element, or null.
     */
    final T top()
    {
        return 0 == size ? null : heap[0];
    }

    final void add(final T element)
    {
        if (size == heap.length)
        {
            heap = Arrays.copyOf(heap, size * 2);
        }
        final int slot = size++;
        heap[slot] = element;
        siftUp(slot);
    }

    /**
     * Takes the element out (it must be in).
     */
    final void remove(final T element)
    {
        final int slot = slotOf(element);
        final int last = --size;
        final T moved = heap[last];
        heap[last] = null;
        if (slot != last)
        {
            heap[slot] = moved;
            siftDown(slot);
            siftUp(slotOf(moved));
        }
        setSlot(element, -1);
    }

    /**
     * Restores the order after the element's key changed either way.
     */
    final void update(final T element)
    {
        siftUp(slotOf(element));
        siftDown(slotOf(element));
    }

    /**
     * Restores the order after the element's key went down (it can only move toward the top).
     */
    final void decreased(final T element)
    {
        siftUp(slotOf(element));
    }

    private void siftUp(final int from)
    {
        int slot = from;
        final T element = heap[slot];
        while (slot > 0)
        {
            final int parent = (slot - 1) >>> 1;
            final T above = heap[parent];
            if (!before(element, above))
            {
                break;
            }
            heap[slot] = above;
            setSlot(above, slot);
            slot = parent;
        }
        heap[slot] = element;
        setSlot(element, slot);
    }

    private void siftDown(final int from)
    {
        int slot = from;
        final T element = heap[slot];
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
            final T below = heap[child];
            if (!before(below, element))
            {
                break;
            }
            heap[slot] = below;
            setSlot(below, slot);
            slot = child;
        }
        heap[slot] = element;
        setSlot(element, slot);
    }
}
