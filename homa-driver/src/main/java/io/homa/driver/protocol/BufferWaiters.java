package io.homa.driver.protocol;

/**
 * A socket's RPCs whose incoming message found no receive-pool space, kept for admission in SRPT order with O(1)
 * insert, O(1) remove and O(1) look-up of the shortest class.
 * <p>
 * A sorted list made every arrival and every departure O(n): a burst of forged first DATA packets queued tens of
 * thousands of waiters and one socket close took seconds. Waiters are instead grouped by length into classes,
 * sixteen to a power of two (a length's class is its bit length and the four bits below the top one), each an
 * intrusive FIFO through {@link Rpc#waiterPrev} / {@link Rpc#waiterNext}, with a bitmap of the classes in use. Admission walks the
 * classes shortest first, so it is SRPT to within a sixteenth of a power of two (an 850,000 B message never waits
 * behind a 900,000 B one; two within the same class, less than 6.25 % apart, go oldest first, which no choice of
 * lengths can turn into a linear scan, as a sorted insert could).
 */
final class BufferWaiters
{
    /** Sub-classes per power of two: lengths in one class differ by less than 6.25 %. */
    private static final int SUB_BITS = 4;
    static final int CLASSES = 32 << SUB_BITS;

    private final Rpc[] heads = new Rpc[CLASSES];
    private final Rpc[] tails = new Rpc[CLASSES];
    private final long[] inUse = new long[CLASSES / 64];
    private int size;

    /**
     * @param length a message length (at least 1).
     * @return its class: classes order lengths, shorter classes first.
     */
    static int classOf(final int length)
    {
        final int value = Math.max(1, length);
        final int bit = 31 - Integer.numberOfLeadingZeros(value);
        if (bit < SUB_BITS)
        {
            return value;
        }
        final int sub = (value >>> (bit - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        return ((bit - SUB_BITS + 1) << SUB_BITS) + sub;
    }

    int size()
    {
        return size;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    boolean contains(final Rpc rpc)
    {
        return rpc.waiterClass >= 0;
    }

    /**
     * Queues the RPC behind the others of its class ({@link Rpc#rxWaitLength} must be set).
     */
    void add(final Rpc rpc)
    {
        if (rpc.waiterClass >= 0)
        {
            return;
        }
        final int c = classOf(rpc.rxWaitLength);
        rpc.waiterClass = c;
        rpc.waiterNext = null;
        rpc.waiterPrev = tails[c];
        if (null == tails[c])
        {
            heads[c] = rpc;
            inUse[c >>> 6] |= 1L << c;
        }
        else
        {
            tails[c].waiterNext = rpc;
        }
        tails[c] = rpc;
        size++;
    }

    /**
     * Takes the RPC out, wherever it is; does nothing if it is not here.
     */
    void remove(final Rpc rpc)
    {
        final int c = rpc.waiterClass;
        if (c < 0)
        {
            return;
        }
        final Rpc prev = rpc.waiterPrev;
        final Rpc next = rpc.waiterNext;
        if (null == prev)
        {
            heads[c] = next;
        }
        else
        {
            prev.waiterNext = next;
        }
        if (null == next)
        {
            tails[c] = prev;
        }
        else
        {
            next.waiterPrev = prev;
        }
        if (null == heads[c])
        {
            inUse[c >>> 6] &= ~(1L << c);
        }
        rpc.waiterPrev = null;
        rpc.waiterNext = null;
        rpc.waiterClass = -1;
        size--;
    }

    /**
     * @return the oldest RPC of the shortest class, or null when none waits.
     */
    Rpc first()
    {
        return firstFrom(0);
    }

    /**
     * Walks in admission order: the RPC after this one, or null at the end. O(1) within a class, else at most one
     * bitmap look per 64 classes.
     */
    Rpc next(final Rpc rpc)
    {
        return null != rpc.waiterNext ? rpc.waiterNext : firstFrom(rpc.waiterClass + 1);
    }

    /**
     * @return the newest RPC of the longest class, or null when none waits: what a full list gives up first.
     */
    Rpc last()
    {
        for (int word = inUse.length - 1; word >= 0; word--)
        {
            final long bits = inUse[word];
            if (0 != bits)
            {
                return tails[(word << 6) + 63 - Long.numberOfLeadingZeros(bits)];
            }
        }
        return null;
    }

    private Rpc firstFrom(final int fromClass)
    {
        for (int word = fromClass >>> 6; word < inUse.length; word++)
        {
            long bits = inUse[word];
            if (word == fromClass >>> 6)
            {
                bits &= -1L << (fromClass & 63);
            }
            if (0 != bits)
            {
                return heads[(word << 6) + Long.numberOfTrailingZeros(bits)];
            }
        }
        return null;
    }
}
