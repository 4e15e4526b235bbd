package io.homa.driver;

import io.homa.driver.net.Epoll;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The wake idle strategy's poll budget on a driven clock. Sleeps are real epoll waits, bounded by a deadline 1 ms
 * ahead, so a test that sleeps when it should not fails by count, not by time.
 */
class WakeupIdleStrategyTest
{
    private static final long POLL_NS = 50_000;

    private final CachedNanoClock clock = new CachedNanoClock();
    private final Epoll epoll = new Epoll();
    private final WakeupIdleStrategy idle = new WakeupIdleStrategy(POLL_NS);

    @AfterEach
    void close()
    {
        epoll.close();
    }

    private void wire()
    {
        clock.update(1_000_000_000L);
        idle.wire(clock, epoll, null, null, () -> false, () -> clock.nanoTime() + 1_000_000L);
    }

    @Test
    void shouldPollAfterWorkAndSleepOnceTheBudgetIsSpent()
    {
        wire();
        idle.idle(1);
        clock.advance(POLL_NS / 2);
        idle.idle(0);
        assertEquals(0, idle.sleeps(), "within the budget after work: polls");

        clock.advance(POLL_NS);
        idle.idle(0);
        assertEquals(1, idle.sleeps(), "budget spent: sleeps");
    }

    @Test
    void shouldStartThePollBudgetWhenAClientCycleFoundWork()
    {
        wire();
        clock.advance(10 * POLL_NS);
        idle.idle(0);
        assertEquals(1, idle.sleeps(), "idle for long: sleeps");

        // A client's poll ran the cycle while this thread slept and found the arrival that woke it.
        idle.workElsewhere();
        clock.advance(POLL_NS / 2);
        idle.idle(0);
        assertEquals(1, idle.sleeps(), "work done elsewhere starts the budget: polls instead of sleeping again");

        clock.advance(POLL_NS);
        idle.idle(0);
        assertEquals(2, idle.sleeps(), "that budget spent too: sleeps");
    }
}
