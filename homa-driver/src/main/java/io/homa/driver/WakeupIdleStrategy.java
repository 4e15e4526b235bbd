package io.homa.driver;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.driver.net.Epoll;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.IdleStrategy;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The driver's default idle strategy ({@code wake}): after work it polls for the poll duration (Linux's
 * {@code poll_usecs}, 50 µs), then sleeps in the kernel ({@code epoll}) on everything that can give its thread
 * work: the transport's sockets, the CnC's wake-up FIFO that clients ring after a command, the eventfd that other
 * driver threads ring after handing over work, and a timeout at the thread's next deadline (the RPC timer's tick
 * only while RPCs need it, the heartbeat otherwise). So a packet or command reaching an idle driver wakes it at
 * once, as an interrupt wakes Linux, and an idle driver costs almost nothing.
 * <p>
 * Before sleeping it raises its flags (the CnC word clients read, its own {@link Doorbell}) and then looks once more
 * for work it may have missed; producers publish first and read the flag second, so no wake-up is lost.
 * <p>
 * Built unwired from the alias; {@link MediaDriver} wires it to its thread's descriptors, probes and deadlines.
 * Unwired (or used elsewhere) it only polls and yields.
 */
public final class WakeupIdleStrategy implements IdleStrategy
{
    /** Longest sleep when no deadline says otherwise. */
    static final long MAX_SLEEP_NS = 1_000_000_000L;
    /** Shortest sleep while a client drives (it serves the deadlines then; this only backs it up). */
    static final long DRIVEN_MIN_SLEEP_NS = 1_000_000L;

    private final long pollNs;
    private Epoll epoll;
    private Doorbell doorbell;
    private AtomicBuffer cncMetaData;
    private BooleanSupplier hasWork = () -> false;
    private LongSupplier nextDeadlineNs = () -> Long.MAX_VALUE;
    private BooleanSupplier isDrivenElsewhere = () -> false;
    private org.agrona.concurrent.NanoClock clock = System::nanoTime;
    private long lastWorkNs = System.nanoTime();
    private long sleeps;
    private final io.homa.client.internal.PollContention contention = new io.homa.client.internal.PollContention();
    private volatile boolean isClosing;
    private volatile boolean isSleeping;
    private volatile long sleepDeadlineNs;
    /** When a client thread's one-off cycle ({@link DirectDrive#tryDutyCycle}) last found work. */
    private volatile long workElsewhereNs = Long.MIN_VALUE / 2;

    /**
     * @param pollNs how long to poll after work before sleeping.
     */
    public WakeupIdleStrategy(final long pollNs)
    {
        this.pollNs = pollNs;
    }

    /**
     * @return the poll duration in ns.
     */
    public long pollNs()
    {
        return pollNs;
    }

    /**
     * @return how many times the thread went to sleep in the kernel.
     */
    public long sleeps()
    {
        return sleeps;
    }

    void wire(
        final org.agrona.concurrent.NanoClock clock,
        final Epoll epoll,
        final Doorbell doorbell,
        final AtomicBuffer cncMetaData,
        final BooleanSupplier hasWork,
        final LongSupplier nextDeadlineNs)
    {
        this.clock = clock;
        this.lastWorkNs = clock.nanoTime();
        this.epoll = epoll;
        this.doorbell = doorbell;
        this.cncMetaData = cncMetaData;
        this.hasWork = hasWork;
        this.nextDeadlineNs = nextDeadlineNs;
    }

    /**
     * While {@code isDrivenElsewhere} holds, a client thread runs this thread's cycle and watches its sockets and
     * FIFO (taken out of this thread's set meanwhile, see {@link DirectDrive}): this thread then sleeps on its
     * doorbell and deadline only, with no poll budget, so it neither races the client for packets nor for a core.
     */
    void drivenBy(final BooleanSupplier isDrivenElsewhere)
    {
        this.isDrivenElsewhere = isDrivenElsewhere;
    }

    /**
     * A client thread's poll ran this thread's cycle while it slept and found work (see
     * {@link DirectDrive#tryDutyCycle}): that starts this thread's poll budget as its own work would. Without it a
     * busy poll loop in the application did every cycle itself and the driver thread, woken by each arrival the
     * client had already taken, found nothing and slept again, once per RPC: a futex hand-off of the lock and a
     * wake-up on every round trip (15-21 K sleeps per 25 K ping-pongs in {@code bin/demo}).
     */
    void workElsewhere()
    {
        workElsewhereNs = clock.nanoTime();
    }

    /**
     * @return the set this thread sleeps on (null until wired).
     */
    Epoll epoll()
    {
        return epoll;
    }

    /**
     * Counts a thread that reads the to-driver ring as asleep on the CnC FIFO (see
     * {@link CncFileDescriptor#DRIVER_SLEEPING_OFFSET}), with the fence that orders it before the sleeper's last
     * look at the ring.
     */
    static void countSleeper(final AtomicBuffer cncMetaData)
    {
        cncMetaData.getAndAddInt(CncFileDescriptor.DRIVER_SLEEPING_OFFSET, 1);
        java.lang.invoke.VarHandle.fullFence();
    }

    /**
     * Takes an awake thread out of the count and clears the rung bit, so the next command rings again.
     */
    static void uncountSleeper(final AtomicBuffer cncMetaData)
    {
        while (true)
        {
            final int word = cncMetaData.getIntVolatile(CncFileDescriptor.DRIVER_SLEEPING_OFFSET);
            final int count = Math.max(0, (word & CncFileDescriptor.SLEEPERS_MASK) - 1);
            if (cncMetaData.compareAndSetInt(CncFileDescriptor.DRIVER_SLEEPING_OFFSET, word, count))
            {
                return;
            }
        }
    }

    /**
     * The driver is closing: never sleep again, and wake now if asleep.
     */
    void closing()
    {
        isClosing = true;
        if (null != doorbell)
        {
            Epoll.signal(doorbell.eventFd());
        }
    }

    /**
     * Wakes the thread if it sleeps (it then runs a duty cycle).
     */
    void wake()
    {
        if (null != doorbell)
        {
            Epoll.signal(doorbell.eventFd());
        }
    }

    /**
     * @return true while the thread sleeps in the kernel.
     */
    boolean isSleeping()
    {
        return isSleeping;
    }

    /**
     * @return when the current (or last) sleep ends at the latest, on the strategy's clock.
     */
    long sleepDeadlineNs()
    {
        return sleepDeadlineNs;
    }

    boolean isWired()
    {
        return null != epoll;
    }

    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            lastWorkNs = clock.nanoTime();
            return;
        }
        idle();
    }

    public void idle()
    {
        final long nowNs = clock.nanoTime();
        if (null != epoll && !isClosing && isDrivenElsewhere.getAsBoolean())
        {
            sleepWhileDriven(nowNs);
            return;
        }
        if (null == epoll || isClosing)
        {
            Thread.yield();
            return;
        }
        if ((nowNs - lastWorkNs < pollNs || nowNs - workElsewhereNs < pollNs) && !contention.isContended())
        {
            // The poll budget: stay on the CPU, give it up to a thread that has work (2 cores, several threads),
            // unless other threads hold the cores: then a sleep is woken sooner than a yield comes back.
            contention.yieldOnce();
            return;
        }
        final long timeoutNs = Math.min(nextDeadlineNs.getAsLong() - nowNs, MAX_SLEEP_NS);
        if (timeoutNs <= 0)
        {
            // A deadline is due and the cycle did not serve it: a client thread holds the driver (direct drive)
            // and may be waiting for this very core. Spinning here without yielding kept such a preempted holder
            // off the CPU for a whole scheduler slice (1-5 ms each, seen with perf sched on 2 cores).
            Thread.yield();
            return;
        }
        boolean slept = false;
        raiseFlags();
        try
        {
            if (!hasWork.getAsBoolean() && !isClosing)
            {
                sleeps++;
                sleepDeadlineNs = nowNs + timeoutNs;
                isSleeping = true;
                slept = true;
                try
                {
                    epoll.await(timeoutNs);
                }
                finally
                {
                    isSleeping = false;
                }
            }
        }
        finally
        {
            lowerFlags();
        }
        if (!slept)
        {
            // Work waits that this cycle did not do: the client thread that holds the driver will (same reason).
            Thread.yield();
        }
    }

    /**
     * A client thread drives: sleep on the doorbell (rung when it lets go and this thread is needed) until the
     * next deadline, never in a busy loop on a deadline the client is about to serve. Afterwards no poll budget:
     * the client just ran the cycle, and a cycle of ours that finds work starts one.
     */
    private void sleepWhileDriven(final long nowNs)
    {
        final long timeoutNs = Math.min(
            Math.max(nextDeadlineNs.getAsLong() - nowNs, DRIVEN_MIN_SLEEP_NS), MAX_SLEEP_NS);
        sleepDeadlineNs = nowNs + timeoutNs;
        isSleeping = true;
        // isSleeping before the second look at isDrivenElsewhere; the client clears that before it reads
        // isSleeping (DirectDrive.release): either it sees us asleep or we see it gone.
        java.lang.invoke.VarHandle.fullFence();
        try
        {
            if (isDrivenElsewhere.getAsBoolean() && !isClosing)
            {
                sleeps++;
                epoll.await(timeoutNs);
            }
        }
        finally
        {
            isSleeping = false;
        }
        lastWorkNs = clock.nanoTime() - pollNs;
    }

    private void raiseFlags()
    {
        if (null != doorbell)
        {
            doorbell.sleeping(true);
        }
        if (null != cncMetaData)
        {
            countSleeper(cncMetaData);
        }
        // The volatile stores above come before the probe's volatile loads: the Dekker half on this side.
        java.lang.invoke.VarHandle.fullFence();
    }

    private void lowerFlags()
    {
        if (null != cncMetaData)
        {
            uncountSleeper(cncMetaData);
        }
        if (null != doorbell)
        {
            doorbell.sleeping(false);
        }
    }

    public void reset()
    {
        lastWorkNs = clock.nanoTime();
    }

    public String toString()
    {
        return "WakeupIdleStrategy{pollNs=" + pollNs + '}';
    }

    /**
     * How one driver thread wakes another that may sleep: the producer publishes, then {@link #ring()}s; the ring
     * costs a fence and a read unless the consumer sleeps, and then one {@code write} to its eventfd.
     */
    static final class Doorbell implements AutoCloseable
    {
        private static final java.lang.invoke.VarHandle SLEEPING;

        static
        {
            try
            {
                SLEEPING = java.lang.invoke.MethodHandles.lookup().findVarHandle(Doorbell.class, "sleeping", int.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        private final int eventFd = Epoll.eventFd();
        @SuppressWarnings("unused")
        private volatile int sleeping;

        int eventFd()
        {
            return eventFd;
        }

        void sleeping(final boolean isSleeping)
        {
            sleeping = isSleeping ? 1 : 0;
        }

        /**
         * Wakes the consumer if it sleeps. Call after publishing the work it will find.
         */
        void ring()
        {
            java.lang.invoke.VarHandle.fullFence();
            if (0 != sleeping && SLEEPING.compareAndSet(this, 1, 0))
            {
                Epoll.signal(eventFd);
            }
        }

        public void close()
        {
            Epoll.closeFd(eventFd);
        }
    }
}
