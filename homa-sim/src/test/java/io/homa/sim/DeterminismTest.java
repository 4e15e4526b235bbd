package io.homa.sim;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same seed and settings give a byte-identical event trace (and so the same hash); another seed another one.
 */
class DeterminismTest
{
    private static SimSettings settings(final long seed)
    {
        // Faults on, two tiers, echo: every random stream and both route kinds take part.
        return new SimSettings().topology(SimSettings.Topology.TWO_TIER).hosts(8).racks(2).workload("w3")
            .load(0.5).durationNs(3_000_000).loss(0.01).duplicate(0.01).reorder(0.02).echo(true).seed(seed);
    }

    @Test
    void shouldWriteTheSameTraceForTheSameSeedAndAnotherForAnother()
    {
        final ByteArrayOutputStream first = new ByteArrayOutputStream();
        final ByteArrayOutputStream second = new ByteArrayOutputStream();
        final SimResult a = new Simulation(settings(42), first).run();
        final SimResult b = new Simulation(settings(42), second).run();
        final SimResult c = new Simulation(settings(43)).run();
        System.out.printf("seed 42: %016x (%,d trace bytes) twice: %016x; seed 43: %016x%n", a.traceHash(),
            first.size(), b.traceHash(), c.traceHash());

        assertTrue(a.events() > 10_000, "a run with something in it: " + a.events());
        assertTrue(a.lost() > 0 && a.lost() == b.lost(), "faults drawn, the same ones");
        assertArrayEquals(first.toByteArray(), second.toByteArray(), "byte-identical traces");
        assertEquals(a.traceHash(), b.traceHash());
        assertEquals(a.events(), b.events());
        assertEquals(a.completed(), b.completed());
        assertEquals(a.allP99(), b.allP99());
        assertNotEquals(a.traceHash(), c.traceHash(), "another seed, another run");
    }

    @Test
    void shouldChangeTheTraceWhenASettingChanges()
    {
        final SimResult base = new Simulation(settings(5)).run();
        final SimResult fewerPriorities = new Simulation(settings(5).numPriorities(1)).run();
        assertNotEquals(base.traceHash(), fewerPriorities.traceHash());
    }
}
