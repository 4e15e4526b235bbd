package io.homa.driver.protocol;

/**
 * RPCs whose message or error is ready but whose socket's event ring was full: each duty cycle retries them.
 * An intrusive list through {@link Rpc#deliveryPrev} / {@link Rpc#deliveryNext}, so taking one off (delivered,
 * aborted, its socket closed) is O(1) however many wait, and nothing is allocated.
 */
final class PendingDeliveries
{
    private Rpc head;
    private Rpc tail;
    private int size;

    int size()
    {
        return size;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    /**
     * Appends the RPC ({@link Rpc#isDeliveryPending} says whether it is on the list; the caller keeps it).
     */
    void add(final Rpc rpc)
    {
        rpc.deliveryNext = null;
        rpc.deliveryPrev = tail;
        if (null == tail)
        {
            head = rpc;
        }
        else
        {
            tail.deliveryNext = rpc;
        }
        tail = rpc;
        size++;
    }

    void remove(final Rpc rpc)
    {
        final Rpc prev = rpc.deliveryPrev;
        final Rpc next = rpc.deliveryNext;
        if (null == prev)
        {
            head = next;
        }
        else
        {
            prev.deliveryNext = next;
        }
        if (null == next)
        {
            tail = prev;
        }
        else
        {
            next.deliveryPrev = prev;
        }
        rpc.deliveryPrev = null;
        rpc.deliveryNext = null;
        size--;
    }

    /**
     * @return the oldest, or null.
     */
    Rpc first()
    {
        return head;
    }

    /**
     * @return the one after {@code rpc} (read it before delivering {@code rpc}, which takes it off), or null.
     */
    static Rpc next(final Rpc rpc)
    {
        return rpc.deliveryNext;
    }
}
