package io.homa.driver.protocol;

/**
 * How much of a receive pool requests that nobody vouched for may hold: a first DATA packet claims a
 * {@code message_length} and, until the grant scheduler chooses the message, that claim is all there is. Each
 * request's "unearned" bytes are those its pool block reserves that have neither arrived nor been granted beyond the
 * unscheduled part; their sum is kept per peer and per socket, and a request whose first packet would push either
 * over its budget waits without a block, as a request that finds the pool full does (Linux section 2.9), until
 * budget frees; waiting, it counts silence and times out like any other RPC. A request that fits in its first
 * packet needs no budget, so short requests are never held up by long forged ones.
 * <p>
 * Delivery stays contiguous (one block per message, as {@code MessageHandler} promises): the budget bounds what
 * claims can reserve instead of moving to segmented, Linux-style bpages.
 */
final class IncomingLimits
{
    private final LimitSettings settings;
    private final EngineMetrics metrics;

    IncomingLimits(final LimitSettings settings, final EngineMetrics metrics)
    {
        this.settings = settings;
        this.metrics = metrics;
    }

    LimitSettings settings()
    {
        return settings;
    }

    /**
     * @return true if the peer may open one more server RPC; false (counted) if it is at its limit.
     */
    boolean admitsServerRpc(final Peer peer)
    {
        if (peer.serverRpcs.size() < settings.serverRpcsPerPeer())
        {
            return true;
        }
        metrics.peerRpcLimitDrops.incrementRelease();
        return false;
    }

    /**
     * @param rpc      a server RPC about to reserve its request's block.
     * @param unearned bytes of the block nothing has earned yet: the message less what has arrived.
     * @return true if the peer's and the socket's budgets have room for it; false (counted) if it must wait.
     */
    boolean admitsReservation(final Rpc rpc, final int unearned)
    {
        if (fits(rpc, unearned))
        {
            return true;
        }
        metrics.unearnedLimitWaits.incrementRelease();
        return false;
    }

    /**
     * {@link #admitsReservation} without counting: for RPCs already waiting.
     */
    boolean fits(final Rpc rpc, final int unearned)
    {
        if (unearned <= 0 || rpc.isClient())
        {
            return true;
        }
        final DriverSocket socket = rpc.socket;
        final long poolLength = socket.poolAllocator.regionLength();
        // A budget that holds nothing admits any one request, however long: a message longer than the budget
        // (a small pool) must still get in, one at a time.
        final long peerHeld = rpc.peer.unearnedBytes;
        final long socketHeld = socket.unearnedBytes;
        return (0 == peerHeld || peerHeld + unearned <= settings.unearnedBytesPerPeer(poolLength)) &&
            (0 == socketHeld || socketHeld + unearned <= settings.unearnedBytesPerSocket(poolLength));
    }

    /**
     * Brings a server RPC's unearned bytes up to date: after a block is reserved, after DATA arrives, after grants.
     *
     * @param rpc          the RPC.
     * @param unscheduled  bytes its sender may send without grants.
     */
    void update(final Rpc rpc, final int unscheduled)
    {
        if (rpc.isClient() || !rpc.rx.isInitialised())
        {
            return;
        }
        final IncomingMessage rx = rpc.rx;
        int earned = rx.received();
        if (rx.granted > unscheduled)
        {
            earned = Math.max(earned, rx.granted);
        }
        change(rpc, Math.max(0, rx.length() - earned));
    }

    /**
     * The RPC's block is freed or handed to the application: nothing of it is unearned any more.
     */
    void release(final Rpc rpc)
    {
        if (0 != rpc.unearnedBytes)
        {
            change(rpc, 0);
        }
    }

    private void change(final Rpc rpc, final int unearned)
    {
        final int delta = unearned - rpc.unearnedBytes;
        if (0 != delta)
        {
            rpc.unearnedBytes = unearned;
            rpc.peer.unearnedBytes += delta;
            final DriverSocket socket = rpc.socket;
            socket.unearnedBytes += delta;
            if (delta < 0 && !socket.bufferWaiters.isEmpty())
            {
                // Budget freed: let the next duty cycle look at the waiters even if the pool itself did not change.
                socket.poolFreeBytesSeen = -1;
            }
        }
    }
}
