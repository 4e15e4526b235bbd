package io.homa.client.internal;

/**
 * Decides whether a waiting thread should spend its poll budget ({@code homa.poll.duration}) yielding on the CPU or
 * go to sleep in the kernel at once. Internal: used by the client's waits and the driver's idle strategy.
 * <p>
 * Polling pays off only while cores are free. When other runnable threads hold them, a {@code sched_yield} hands
 * the CPU to one of them for the rest of its slice (milliseconds), and a packet that arrives meanwhile waits for
 * that slice to end; a thread asleep in {@code epoll} or on a futex is instead run as soon as it is woken, ahead of
 * those threads (the scheduler favours woken sleepers). Measured with three CPU burners on 2 cores (load average
 * 5, {@code bin/kv}): p50 3.2-3.8 ms while polling by yielding, 136-165 µs when sleeping at once. So a yield that
 * comes back late marks the thread's CPU as contended, and for a while afterwards the thread skips its poll budget
 * and sleeps at once; once the contention is forgotten it polls again, paying at most one late yield per memory.
 * <p>
 * One instance per waiting role (a driver thread, a socket); not thread-safe, and need not be: a lost update only
 * moves the end of the memory.
 */
public final class PollContention
{
    /** A yield slower than this found another thread running on our CPU (an uncontended one takes 1-2 µs). */
    public static final long SLOW_YIELD_NS = 50_000;
    /** How long a slow yield keeps the poll budget off. */
    public static final long MEMORY_NS = 200_000_000;

    private final java.util.function.LongSupplier clock;
    private final Runnable yielder;
    private long contendedUntilNs;
    private long slowYields;

    /**
     * On the system clock, yielding with {@link Thread#yield()}.
     */
    public PollContention()
    {
        this(System::nanoTime, Thread::yield);
    }

    /**
     * @param clock   nanosecond clock.
     * @param yielder gives up the CPU once (a test drives both).
     */
    public PollContention(final java.util.function.LongSupplier clock, final Runnable yielder)
    {
        this.clock = clock;
        this.yielder = yielder;
        contendedUntilNs = clock.getAsLong() - 1;
    }

    /**
     * @return true while a recent yield came back late: sleep instead of polling.
     */
    public boolean isContended()
    {
        return clock.getAsLong() - contendedUntilNs < 0;
    }

    /**
     * One step of the poll budget: gives the CPU to a thread with work, and notes contention if that took long.
     */
    public void yieldOnce()
    {
        final long startNs = clock.getAsLong();
        yielder.run();
        final long endNs = clock.getAsLong();
        if (endNs - startNs > SLOW_YIELD_NS)
        {
            contendedUntilNs = endNs + MEMORY_NS;
            slowYields++;
        }
    }

    /**
     * @return yields that came back late (diagnostics).
     */
    public long slowYields()
    {
        return slowYields;
    }
}
