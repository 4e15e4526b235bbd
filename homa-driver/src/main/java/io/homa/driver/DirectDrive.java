package io.homa.driver;

import io.homa.client.internal.DirectDriver;
import io.homa.driver.net.Epoll;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AtomicBuffer;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Lets client threads of this JVM run a SHARED-mode driver's duty cycle (see {@link DirectDriver}). The driver's
 * thread runs the same agent through {@link #lockedAgent()}: whoever holds the lock runs the cycle, so the engine
 * stays single-threaded. A client thread that drives ({@link #driveUntil}) polls for the poll duration and then
 * sleeps on an epoll set of its own over the same descriptors (the transport's sockets, the CnC FIFO); meanwhile
 * those descriptors leave the driver thread's set, and that thread sleeps on its doorbell only, so one arrival
 * wakes one thread (the one waiting for it) and the idle driver thread takes no core from the client. When the
 * client lets go the descriptors go back (no wake-up: a sleeping thread just watches them again) and the driver
 * thread is rung only if work or an earlier deadline came meanwhile.
 */
final class DirectDrive implements DirectDriver, AutoCloseable
{
    /** How long the driver thread waits, parked, for a client thread's one-off cycle before it looks again. */
    static final long HELD_WAIT_NS = 50_000;

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
    private final int[] handedFds;
    private final long pollNs;
    /** Only the lock holder polls: one memory of contention for every client thread that drives. */
    private final io.homa.client.internal.PollContention contention = new io.homa.client.internal.PollContention();
    private volatile boolean isClosed;
    /** Test seam: a pause in the middle of the next hand-back, as a preemption there would make (0 = none). */
    private volatile long handBackPauseNs;
    private volatile boolean isDriven;
    private volatile org.agrona.ErrorHandler fatalErrorHandler;

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
        pollNs = driverIdle.pollNs();
        handedFds = java.util.Arrays.copyOf(fds, fds.length + 1);
        handedFds[fds.length] = wakeFifoFd;
        driverIdle.drivenBy(() -> isDriven);
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
                if (!lock.tryLock())
                {
                    if (isDriven)
                    {
                        // A client thread drives: it does this thread's work (and its idle sleeps, driven).
                        return 0;
                    }
                    // A client thread runs one cycle (a send to a sleeping driver) or is handing the driver over:
                    // let it finish, off the CPU it may need (on 2 cores a polling driver thread kept a preempted
                    // holder off it for milliseconds), but not queued on the lock: a queued waiter is unparked by
                    // every unlock, and in a back-to-back key-value loop that woke this thread once per RPC.
                    java.util.concurrent.locks.LockSupport.parkNanos(HELD_WAIT_NS);
                    if (!lock.tryLock())
                    {
                        return 0;
                    }
                }
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
     * @param handler what an {@link Error} in a cycle run by a client thread goes to, as one escaping the driver's
     *                own agent would (recorded in the CnC, the driver closed): never the client's thread.
     */
    void fatalErrorHandler(final org.agrona.ErrorHandler handler)
    {
        fatalErrorHandler = handler;
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
            if (isClosed)
            {
                return -1;
            }
            final int work = cycle();
            if (work > 0)
            {
                driverIdle.workElsewhere();
            }
            return work;
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
        takeOver();
        try
        {
            long lastWorkNs = System.nanoTime();
            while (!isClosed)
            {
                final int work = cycle();
                if (done.getAsBoolean())
                {
                    return true;
                }
                final long nowNs = System.nanoTime();
                if (deadlineNs - nowNs <= 0)
                {
                    return true;
                }
                if (work > 0)
                {
                    lastWorkNs = nowNs;
                }
                else if (nowNs - lastWorkNs < pollNs && !contention.isContended())
                {
                    // The poll budget, as the driver thread's: stay on the CPU, yielding to threads with work,
                    // unless the cores are contended (see PollContention).
                    contention.yieldOnce();
                }
                else
                {
                    final long timeoutNs = Math.min(deadlineNs, nextDeadlineNs.getAsLong()) - nowNs;
                    if (timeoutNs > 0)
                    {
                        sleep(timeoutNs);
                    }
                }
            }
            return !isClosed;
        }
        finally
        {
            handBack();
            release();
        }
    }

    /**
     * This thread now watches the sockets and FIFO: out of the driver thread's set, so an arrival wakes only us.
     * The descriptors leave the set before {@code isDriven} is raised, and come back only after it is lowered
     * ({@link #handBack}): a driver thread that sees itself driven must never find a socket in its set, or its
     * sleep on the doorbell returns at once, over and over (measured: 1.6-2.1 million empty wake-ups in a 15 s
     * W4 run at half load, the spinning thread keeping the client thread that would lower the flag off a core for
     * milliseconds; RTT p99 5-7 ms against 1 ms without direct drive).
     */
    private void takeOver()
    {
        final Epoll driverEpoll = driverIdle.epoll();
        for (final int fd : handedFds)
        {
            driverEpoll.unwatch(fd);
        }
        isDriven = true;
    }

    /**
     * The descriptors back into the driver thread's set (it wakes at once if one is readable); first the flag, so
     * that thread, woken by a readable socket, waits for the lock (parked) instead of sleeping as driven on a set
     * that is no longer empty (see {@link #takeOver}).
     */
    private void handBack()
    {
        isDriven = false;
        pauseForTest();
        final Epoll driverEpoll = driverIdle.epoll();
        for (final int fd : handedFds)
        {
            driverEpoll.watch(fd);
        }
    }

    /**
     * Test seam: the next hand-back stops half way for this long, on the client thread, as if it lost its core
     * there (see {@link MediaDriver#pauseNextHandBackOnce}).
     *
     * @param durationNs how long.
     */
    void pauseNextHandBackOnce(final long durationNs)
    {
        handBackPauseNs = durationNs;
    }

    private void pauseForTest()
    {
        final long pauseNs = handBackPauseNs;
        if (pauseNs > 0)
        {
            handBackPauseNs = 0;
            final long endNs = System.nanoTime() + pauseNs;
            for (long leftNs = pauseNs; leftNs > 0; leftNs = endNs - System.nanoTime())
            {
                java.util.concurrent.locks.LockSupport.parkNanos(leftNs);
            }
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
        catch (final Error ex)
        {
            final org.agrona.ErrorHandler fatal = fatalErrorHandler;
            if (null == fatal)
            {
                throw ex;
            }
            // The driver ends (on its own closer thread); the client learns why from the CnC.
            fatal.onError(ex);
            return 0;
        }
    }

    /**
     * Sleeps as the driver thread would, the CnC flag raised so that clients ring the FIFO we also watch.
     */
    private void sleep(final long timeoutNs)
    {
        WakeupIdleStrategy.countSleeper(cncMetaData);
        try
        {
            if (!hasWork.getAsBoolean() && !isClosed)
            {
                epoll.await(Math.min(timeoutNs, WakeupIdleStrategy.MAX_SLEEP_NS));
            }
        }
        finally
        {
            WakeupIdleStrategy.uncountSleeper(cncMetaData);
        }
    }

    /**
     * Lets go of the driver; its own thread, if asleep, wakes to look at deadlines and work that came meanwhile
     * (its sleep was timed before this thread changed what the engine holds).
     */
    private void release()
    {
        lock.unlock();
        // isDriven cleared (handBack) before isSleeping is read: see WakeupIdleStrategy.sleepWhileDriven.
        java.lang.invoke.VarHandle.fullFence();
        // A deadline is worth a wake-up only if the driver thread's sleep would miss it by more than the driven
        // sleep's floor: it sleeps at least that long while driven, so with the timer ticking every millisecond
        // the test without the slack held after nearly every drive, and the woken thread, finding the client
        // back on the lock, spun in it (about 37 % of the CPU of a back-to-back key-value loop).
        if (driverIdle.isSleeping() && (hasWork.getAsBoolean() ||
            nextDeadlineNs.getAsLong() - driverIdle.sleepDeadlineNs() < -WakeupIdleStrategy.DRIVEN_MIN_SLEEP_NS))
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
