package io.homa.sim;

import io.homa.codecs.HomaWire;
import org.agrona.collections.Long2LongHashMap;

/**
 * The best time a message can take on the idle network, the denominator of its slowdown: its DATA packets (cut as
 * the engine cuts them: full MTU payloads, none straddling the unscheduled limit) pushed back to back through the
 * path's links, store and forward, each link serialising at its rate and adding its latency. A request-and-echo
 * counts both ways. Memoised by size and path kind (same rack or not).
 */
final class Unloaded
{
    private final Network network;
    private final int maxPayload;
    private final int unschedBytes;
    private final boolean isEcho;
    private final Long2LongHashMap cache = new Long2LongHashMap(-1);

    Unloaded(final Network network)
    {
        this.network = network;
        final SimSettings s = network.settings;
        maxPayload = s.mtu - Packet.IP_UDP_OVERHEAD - HomaWire.DATA_HEADER_LENGTH;
        unschedBytes = s.unschedBytes;
        isEcho = s.isEcho;
    }

    /**
     * @param size message bytes.
     * @param src  sending host.
     * @param dst  receiving host.
     * @return ns on an idle network.
     */
    long ns(final int size, final int src, final int dst)
    {
        final boolean sameRack = network.rackOf(src) == network.rackOf(dst);
        final long key = ((long)size << 1) | (sameRack ? 0 : 1);
        long ns = cache.get(key);
        if (ns < 0)
        {
            final long oneWay = oneWayNs(size, network.path(src, dst));
            ns = isEcho ? 2 * oneWay : oneWay;
            cache.put(key, ns);
        }
        return ns;
    }

    long oneWayNs(final int size, final long[][] path)
    {
        final long[] linkFreeNs = new long[path.length];
        long arrivalNs = 0;
        int start = 0;
        while (start < size)
        {
            int end = Math.min(start + maxPayload, size);
            if (start < unschedBytes && end > unschedBytes)
            {
                end = unschedBytes;
            }
            final int wireBytes = end - start + HomaWire.DATA_HEADER_LENGTH + Packet.IP_UDP_OVERHEAD +
                Packet.ETHERNET_OVERHEAD;
            long readyNs = 0;
            for (int link = 0; link < path.length; link++)
            {
                final long startNs = Math.max(readyNs, linkFreeNs[link]);
                linkFreeNs[link] = startNs + Network.serialisationNs(wireBytes, path[link][0]);
                readyNs = linkFreeNs[link] + path[link][1];
            }
            arrivalNs = readyNs;
            start = end;
        }
        return arrivalNs;
    }

    /**
     * @param size message bytes.
     * @return bytes its DATA packets take on the wire, all headers included.
     */
    int wireBytes(final int size)
    {
        int bytes = 0;
        int start = 0;
        while (start < size)
        {
            int end = Math.min(start + maxPayload, size);
            if (start < unschedBytes && end > unschedBytes)
            {
                end = unschedBytes;
            }
            bytes += end - start + HomaWire.DATA_HEADER_LENGTH + Packet.IP_UDP_OVERHEAD + Packet.ETHERNET_OVERHEAD;
            start = end;
        }
        return bytes;
    }
}
