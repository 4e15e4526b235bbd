package io.homa.driver;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InboundPacketsTest
{
    private static final int CAPACITY = 64 * 1024;
    private static final int SLOT = 1000;

    private final InboundPackets ring = new InboundPackets(CAPACITY, SLOT);
    private final List<int[]> seen = new ArrayList<>();
    private final InboundPackets.PacketHandler collector = (buffer, offset, length, ipv4, port) ->
    {
        for (int i = 0; i < length; i++)
        {
            assertEquals((byte)(length + i), buffer.getByte(offset + i), "byte " + i + " of a " + length + " packet");
        }
        seen.add(new int[]{ length, ipv4, port });
    };

    @Test
    void shouldReturnSameSlotUntilCommitAndPublishOnlyCommittedBytes()
    {
        final int first = ring.claim();
        assertEquals(first, ring.claim(), "an uncommitted claim is reused");
        assertEquals(0, ring.read(collector, 10));

        write(first, 100);
        ring.commit(100, 7, 8);
        assertTrue(ring.size() >= 100, "published");
        assertEquals(1, ring.read(collector, 10));
        assertEquals(100, seen.get(0)[0]);
        assertEquals(7, seen.get(0)[1]);
        assertEquals(8, seen.get(0)[2]);
        assertEquals(0, ring.size());
    }

    @Test
    void shouldWrapWithPaddingAndKeepOrderOverManyLaps()
    {
        int sent = 0;
        for (int i = 0; i < 5_000; i++)
        {
            final int length = 1 + (i * 37) % SLOT;
            int offset = ring.claim();
            if (offset < 0)
            {
                ring.read(collector, Integer.MAX_VALUE);
                offset = ring.claim();
            }
            assertTrue(offset > 0);
            write(offset, length);
            ring.commit(length, i, i);
            sent++;
            if (0 == i % 7)
            {
                ring.read(collector, 3);
            }
        }
        while (ring.read(collector, 100) > 0)
        {
            // drain
        }
        assertEquals(sent, seen.size());
        for (int i = 0; i < sent; i++)
        {
            assertEquals(1 + (i * 37) % SLOT, seen.get(i)[0]);
            assertEquals(i, seen.get(i)[1]);
        }
    }

    @Test
    void shouldRefuseClaimWhenFullUntilConsumerCatchesUp()
    {
        int committed = 0;
        while (true)
        {
            final int offset = ring.claim();
            if (offset < 0)
            {
                break;
            }
            write(offset, SLOT);
            ring.commit(SLOT, 0, 0);
            committed++;
        }
        // Every record is a whole slot (1,000 bytes + 16 of header + Agrona's 8, aligned: 1,024).
        assertTrue(committed >= CAPACITY / 1024 - 1, "filled " + committed);
        assertEquals(2, ring.read(collector, 2));
        assertTrue(ring.claim() > 0, "room again after the consumer moved on");
    }

    @Test
    void shouldRejectBadGeometry()
    {
        assertThrows(IllegalArgumentException.class, () -> new InboundPackets(1000, 10));
        assertThrows(IllegalArgumentException.class, () -> new InboundPackets(4096, 1000));
        assertThrows(IllegalStateException.class, () -> new InboundPackets(CAPACITY, SLOT).commit(1, 0, 0));
    }

    private void write(final int offset, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            ring.buffer().putByte(offset + i, (byte)(length + i));
        }
    }
}
