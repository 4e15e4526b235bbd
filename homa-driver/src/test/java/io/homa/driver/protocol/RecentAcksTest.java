package io.homa.driver.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentAcksTest
{
    @Test
    void shouldStartSmallAndGrowOnlyAsEntriesArrive()
    {
        final RecentAcks acks = new RecentAcks(1024);
        assertEquals(RecentAcks.INITIAL_CAPACITY, acks.allocatedLength());
        acks.add(1, 100);
        assertEquals(RecentAcks.INITIAL_CAPACITY, acks.allocatedLength(), "one entry needs no more room");
        for (long id = 3; id < 2 * 40; id += 2)
        {
            acks.add(id, 100);
        }
        assertEquals(40, acks.size());
        assertEquals(64, acks.allocatedLength());
        assertEquals(0, acks.overflows());
        for (long id = 1; id < 2 * 40; id += 2)
        {
            assertTrue(acks.contains(id), "id " + id);
        }
    }

    @Test
    void shouldKeepOldestFirstExpiryAcrossAGrowthOfAWrappedWindow()
    {
        final RecentAcks acks = new RecentAcks(1024);
        // Wrap the ring: fill it, expire the first half, refill, then grow with the live entries out of place.
        for (int i = 0; i < RecentAcks.INITIAL_CAPACITY; i++)
        {
            acks.add(2 * i + 1, 10 + i);
        }
        acks.expire(13);
        assertEquals(RecentAcks.INITIAL_CAPACITY - 4, acks.size());
        for (int i = 0; i < 6; i++)
        {
            acks.add(1001 + 2 * i, 30 + i);
        }
        assertEquals(2 * RecentAcks.INITIAL_CAPACITY, acks.allocatedLength());
        assertFalse(acks.contains(1), "expired");
        assertTrue(acks.contains(9));
        acks.expire(18);
        assertEquals(6, acks.size(), "the first window's entries expire in their order, the new ones stay");
        assertFalse(acks.contains(15));
        assertTrue(acks.contains(1001));
        acks.expire(36);
        assertTrue(acks.isEmpty());
    }

    @Test
    void shouldDropTheOldestEntryOnlyAtFullCapacity()
    {
        final RecentAcks acks = new RecentAcks(20);
        for (long id = 1; id <= 2 * 25; id += 2)
        {
            acks.add(id, 100);
        }
        assertEquals(20, acks.allocatedLength(), "growth stops at the capacity");
        assertEquals(20, acks.size());
        assertEquals(5, acks.overflows());
        assertFalse(acks.contains(9), "the five oldest went early");
        assertTrue(acks.contains(11));
        assertTrue(acks.contains(49));
    }
}
