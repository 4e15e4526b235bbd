package io.homa.sim;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.samples.workload.MessageSizeDistribution;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * One run: builds the network and a real engine per host, then pops events in time order until the arrivals have
 * stopped and the network has drained (or the drain limit passes). Single-threaded and driven only by the event
 * queue and the seeded random streams, so the same settings give the same event trace.
 */
public final class Simulation
{
    private final SimSettings settings;
    private final OutputStream traceStream;

    /**
     * @param settings what to simulate.
     */
    public Simulation(final SimSettings settings)
    {
        this(settings, null);
    }

    /**
     * @param settings    what to simulate.
     * @param traceStream where to write the event trace (big-endian 64-bit words), or null.
     */
    public Simulation(final SimSettings settings, final OutputStream traceStream)
    {
        this.settings = settings;
        this.traceStream = traceStream;
    }

    /**
     * @return the figures of the run.
     */
    public SimResult run()
    {
        final long wallStartNs = System.nanoTime();
        final SimSettings s = settings;
        if (s.hosts < 2)
        {
            throw new IllegalArgumentException("need at least 2 hosts: " + s.hosts);
        }
        final Trace trace = new Trace(traceStream);
        final Network network = new Network(s, trace);
        final MessageSizeDistribution sizes = MessageSizeDistribution.workload(s.workload);
        final Unloaded unloaded = new Unloaded(network);
        final Application.Shared shared = new Application.Shared(s, sizes, meanWireBytes(sizes, unloaded));

        // One set of counters for every engine: the run's totals (the engines only add to them).
        final SystemCounters counters = new SystemCounters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 18)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16))));
        final Port[] nics = network.wire();
        final SimHost[] hosts = new SimHost[s.hosts];
        for (int h = 0; h < hosts.length; h++)
        {
            hosts[h] = new SimHost(h, network, nics[h], counters, shared);
        }
        network.attach(hosts);
        final long setupNs = System.nanoTime() - wallStartNs;
        final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        final long cpuStartNs = threads.getCurrentThreadCpuTime();

        for (final SimHost host : hosts)
        {
            host.application.start();
        }
        final long endNs = s.durationNs + s.drainNs;
        final EventQueue queue = network.queue;
        final Snapshot snapshot = new Snapshot(network);
        long lastNs = 0;
        while (!queue.isEmpty())
        {
            final long nowNs = queue.peekTime();
            if (nowNs > endNs)
            {
                break;
            }
            if (!snapshot.isTaken() && nowNs >= s.durationNs)
            {
                snapshot.take(s.durationNs);
            }
            final SimEvent event = queue.poll();
            trace.add((nowNs << 8) | event.traceKind());
            event.trace(trace);
            network.events++;
            lastNs = nowNs;
            event.onEvent(nowNs);
        }
        if (!snapshot.isTaken())
        {
            snapshot.take(Math.max(lastNs, 1));
        }
        trace.close();
        final long wallNs = System.nanoTime() - wallStartNs - setupNs;
        final long cpuNs = threads.getCurrentThreadCpuTime() - cpuStartNs;

        final SimResult result = new SimResult(s, network, shared, unloaded, snapshot, lastNs, wallNs, setupNs,
            cpuNs, trace.hash(), queue.isEmpty(), counters.get(SystemCounterDescriptor.DUPLICATE_DATA).get());
        for (final SimHost host : hosts)
        {
            host.engine.close();
        }
        counters.close();
        return result;
    }

    /**
     * @return mean wire bytes of a message's DATA packets over the workload's sizes.
     */
    static double meanWireBytes(final MessageSizeDistribution sizes, final Unloaded unloaded)
    {
        double mean = 0;
        double previous = 0;
        for (int i = 0; i < sizes.points(); i++)
        {
            mean += (sizes.cdf(i) - previous) * unloaded.wireBytes(Math.max(Long.BYTES, sizes.length(i)));
            previous = sizes.cdf(i);
        }
        return mean;
    }

    /**
     * The ports' counters when the arrivals stop: utilisation and queue lengths are over [0, duration].
     */
    static final class Snapshot
    {
        private final Network network;
        private boolean isTaken;
        long atNs;
        long[] txWireBytes;
        long[][] queueByteNs;

        Snapshot(final Network network)
        {
            this.network = network;
        }

        boolean isTaken()
        {
            return isTaken;
        }

        void take(final long nowNs)
        {
            isTaken = true;
            atNs = nowNs;
            final java.util.List<Port> ports = allPorts();
            txWireBytes = new long[ports.size()];
            queueByteNs = new long[ports.size()][];
            for (int i = 0; i < ports.size(); i++)
            {
                final Port port = ports.get(i);
                port.accountAll(nowNs);
                txWireBytes[i] = port.txWireBytes;
                queueByteNs[i] = port.queueByteNs.clone();
            }
        }

        java.util.List<Port> allPorts()
        {
            final java.util.List<Port> ports = new java.util.ArrayList<>(network.nics);
            ports.addAll(network.downlinks);
            ports.addAll(network.uplinks);
            return ports;
        }
    }
}
