package io.homa.client.internal;

import org.agrona.BitUtil;

import java.util.Arrays;

/**
 * Contiguous blocks of a power-of-two region, handed out and taken back in any order (a binary buddy system).
 * <p>
 * Used by the driver for the receive pool (a message is read in place, so its bytes must be contiguous) and by a
 * client for its send region. All state is preallocated: {@link #allocate(int)} and {@link #free(int)} never
 * allocate and run in O(log(region / minBlock)). Not thread-safe: each region has exactly one allocating owner,
 * and blocks come back to that owner through a ring.
 */
public final class BuddyAllocator
{
    private static final byte NONE = -1;

    private final int minBlockShift;
    private final int maxOrder;
    private final int[] freeHead;
    private final int[] next;
    private final int[] prev;
    private final byte[] orderOf;
    private final boolean[] isFree;
    private long freeBytes;

    /**
     * @param regionLength   length of the region, a power of two.
     * @param minBlockLength smallest block, a power of two no larger than the region.
     */
    public BuddyAllocator(final int regionLength, final int minBlockLength)
    {
        if (!BitUtil.isPowerOfTwo(regionLength) || !BitUtil.isPowerOfTwo(minBlockLength) ||
            minBlockLength > regionLength)
        {
            throw new IllegalArgumentException(
                "region and min block must be powers of two, min <= region: " + regionLength + ", " + minBlockLength);
        }

        minBlockShift = Integer.numberOfTrailingZeros(minBlockLength);
        maxOrder = Integer.numberOfTrailingZeros(regionLength) - minBlockShift;
        final int blocks = regionLength >>> minBlockShift;
        freeHead = new int[maxOrder + 1];
        next = new int[blocks];
        prev = new int[blocks];
        orderOf = new byte[blocks];
        isFree = new boolean[blocks];
        Arrays.fill(freeHead, -1);
        Arrays.fill(orderOf, NONE);
        push(0, maxOrder);
        freeBytes = regionLength;
    }

    /**
     * @param length bytes wanted (1 or more).
     * @return the offset of a block of at least {@code length} bytes, or -1 when no such block is free.
     */
    public int allocate(final int length)
    {
        if (length <= 0)
        {
            return -1;
        }

        final int order = orderFor(length);
        if (order > maxOrder)
        {
            return -1;
        }

        int found = order;
        while (found <= maxOrder && -1 == freeHead[found])
        {
            found++;
        }
        if (found > maxOrder)
        {
            return -1;
        }

        final int index = freeHead[found];
        unlink(index, found);
        while (found > order)
        {
            found--;
            push(index + (1 << found), found);
        }

        orderOf[index] = (byte)order;
        isFree[index] = false;
        freeBytes -= (long)blockLength(order);
        return index << minBlockShift;
    }

    /**
     * Gives a block back.
     *
     * @param offset an offset {@link #allocate(int)} returned and that was not freed since.
     * @throws IllegalArgumentException if the offset is not an allocated block: a double free or a stray offset.
     */
    public void free(final int offset)
    {
        final int index = offset >>> minBlockShift;
        if (offset < 0 || index >= orderOf.length || (index << minBlockShift) != offset ||
            NONE == orderOf[index] || isFree[index])
        {
            throw new IllegalArgumentException("not an allocated block: offset=" + offset);
        }

        int order = orderOf[index];
        int block = index;
        freeBytes += blockLength(order);
        orderOf[index] = NONE;
        while (order < maxOrder)
        {
            final int buddy = block ^ (1 << order);
            if (!isFree[buddy] || orderOf[buddy] != order)
            {
                break;
            }
            unlink(buddy, order);
            orderOf[buddy] = NONE;
            isFree[buddy] = false;
            block = Math.min(block, buddy);
            order++;
        }
        push(block, order);
    }

    /**
     * @param offset an allocated block's offset.
     * @return the block's length in bytes (a power of two), or -1 if the offset is not an allocated block.
     */
    public int blockLengthAt(final int offset)
    {
        final int index = offset >>> minBlockShift;
        if (offset < 0 || index >= orderOf.length || NONE == orderOf[index] || isFree[index])
        {
            return -1;
        }
        return blockLength(orderOf[index]);
    }

    /**
     * @return bytes not in any allocated block.
     */
    public long freeBytes()
    {
        return freeBytes;
    }

    /**
     * @return the region length.
     */
    public int regionLength()
    {
        return orderOf.length << minBlockShift;
    }

    private int orderFor(final int length)
    {
        final int blocks = ((length - 1) >>> minBlockShift) + 1;
        return 32 - Integer.numberOfLeadingZeros(blocks - 1);
    }

    private int blockLength(final int order)
    {
        return 1 << (order + minBlockShift);
    }

    private void push(final int index, final int order)
    {
        final int head = freeHead[order];
        next[index] = head;
        prev[index] = -1;
        if (-1 != head)
        {
            prev[head] = index;
        }
        freeHead[order] = index;
        orderOf[index] = (byte)order;
        isFree[index] = true;
    }

    private void unlink(final int index, final int order)
    {
        final int n = next[index];
        final int p = prev[index];
        if (-1 != p)
        {
            next[p] = n;
        }
        else
        {
            freeHead[order] = n;
        }
        if (-1 != n)
        {
            prev[n] = p;
        }
        isFree[index] = false;
    }
}
