package io.homa.driver.protocol;

import java.util.concurrent.TimeUnit;

/**
 * Loss-recovery, at-most-once and peer-eviction settings of the engine, with Linux's defaults.
 *
 * @param resendTicks       silent ticks before the first RESEND (Linux resend_ticks).
 * @param resendInterval    ticks between RESENDs after that (Linux resend_interval).
 * @param timeoutTicks      silent ticks before an RPC is aborted (Linux timeout_ticks).
 * @param recentAckTicks    ticks a server remembers the id of an RPC that ran and ended (at-most-once).
 * @param recentAcksPerPeer most ids remembered per peer.
 * @param peerGcThreshold   above this many peers, idle ones go after {@code peerIdleMinNs} (Linux peer_gc_threshold).
 * @param peerIdleMinNs     idle time after which an unused peer may be evicted (Linux peer_idle_secs_min).
 * @param peerIdleMaxNs     idle time after which an unused peer is always evicted (Linux peer_idle_secs_max).
 */
public record RecoverySettings(
    int resendTicks,
    int resendInterval,
    int timeoutTicks,
    int recentAckTicks,
    int recentAcksPerPeer,
    int peerGcThreshold,
    long peerIdleMinNs,
    long peerIdleMaxNs,
    int needAckIntervalTicks)
{
    /**
     * @return Linux's defaults.
     */
    public static RecoverySettings defaults()
    {
        return new RecoverySettings(5, 5, 100, 200, 1024, 5000, TimeUnit.SECONDS.toNanos(10),
            TimeUnit.SECONDS.toNanos(120), 1);
    }
}
