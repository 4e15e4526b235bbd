package io.homa.driver.protocol;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * Another Homa host as the transport sees it (UDP: IPv4 address and UDP port). Holds the server RPCs it started
 * here, keyed by id (server RPCs are keyed by client address and id, as in Linux) and the acks this host owes it.
 */
final class Peer
{
    static final int MAX_PENDING_ACKS = 5;

    final int ipv4;
    final int port;
    final Long2ObjectHashMap<Rpc> serverRpcs = new Long2ObjectHashMap<>();
    final long[] ackClientIds = new long[MAX_PENDING_ACKS];
    final int[] ackServerPorts = new int[MAX_PENDING_ACKS];
    int pendingAcks;
    /** RPCs (either side) that refer to this peer: a peer in use is never evicted. */
    int rpcCount;
    /** Pool bytes its requests reserve that nothing has earned yet ({@link IncomingLimits}). */
    long unearnedBytes;
    /** The timer tick of its last timer packet and how many went in that tick ({@link RpcTimer} per-peer cap). */
    long timerControlTick = -1;
    int timerControlSent;
    /** Last time a packet came from it or an RPC started towards it. */
    long lastActiveNs;
    /** Server RPCs of this peer that ran and ended recently; created on first use. */
    RecentAcks recentAcks;

    // Scheduling: the peer's unscheduled cutoffs as its CUTOFFS gave them (sender side), when we last sent it ours
    // (receiver side, rate limit), and how many of its messages are active for grants here.
    final int[] unschedCutoffs = new int[io.homa.codecs.HomaWire.HOMA_MAX_PRIORITIES];
    int cutoffVersion;
    long lastCutoffsSentNs = Long.MIN_VALUE / 2;
    int activeGrants;
    /** Its queued incoming messages by grant rank, and its slot among the peers ({@link GrantQueue}; -1: none). */
    RpcHeap grantQueue;
    int grantSlot = -1;

    Peer(final int ipv4, final int port)
    {
        this.ipv4 = ipv4;
        this.port = port;
        Priorities.initPeerCutoffs(unschedCutoffs);
    }

    static long key(final int ipv4, final int port)
    {
        return ((ipv4 & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    boolean isRecentlyAcked(final long serverId, final long tick)
    {
        if (null == recentAcks)
        {
            return false;
        }
        recentAcks.expire(tick);
        return recentAcks.contains(serverId);
    }

    public String toString()
    {
        return ((ipv4 >>> 24) & 0xFF) + "." + ((ipv4 >>> 16) & 0xFF) + "." + ((ipv4 >>> 8) & 0xFF) + "." +
            (ipv4 & 0xFF) + ":" + port;
    }
}
