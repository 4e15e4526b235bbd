package io.homa.client.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PollContentionTest
{
    private long nowNs = 1_000_000_000L;
    private long yieldTakesNs;

    private PollContention contention()
    {
        return new PollContention(() -> nowNs, () -> nowNs += yieldTakesNs);
    }

    @Test
    void shouldKeepPollingWhileYieldsComeBackQuickly()
    {
        final PollContention contention = contention();
        yieldTakesNs = 2_000;
        for (int i = 0; i < 1_000; i++)
        {
            assertFalse(contention.isContended());
            contention.yieldOnce();
        }
        assertEquals(0, contention.slowYields());
    }

    @Test
    void shouldSleepAtOnceForAWhileAfterAYieldLostTheCpu()
    {
        final PollContention contention = contention();
        yieldTakesNs = 3_000_000;
        contention.yieldOnce();
        assertEquals(1, contention.slowYields());
        assertTrue(contention.isContended());

        nowNs += PollContention.MEMORY_NS - 1;
        assertTrue(contention.isContended(), "still within the memory");
        nowNs += 1;
        assertFalse(contention.isContended(), "forgotten: poll again");
    }

    @Test
    void shouldTreatAYieldAtTheThresholdAsUncontended()
    {
        final PollContention contention = contention();
        yieldTakesNs = PollContention.SLOW_YIELD_NS;
        contention.yieldOnce();
        assertFalse(contention.isContended());
        yieldTakesNs = PollContention.SLOW_YIELD_NS + 1;
        contention.yieldOnce();
        assertTrue(contention.isContended());
    }
}
