package io.homa.driver.protocol;

/**
 * An {@link IndexedHeap} of incoming messages for the {@link GrantQueue}: either by grant rank (the bytes left as of
 * the message's last place in the queue, ties to the older), its slot in {@link IncomingMessage#queueSlot}, or by
 * birth, its slot in {@link IncomingMessage#fifoSlot}.
 */
final class RpcHeap extends IndexedHeap<Rpc>
{
    private final boolean byBirth;

    /**
     * @param byBirth order by birth (oldest first) instead of by grant rank.
     */
    RpcHeap(final boolean byBirth)
    {
        super(8);
        this.byBirth = byBirth;
    }

    /**
     * True if {@code a} comes before {@code b} in grant rank: fewer bytes left as last ranked, or as many and older.
     */
    static boolean ranksBefore(final Rpc a, final Rpc b)
    {
        final int left = a.rx.queuedRemaining;
        final int otherLeft = b.rx.queuedRemaining;
        return left < otherLeft || (left == otherLeft && a.rx.birth < b.rx.birth);
    }

    boolean before(final Rpc a, final Rpc b)
    {
        return byBirth ? a.rx.birth < b.rx.birth : ranksBefore(a, b);
    }

    int slotOf(final Rpc rpc)
    {
        return byBirth ? rpc.rx.fifoSlot : rpc.rx.queueSlot;
    }

    void setSlot(final Rpc rpc, final int slot)
    {
        if (byBirth)
        {
            rpc.rx.fifoSlot = slot;
        }
        else
        {
            rpc.rx.queueSlot = slot;
        }
    }
}
