package io.homa.driver.protocol;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pacer with Linux's numbers: 25,000 Mbit/s, 5 µs NIC backlog, defer_min_bytes 1000, pacer_fifo_fraction 50.
 */
class PacerTest
{
    private static final int PAYLOAD_1500_MTU = 1500 - 28 - 56;

    private final SystemCounters counters = new SystemCounters(new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(512 * 1024)), new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024))));
    private long nextBirth = 1;

    @Test
    void shouldChargeWireTimeWithEthernetOverheadAndOnePercentMargin()
    {
        final Pacer pacer = new Pacer(settings(25_000, true), counters);
        // 1416 payload + 56 DATA header + 28 IPv4/UDP + 42 Ethernet = 1542 wire bytes at 25 Gbit/s, +1%: 498 ns.
        assertEquals(498, pacer.wireTimeNs(PAYLOAD_1500_MTU));
        final Pacer slow = new Pacer(settings(300, true), counters);
        assertEquals(41_530, slow.wireTimeNs(PAYLOAD_1500_MTU));
    }

    @Test
    void shouldHoldDataBackWhileNicQueueEstimateExceedsBacklogLimit()
    {
        final Pacer pacer = new Pacer(settings(25_000, true), counters);
        final long t0 = 1_000_000;
        int sent = 0;
        while (pacer.mayTransmit(100_000, t0))
        {
            pacer.onTransmit(PAYLOAD_1500_MTU, t0);
            sent++;
            assertTrue(sent < 100);
        }
        // 11 packets of 498 ns put the link 5,478 ns ahead: more than 5 µs.
        assertEquals(11, sent);
        assertEquals(5_478, pacer.backlogNs(t0));
        assertEquals(1, counters.get(SystemCounterDescriptor.THROTTLE_LIST_ADDS).get());

        assertTrue(pacer.mayTransmit(1_000, t0), "at most defer_min_bytes left: never held back");
        assertFalse(pacer.mayTransmit(1_001, t0));
        assertTrue(pacer.mayTransmit(100_000, t0 + 500), "drained below 5 us");
        pacer.onTransmit(PAYLOAD_1500_MTU, t0 + 500);
        assertEquals(1, counters.get(SystemCounterDescriptor.PACER_HOMA_PACKETS).get());
        assertEquals(0, pacer.backlogNs(t0 + 1_000_000));
    }

    @Test
    void shouldNeverHoldBackWhenPacingIsOff()
    {
        final Pacer pacer = new Pacer(settings(25_000, false), counters);
        for (int i = 0; i < 1_000; i++)
        {
            assertTrue(pacer.mayTransmit(1_000_000, 0));
            pacer.onTransmit(65_000, 0);
        }
        assertEquals(0, pacer.backlogNs(0));
    }

    @Test
    void shouldPickFewestBytesLeftAmongGrantedAndGiveOldestItsShare()
    {
        final Pacer pacer = new Pacer(settings(25_000, false), counters);
        final TransmitQueue sending = new TransmitQueue();
        final Rpc oldLong = sending(sending, 1_000_000, 0, 500_000);
        final Rpc blocked = sending(sending, 50_000, 40_000, 40_000);
        final Rpc medium = sending(sending, 200_000, 0, 100_000);
        final Rpc tie = sending(sending, 200_000, 0, 100_000);

        assertNotPicked(blocked, pacer, sending);
        int oldest = 0;
        int shortest = 0;
        for (int i = 1; i <= 100; i++)
        {
            final Rpc picked = pacer.pick(sending);
            if (picked == oldLong)
            {
                oldest++;
                assertEquals(0, i % 20, "every twentieth pick (50/1000) goes to the oldest");
            }
            else
            {
                assertSame(medium, picked, "fewest bytes left, ties to the older");
                shortest++;
            }
        }
        assertEquals(5, oldest);
        assertEquals(95, shortest);
        assertTrue(tie.txBirth > medium.txBirth);

        blocked.txGranted = 50_000;
        sending.update(blocked);
        assertSame(blocked, pacer.pick(sending));
        for (final Rpc rpc : new Rpc[]{oldLong, blocked, medium, tie})
        {
            sending.remove(rpc);
        }
        assertNull(pacer.pick(sending));
    }

    private void assertNotPicked(final Rpc rpc, final Pacer pacer, final TransmitQueue sending)
    {
        final Pacer fresh = new Pacer(settings(25_000, false), counters);
        for (int i = 0; i < 40; i++)
        {
            assertTrue(fresh.pick(sending) != rpc, "no granted bytes left to send");
        }
    }

    private Rpc sending(final TransmitQueue sending, final int length, final int next, final int granted)
    {
        final Rpc rpc = new Rpc();
        rpc.txLength = length;
        rpc.txNext = next;
        rpc.txGranted = granted;
        rpc.txBirth = nextBirth++;
        rpc.isSending = true;
        sending.update(rpc);
        return rpc;
    }

    private static SchedulingSettings settings(final int linkMbps, final boolean pacing)
    {
        final SchedulingSettings d = SchedulingSettings.defaults();
        return new SchedulingSettings(d.window(), d.maxIncoming(), d.maxOvercommit(), d.grantFifoFraction(),
            d.fifoGrantIncrement(), linkMbps, d.numPriorities(), d.unschedCutoffs(), d.maxNicEstBacklogNs(),
            d.deferMinBytes(), d.pacerFifoFraction(), pacing);
    }
}
