package io.homa.driver;

import io.homa.client.CncFileDescriptor;
import io.homa.client.DirectDriver;
import io.homa.driver.net.Epoll;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AtomicBuffer;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Lets client threads of this JVM run a SHARED-mode driver's duty cycle (see {@link DirectDriver}). The driver's
 * thread runs the same agent through {@link #lockedAgent()}: whoever holds the lock runs the cycle, so the engine
 * stays single-threaded. A client thread that drives sleeps on an epoll set of its own over the same descriptors
 * (the transport's sockets, the CnC FIFO, the driver thread's doorbell); when it lets go it rings the driver's
 * thread if that thread sleeps, so it looks again at its deadline and at work that came meanwhile.
 */
final class DirectDrive implements DirectDriver, AutoCloseable
{
    private final Agent agent;
    private final WakeupIdleStrategy driverIdle;
    private final Epoll epoll;
    private final AtomicBuffer cncMetaData;
    private final BooleanSupplier hasWork;
    private final LongSupplier nextDeadlineNs;
    private final ReentrantLock lock = new ReentrantLock();
    private final int stopFd = Epoll.eventFd();
    private final org.agrona.ErrorHandler errorHandler;
    private final Agent lockedAgent;
    private volatile boolean isClosed;

    DirectDrive(
        final Agent agent,
        final WakeupIdleStrategy driverIdle,
        final int[] fds,
        final int wakeFifoFd,
        final AtomicBuffer cncMetaData,
        final BooleanSupplier hasWork,
        final LongSupplier nextDeadlineNs,
        final org.agrona.ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        this.agent = agent;
        this.driverIdle = driverIdle;
        this.cncMetaData = cncMetaData;
        this.hasWork = hasWork;
        this.nextDeadlineNs = nextDeadlineNs;
        epoll = new Epoll();
        for (final int fd : fds)
        {
            epoll.watch(fd);
        }
        epoll.watchWakeup(wakeFifoFd);
        // Rung on close, so a client that drives and sleeps lets go at once.
        epoll.watchWakeup(stopFd);
        lockedAgent = new Agent()
        {
            public void onStart()
            {
                agent.onStart();
            }

            public int doWork() throws Exception
            {
                lock.lock();
                try
                {
                    return isClosed ? 0 : agent.doWork();
                }
                finally
                {
                    lock.unlock();
                }
            }

            public void onClose()
            {
                agent.onClose();
            }

            public String roleName()
            {
                return agent.roleName();
            }
        };
    }

    /**
     * @return the agent the driver's thread runs: the same cycle, under the lock.
     */
    Agent lockedAgent()
    {
        return lockedAgent;
    }

    public boolean isDriverAsleep()
    {
        return driverIdle.isSleeping();
    }

    public int tryDutyCycle()
    {
        if (isClosed || !lock.tryLock())
        {
            return -1;
        }
        try
        {
            return isClosed ? -1 : cycle();
        }
        finally
        {
            release();
        }
    }

    public boolean driveUntil(final BooleanSupplier done, final long deadlineNs)
    {
        if (isClosed || !lock.tryLock())
        {
            return false;
        }
        try
        {
            while (!isClosed)
            {
                final int work = cycle();
                if (done.getAsBoolean())
                {
                    return true;
                }
                final long nowNs = System.nanoTime();
                final long timeoutNs = Math.min(deadlineNs, nextDeadlineNs.getAsLong()) - nowNs;
                if (deadlineNs - nowNs <= 0)
                {
                    return true;
                }
                if (0 == work && timeoutNs > 0)
                {
                    sleep(timeoutNs);
                }
            }
            return !isClosed;
        }
        finally
        {
            release();
        }
    }

    private int cycle()
    {
        try
        {
            return agent.doWork();
        }
        catch (final Exception ex)
        {
            // As the agent runner does: the driver's error log, never the client's thread.
            errorHandler.onError(ex);
            return 0;
        }
    }

    /**
     * Sleeps as the driver thread would, the CnC flag raised so that clients ring the FIFO we also watch.
     */
    private void sleep(final long timeoutNs)
    {
        cncMetaData.putIntVolatile(CncFileDescriptor.DRIVER_SLEEPING_OFFSET, 1);
        java.lang.invoke.VarHandle.fullFence();
        try
        {
            if (!hasWork.getAsBoolean() && !isClosed)
            {
                epoll.await(Math.min(timeoutNs, WakeupIdleStrategy.MAX_SLEEP_NS));
            }
        }
        finally
        {
            cncMetaData.putIntRelease(CncFileDescriptor.DRIVER_SLEEPING_OFFSET, 0);
        }
    }

    /**
     * Lets go of the driver; its own thread, if asleep, wakes to look at deadlines and work that came meanwhile
     * (its sleep was timed before this thread changed what the engine holds).
     */
    private void release()
    {
        lock.unlock();
        if (driverIdle.isSleeping() &&
            (hasWork.getAsBoolean() || nextDeadlineNs.getAsLong() - driverIdle.sleepDeadlineNs() < 0))
        {
            driverIdle.wake();
        }
    }

    /**
     * Stops direct driving for good (before the agents close): waits for a driving client to let go.
     */
    public void close()
    {
        if (isClosed)
        {
            return;
        }
        isClosed = true;
        Epoll.signal(stopFd);
        lock.lock();
        try
        {
            isClosed = true;
        }
        finally
        {
            lock.unlock();
        }
        epoll.close();
        Epoll.closeFd(stopFd);
    }
}
