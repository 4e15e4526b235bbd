package io.homa.driver.protocol;

/**
 * Bounds on the state others can make the engine hold (HomaModule has none of these: a kernel trusts its
 * datacenter; a driver on a shared host or reachable by spoofed packets cannot). Each bound is counted when hit.
 *
 * @param unearnedBytesPerPeer   receive-pool bytes one peer's requests may reserve beyond what has arrived or our
 *                               scheduler granted (what a claimed {@code message_length} alone ties up); 0: a
 *                               quarter of the socket's pool.
 * @param unearnedBytesPerSocket the same for all peers of one socket together; 0: half of the socket's pool.
 * @param serverRpcsPerPeer      server RPCs one peer may have open; DATA that would open one more is dropped.
 * @param maxPeers               peers packets may add to the peer table (peers our own clients send to are always
 *                               added); packets from a new peer beyond it are dropped until idle peers go.
 * @param socketsPerClient       sockets one client may hold open.
 * @param socketsPerDriver       sockets all clients together may hold open.
 * @param timerControlPerPeerPerTick RESENDs, probes and NEED_ACKs the timer sends one peer in one tick.
 * @param waitingRpcsPerSocket   requests that may wait for pool space or unearned budget on one socket; beyond it
 *                               the longest waiting one is dropped for a shorter new one, else the new one is
 *                               (each waiter costs the timer a visit per tick, and spoofed peers are many).
 */
public record LimitSettings(
    long unearnedBytesPerPeer,
    long unearnedBytesPerSocket,
    int serverRpcsPerPeer,
    int maxPeers,
    int socketsPerClient,
    int socketsPerDriver,
    int timerControlPerPeerPerTick,
    int waitingRpcsPerSocket)
{
    /** Default requests waiting for pool space or budget per socket. */
    public static final int WAITING_RPCS_PER_SOCKET_DEFAULT = 4096;
    /** Default timer packets per peer per tick. */
    public static final int TIMER_CONTROL_PER_PEER_PER_TICK_DEFAULT = 64;
    /** Default server RPCs per peer. */
    public static final int SERVER_RPCS_PER_PEER_DEFAULT = 4096;
    /** Default peers that packets may create. */
    public static final int MAX_PEERS_DEFAULT = 65_536;
    /** Default sockets per client. */
    public static final int SOCKETS_PER_CLIENT_DEFAULT = 256;
    /** Default sockets per driver. */
    public static final int SOCKETS_PER_DRIVER_DEFAULT = 1024;

    /**
     * @return the defaults: the unearned budgets follow the pool length.
     */
    public static LimitSettings defaults()
    {
        return new LimitSettings(0, 0, SERVER_RPCS_PER_PEER_DEFAULT, MAX_PEERS_DEFAULT, SOCKETS_PER_CLIENT_DEFAULT,
            SOCKETS_PER_DRIVER_DEFAULT, TIMER_CONTROL_PER_PEER_PER_TICK_DEFAULT, WAITING_RPCS_PER_SOCKET_DEFAULT);
    }

    /**
     * @param poolLength a socket's receive-pool length.
     * @return the per-peer budget in bytes.
     */
    long unearnedBytesPerPeer(final long poolLength)
    {
        return unearnedBytesPerPeer > 0 ? unearnedBytesPerPeer : poolLength / 4;
    }

    /**
     * @param poolLength a socket's receive-pool length.
     * @return the per-socket budget in bytes.
     */
    long unearnedBytesPerSocket(final long poolLength)
    {
        return unearnedBytesPerSocket > 0 ? unearnedBytesPerSocket : poolLength / 2;
    }

    /**
     * @return the settings themselves, checked.
     * @throws IllegalArgumentException naming the first bound that is not positive.
     */
    public LimitSettings validate()
    {
        if (unearnedBytesPerPeer < 0 || unearnedBytesPerSocket < 0)
        {
            throw new IllegalArgumentException("unearned byte limits must be >= 0 (0: follow the pool length)");
        }
        if (serverRpcsPerPeer <= 0 || maxPeers <= 0 || socketsPerClient <= 0 || socketsPerDriver <= 0 ||
            timerControlPerPeerPerTick <= 0 || waitingRpcsPerSocket <= 0)
        {
            throw new IllegalArgumentException("RPC, peer, socket, timer-packet and waiting-RPC limits must be > 0");
        }
        return this;
    }
}
