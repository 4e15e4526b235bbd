package io.homa.driver.transport;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Gives IPv6 addresses the 32-bit peer keys the engine and the control protocol know peers by, so IPv6 needs no
 * change above the transport. Keys are 1, 2, 3, … in order of first sight: all inside 0.0.0.0/8, which is never a
 * valid unicast destination, so a key can never be mistaken for an IPv4 peer. A key is never reused (the table only
 * grows; when full, new addresses get none).
 * <p>
 * key → address is an array read; address → key an open-addressing table (linear probing, at most half full) of
 * keys whose addresses sit in the same arrays as two longs. Nothing allocates after construction.
 * <p>
 * Threads: lookups never lock and may run on any thread (sender: key → address; receiver: source → key). New keys
 * are made under the table's monitor (the receiver for an unknown source, the conductor for a client's request):
 * the address is written before its key is published with a release store, so a lookup that finds the key also
 * sees the address.
 */
final class Ipv6AddressTable
{
    /** Most keys a driver hands out by default. */
    public static final int DEFAULT_CAPACITY = 65_536;
    /** The largest key: 0.255.255.255. */
    public static final int MAX_KEY = 0x00FF_FFFF;

    private final int capacity;
    private final long[] highs;
    private final long[] lows;
    private final AtomicIntegerArray slots;
    private final int mask;
    private volatile int size;

    /**
     * @param capacity most addresses the table names, 1..{@link #MAX_KEY}.
     */
    public Ipv6AddressTable(final int capacity)
    {
        if (capacity < 1 || capacity > MAX_KEY)
        {
            throw new IllegalArgumentException("capacity must be in 1.." + MAX_KEY + ": " + capacity);
        }
        this.capacity = capacity;
        highs = new long[capacity + 1];
        lows = new long[capacity + 1];
        final int slotCount = Integer.highestOneBit(capacity) << 2;
        slots = new AtomicIntegerArray(slotCount);
        mask = slotCount - 1;
    }

    /**
     * The key of an address, without making one.
     *
     * @param high first eight bytes of the address.
     * @param low  last eight bytes.
     * @return its key, or 0 if it has none.
     */
    public int lookup(final long high, final long low)
    {
        int slot = hash(high, low) & mask;
        while (true)
        {
            final int key = slots.getAcquire(slot);
            if (0 == key)
            {
                return 0;
            }
            if (highs[key] == high && lows[key] == low)
            {
                return key;
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * The key of an address, made if it has none yet.
     *
     * @param high first eight bytes of the address.
     * @param low  last eight bytes.
     * @return its key, or 0 when the table is full.
     */
    public int intern(final long high, final long low)
    {
        final int key = lookup(high, low);
        return 0 != key ? key : internLocked(high, low);
    }

    private synchronized int internLocked(final long high, final long low)
    {
        // Another thread may have made it since the lock-free look.
        int slot = hash(high, low) & mask;
        int key;
        while (0 != (key = slots.get(slot)))
        {
            if (highs[key] == high && lows[key] == low)
            {
                return key;
            }
            slot = (slot + 1) & mask;
        }
        if (size >= capacity)
        {
            return 0;
        }
        key = size + 1;
        highs[key] = high;
        lows[key] = low;
        size = key;
        slots.setRelease(slot, key);
        return key;
    }

    /**
     * @param peer a peer as the engine names it.
     * @return true if it is a key this table handed out.
     */
    public boolean isKey(final int peer)
    {
        return peer > 0 && peer <= size;
    }

    /**
     * @param key a key ({@link #isKey(int)}).
     * @return the first eight bytes of its address.
     */
    public long high(final int key)
    {
        return highs[key];
    }

    /**
     * @param key a key ({@link #isKey(int)}).
     * @return the last eight bytes of its address.
     */
    public long low(final int key)
    {
        return lows[key];
    }

    /**
     * @return keys handed out.
     */
    public int size()
    {
        return size;
    }

    /**
     * @return most keys the table hands out.
     */
    public int capacity()
    {
        return capacity;
    }

    private static int hash(final long high, final long low)
    {
        long h = high * 0x9E37_79B9_7F4A_7C15L + low;
        h *= 0xC2B2_AE3D_27D4_EB4FL;
        return (int)(h ^ (h >>> 29) ^ (h >>> 47));
    }
}
