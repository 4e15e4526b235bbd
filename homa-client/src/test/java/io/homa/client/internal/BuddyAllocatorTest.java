package io.homa.client.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuddyAllocatorTest
{
    @Test
    void shouldRoundUpToPowerOfTwoBlocks()
    {
        final BuddyAllocator allocator = new BuddyAllocator(1 << 20, 1024);
        final int a = allocator.allocate(1);
        final int b = allocator.allocate(1025);
        final int c = allocator.allocate(1_000);
        assertEquals(1024, allocator.blockLengthAt(a));
        assertEquals(2048, allocator.blockLengthAt(b));
        assertEquals(1024, allocator.blockLengthAt(c));
        assertEquals((1 << 20) - 4096, allocator.freeBytes());
    }

    @Test
    void shouldCoalesceBuddiesBackToWholeRegion()
    {
        final BuddyAllocator allocator = new BuddyAllocator(1 << 16, 1024);
        final List<Integer> offsets = new ArrayList<>();
        int offset;
        while ((offset = allocator.allocate(1024)) >= 0)
        {
            offsets.add(offset);
        }
        assertEquals(64, offsets.size());
        assertEquals(0, allocator.freeBytes());
        for (int i = offsets.size() - 1; i >= 0; i -= 2)
        {
            allocator.free(offsets.get(i));
        }
        for (int i = 0; i < offsets.size(); i += 2)
        {
            allocator.free(offsets.get(i));
        }
        assertEquals(1 << 16, allocator.freeBytes());
        assertEquals(0, allocator.allocate(1 << 16), "whole region is one block again");
    }

    @Test
    void shouldRejectDoubleFreeAndStrayOffsets()
    {
        final BuddyAllocator allocator = new BuddyAllocator(1 << 16, 1024);
        final int a = allocator.allocate(100);
        allocator.free(a);
        assertThrows(IllegalArgumentException.class, () -> allocator.free(a));
        assertThrows(IllegalArgumentException.class, () -> allocator.free(513));
        assertThrows(IllegalArgumentException.class, () -> allocator.free(-1024));
        assertThrows(IllegalArgumentException.class, () -> allocator.free(1 << 20));
        assertEquals(-1, allocator.allocate(0));
        assertEquals(-1, allocator.allocate((1 << 16) + 1));
    }

    @Test
    void shouldNeverOverlapUnderRandomUse()
    {
        final int region = 1 << 22;
        final BuddyAllocator allocator = new BuddyAllocator(region, 1024);
        final byte[] owner = new byte[region / 1024];
        final List<int[]> live = new ArrayList<>();
        final Random random = new Random(42);
        for (int i = 0; i < 50_000; i++)
        {
            if (live.isEmpty() || random.nextInt(3) > 0)
            {
                final int length = 1 + random.nextInt(random.nextBoolean() ? 3000 : 300_000);
                final int offset = allocator.allocate(length);
                if (offset < 0)
                {
                    continue;
                }
                assertTrue(offset + length <= region);
                final int blocks = allocator.blockLengthAt(offset) / 1024;
                for (int b = 0; b < blocks; b++)
                {
                    assertEquals(0, owner[offset / 1024 + b], "overlap at block " + (offset / 1024 + b));
                    owner[offset / 1024 + b] = 1;
                }
                live.add(new int[]{ offset, blocks });
            }
            else
            {
                final int[] victim = live.remove(random.nextInt(live.size()));
                for (int b = 0; b < victim[1]; b++)
                {
                    owner[victim[0] / 1024 + b] = 0;
                }
                allocator.free(victim[0]);
            }
        }
        long used = 0;
        for (final int[] block : live)
        {
            used += block[1] * 1024L;
            allocator.free(block[0]);
        }
        assertTrue(used > 0);
        assertEquals(region, allocator.freeBytes());
    }
}
