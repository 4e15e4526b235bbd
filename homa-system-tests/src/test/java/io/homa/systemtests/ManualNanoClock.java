package io.homa.systemtests;

import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;

/**
 * A driver clock that moves only when a test says so: with INVOKER mode, timer ticks (RESENDs, NEED_ACKs, timeouts)
 * happen exactly when the test advances it, so in-flight state can be inspected without racing the timer.
 */
final class ManualNanoClock implements NanoClock
{
    private volatile long nowNs = TimeUnit.SECONDS.toNanos(1);

    public long nanoTime()
    {
        return nowNs;
    }

    void advanceNs(final long ns)
    {
        nowNs += ns;
    }
}
