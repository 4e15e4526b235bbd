package io.homa.driver.protocol;

/**
 * Messages that received data since the {@link GrantScheduler}'s last decision, in arrival order: an intrusive
 * list through {@link IncomingMessage#pendingPrev} / {@link IncomingMessage#pendingNext}, so a message that ends
 * before its decision leaves it in O(1) however many wait ({@link IncomingMessage#isGrantCheckPending} says
 * whether it is on the list).
 */
final class PendingGrantChecks
{
    private Rpc head;
    private Rpc tail;
    private int size;

    int size()
    {
        return size;
    }

    /**
     * @return the earliest, or null.
     */
    Rpc first()
    {
        return head;
    }

    void add(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        rx.isGrantCheckPending = true;
        rx.pendingNext = null;
        rx.pendingPrev = tail;
        if (null == tail)
        {
            head = rpc;
        }
        else
        {
            tail.rx.pendingNext = rpc;
        }
        tail = rpc;
        size++;
    }

    void remove(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        final Rpc prev = rx.pendingPrev;
        final Rpc next = rx.pendingNext;
        if (null == prev)
        {
            head = next;
        }
        else
        {
            prev.rx.pendingNext = next;
        }
        if (null == next)
        {
            tail = prev;
        }
        else
        {
            next.rx.pendingPrev = prev;
        }
        rx.pendingPrev = null;
        rx.pendingNext = null;
        rx.isGrantCheckPending = false;
        size--;
    }
}
