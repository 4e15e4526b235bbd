package io.homa.driver.protocol;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class TransmitQueueTest
{
    private long nextBirth = 1;

    private Rpc message(final int length, final int granted)
    {
        final Rpc rpc = new Rpc();
        rpc.txLength = length;
        rpc.txGranted = granted;
        rpc.txBirth = nextBirth++;
        rpc.isSending = true;
        return rpc;
    }

    @Test
    void shouldHoldOnlyMessagesWithGrantedBytesToSend()
    {
        final TransmitQueue queue = new TransmitQueue();
        final Rpc waiting = message(100_000, 40_000);
        waiting.txNext = 40_000;
        queue.update(waiting);
        assertEquals(0, queue.size());
        assertNull(queue.shortest());

        waiting.txGranted = 60_000;
        queue.update(waiting);
        assertSame(waiting, queue.shortest());
        waiting.isSending = false;
        queue.update(waiting);
        assertEquals(0, queue.size());
        assertEquals(-1, waiting.srptSlot);
    }

    @Test
    void shouldPickFewestBytesLeftTiesToOlderAndKnowTheOldest()
    {
        final TransmitQueue queue = new TransmitQueue();
        final Rpc old = message(1_000_000, 1_000_000);
        final Rpc a = message(5_000, 5_000);
        final Rpc b = message(5_000, 5_000);
        queue.update(old);
        queue.update(b);
        queue.update(a);
        assertSame(a, queue.shortest(), "equal bytes left: the older");
        assertSame(old, queue.oldest());

        b.txNext = 1_000;
        queue.update(b);
        assertSame(b, queue.shortest(), "sending lowered its bytes left");
        queue.remove(old);
        assertSame(a, queue.oldest());
        assertEquals(2, queue.size());
    }

    @Test
    void shouldMatchAFullScanUnderRandomSendsGrantsAndRemovals()
    {
        final SplittableRandom random = new SplittableRandom(11);
        final TransmitQueue queue = new TransmitQueue();
        final List<Rpc> all = new ArrayList<>();
        for (int step = 0; step < 50_000; step++)
        {
            final int action = random.nextInt(10);
            if (all.size() < 3 || action < 3)
            {
                final int length = 1 + random.nextInt(1_000_000);
                final Rpc rpc = message(length, Math.min(length, 1 + random.nextInt(60_000)));
                all.add(rpc);
                queue.update(rpc);
            }
            else if (action < 7)
            {
                // Send a packet from the current pick, as Outgoing does.
                final Rpc rpc = queue.shortest();
                if (null != rpc)
                {
                    rpc.txNext = Math.min(rpc.txGranted, rpc.txNext + 1 + random.nextInt(10_000));
                    if (rpc.txNext >= rpc.txLength)
                    {
                        rpc.isSending = false;
                        queue.remove(rpc);
                        all.remove(rpc);
                    }
                    else
                    {
                        queue.update(rpc);
                    }
                }
            }
            else if (action < 9)
            {
                final Rpc rpc = all.get(random.nextInt(all.size()));
                rpc.txGranted = Math.min(rpc.txLength, rpc.txGranted + random.nextInt(50_000));
                queue.update(rpc);
            }
            else
            {
                final Rpc rpc = all.remove(random.nextInt(all.size()));
                rpc.isSending = false;
                queue.remove(rpc);
            }
            assertSame(scanShortest(all), queue.shortest(), "step " + step);
            assertSame(scanOldest(all), queue.oldest(), "step " + step);
        }
    }

    private static Rpc scanShortest(final List<Rpc> all)
    {
        Rpc best = null;
        for (final Rpc rpc : all)
        {
            if (rpc.isSending && rpc.txNext < rpc.txGranted && (null == best || rpc.txRemaining() < best.txRemaining() ||
                (rpc.txRemaining() == best.txRemaining() && rpc.txBirth < best.txBirth)))
            {
                best = rpc;
            }
        }
        return best;
    }

    private static Rpc scanOldest(final List<Rpc> all)
    {
        Rpc best = null;
        for (final Rpc rpc : all)
        {
            if (rpc.isSending && rpc.txNext < rpc.txGranted && (null == best || rpc.txBirth < best.txBirth))
            {
                best = rpc;
            }
        }
        return best;
    }
}
