package io.homa.driver.protocol;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IncomingMessageTest
{
    @Test
    void shouldCountOnlyNewBytesAcrossGapsAndDuplicates()
    {
        final IncomingMessage message = new IncomingMessage();
        message.init(10_000, 0);
        assertEquals(1000, message.add(2000, 3000));
        assertEquals(1, message.gapCount());
        assertEquals(0, message.add(2000, 3000));
        assertEquals(500, message.add(500, 1000));
        assertEquals(2, message.gapCount());
        assertEquals(1500, message.add(0, 2000));
        assertEquals(0, message.gapCount());
        assertEquals(7000, message.add(2500, 10_000));
        assertTrue(message.isComplete());
    }

    @Test
    void shouldCompleteExactlyOnceForAnyArrivalOrderWithRepeats()
    {
        final Random random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            final int length = 1 + random.nextInt(200_000);
            final int packet = 1 + random.nextInt(20_000);
            final List<int[]> packets = new ArrayList<>();
            for (int start = 0; start < length; start += packet)
            {
                packets.add(new int[]{ start, Math.min(length, start + packet) });
                if (random.nextInt(4) == 0)
                {
                    packets.add(new int[]{ start, Math.min(length, start + packet) });
                }
            }
            Collections.shuffle(packets, random);

            final IncomingMessage message = new IncomingMessage();
            message.init(length, 0);
            int total = 0;
            for (final int[] p : packets)
            {
                assertFalse(message.isComplete() && message.add(p[0], p[1]) > 0);
                total += message.add(p[0], p[1]);
            }
            assertEquals(length, total);
            assertTrue(message.isComplete());
            assertEquals(0, message.gapCount());
        }
    }
}
