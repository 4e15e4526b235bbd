package io.homa.client;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The client's half of liveness when it has a thread for it: a daemon thread that, every keepalive interval,
 * tells the driver the client is alive, checks the driver's heartbeat, and keeps up with the to-clients
 * broadcast. It only writes to the to-driver ring and reads shared memory, so it is safe beside an application
 * that drives an INVOKER-mode driver itself.
 */
final class KeepaliveThread implements AutoCloseable
{
    private final Homa homa;
    private final long intervalNs;
    private final Thread thread;
    private volatile boolean running = true;

    KeepaliveThread(final Homa homa, final long intervalNs)
    {
        this.homa = homa;
        this.intervalNs = intervalNs;
        thread = new Thread(this::run, "homa-client-keepalive-" + homa.clientId());
        thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    private void run()
    {
        while (running)
        {
            try
            {
                homa.serviceKeepalive(System.nanoTime());
            }
            catch (final RuntimeException ex)
            {
                // Never let the thread die: the next call of the application reports the state.
            }
            LockSupport.parkNanos(intervalNs);
        }
    }

    public void close()
    {
        running = false;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(TimeUnit.NANOSECONDS.toMillis(intervalNs) + 1_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
