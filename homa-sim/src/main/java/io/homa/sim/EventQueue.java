package io.homa.sim;

import java.util.Arrays;

/**
 * The discrete-event loop's queue: a 4-ary heap of events keyed by time. Each key packs the time (ns, high 44 bits:
 * up to 4.8 hours) with the low 20 bits of a scheduling sequence, so events at the same time come out in the order
 * they were scheduled (unless a million events are scheduled between two of one instant: the sequence wraps, and
 * the order, though not FIFO, is still the same every run), and one comparison orders two keys. Only this queue
 * decides the order, so two runs with the same inputs pop the same events in the same order. Flat arrays:
 * scheduling allocates nothing once grown.
 */
final class EventQueue
{
    private static final int SEQUENCE_BITS = 20;
    private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
    /** Latest time a key can hold. */
    static final long MAX_TIME_NS = Long.MAX_VALUE >>> SEQUENCE_BITS;

    private long[] keys = new long[1024];
    private SimEvent[] events = new SimEvent[1024];
    private int size;
    private long nextSequence;

    /**
     * @param timeNs when (0 to {@link #MAX_TIME_NS}).
     * @param event  what.
     */
    void schedule(final long timeNs, final SimEvent event)
    {
        if (timeNs < 0 || timeNs > MAX_TIME_NS)
        {
            throw new IllegalArgumentException("time out of range: " + timeNs);
        }
        if (size == keys.length)
        {
            keys = Arrays.copyOf(keys, size * 2);
            events = Arrays.copyOf(events, size * 2);
        }
        final long key = (timeNs << SEQUENCE_BITS) | (nextSequence++ & SEQUENCE_MASK);
        int i = size++;
        while (i > 0)
        {
            final int parent = (i - 1) >>> 2;
            final long parentKey = keys[parent];
            if (key >= parentKey)
            {
                break;
            }
            keys[i] = parentKey;
            events[i] = events[parent];
            i = parent;
        }
        keys[i] = key;
        events[i] = event;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    int size()
    {
        return size;
    }

    /**
     * @return the time of the earliest event (the queue must not be empty).
     */
    long peekTime()
    {
        return keys[0] >>> SEQUENCE_BITS;
    }

    /**
     * Removes the earliest event; its time is what {@link #peekTime()} returned before.
     *
     * @return the event.
     */
    SimEvent poll()
    {
        final SimEvent head = events[0];
        final int last = --size;
        final long key = keys[last];
        final SimEvent event = events[last];
        events[last] = null;
        if (0 == last)
        {
            return head;
        }
        int i = 0;
        while (true)
        {
            final int first = (i << 2) + 1;
            if (first >= last)
            {
                break;
            }
            int child = first;
            long childKey = keys[first];
            final int end = Math.min(first + 4, last);
            for (int c = first + 1; c < end; c++)
            {
                final long k = keys[c];
                if (k < childKey)
                {
                    child = c;
                    childKey = k;
                }
            }
            if (childKey >= key)
            {
                break;
            }
            keys[i] = childKey;
            events[i] = events[child];
            i = child;
        }
        keys[i] = key;
        events[i] = event;
        return head;
    }
}
