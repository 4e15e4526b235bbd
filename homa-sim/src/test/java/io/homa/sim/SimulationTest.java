package io.homa.sim;

import io.homa.codecs.HomaWire;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real engines on the simulated network: every message completes, an idle network gives the unloaded time, a
 * loaded one queues where Homa says it should, and the run's speed is reported.
 */
class SimulationTest
{
    @Test
    void shouldDeliverEveryMessageOnAnIdleRackInTheUnloadedTime()
    {
        final SimResult r = new Simulation(new SimSettings().hosts(8).workload("w4").load(0.02).durationNs(20_000_000))
            .run();
        System.out.print(SimReport.table(r));

        assertTrue(r.messages() > 50, "enough messages to judge: " + r.messages());
        assertEquals(r.messages(), r.completed(), "every message completes");
        assertEquals(0, r.failed());
        assertTrue(r.isDrained(), "nothing left to happen afterwards");
        // At 2 % load nearly nothing queues: the median message takes its unloaded time, never less.
        System.out.printf("smallest bucket: P50 %.3f P99 %.3f%n", r.p50(0), r.p99(0));
        for (int b = 0; b < SimResult.BUCKETS; b++)
        {
            if (r.count(b) > 0)
            {
                assertTrue(r.p50(b) >= 1.0 && r.p50(b) < 1.2, "bucket " + b + " P50 " + r.p50(b));
            }
        }
        assertEquals(0, r.resentBytes(), "no loss, no retransmission");
    }

    @Test
    void shouldCarryW4AtEightyPercentOnSixteenHostsForTwentyMilliseconds()
    {
        final long startNs = System.nanoTime();
        final SimResult r = new Simulation(new SimSettings().hosts(16).workload("w4").load(0.8)
            .durationNs(20_000_000)).run();
        final double wallSeconds = (System.nanoTime() - startNs) / 1e9;
        System.out.print(SimReport.table(r));
        System.out.printf("16 hosts, W4 80%%, 20 ms simulated: %.2f s wall in all, %s%n", wallSeconds, r.summary());

        assertEquals(r.messages(), r.completed(), "every message completes");
        assertTrue(r.isDrained());
        assertTrue(r.meanNicUtilisation() > 0.6 && r.meanNicUtilisation() < 0.95,
            "uplinks carry the offered load: " + r.meanNicUtilisation());
        // Homa's priorities at work: the backlog waits at the lowest (scheduled) levels, the highest stay near empty.
        assertTrue(r.meanQueueBytes(7) * 10 < r.meanQueueBytes(0),
            "P7 " + r.meanQueueBytes(7) + " bytes vs P0 " + r.meanQueueBytes(0));
        assertTrue(r.schedBytes() > r.unschedBytes(), "W4's bytes are mostly scheduled");
        assertTrue(r.sent(HomaWire.GRANT) > 0);
        assertTrue(wallSeconds < 60, "fits in a CI test: " + wallSeconds);
    }

    @Test
    void shouldRecoverEveryMessageFromFivePercentLoss()
    {
        final SimResult r = new Simulation(new SimSettings().hosts(8).workload("w3").load(0.3)
            .durationNs(10_000_000).loss(0.05).seed(7)).run();
        System.out.print(SimReport.table(r));

        assertTrue(r.lost() > 100, "the links lost packets: " + r.lost());
        assertTrue(r.resentBytes() > 0, "and the engines resent them");
        assertTrue(r.sent(HomaWire.RESEND) > 0, "receivers asked for them");
        assertEquals(r.messages(), r.completed(), "yet every message completes");
        assertEquals(0, r.failed());
        assertEquals(0, r.duplicateDeliveries(), "and none twice");
    }

    @Test
    void shouldDeliverOnceDespiteDuplicationAndReorderingAcrossTwoTiers()
    {
        final SimResult r = new Simulation(new SimSettings().topology(SimSettings.Topology.TWO_TIER).hosts(16)
            .racks(4).workload("w2").load(0.4).durationNs(5_000_000).duplicate(0.02).reorder(0.05).echo(true)
            .seed(3)).run();
        System.out.print(SimReport.table(r));

        assertTrue(r.messages() > 1_000, "messages: " + r.messages());
        assertEquals(r.messages(), r.completed(), "every echo RPC completes");
        assertEquals(0, r.failed());
        assertEquals(0, r.duplicateDeliveries(), "a duplicated packet never delivers a message twice");
    }
}
