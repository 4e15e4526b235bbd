package io.homa.driver.protocol;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.Iterator;

/**
 * Every peer this driver has exchanged packets with, by address. Idle peers are evicted as Linux does it (peer_gc):
 * a peer no RPC refers to goes once it has been idle for {@code idleMaxNs}, or already after {@code idleMinNs} while
 * the table holds more than {@code gcThreshold} peers, so state stays bounded however many peers come and go.
 */
final class PeerTable
{
    private final Long2ObjectHashMap<Peer> peers = new Long2ObjectHashMap<>();
    private long nowNs;
    private int maxPeers = Integer.MAX_VALUE;

    /**
     * @param maxPeers most peers that packets may add ({@link #lookupOrCreateForPacket}).
     */
    void maxPeers(final int maxPeers)
    {
        this.maxPeers = maxPeers;
    }

    /**
     * The peer a packet came from, added if new and the table has room.
     *
     * @return the peer, or null if it is new and the table holds {@code maxPeers} already (drop the packet).
     */
    Peer lookupOrCreateForPacket(final int ipv4, final int port)
    {
        final Peer peer = lookup(ipv4, port);
        if (null != peer || peers.size() >= maxPeers)
        {
            return peer;
        }
        return lookupOrCreate(ipv4, port);
    }

    /**
     * @param nowNs the time that lookups stamp on peers as their last activity.
     */
    void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    Peer lookupOrCreate(final int ipv4, final int port)
    {
        final long key = Peer.key(ipv4, port);
        Peer peer = peers.get(key);
        if (null == peer)
        {
            peer = new Peer(ipv4, port);
            peers.put(key, peer);
        }
        peer.lastActiveNs = nowNs;
        return peer;
    }

    Peer lookup(final int ipv4, final int port)
    {
        final Peer peer = peers.get(Peer.key(ipv4, port));
        if (null != peer)
        {
            peer.lastActiveNs = nowNs;
        }
        return peer;
    }

    int size()
    {
        return peers.size();
    }

    /**
     * Evicts idle peers nothing refers to any more.
     *
     * @param tick        current timer tick (expires remembered acks first).
     * @param gcThreshold above this many peers, {@code idleMinNs} applies instead of {@code idleMaxNs}.
     * @param idleMinNs   idle time after which a peer may go when the table is large.
     * @param idleMaxNs   idle time after which a peer always goes.
     * @return peers evicted.
     */
    int evictIdle(final long tick, final int gcThreshold, final long idleMinNs, final long idleMaxNs)
    {
        final long idleNs = peers.size() > gcThreshold ? idleMinNs : idleMaxNs;
        int evicted = 0;
        final Iterator<Peer> it = peers.values().iterator();
        while (it.hasNext())
        {
            final Peer peer = it.next();
            if (null != peer.recentAcks)
            {
                peer.recentAcks.expire(tick);
            }
            if (0 == peer.rpcCount && nowNs - peer.lastActiveNs >= idleNs &&
                (null == peer.recentAcks || peer.recentAcks.isEmpty()))
            {
                it.remove();
                evicted++;
            }
        }
        return evicted;
    }
}
