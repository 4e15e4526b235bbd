package io.homa.driver.protocol;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * Every peer this driver has exchanged packets with, by address. Eviction of idle peers comes with loss recovery.
 */
final class PeerTable
{
    private final Long2ObjectHashMap<Peer> peers = new Long2ObjectHashMap<>();

    Peer lookupOrCreate(final int ipv4, final int port)
    {
        final long key = Peer.key(ipv4, port);
        Peer peer = peers.get(key);
        if (null == peer)
        {
            peer = new Peer(ipv4, port);
            peers.put(key, peer);
        }
        return peer;
    }

    Peer lookup(final int ipv4, final int port)
    {
        return peers.get(Peer.key(ipv4, port));
    }

    int size()
    {
        return peers.size();
    }
}
