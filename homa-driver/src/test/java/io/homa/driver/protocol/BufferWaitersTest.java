package io.homa.driver.protocol;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferWaitersTest
{
    private static Rpc waiting(final int length)
    {
        final Rpc rpc = new Rpc();
        rpc.rxWaitLength = length;
        return rpc;
    }

    private static List<Rpc> inOrder(final BufferWaiters waiters)
    {
        final List<Rpc> order = new ArrayList<>();
        for (Rpc rpc = waiters.first(); null != rpc; rpc = waiters.next(rpc))
        {
            order.add(rpc);
        }
        return order;
    }

    @Test
    void shouldOrderClassesByLengthAndKeepEachClassWithinASixteenthOfAPowerOfTwo()
    {
        int previous = 0;
        for (int length = 1; length > 0 && length < Integer.MAX_VALUE / 2; length += 1 + length / 7)
        {
            final int c = BufferWaiters.classOf(length);
            assertTrue(c >= previous, "class of " + length);
            assertTrue(c < BufferWaiters.CLASSES, "class of " + length);
            previous = c;
        }
        assertEquals(BufferWaiters.classOf(300_000), BufferWaiters.classOf(305_000));
        assertTrue(BufferWaiters.classOf(300_000) < BufferWaiters.classOf(320_000));
        assertTrue(BufferWaiters.classOf(850_000) < BufferWaiters.classOf(900_000));
        assertTrue(BufferWaiters.classOf(999_999) < BufferWaiters.classOf(1_400_000));
        assertTrue(BufferWaiters.classOf(Integer.MAX_VALUE) < BufferWaiters.CLASSES);
    }

    @Test
    void shouldAdmitShortestClassFirstAndOldestFirstWithinAClass()
    {
        final BufferWaiters waiters = new BufferWaiters();
        final Rpc big = waiting(1_000_000);
        final Rpc small = waiting(500);
        final Rpc mid = waiting(100_000);
        final Rpc midLater = waiting(100_001);
        waiters.add(big);
        waiters.add(small);
        waiters.add(mid);
        waiters.add(midLater);
        waiters.add(mid);

        assertEquals(4, waiters.size());
        assertEquals(List.of(small, mid, midLater, big), inOrder(waiters));
        assertSame(small, waiters.first());
    }

    @Test
    void shouldRemoveFromAnywhereAndForgetEmptyClasses()
    {
        final BufferWaiters waiters = new BufferWaiters();
        final Rpc a = waiting(64);
        final Rpc b = waiting(64);
        final Rpc c = waiting(64);
        final Rpc d = waiting(1 << 20);
        waiters.add(a);
        waiters.add(b);
        waiters.add(c);
        waiters.add(d);

        waiters.remove(b);
        assertEquals(List.of(a, c, d), inOrder(waiters));
        waiters.remove(a);
        waiters.remove(c);
        assertEquals(List.of(d), inOrder(waiters));
        assertFalse(waiters.contains(a));
        waiters.remove(a);
        assertEquals(1, waiters.size());
        waiters.remove(d);
        assertTrue(waiters.isEmpty());
        assertNull(waiters.first());
    }

    @Test
    void shouldMatchASortedReferenceUnderRandomAddsAndRemoves()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final BufferWaiters waiters = new BufferWaiters();
        final List<Rpc> reference = new ArrayList<>();
        for (int step = 0; step < 20_000; step++)
        {
            if (reference.isEmpty() || random.nextInt(3) > 0)
            {
                final Rpc rpc = waiting(1 + random.nextInt(2_000_000));
                waiters.add(rpc);
                reference.add(rpc);
            }
            else
            {
                waiters.remove(reference.remove(random.nextInt(reference.size())));
            }
        }
        final List<Rpc> expected = new ArrayList<>(reference);
        // Stable sort by class: oldest first within one.
        expected.sort((x, y) -> Integer.compare(
            BufferWaiters.classOf(x.rxWaitLength), BufferWaiters.classOf(y.rxWaitLength)));
        assertEquals(expected, inOrder(waiters));
        assertEquals(reference.size(), waiters.size());
        // The newest of the longest class: the last in admission order.
        assertSame(expected.get(expected.size() - 1), waiters.last());
    }

    @Test
    void shouldGiveUpTheNewestOfTheLongestClassFirst()
    {
        final BufferWaiters waiters = new BufferWaiters();
        assertNull(waiters.last());
        final Rpc short1 = waiting(100);
        final Rpc long1 = waiting(1_000_000);
        final Rpc long2 = waiting(1_000_001);
        waiters.add(short1);
        assertSame(short1, waiters.last());
        waiters.add(long1);
        waiters.add(long2);
        assertSame(long2, waiters.last());
        waiters.remove(long2);
        assertSame(long1, waiters.last());
        waiters.remove(long1);
        assertSame(short1, waiters.last());
        waiters.remove(short1);
        assertNull(waiters.last());
    }
}
