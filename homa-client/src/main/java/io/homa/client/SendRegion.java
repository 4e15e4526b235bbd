package io.homa.client;

import io.homa.client.internal.BuddyAllocator;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A socket's send region as the client sees it: the client allocates blocks (under the socket's send lock, so
 * many application threads may send) and the driver hands them back through the release ring once the message
 * they hold is done with; the allocator takes the returns, under the same lock, whenever it looks for room.
 */
final class SendRegion
{
    /** Returned by the allocation methods once the region is closed. */
    static final int CLOSED = -2;

    private final UnsafeBuffer buffer;
    private final BuddyAllocator allocator;
    private final RingBuffer releaseRing;
    private final ReentrantLock lock = new ReentrantLock();
    private final MessageHandler releaseHandler = this::onRelease;
    private boolean isClosed;

    SendRegion(final UnsafeBuffer buffer, final int minBlockLength, final RingBuffer releaseRing)
    {
        this.buffer = buffer;
        this.allocator = new BuddyAllocator(buffer.capacity(), minBlockLength);
        this.releaseRing = releaseRing;
    }

    /**
     * @return the mapped region.
     */
    UnsafeBuffer buffer()
    {
        return buffer;
    }

    /**
     * Takes the driver's returns, then a block for {@code length} bytes.
     *
     * @param length bytes wanted.
     * @return offset of the block, -1 if the region has no room now, {@link #CLOSED} once closed.
     */
    int tryAllocate(final int length)
    {
        lock.lock();
        try
        {
            if (isClosed)
            {
                return CLOSED;
            }
            releaseRing.read(releaseHandler, Integer.MAX_VALUE);
            return allocator.allocate(length);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Allocates a block and copies the message into it, under the lock so a concurrent close cannot unmap the
     * region halfway.
     *
     * @param source where the message is.
     * @param offset where it starts.
     * @param length its length.
     * @return offset of the block, -1 if the region has no room now, {@link #CLOSED} once closed.
     */
    int tryCopy(final DirectBuffer source, final int offset, final int length)
    {
        lock.lock();
        try
        {
            final int blockOffset = tryAllocate(length);
            if (blockOffset >= 0)
            {
                buffer.putBytes(blockOffset, source, offset, length);
            }
            return blockOffset;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * No allocation succeeds after this (the caller unmaps the region next).
     */
    void close()
    {
        lock.lock();
        try
        {
            isClosed = true;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Gives back a block the driver was never told about.
     *
     * @param offset the block.
     */
    void free(final int offset)
    {
        lock.lock();
        try
        {
            allocator.free(offset);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * @return bytes free now (returns not yet taken are not counted).
     */
    long freeBytes()
    {
        lock.lock();
        try
        {
            return allocator.freeBytes();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * @return bytes free once the driver's returns so far are taken.
     */
    long freeBytesAfterReturns()
    {
        lock.lock();
        try
        {
            if (!isClosed)
            {
                releaseRing.read(releaseHandler, Integer.MAX_VALUE);
            }
            return allocator.freeBytes();
        }
        finally
        {
            lock.unlock();
        }
    }

    private void onRelease(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        allocator.free(buffer.getInt(index));
    }
}
