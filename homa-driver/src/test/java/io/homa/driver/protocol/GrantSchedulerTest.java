package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grant policy against Linux's numbers: max_incoming 400,000, max_overcommit 8, unsched_bytes 40,000,
 * max_sched_prio 3 (default cutoffs), FIFO grants of 50,000 bytes at 50/1000 of 25,000 Mbit/s, at level 6.
 */
class GrantSchedulerTest
{
    private static final int UNSCHED = 40_000;
    private static final int MAX_SCHED_PRIO = 3;
    private static final int FIFO_PRIORITY = 6;
    private static final long US = 1_000;

    private final SystemCounters counters = new SystemCounters(new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(512 * 1024)), new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024))));
    private final List<Grant> grants = new ArrayList<>();
    private boolean refuseGrants;
    private GrantScheduler scheduler;
    private long nextId = 2;

    record Grant(long id, int offset, int priority)
    {
    }

    @Test
    void shouldComputeLinuxPrioritiesFromDefaultCutoffs()
    {
        final Priorities priorities = new Priorities(8, HomaWire.defaultCutoffs());
        assertEquals(3, priorities.maxSchedPriority());
        assertEquals(7, priorities.controlPriority());
        assertEquals(6, priorities.highPriority());
        assertEquals(1, priorities.cutoffVersion());
        assertEquals(Integer.MAX_VALUE, priorities.receiverCutoffs()[0]);
        assertEquals(200, priorities.receiverCutoffs()[7]);
        // Sent as Linux sends its defaults (#17).
        assertArrayEquals(new int[]{ 0, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 }, priorities.wireCutoffs());

        // A sender's table for a peer whose CUTOFFS has not arrived: everything unscheduled at 6.
        final int[] fresh = new int[8];
        Priorities.initPeerCutoffs(fresh);
        assertEquals(6, priorities.unschedPriority(fresh, 100));
        assertEquals(6, priorities.unschedPriority(fresh, 1_000_000));

        // With the receiver's defaults: <= 200 at 7, <= 2800 at 6, <= 15000 at 5, anything else at 4.
        final int[] known = priorities.receiverCutoffs();
        assertEquals(7, priorities.unschedPriority(known, 200));
        assertEquals(6, priorities.unschedPriority(known, 201));
        assertEquals(6, priorities.unschedPriority(known, 2_800));
        assertEquals(5, priorities.unschedPriority(known, 2_801));
        assertEquals(4, priorities.unschedPriority(known, 15_001));
        assertEquals(4, priorities.unschedPriority(known, 1_000_000));

        // Fewer levels: the unused ones are zeroed and the scheduled range shrinks.
        final Priorities four = new Priorities(4, new int[]{ 0, 0, 1_000_000, 2_000, 0, 0, 0, 0 });
        assertEquals(1, four.maxSchedPriority());
        assertEquals(3, four.controlPriority());
        assertEquals(0, four.receiverCutoffs()[7]);
        assertEquals(2, four.highPriority());
        assertEquals(2, four.cutoffVersion());
        assertArrayEquals(new int[]{ Integer.MAX_VALUE, 0, 1_000_000, 2_000, 0, 0, 0, 0 }, four.wireCutoffs());
    }

    @Test
    void shouldTakeUnscheduledBytesAsFirstGrant()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Peer peer = peer(1);

        final Rpc small = message(peer, 30_000, UNSCHED);
        assertFalse(small.rx.isGrantable, "fits in its unscheduled bytes");
        assertEquals(30_000, small.rx.granted);

        final Rpc large = message(peer, 1_000_000, UNSCHED);
        assertTrue(large.rx.isGrantable);
        assertEquals(UNSCHED, large.rx.granted);
    }

    @Test
    void shouldGrantLoneMessageHalfOfMaxIncomingAtLowestLevel()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Rpc rpc = message(peer(1), 1_000_000, UNSCHED);

        receive(rpc, 40_000, 0);
        assertEquals(List.of(new Grant(rpc.id, 240_000, 0)), grants);
        assertEquals(200_000, scheduler.window());
        assertEquals(200_000, scheduler.totalIncoming());

        receive(rpc, 64_000, 0);
        assertEquals(new Grant(rpc.id, 304_000, 0), grants.get(1));
        assertEquals(200_000, scheduler.totalIncoming());
        assertEquals(200_000, counters.get(SystemCounterDescriptor.MAX_TOTAL_INCOMING).get());

        // Up to the end: each grant keeps one window ahead of what arrived; the last stops at the message length.
        while (rpc.rx.received() < rpc.rx.granted)
        {
            receive(rpc, Math.min(64_000, rpc.rx.granted - rpc.rx.received()), 0);
            final Grant last = grants.get(grants.size() - 1);
            assertEquals(Math.min(rpc.rx.received() + 200_000, 1_000_000), last.offset());
            assertTrue(scheduler.totalIncoming() <= 200_000);
            if (0 == rpc.rx.bytesRemaining())
            {
                break;
            }
        }
        assertEquals(new Grant(rpc.id, 1_000_000, 0), grants.get(grants.size() - 1));
        assertEquals(0, rpc.rx.bytesRemaining());
        assertEquals(0, scheduler.numGrantable());
        assertEquals(0, scheduler.totalIncoming());
    }

    @Test
    void shouldSizeDynamicWindowsByActiveCount()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final int[] expected = { 400_000, 200_000, 133_333, 100_000, 80_000, 66_666, 57_142, 50_000, 44_444 };
        assertEquals(expected[0], scheduler.window());
        for (int i = 1; i <= 8; i++)
        {
            message(peer(i), 1_000_000, UNSCHED);
            final Rpc rpc = lastMessage;
            receive(rpc, 1_000, 0);
            assertEquals(i, scheduler.numActive());
            assertEquals(expected[i], scheduler.window(), "window with " + i + " active");
        }

        grants.clear();
        scheduler = scheduler(settings(50_000, 400_000, 8, 50));
        for (int i = 1; i <= 3; i++)
        {
            receive(message(peer(i), 1_000_000, UNSCHED), 1_000, 0);
            assertEquals(50_000, scheduler.window());
        }
        assertEquals(new Grant(lastMessage.id, 51_000, 0), grants.get(grants.size() - 1));
    }

    @Test
    void shouldCapTotalIncomingAndServeNeedyMessagesWhenRoomReturns()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Rpc a = message(peer(1), 1_000_000, UNSCHED);
        receive(a, 40_000, 0);
        assertEquals(new Grant(a.id, 240_000, 0), grants.get(0));

        final Rpc b = message(peer(2), 1_000_000, UNSCHED);
        receive(b, 40_000, 0);
        assertEquals(133_333, scheduler.window());
        assertEquals(new Grant(b.id, 173_333, 0), grants.get(1));
        assertEquals(333_333, scheduler.totalIncoming());

        // The third gets only what is left under max_incoming and becomes needy.
        final Rpc c = message(peer(3), 1_000_000, UNSCHED);
        receive(c, 40_000, 0);
        assertEquals(100_000, scheduler.window());
        assertEquals(106_667, grants.get(2).offset());
        assertEquals(400_000, scheduler.totalIncoming());
        assertEquals(1 << c.rx.activeSlot, scheduler.needyMask());

        // A new arrival cannot be granted at all: no room. Its unscheduled bytes still count.
        final Rpc d = message(peer(4), 1_000_000, UNSCHED);
        receive(d, 10_000, 0);
        assertEquals(3, grants.size());
        assertEquals(430_000, scheduler.totalIncoming());
        assertEquals(400_000, counters.get(SystemCounterDescriptor.MAX_TOTAL_INCOMING).get());

        // a's data frees room; a already holds a full window, so the needy ones are served in rank order:
        // c (960,000 left, rank 2 of 4 -> level 1), then d (990,000 left, rank 3 -> level 0).
        receive(a, 100_000, 0);
        assertEquals(new Grant(c.id, 120_000, 1), grants.get(3));
        assertEquals(new Grant(d.id, 90_000, 0), grants.get(4));
        assertEquals(5, grants.size());
        assertEquals(393_333, scheduler.totalIncoming());
        assertEquals(0, scheduler.needyMask());
        assertEquals(2, counters.get(SystemCounterDescriptor.NEEDY_GRANTS).get());
    }

    @Test
    void shouldRankBySrptAndAssignGrantPriorities()
    {
        scheduler = scheduler(settings(10_000, 400_000, 8, 50));
        final Rpc m400 = message(peer(1), 400_000, 0);
        final Rpc m300 = message(peer(2), 300_000, 0);
        final Rpc m200 = message(peer(3), 200_000, 0);
        final Rpc m100 = message(peer(4), 100_000, 0);
        receive(m400, 1_000, 0);
        assertEquals(0, grants.get(0).priority(), "a lone message gets the lowest level");
        receive(m300, 1_000, 0);
        // Two active: max_sched_prio 3 lowered by (3 + 1 - 2) = 2, so rank 0 gets 1.
        assertEquals(1, grants.get(1).priority());
        receive(m200, 1_000, 0);
        receive(m100, 1_000, 0);
        assertEquals(4, scheduler.numActive());
        assertEquals(3, grants.get(3).priority(), "four active: rank 0 gets max_sched_prio");

        // Four active fill the four scheduled levels: rank r gets 3 - r.
        grants.clear();
        receive(m400, 50_000, 0);
        receive(m300, 50_000, 0);
        receive(m200, 50_000, 0);
        receive(m100, 50_000, 0);
        assertEquals(List.of(
            new Grant(m400.id, 61_000, 0),
            new Grant(m300.id, 61_000, 1),
            new Grant(m200.id, 61_000, 2),
            new Grant(m100.id, 61_000, 3)), grants);

        assertEquals(3, scheduler.grantPriority(0));
        assertEquals(0, scheduler.grantPriority(3));
        assertEquals(0, scheduler.grantPriority(7), "floor 0");
    }

    @Test
    void shouldBreakRankTiesByAge()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Rpc older = message(peer(1), 500_000, 0);
        final Rpc younger = message(peer(2), 500_000, 0);
        assertTrue(GrantScheduler.outranks(older, younger));
        assertFalse(GrantScheduler.outranks(younger, older));
        receive(younger, 1_000, 0);
        receive(older, 1_000, 0);
        assertEquals(1, grants.get(1).priority(), "older one of two equals ranks first");
        assertEquals(older.id, grants.get(1).id());
    }

    @Test
    void shouldKeepAtMostMaxOvercommitActiveAndLetShorterMessagesDisplaceLonger()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Rpc[] rpcs = new Rpc[10];
        for (int i = 0; i < rpcs.length; i++)
        {
            rpcs[i] = message(peer(i + 1), 100_000 * (i + 1), 0);
            receive(rpcs[i], 1_000, 0);
        }
        assertEquals(8, scheduler.numActive());
        assertEquals(2, scheduler.queuedCount());
        assertFalse(scheduler.isActive(rpcs[8]));
        assertFalse(scheduler.isActive(rpcs[9]));
        assertEquals(44_444, scheduler.window());

        final Rpc shortest = message(peer(11), 50_000, 0);
        receive(shortest, 1_000, 0);
        assertTrue(scheduler.isActive(shortest));
        assertFalse(scheduler.isActive(rpcs[7]), "the longest active message was displaced");
        assertEquals(8, scheduler.numActive());
        assertEquals(3, scheduler.queuedCount());
    }

    @Test
    void shouldSpreadActiveSlotsAcrossPeers()
    {
        scheduler = scheduler(settings(0, 400_000, 2, 50));
        final Peer x = peer(1);
        final Peer y = peer(2);
        final Peer z = peer(3);

        // Peer x holds both slots; a longer message from y still takes one of them, from x.
        final Rpc x1 = message(x, 100_000, 0);
        final Rpc x2 = message(x, 200_000, 0);
        receive(x1, 1_000, 0);
        receive(x2, 1_000, 0);
        final Rpc y1 = message(y, 900_000, 0);
        receive(y1, 1_000, 0);
        assertTrue(scheduler.isActive(x1));
        assertTrue(scheduler.isActive(y1));
        assertFalse(scheduler.isActive(x2));

        // When a slot frees, a queued peer with no active message goes before a better-ranked one that has one.
        final Rpc y2 = message(y, 300_000, 0);
        receive(y2, 1_000, 0);
        assertTrue(scheduler.isActive(y2), "y2 displaced its own peer's longer y1");
        assertFalse(scheduler.isActive(y1));
        final Rpc z1 = message(z, 950_000, 0);
        receive(z1, 1_000, 0);
        assertFalse(scheduler.isActive(z1));

        scheduler.remove(x1);
        // x2 (peer x now has none active, best rank) goes first.
        assertTrue(scheduler.isActive(x2));
        assertTrue(scheduler.isActive(y2));
        scheduler.remove(x2);
        assertTrue(scheduler.isActive(z1), "z has no active message, y1's peer would get a second");
        assertFalse(scheduler.isActive(y1));
        assertTrue(0 != scheduler.needyMask(), "promoted messages are served as needy");
        scheduler.processPending(0);
        assertEquals(z1.id, grants.get(grants.size() - 1).id());
    }

    @Test
    void shouldGiveOldestMessageFifoGrantsAtLinuxRate()
    {
        assertEquals(320 * US, GrantScheduler.fifoGrantIntervalNs(25_000, 50, 50_000));
        assertEquals(40 * US, GrantScheduler.fifoGrantIntervalNs(8_000, 500, 20_000));
        assertEquals(GrantScheduler.FIFO_OFF_INTERVAL_NS, GrantScheduler.fifoGrantIntervalNs(8_000, 0, 20_000));

        scheduler = scheduler(settings(0, 400_000, 1, 50));
        final Rpc old = message(peer(1), 1_000_000, UNSCHED);
        receive(old, 40_000, 0);
        assertEquals(List.of(new Grant(old.id, 240_000, 0)), grants);

        final Rpc young = message(peer(2), 500_000, UNSCHED);
        receive(young, 40_000, 100 * US);
        assertTrue(scheduler.isActive(young));
        assertFalse(scheduler.isActive(old), "with one slot SRPT would starve the old message");
        assertEquals(new Grant(young.id, 240_000, 0), grants.get(1));
        assertEquals(2, grants.size(), "not yet time for a FIFO grant (first one due at 320 us)");

        receive(young, 60_000, 330 * US);
        assertEquals(new Grant(young.id, 300_000, 0), grants.get(2));
        assertEquals(new Grant(old.id, 290_000, FIFO_PRIORITY), grants.get(3));
        assertEquals(50_000, counters.get(SystemCounterDescriptor.FIFO_GRANT_BYTES).get());

        receive(young, 60_000, 660 * US);
        assertEquals(new Grant(old.id, 340_000, FIFO_PRIORITY), grants.get(grants.size() - 1));

        // The old message does not use its FIFO grants (unreceived >= window + 2 x increment): no more for it.
        receive(young, 60_000, 1_000 * US);
        receive(young, 60_000, 1_400 * US);
        assertEquals(340_000, old.rx.granted);
    }

    @Test
    void shouldNotGiveFifoGrantsWhenFractionIsZero()
    {
        scheduler = scheduler(settings(0, 400_000, 1, 0));
        final Rpc old = message(peer(1), 1_000_000, UNSCHED);
        receive(old, 40_000, 0);
        final Rpc young = message(peer(2), 500_000, UNSCHED);
        for (int i = 0; i < 8; i++)
        {
            receive(young, 50_000, i * 1_000 * US);
        }
        for (final Grant grant : grants)
        {
            assertTrue(grant.priority() != FIFO_PRIORITY);
        }
        assertEquals(0, counters.get(SystemCounterDescriptor.FIFO_GRANT_BYTES).get());
    }

    @Test
    void shouldRetryGrantTheOutboundRingRefused()
    {
        scheduler = scheduler(SchedulingSettings.defaults());
        final Rpc rpc = message(peer(1), 1_000_000, UNSCHED);
        refuseGrants = true;
        receive(rpc, 40_000, 0);
        assertEquals(UNSCHED, rpc.rx.granted, "grant taken back");
        assertEquals(0, scheduler.totalIncoming());
        assertTrue(0 != scheduler.needyMask());

        refuseGrants = false;
        scheduler.processPending(1);
        assertEquals(new Grant(rpc.id, 240_000, 0), grants.get(0));
        assertEquals(0, scheduler.needyMask());
    }

    @Test
    void shouldForgetRemovedMessages()
    {
        scheduler = scheduler(settings(0, 400_000, 1, 50));
        final Rpc a = message(peer(1), 300_000, UNSCHED);
        final Rpc b = message(peer(2), 600_000, UNSCHED);
        receive(a, 40_000, 0);
        receive(b, 40_000, 0);
        assertTrue(scheduler.isActive(a));
        assertEquals(2, scheduler.numGrantable());

        scheduler.onDataReceived(a);
        assertEquals(1, scheduler.pendingCount());
        scheduler.remove(a);
        assertEquals(0, scheduler.pendingCount());
        assertTrue(scheduler.isActive(b), "promoted into the freed slot");
        assertEquals(1, scheduler.numGrantable());
        scheduler.remove(b);
        assertEquals(0, scheduler.numGrantable());
        assertEquals(0, scheduler.numActive());
        assertEquals(0, scheduler.totalIncoming());
        scheduler.remove(b);
        assertEquals(0, scheduler.numGrantable());
    }

    @Test
    void shouldNotAllocateWhileGranting()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        refuseGrants = false;
        final Grant[] sink = new Grant[1];
        scheduler = new GrantScheduler(SchedulingSettings.defaults(), MAX_SCHED_PRIO, FIFO_PRIORITY,
            (rpc, offset, priority) -> true, counters);
        final Rpc[] rpcs = new Rpc[12];
        for (int round = 0; round < 3; round++)
        {
            final long before = threads.getThreadAllocatedBytes(Thread.currentThread().threadId());
            for (int i = 0; i < rpcs.length; i++)
            {
                rpcs[i] = null == rpcs[i] ? new Rpc() : rpcs[i];
                rpcs[i].peer = null == rpcs[i].peer ? new Peer(i, i) : rpcs[i].peer;
                rpcs[i].rx.reset();
                rpcs[i].rx.init(1_000_000 - i * 1_000, 0);
                scheduler.initMessage(rpcs[i], UNSCHED);
            }
            for (int offset = 0; offset < 1_000_000; offset += 50_000)
            {
                for (int i = 0; i < rpcs.length; i++)
                {
                    final IncomingMessage rx = rpcs[i].rx;
                    rx.add(offset, Math.min(offset + 50_000, rx.length()));
                    scheduler.onDataReceived(rpcs[i]);
                }
                scheduler.processPending(offset);
            }
            for (final Rpc rpc : rpcs)
            {
                scheduler.remove(rpc);
            }
            final long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().threadId()) - before;
            if (round > 0)
            {
                assertEquals(0, allocated, "round " + round);
            }
        }
        assertEquals(0, scheduler.numGrantable());
        sink[0] = null;
    }

    // ---------------------------------------------------------------------------------------------------------

    private Rpc lastMessage;

    private GrantScheduler scheduler(final SchedulingSettings settings)
    {
        return new GrantScheduler(settings, MAX_SCHED_PRIO, FIFO_PRIORITY,
            (rpc, offset, priority) ->
            {
                if (refuseGrants)
                {
                    return false;
                }
                grants.add(new Grant(rpc.id, offset, priority));
                return true;
            },
            counters);
    }

    private static SchedulingSettings settings(
        final int window, final int maxIncoming, final int maxOvercommit, final int fifoFraction)
    {
        final SchedulingSettings d = SchedulingSettings.defaults();
        return new SchedulingSettings(window, maxIncoming, maxOvercommit, fifoFraction, d.fifoGrantIncrement(),
            d.linkMbps(), d.numPriorities(), d.unschedCutoffs(), d.maxNicEstBacklogNs(), d.deferMinBytes(),
            d.pacerFifoFraction(), d.pacing());
    }

    private static Peer peer(final int n)
    {
        return new Peer(0x0A00_0000 + n, 4000);
    }

    private Rpc message(final Peer peer, final int length, final int unsched)
    {
        final Rpc rpc = new Rpc();
        rpc.id = nextId;
        nextId += 2;
        rpc.peer = peer;
        rpc.rx.init(length, 0);
        scheduler.initMessage(rpc, unsched);
        lastMessage = rpc;
        return rpc;
    }

    private void receive(final Rpc rpc, final int bytes, final long nowNs)
    {
        final IncomingMessage rx = rpc.rx;
        final int start = rx.received();
        rx.add(start, Math.min(start + bytes, rx.length()));
        scheduler.onDataReceived(rpc);
        scheduler.processPending(nowNs);
    }
}
