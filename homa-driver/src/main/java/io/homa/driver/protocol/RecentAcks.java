package io.homa.driver.protocol;

import org.agrona.collections.LongHashSet;

/**
 * Ids of server RPCs from one peer that ended after their request reached the application (acked, or given up),
 * remembered for a while so that a copy of the request delayed in the network cannot create the RPC again and run
 * it a second time: the at-most-once hole Linux documents. Entries expire after a number of ticks (about the RPC
 * timeout, longer than a packet can linger); a capacity bounds memory, and when it is full the oldest entry goes
 * early. The arrays start small and double up to that capacity as a peer's entries grow: every peer that has had a
 * request served holds one, and over UDP each source port is a peer, so a full-size window per peer (1,024 ids,
 * about 48 KB) would let spoofed one-packet requests from 65,536 ports tie up 3 GB. Once grown, adding and looking
 * up allocate nothing.
 */
final class RecentAcks
{
    /** Entries a new window holds before it first grows. */
    static final int INITIAL_CAPACITY = 8;

    private final int capacity;
    private long[] ids;
    private long[] expiryTicks;
    private final LongHashSet set;
    private int head;
    private int size;
    private long overflows;

    RecentAcks(final int capacity)
    {
        this.capacity = capacity;
        final int initial = Math.min(capacity, INITIAL_CAPACITY);
        ids = new long[initial];
        expiryTicks = new long[initial];
        set = new LongHashSet(initial * 2);
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
            if (ids.length < capacity)
            {
                grow();
            }
            else
            {
                removeOldest();
                overflows++;
            }
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

    private void grow()
    {
        final int length = Math.min(capacity, ids.length * 2);
        final long[] newIds = new long[length];
        final long[] newExpiryTicks = new long[length];
        for (int i = 0; i < size; i++)
        {
            final int from = (head + i) % ids.length;
            newIds[i] = ids[from];
            newExpiryTicks[i] = expiryTicks[from];
        }
        ids = newIds;
        expiryTicks = newExpiryTicks;
        head = 0;
    }

    /**
     * @return entries the window holds before it must grow (or, at its capacity, drop the oldest).
     */
    int allocatedLength()
    {
        return ids.length;
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
