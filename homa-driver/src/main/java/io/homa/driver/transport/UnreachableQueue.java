package io.homa.driver.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Peers found unreachable on the sending side (a send the kernel refused, a peer the transport cannot address),
 * queued for {@link PacketTransport#pollUnreachable} on the receiving side: one producer thread and one consumer
 * thread, which differ when the sender and receiver agents have threads of their own. Bounded, allocation-free;
 * a report that does not fit is dropped (the next failed send reports the peer again).
 */
final class UnreachableQueue
{
    private final long[] entries;
    private final int mask;
    private final AtomicLong head = new AtomicLong();
    private final AtomicLong tail = new AtomicLong();

    /**
     * @param capacity reports held, a power of two.
     */
    UnreachableQueue(final int capacity)
    {
        if (Integer.bitCount(capacity) != 1)
        {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        entries = new long[capacity];
        mask = capacity - 1;
    }

    /**
     * Producer side.
     *
     * @param peer      the peer.
     * @param errorCode what its RPCs fail with.
     * @return false if the queue was full and the report dropped.
     */
    boolean offer(final int peer, final int errorCode)
    {
        final long t = tail.get();
        if (t - head.getAcquire() >= entries.length)
        {
            return false;
        }
        entries[(int)t & mask] = (long)peer << 32 | (errorCode & 0xFFFF_FFFFL);
        tail.setRelease(t + 1);
        return true;
    }

    /**
     * Consumer side: hands every queued report to the handler (transport port 0, every Homa port).
     *
     * @param handler told about each.
     * @return reports handled.
     */
    int drain(final PacketTransport.UnreachableHandler handler)
    {
        final long h = head.get();
        final long t = tail.getAcquire();
        for (long i = h; i < t; i++)
        {
            final long entry = entries[(int)i & mask];
            handler.onUnreachable((int)(entry >>> 32), 0, 0, (int)entry);
        }
        head.setRelease(t);
        return (int)(t - h);
    }
}
