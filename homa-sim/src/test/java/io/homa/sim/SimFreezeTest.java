package io.homa.sim;

import io.homa.codecs.PacketWriter;
import io.homa.driver.status.SystemCounterDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A FREEZE reaching a simulated host: its real engine freezes its event log (virtual time) and the simulator's
 * {@link SimFreezeDumps} formats the frozen log at once, on the simulation's thread; no dump thread is started.
 */
class SimFreezeTest
{
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;

    private Simulation sim;

    @AfterEach
    void after()
    {
        if (null != sim)
        {
            sim.close();
        }
    }

    private void deliverFreeze(final int from, final int to, final long atNs)
    {
        final Network network = sim.network();
        final Packet packet = network.newPacket();
        packet.length = new PacketWriter().freeze(packet.buffer, 0, SimHost.SERVER_PORT, 0, 0);
        packet.srcHost = from;
        packet.dstHost = to;
        packet.isLateCopy = false;
        packet.parse();
        network.deliver(packet, sim.host(to), atNs);
    }

    @Test
    void shouldDumpAFrozenHostsEventLogIntoMemoryOnceWithoutAThread()
    {
        sim = new Simulation(new SimSettings().hosts(2).load(0).echo(true).perHostCounters(true).durationNs(0)
            .poolBytes(1 << 20).sendRegionBytes(1 << 20).eventLogLength(1024)).build();
        final Messages messages = sim.messages();
        final int m = sim.send(0, 1, 10_000, 0);
        assertTrue(sim.runUntil(() -> 0 != messages.doneNs(m), 100 * MS), "the RPC completes");
        final SimHost server = sim.host(1);
        assertEquals(List.of(), server.freezeDumps.dumps(), "nothing frozen yet");

        final long freezeAtNs = sim.nowNs() + 10 * US;
        deliverFreeze(0, 1, freezeAtNs);
        sim.advanceTo(freezeAtNs);

        final List<String> dumps = server.freezeDumps.dumps();
        assertEquals(1, dumps.size(), "dumped by the time the FREEZE's event has run");
        final String dump = dumps.get(0);
        assertTrue(dump.contains(" in simulated host 1, ") && dump.contains("frozen (freeze 1)"), dump);
        assertTrue(dump.contains("LOG_FROZEN"), dump);
        assertTrue(dump.contains("RPC_CREATED"), "the RPC's events are in it: " + dump);
        assertEquals(1, sim.counter(1, SystemCounterDescriptor.EVENT_LOG_FREEZES));
        assertEquals(List.of(), sim.host(0).freezeDumps.dumps(), "the client was not frozen");

        deliverFreeze(0, 1, freezeAtNs + 10 * US);
        sim.advanceTo(freezeAtNs + 20 * US);
        assertEquals(1, server.freezeDumps.dumps().size(), "a second FREEZE changes nothing while frozen");
        assertTrue(Thread.getAllStackTraces().keySet().stream()
            .noneMatch((t) -> t.getName().startsWith("homa-event-dump")), "no dump thread");
    }
}
