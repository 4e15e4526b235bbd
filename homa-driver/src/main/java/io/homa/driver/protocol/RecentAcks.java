package io.homa.driver.protocol;

import org.agrona.collections.LongHashSet;

/**
 * Ids of server RPCs from one peer that ended after their request reached the application (acked, or given up),
 * remembered for a while so that a copy of the request delayed in the network cannot create the RPC again and run
 * it a second time: the at-most-once hole Linux documents. Entries expire after a number of ticks (about the RPC
 * timeout, longer than a packet can linger); a fixed capacity bounds memory, and when it is full the oldest entry
 * goes early. Preallocated, so adding and looking up allocate nothing.
 */
final class RecentAcks
{
    private final long[] ids;
    private final long[] expiryTicks;
    private final LongHashSet set;
    private int head;
    private int size;
    private long overflows;

    RecentAcks(final int capacity)
    {
        ids = new long[capacity];
        expiryTicks = new long[capacity];
        set = new LongHashSet(capacity * 2);
    }

    /**
     * @param id         the server RPC id.
     * @param expiryTick tick from which it is forgotten.
     */
    void add(final long id, final long expiryTick)
    {
        if (set.contains(id))
        {
            return;
        }
        if (size == ids.length)
        {
            removeOldest();
            overflows++;
        }
        final int tail = (head + size) % ids.length;
        ids[tail] = id;
        expiryTicks[tail] = expiryTick;
        size++;
        set.add(id);
    }

    boolean contains(final long id)
    {
        return size > 0 && set.contains(id);
    }

    /**
     * Forgets entries whose time is up.
     *
     * @param tick the current tick.
     */
    void expire(final long tick)
    {
        while (size > 0 && tick - expiryTicks[head] >= 0)
        {
            removeOldest();
        }
    }

    private void removeOldest()
    {
        set.remove(ids[head]);
        head = (head + 1) % ids.length;
        size--;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    int size()
    {
        return size;
    }

    long overflows()
    {
        return overflows;
    }
}
