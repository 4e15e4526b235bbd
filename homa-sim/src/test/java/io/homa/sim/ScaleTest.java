package io.homa.sim;

import org.junit.jupiter.api.Test;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What real time on a 2-core machine cannot do: a 500-to-1 incast, a 1,000-host cluster, 80 % load on
 * 100 Gbit/s links. Each prints its simulated and wall time.
 */
class ScaleTest
{
    private static final long MS = 1_000_000L;

    private static void print(final String what, final Simulation sim, final long wallStartNs)
    {
        System.out.printf(Locale.ROOT, "%s: %.3f ms simulated in %.2f s wall, %,d events%n", what,
            sim.nowNs() / 1e6, (System.nanoTime() - wallStartNs) / 1e9, sim.network().events);
    }

    @Test
    void shouldCompleteA500To1IncastWithTheQueueBoundedByTheUnscheduledBytes()
    {
        final long wallStartNs = System.nanoTime();
        final int senders = 500;
        final int size = 100_000;
        // A deep switch buffer, so the peak shows what Homa itself lets queue; the receiver's pool holds every
        // message at once (the senders' pools only take the 1-byte answers).
        final SimSettings settings = new SimSettings().hosts(senders + 1).load(0).durationNs(0)
            .switchBufferBytes(64 << 20).poolBytes(256 << 10).sendRegionBytes(256 << 10).hostPoolBytes(0, 64 << 20);
        final Simulation sim = new Simulation(settings).build();
        try
        {
            final Messages messages = sim.messages();
            for (int h = 1; h <= senders; h++)
            {
                sim.send(h, 0, size, 0);
            }
            assertTrue(sim.runUntil(() -> messages.completed() + messages.failed() == senders, 1_000 * MS),
                "done: " + messages.completed());
            print("500-to-1 incast of 100 KB messages", sim, wallStartNs);
            assertEquals(senders, messages.completed(), "all 500 complete");
            long lastNs = 0;
            for (int m = 0; m < senders; m++)
            {
                assertEquals(1, messages.serverRuns(m));
                lastNs = Math.max(lastNs, messages.doneNs(m));
            }
            final Port toReceiver = sim.network().downlinks.get(0);
            assertEquals("tor0>h0", toReceiver.name);
            final long unschedWire = (long)senders * new Unloaded(sim.network()).wireBytes(settings.unschedBytes);
            System.out.printf(Locale.ROOT, "peak queue towards the receiver %,d bytes (500 x unscheduled: %,d); " +
                "last message at %.3f ms; drops %d%n", toReceiver.maxTotalQueuedBytes, unschedWire, lastNs / 1e6,
                toReceiver.overflowDrops);
            // The unscheduled bursts all queue; the scheduled bytes come only as the receiver grants them
            // (overcommitment 8), so they add little to the peak.
            assertTrue(toReceiver.maxTotalQueuedBytes <= unschedWire + (1 << 20),
                "peak " + toReceiver.maxTotalQueuedBytes);
            assertTrue(toReceiver.maxTotalQueuedBytes >= unschedWire / 2, "the burst did queue");
            // The receiver's link carries the 50 MB nearly back to back: done within 20 % of its serialisation time
            // (measured: 15 %, the grants to 8 messages at a time leave gaps).
            final long wireBytes = (long)senders * new Unloaded(sim.network()).wireBytes(size);
            final long idealNs = Math.round(wireBytes * 8e9 / settings.hostLinkBps);
            assertTrue(lastNs >= idealNs && lastNs < idealNs * 1.2, "last " + lastNs + " ideal " + idealNs);
        }
        finally
        {
            sim.close();
        }
    }

    @Test
    void shouldRecoverA500To1IncastFromSwitchBufferOverflow()
    {
        final long wallStartNs = System.nanoTime();
        final int senders = 500;
        final int size = 100_000;
        // The default 1 MiB per port: the unscheduled bursts (20 MB) overflow it and RESENDs recover them.
        final SimSettings settings = new SimSettings().hosts(senders + 1).load(0).durationNs(0)
            .poolBytes(256 << 10).sendRegionBytes(256 << 10).hostPoolBytes(0, 64 << 20);
        final Simulation sim = new Simulation(settings).build();
        try
        {
            final Messages messages = sim.messages();
            for (int h = 1; h <= senders; h++)
            {
                sim.send(h, 0, size, 0);
            }
            assertTrue(sim.runUntil(() -> messages.completed() + messages.failed() == senders, 2_000 * MS),
                "done: " + messages.completed() + " failed " + messages.failed());
            print("500-to-1 incast, 1 MiB switch buffer", sim, wallStartNs);
            final Port toReceiver = sim.network().downlinks.get(0);
            final SimResult r = sim.result();
            System.out.printf(Locale.ROOT, "drops at the receiver's port %,d; RESENDs %,d; retransmitted %,d bytes%n",
                toReceiver.overflowDrops, r.sent(io.homa.codecs.HomaWire.RESEND), r.resentBytes());
            assertTrue(toReceiver.overflowDrops > 0, "the buffer overflowed");
            assertEquals(senders, messages.completed(), "yet all 500 complete");
            assertEquals(0, r.duplicateDeliveries());
            assertTrue(toReceiver.maxTotalQueuedBytes <= 1 << 20);
        }
        finally
        {
            sim.close();
        }
    }

    @Test
    void shouldRunAThousandHosts()
    {
        final long wallStartNs = System.nanoTime();
        // 25 racks of 40 hosts under 10 core switches (full bisection), W4 at 50 % for 0.3 ms (then the drain);
        // 1 MiB pool and 1 MiB send region per host. (W2 for 0.5 ms, where every host hears from hundreds of
        // peers, needed 4 GB of heap even with 16 acked ids per peer instead of 1,024: the engine allocates a
        // peer's whole at-most-once window, 48 KB at the default, at its first request.)
        final SimSettings settings = new SimSettings().topology(SimSettings.Topology.TWO_TIER).hosts(1_000)
            .racks(25).workload("w4").load(0.5).durationNs(3 * MS / 10).poolBytes(1 << 20).sendRegionBytes(1 << 20);
        final Simulation sim = new Simulation(settings);
        final SimResult r;
        long direct = 0;
        try
        {
            sim.startArrivals();
            sim.advanceTo(settings.durationNs + settings.drainNs);
            r = sim.result();
            for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
            {
                if ("direct".equals(pool.getName()))
                {
                    direct = pool.getMemoryUsed();
                }
            }
        }
        finally
        {
            sim.close();
        }
        final double wallSeconds = (System.nanoTime() - wallStartNs) / 1e9;
        long peakHeap = 0;
        for (final MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans())
        {
            if (MemoryType.HEAP == pool.getType())
            {
                peakHeap += pool.getPeakUsage().getUsed();
            }
        }
        System.out.print(SimReport.table(r));
        System.out.printf(Locale.ROOT, "1,000 hosts: %.3f ms simulated in %.2f s wall; direct memory %,d MB, " +
            "peak heap (sum of the pools' peaks) %,d MB%n", r.simulatedNs / 1e6, wallSeconds, direct >> 20,
            peakHeap >> 20);
        assertTrue(r.messages() > 2_000, "messages: " + r.messages());
        assertEquals(r.messages(), r.completed(), "every message completes");
        assertEquals(0, r.failed());
        assertTrue(r.meanNicUtilisation() > 0.1, "hosts send: " + r.meanNicUtilisation());
    }

    @Test
    void shouldCarryEightyPercentLoadOnHundredGigabitLinks()
    {
        final long wallStartNs = System.nanoTime();
        final SimSettings settings = new SimSettings().hosts(16).hostLinkGbps(100).workload("w4").load(0.8)
            .durationNs(2 * MS);
        final SimResult r = new Simulation(settings).run();
        System.out.print(SimReport.table(r));
        System.out.printf(Locale.ROOT, "16 hosts at 100 Gbit/s, W4 80%%: %.3f ms simulated in %.2f s wall%n",
            r.simulatedNs / 1e6, (System.nanoTime() - wallStartNs) / 1e9);
        assertEquals(r.messages(), r.completed(), "every message completes");
        assertTrue(r.isDrained());
        assertTrue(r.meanNicUtilisation() > 0.6 && r.meanNicUtilisation() < 0.95,
            "uplinks carry the offered load: " + r.meanNicUtilisation());
        assertEquals(0, r.overflowDrops(), "1 MiB switch buffers never overflow");
        assertTrue(r.meanQueueBytes(7) * 10 < r.meanQueueBytes(0), "the backlog waits at the lowest priority");
    }
}
