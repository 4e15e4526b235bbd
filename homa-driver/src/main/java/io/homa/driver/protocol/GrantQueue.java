package io.homa.driver.protocol;

/**
 * The managed incoming messages that are not active, for the {@link GrantScheduler}, kept so that each of its
 * questions costs O(1) or O(log n) however many wait (Linux keeps per-peer grantable lists and a list of peers by
 * their best message for the same reason):
 * <ul>
 *   <li>each peer's queued messages are in its own heap by grant rank ({@link Peer#grantQueue});</li>
 *   <li>the peers with queued messages are in a heap by (active messages, rank of their best queued message), so
 *   the message to promote into a free slot (a peer with fewest active, then best rank) is the top peer's
 *   top;</li>
 *   <li>for FIFO grants each queued message that could take one sits in a heap by birth, one heap per
 *   "up to how many active messages it qualifies": the limit on unused grants shrinks as more are active, so the
 *   oldest eligible message is the oldest of at most {@code MAX_ACTIVE + 1} heap tops.</li>
 * </ul>
 * A message's rank here is (bytes left when it was queued or last re-ranked, birth): data that arrived since then
 * counts once the scheduler re-ranks it, as the sorted list this replaces counted it once it re-inserted it.
 */
final class GrantQueue
{
    private final int[] unusedLimits;
    private final RpcHeap[] fifoClasses = new RpcHeap[GrantScheduler.MAX_ACTIVE + 1];
    private final PeerHeap peers = new PeerHeap();
    private int size;

    /**
     * @param unusedLimits for each number of active messages (0..MAX_ACTIVE), the granted-but-unreceived bytes
     *                     at or above which a message gets no FIFO grant; must not increase with the number.
     */
    GrantQueue(final int[] unusedLimits)
    {
        this.unusedLimits = unusedLimits.clone();
        for (int i = 0; i < fifoClasses.length; i++)
        {
            fifoClasses[i] = new RpcHeap(true);
        }
    }

    int size()
    {
        return size;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    static boolean contains(final Rpc rpc)
    {
        return rpc.rx.queueSlot >= 0;
    }

    /**
     * Queues a message, ranked by its bytes left now.
     */
    void add(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        if (null == peer.grantQueue)
        {
            peer.grantQueue = new RpcHeap(false);
        }
        rpc.rx.queuedRemaining = rpc.rx.bytesRemaining();
        peer.grantQueue.add(rpc);
        size++;
        placePeer(peer);
        updateFifo(rpc);
    }

    /**
     * Takes the message out if it is queued.
     */
    void remove(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        if (rx.queueSlot < 0)
        {
            return;
        }
        final Peer peer = rpc.peer;
        peer.grantQueue.remove(rpc);
        size--;
        placePeer(peer);
        if (rx.fifoClass >= 0)
        {
            fifoClasses[rx.fifoClass].remove(rpc);
            rx.fifoClass = -1;
        }
    }

    /**
     * Ranks a queued message by its bytes left now.
     *
     * @return true if it is now its peer's best queued message.
     */
    boolean reRank(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        rpc.rx.queuedRemaining = rpc.rx.bytesRemaining();
        peer.grantQueue.update(rpc);
        placePeer(peer);
        return peer.grantQueue.top() == rpc;
    }

    /**
     * The peer's count of active messages changed: move it among the peers.
     */
    void onActiveGrantsChanged(final Peer peer)
    {
        if (peers.contains(peer))
        {
            peers.update(peer);
        }
    }

    /**
     * @return the message to promote into a free slot: of a peer with fewest active messages, the best ranked.
     */
    Rpc best()
    {
        final Peer top = peers.top();
        return null == top ? null : top.grantQueue.top();
    }

    /**
     * Re-files a queued message for FIFO grants after its granted or unreceived-granted bytes changed.
     */
    void updateFifo(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        int fifoClass = -1;
        if (rx.granted < rx.length())
        {
            while (fifoClass < GrantScheduler.MAX_ACTIVE && rx.recIncoming < unusedLimits[fifoClass + 1])
            {
                fifoClass++;
            }
        }
        if (fifoClass != rx.fifoClass)
        {
            if (rx.fifoClass >= 0)
            {
                fifoClasses[rx.fifoClass].remove(rpc);
            }
            rx.fifoClass = fifoClass;
            if (fifoClass >= 0)
            {
                fifoClasses[fifoClass].add(rpc);
            }
        }
    }

    /**
     * @param numActive active messages now (selects the limit on unused grants).
     * @return the oldest queued message not fully granted whose unreceived-granted bytes are under the limit.
     */
    Rpc oldest(final int numActive)
    {
        Rpc oldest = null;
        for (int i = numActive; i <= GrantScheduler.MAX_ACTIVE; i++)
        {
            final Rpc top = fifoClasses[i].top();
            if (null != top && (null == oldest || top.rx.birth < oldest.rx.birth))
            {
                oldest = top;
            }
        }
        return oldest;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The heap of peers.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Peers with queued messages: fewest active messages first, then the best rank of their queued ones.
     */
    private static final class PeerHeap extends IndexedHeap<Peer>
    {
        PeerHeap()
        {
            super(16);
        }

        boolean before(final Peer a, final Peer b)
        {
            if (a.activeGrants != b.activeGrants)
            {
                return a.activeGrants < b.activeGrants;
            }
            return RpcHeap.ranksBefore(a.grantQueue.top(), b.grantQueue.top());
        }

        int slotOf(final Peer peer)
        {
            return peer.grantSlot;
        }

        void setSlot(final Peer peer, final int slot)
        {
            peer.grantSlot = slot;
        }
    }

    private void placePeer(final Peer peer)
    {
        final boolean hasQueued = !peer.grantQueue.isEmpty();
        if (!peers.contains(peer))
        {
            if (hasQueued)
            {
                peers.add(peer);
            }
        }
        else if (!hasQueued)
        {
            peers.remove(peer);
        }
        else
        {
            peers.update(peer);
        }
    }
}
