package io.homa.driver.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Ipv6AddressTableTest
{
    private static final long FD00 = 0xFD00_0146_0000_0000L;

    @Test
    void shouldGiveEachAddressOneKeyInZeroSlashEight()
    {
        final Ipv6AddressTable table = new Ipv6AddressTable(1_000);
        assertEquals(0, table.lookup(FD00, 1), "unknown before intern");
        final int first = table.intern(FD00, 1);
        final int second = table.intern(FD00, 2);
        final int otherHigh = table.intern(FD00 + 1, 1);
        assertEquals(1, first);
        assertEquals(2, second);
        assertEquals(3, otherHigh);
        assertEquals(first, table.intern(FD00, 1), "interning again gives the same key");
        assertEquals(second, table.lookup(FD00, 2));
        assertEquals(FD00 + 1, table.high(otherHigh));
        assertEquals(1, table.low(otherHigh));
        assertEquals(3, table.size());
        for (final int key : new int[]{ first, second, otherHigh })
        {
            assertTrue(table.isKey(key));
            assertEquals(0, key >>> 24, "in 0.0.0.0/8, which no IPv4 peer uses");
        }
        assertFalse(table.isKey(0));
        assertFalse(table.isKey(4));
        assertFalse(table.isKey(0x0A000001), "an IPv4 address is no key");
    }

    @Test
    void shouldFindEveryAddressOfAFullTableAndRefuseMore()
    {
        final int capacity = 3_000;
        final Ipv6AddressTable table = new Ipv6AddressTable(capacity);
        for (int i = 0; i < capacity; i++)
        {
            // Addresses that differ in one bit, in either half: what a weak hash would put in one slot.
            final long high = 0 == i % 2 ? FD00 : FD00 ^ (1L << (i % 64));
            assertEquals(i + 1, table.intern(high, i));
        }
        assertEquals(0, table.intern(FD00, -1), "no key left");
        assertEquals(0, table.lookup(FD00, -1));
        assertEquals(capacity, table.size());
        for (int i = 0; i < capacity; i++)
        {
            final long high = 0 == i % 2 ? FD00 : FD00 ^ (1L << (i % 64));
            assertEquals(i + 1, table.lookup(high, i), "address " + i);
            assertEquals(i + 1, table.intern(high, i), "known addresses still resolve when full");
        }
    }

    @Test
    void shouldRefuseCapacityOutsideTheKeySpace()
    {
        assertThrows(IllegalArgumentException.class, () -> new Ipv6AddressTable(0));
        assertThrows(IllegalArgumentException.class, () -> new Ipv6AddressTable(Ipv6AddressTable.MAX_KEY + 1));
    }

    @Test
    void shouldNotAllocateOnLookupsAndInternsAfterWarmUp()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        final Ipv6AddressTable table = new Ipv6AddressTable(Ipv6AddressTable.DEFAULT_CAPACITY);
        for (int i = 0; i < 1_000; i++)
        {
            table.intern(FD00, i);
        }
        long sum = churn(table, 0);
        final long threadId = Thread.currentThread().threadId();
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5 && best > 0; round++)
        {
            final long before = threads.getThreadAllocatedBytes(threadId);
            // Lookups of known and unknown addresses, and new keys made.
            sum += churn(table, 1_000 + round * 100);
            best = Math.min(best, threads.getThreadAllocatedBytes(threadId) - before);
        }
        assertEquals(0, best, "bytes allocated by 100,000 lookups and 100 interns (" + sum + ")");
    }

    private static long churn(final Ipv6AddressTable table, final int firstNew)
    {
        long sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            sum += table.lookup(FD00, i % 2_000);
        }
        for (int i = firstNew; i < firstNew + 100; i++)
        {
            sum += table.intern(FD00, i);
        }
        return sum;
    }

    @Test
    void shouldGiveRacingInternersTheSameKeysAndReadersWholeAddresses() throws Exception
    {
        final Ipv6AddressTable table = new Ipv6AddressTable(20_000);
        final int addresses = 10_000;
        final int[][] keys = new int[2][addresses];
        final AtomicReference<String> torn = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] interners = new Thread[2];
        for (int t = 0; t < 2; t++)
        {
            final int thread = t;
            interners[t] = new Thread(() ->
            {
                awaitQuietly(start);
                for (int i = 0; i < addresses; i++)
                {
                    // The two threads meet each address from opposite ends.
                    final int a = 0 == thread ? i : addresses - 1 - i;
                    keys[thread][a] = table.intern(FD00 + a, ~a);
                }
            });
            interners[t].start();
        }
        final Thread reader = new Thread(() ->
        {
            awaitQuietly(start);
            while (table.size() < addresses)
            {
                for (int a = 0; a < addresses; a += 7)
                {
                    final int key = table.lookup(FD00 + a, ~a);
                    if (0 != key && (table.high(key) != FD00 + a || table.low(key) != ~a))
                    {
                        torn.set("key " + key + " for address " + a);
                    }
                }
            }
        });
        reader.start();
        start.countDown();
        for (final Thread thread : interners)
        {
            thread.join();
        }
        reader.join();
        assertNull(torn.get());
        assertEquals(addresses, table.size(), "one key per address, whichever thread made it");
        for (int a = 0; a < addresses; a++)
        {
            assertEquals(keys[0][a], keys[1][a], "address " + a);
            assertEquals(keys[0][a], table.lookup(FD00 + a, ~a));
        }
    }

    private static void awaitQuietly(final CountDownLatch latch)
    {
        try
        {
            latch.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
