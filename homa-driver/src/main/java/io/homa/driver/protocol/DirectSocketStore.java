package io.homa.driver.protocol;

import org.agrona.BufferUtil;

import java.nio.ByteBuffer;

/**
 * Socket memory as direct buffers in this process, for engines whose applications live in the same JVM (the
 * simulator, tests): no file, nothing to delete.
 */
public final class DirectSocketStore implements SocketStore
{
    /**
     * {@inheritDoc}
     */
    public ByteBuffer create(final long socketId, final long lengthBytes)
    {
        if (lengthBytes > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("socket memory over 2 GiB: " + lengthBytes);
        }
        return BufferUtil.allocateDirectAligned((int)lengthBytes, 64);
    }

    /**
     * {@inheritDoc}
     */
    public void release(final long socketId, final ByteBuffer memory)
    {
        // An aligned slice cannot be freed by hand: the collector frees it with its last reference.
    }
}
