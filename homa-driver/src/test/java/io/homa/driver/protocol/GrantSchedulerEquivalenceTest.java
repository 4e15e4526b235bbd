package io.homa.driver.protocol;

import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GrantScheduler against the pre-#15 linear implementation ({@link LinearGrantSchedulerReference}) over
 * random traffic: messages from several peers start, get data, complete and are aborted, grants are sometimes
 * refused and time moves so FIFO grants happen. Each world has its own RPCs and peers; after every receive batch
 * both must have sent the same GRANTs (RPC, offset, priority, in order) and agree on every message's grant state
 * (active or not, granted, unused grants) and on the totals.
 * <p>
 * Senders obey their grants, and data for a message that is queued (not active) comes first in its batch with no
 * abort after it: the old sorted list compared a newcomer with the live bytes left of an entry whose re-sort was
 * still pending (its data arrived, its check had not run), so while such an entry existed its order was not a
 * ranking at all; both implementations rank such a message by its bytes left once its check has run.
 */
class GrantSchedulerEquivalenceTest
{
    private static final int MAX_SCHED_PRIO = 3;
    private static final int FIFO_PRIORITY = 6;
    private static final int STEPS = 20_000;

    record Grant(long id, int offset, int priority)
    {
    }

    private final List<Grant> newGrants = new ArrayList<>();
    private final List<Grant> refGrants = new ArrayList<>();
    private final List<Rpc> newLive = new ArrayList<>();
    private final List<Rpc> refLive = new ArrayList<>();
    private boolean refuse;
    private GrantScheduler scheduler;
    private LinearGrantSchedulerReference reference;

    @ParameterizedTest(name = "seed {0}: window {1}, maxIncoming {2}, overcommit {3}, fifo {4}/{5}, peers {6}")
    @CsvSource({
        "1, 0, 400000, 8, 50, 50000, 4",
        "2, 0, 400000, 8, 50, 10000, 1",
        "3, 0, 200000, 2, 200, 10000, 3",
        "4, 60000, 300000, 3, 100, 20000, 6",
        "5, 0, 1000000, 5, 0, 50000, 8",
        "6, 0, 150000, 1, 500, 5000, 2",
        "7, 30000, 100000, 8, 300, 10000, 10",
    })
    void shouldMakeTheSameDecisionsAsTheLinearScheduler(
        final long seed,
        final int window,
        final int maxIncoming,
        final int maxOvercommit,
        final int fifoFraction,
        final int fifoIncrement,
        final int peerCount)
    {
        final SchedulingSettings d = SchedulingSettings.defaults();
        final SchedulingSettings settings = new SchedulingSettings(window, maxIncoming, maxOvercommit, fifoFraction,
            fifoIncrement, d.linkMbps(), d.numPriorities(), d.unschedCutoffs(), d.maxNicEstBacklogNs(),
            d.deferMinBytes(), d.pacerFifoFraction(), d.pacing());
        scheduler = new GrantScheduler(settings, MAX_SCHED_PRIO, FIFO_PRIORITY,
            (rpc, offset, priority) -> record(newGrants, rpc, offset, priority), counters());
        reference = new LinearGrantSchedulerReference(settings, MAX_SCHED_PRIO, FIFO_PRIORITY,
            (rpc, offset, priority) -> record(refGrants, rpc, offset, priority), counters());

        final Peer[] newPeers = new Peer[peerCount];
        final Peer[] refPeers = new Peer[peerCount];
        for (int i = 0; i < peerCount; i++)
        {
            newPeers[i] = new Peer(0x0A00_0000 + i, 4000);
            refPeers[i] = new Peer(0x0A00_0000 + i, 4000);
        }

        final SplittableRandom random = new SplittableRandom(seed);
        long nowNs = 0;
        long nextId = 2;
        int grantsSeen = 0;
        int maxQueued = 0;
        int fifoGrants = 0;
        for (int step = 0; step < STEPS; step++)
        {
            refuse = 0 == random.nextInt(40);
            final int packets = 0 == random.nextInt(3) ? 1 + random.nextInt(6) : 1;
            boolean isStaleRisk = false;
            for (int p = 0; p < packets; p++)
            {
                final int choice = random.nextInt(100);
                if (choice < 8 && newLive.size() < 40)
                {
                    final int peer = random.nextInt(peerCount);
                    final int length = random.nextInt(4) == 0 ?
                        1 + random.nextInt(60_000) : 20_000 + random.nextInt(random.nextBoolean() ? 300_000 : 2_000_000);
                    final int unsched = random.nextInt(3) == 0 ? 10_000 : 40_000;
                    final Rpc a = start(newPeers[peer], nextId, length, unsched, true);
                    final Rpc b = start(refPeers[peer], nextId, length, unsched, false);
                    nextId += 2;
                    arrive(a, b, Math.min(length, 1 + random.nextInt(10_000)));
                }
                else if (choice < 90 && !newLive.isEmpty())
                {
                    final int i = random.nextInt(newLive.size());
                    final Rpc a = newLive.get(i);
                    final IncomingMessage rx = a.rx;
                    final boolean isQueued = rx.isGrantManaged && rx.activeSlot < 0;
                    final int sendable = Math.min(rx.granted, rx.length()) - rx.received();
                    if (sendable > 0 && (!isQueued || 0 == p))
                    {
                        isStaleRisk |= isQueued;
                        arrive(a, refLive.get(i), Math.min(sendable, 1 + random.nextInt(random.nextBoolean() ?
                            1_500 : 60_000)));
                    }
                }
                else if (choice < 92 && !newLive.isEmpty() && !isStaleRisk)
                {
                    final int i = random.nextInt(newLive.size());
                    scheduler.remove(newLive.remove(i));
                    reference.remove(refLive.remove(i));
                }
            }

            assertEquals(reference.pendingCount(), scheduler.pendingCount(), "step " + step);
            assertEquals(reference.processPending(nowNs), scheduler.processPending(nowNs), "step " + step);
            assertEquals(refGrants, newGrants, "step " + step);
            grantsSeen += newGrants.size();
            for (final Grant grant : newGrants)
            {
                fifoGrants += FIFO_PRIORITY == grant.priority() ? 1 : 0;
            }
            newGrants.clear();
            refGrants.clear();
            assertSameState(step);
            maxQueued = Math.max(maxQueued, scheduler.queuedCount());

            for (int i = newLive.size() - 1; i >= 0; i--)
            {
                if (0 == newLive.get(i).rx.bytesRemaining())
                {
                    scheduler.remove(newLive.remove(i));
                    reference.remove(refLive.remove(i));
                }
            }
            nowNs += random.nextInt(20_000);
        }
        // The run must have exercised what it compares: many grants, a queue, FIFO grants when they are on.
        assertTrue(grantsSeen > STEPS / 20, "grants sent: " + grantsSeen);
        assertTrue(maxQueued >= 10, "max queued: " + maxQueued);
        assertTrue(0 == fifoFraction || fifoGrants > 10, "FIFO grants: " + fifoGrants);
    }

    private void assertSameState(final int step)
    {
        final String at = "step " + step;
        assertEquals(reference.numActive(), scheduler.numActive(), at);
        assertEquals(reference.numGrantable(), scheduler.numGrantable(), at);
        assertEquals(reference.queuedCount(), scheduler.queuedCount(), at);
        assertEquals(reference.window(), scheduler.window(), at);
        assertEquals(reference.totalIncoming(), scheduler.totalIncoming(), at);
        assertEquals(reference.needyMask(), scheduler.needyMask(), at);
        for (int i = 0; i < newLive.size(); i++)
        {
            final Rpc a = newLive.get(i);
            final Rpc b = refLive.get(i);
            final String rpc = at + ", rpc " + a.id;
            assertEquals(reference.isActive(b), scheduler.isActive(a), rpc);
            assertEquals(b.rx.activeSlot, a.rx.activeSlot, rpc);
            assertEquals(b.rx.granted, a.rx.granted, rpc);
            assertEquals(b.rx.recIncoming, a.rx.recIncoming, rpc);
            assertEquals(b.rx.isGrantManaged, a.rx.isGrantManaged, rpc);
            assertEquals(b.peer.activeGrants, a.peer.activeGrants, rpc);
        }
    }

    private Rpc start(final Peer peer, final long id, final int length, final int unsched, final boolean isNew)
    {
        final Rpc rpc = new Rpc();
        rpc.id = id;
        rpc.peer = peer;
        rpc.rx.init(length, 0);
        if (isNew)
        {
            scheduler.initMessage(rpc, unsched);
            newLive.add(rpc);
        }
        else
        {
            reference.initMessage(rpc, unsched);
            refLive.add(rpc);
        }
        return rpc;
    }

    private void arrive(final Rpc a, final Rpc b, final int bytes)
    {
        final int start = a.rx.received();
        a.rx.add(start, start + bytes);
        b.rx.add(start, start + bytes);
        scheduler.onDataReceived(a);
        reference.onDataReceived(b);
    }

    private boolean record(final List<Grant> grants, final Rpc rpc, final int offset, final int priority)
    {
        if (refuse)
        {
            return false;
        }
        grants.add(new Grant(rpc.id, offset, priority));
        return true;
    }

    private static SystemCounters counters()
    {
        return new SystemCounters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(512 * 1024)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024))));
    }
}
