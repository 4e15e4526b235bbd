package io.homa.client;

import java.util.List;

/**
 * The live RPCs of a driver (all ports, or one), as {@link Homa#rpcInfo(int)} returns them. Like Linux's
 * {@code HOMAIOCINFO} with a full buffer, a snapshot holds as many RPCs as fit one answer from the driver (about
 * 1,450 with the default 1 MiB broadcast buffer) and says how many there were.
 *
 * @param port           the port asked for, or 0 for all.
 * @param totalRpcs      RPCs that matched; more than {@code rpcs().size()} when they did not all fit.
 * @param poolAvailBytes free receive-pool bytes of the socket on {@code port}; -1 for all ports or when no socket
 *                       has that port (Linux {@code bpool_avail_bytes}).
 * @param rpcs           the RPCs, client RPCs first, each group in no particular order.
 */
public record RpcInfoSnapshot(int port, int totalRpcs, long poolAvailBytes, List<RpcInfo> rpcs)
{
    /**
     * @param port           the port asked for, or 0 for all.
     * @param totalRpcs      RPCs that matched.
     * @param poolAvailBytes free receive-pool bytes of the socket on the port, or -1.
     * @param rpcs           the RPCs (copied).
     */
    public RpcInfoSnapshot
    {
        rpcs = List.copyOf(rpcs);
    }

    /**
     * @return true if the driver had more RPCs than fit.
     */
    public boolean isTruncated()
    {
        return totalRpcs > rpcs.size();
    }
}
