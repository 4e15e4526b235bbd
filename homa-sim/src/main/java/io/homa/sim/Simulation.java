package io.homa.sim;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.samples.workload.MessageSizeDistribution;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * One run: builds the network and a real engine per host, then pops events in time order until the arrivals have
 * stopped and the network has drained (or the drain limit passes). Single-threaded and driven only by the event
 * queue and the seeded random streams, so the same settings give the same event trace.
 * <p>
 * Besides {@link #run()}, a test can drive a run step by step: {@link #build()}, then {@link #send} chosen
 * messages, {@link #drops()} to lose or copy chosen packets, {@link #runUntil} a condition, and read each host's
 * own counters ({@link SimSettings#perHostCounters}).
 */
public final class Simulation
{
    private final SimSettings settings;
    private final OutputStream traceStream;

    private Trace trace;
    private Network network;
    private Unloaded unloaded;
    private Application.Shared shared;
    private SystemCounters counters;
    private SystemCounters[] hostCounters;
    private Port[] nics;
    private SimHost[] hosts;
    private Snapshot snapshot;
    private long lastNs;
    private long wallStartNs;
    private long setupNs;
    private long cpuStartNs;
    private long loopWallNs;
    private long loopCpuNs;
    private boolean isClosed;

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
        startArrivals();
        advanceTo(settings.durationNs + settings.drainNs);
        final SimResult result = result();
        close();
        return result;
    }

    /**
     * Builds the run and schedules each application's first arrival.
     */
    void startArrivals()
    {
        build();
        for (final SimHost host : hosts)
        {
            host.application.start();
        }
    }

    /**
     * Builds the network and the hosts, once.
     *
     * @return this.
     */
    Simulation build()
    {
        if (null != network)
        {
            return this;
        }
        wallStartNs = System.nanoTime();
        final SimSettings s = settings;
        if (s.hosts < 2)
        {
            throw new IllegalArgumentException("need at least 2 hosts: " + s.hosts);
        }
        trace = new Trace(traceStream);
        network = new Network(s, trace);
        final MessageSizeDistribution sizes = MessageSizeDistribution.workload(s.workload);
        unloaded = new Unloaded(network);
        shared = new Application.Shared(s, sizes, meanWireBytes(sizes, unloaded));

        // One set of counters for every engine, the run's totals (the engines only add to them); or one per host.
        counters = newCounters();
        hostCounters = new SystemCounters[s.hosts];
        nics = network.wire();
        hosts = new SimHost[s.hosts];
        for (int h = 0; h < hosts.length; h++)
        {
            hostCounters[h] = s.isPerHostCounters ? newCounters() : counters;
            hosts[h] = new SimHost(h, network, nics[h], hostCounters[h], shared);
        }
        network.attach(hosts);
        snapshot = new Snapshot(network);
        setupNs = System.nanoTime() - wallStartNs;
        cpuStartNs = threadCpuNs();
        return this;
    }

    private static SystemCounters newCounters()
    {
        return new SystemCounters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 18)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16))));
    }

    private static long threadCpuNs()
    {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /**
     * Pops every event up to and including {@code endNs}.
     *
     * @param endNs virtual time to stop at.
     */
    void advanceTo(final long endNs)
    {
        runUntil(() -> false, endNs);
    }

    /**
     * Pops events in time order until the condition holds (checked after each event), the next event lies beyond
     * {@code limitNs}, or nothing is left to happen.
     *
     * @param condition when to stop.
     * @param limitNs   virtual time not to pass.
     * @return whether the condition holds.
     */
    boolean runUntil(final BooleanSupplier condition, final long limitNs)
    {
        build();
        final long startNs = System.nanoTime();
        final long startCpuNs = threadCpuNs();
        final EventQueue queue = network.queue;
        final long durationNs = settings.durationNs;
        boolean isDone = condition.getAsBoolean();
        while (!isDone && !queue.isEmpty())
        {
            final long nowNs = queue.peekTime();
            if (nowNs > limitNs)
            {
                break;
            }
            if (!snapshot.isTaken() && nowNs >= durationNs)
            {
                snapshot.take(durationNs);
            }
            final SimEvent event = queue.poll();
            trace.add((nowNs << 8) | event.traceKind());
            event.trace(trace);
            network.events++;
            lastNs = nowNs;
            event.onEvent(nowNs);
            isDone = condition.getAsBoolean();
        }
        loopWallNs += System.nanoTime() - startNs;
        loopCpuNs += threadCpuNs() - startCpuNs;
        return isDone;
    }

    /**
     * @return the figures of the run so far (utilisation and queues over the arrival period, or up to now if
     * the run has not reached its end).
     */
    SimResult result()
    {
        if (!snapshot.isTaken())
        {
            snapshot.take(Math.max(lastNs, 1));
        }
        trace.close();
        long duplicateData = 0;
        if (settings.isPerHostCounters)
        {
            for (final SystemCounters c : hostCounters)
            {
                duplicateData += c.get(SystemCounterDescriptor.DUPLICATE_DATA).get();
            }
        }
        else
        {
            duplicateData = counters.get(SystemCounterDescriptor.DUPLICATE_DATA).get();
        }
        return new SimResult(settings, network, shared, unloaded, snapshot, lastNs, loopWallNs, setupNs,
            loopCpuNs, trace.hash(), network.queue.isEmpty(), duplicateData);
    }

    /**
     * Closes the engines and frees the counters.
     */
    void close()
    {
        if (isClosed || null == network)
        {
            return;
        }
        isClosed = true;
        for (final SimHost host : hosts)
        {
            host.engine.close();
        }
        for (final SystemCounters c : hostCounters)
        {
            if (c != counters)
            {
                c.close();
            }
        }
        counters.close();
    }

    // ---- for tests that drive a run step by step ----

    /**
     * An application message sent now (or at {@code atNs}, if later): a request of {@code size} bytes from one
     * host to another, echoed back if the settings say echo.
     *
     * @return the message's number.
     */
    int send(final int from, final int to, final int size, final long atNs)
    {
        build();
        final int number = shared.messages.add(Math.max(atNs, lastNs), size, from, to);
        final SimHost host = hosts[from];
        if (atNs <= lastNs)
        {
            host.application.sendNow(number, lastNs);
        }
        else
        {
            network.schedule(atNs, new SimEvent()
            {
                public void onEvent(final long nowNs)
                {
                    hosts[from].application.sendNow(number, nowNs);
                }

                public int traceKind()
                {
                    return 5;
                }

                public void trace(final Trace t)
                {
                    t.add(number);
                }
            });
        }
        return number;
    }

    /**
     * The client aborts the RPC of a message (as {@code HomaSocket.abort}), completing it with the error.
     */
    void abort(final int message, final int errorCode)
    {
        final SimHost host = hosts[shared.messages.src(message)];
        host.engine.onAbort(host.socketId, SimHost.CLIENT_ID, shared.messages.rpcId(message), errorCode);
        host.service(lastNs);
    }

    /**
     * The host's engine and application die (socket memory, RPC state, queued events gone) and a fresh one takes
     * their place with the same address and port, as a restarted server; it has new counters.
     */
    void restartHost(final int index)
    {
        final SimHost old = hosts[index];
        old.kill();
        old.engine.close();
        if (settings.isPerHostCounters)
        {
            hostCounters[index] = newCounters();
        }
        final SimHost fresh = new SimHost(index, network, nics[index], hostCounters[index], shared);
        fresh.application.holdRequests = old.application.holdRequests;
        hosts[index] = fresh;
        network.replaceHost(fresh);
    }

    /**
     * @return the rules that lose or copy chosen packets where they arrive.
     */
    DropRules drops()
    {
        build();
        return network.drops;
    }

    Messages messages()
    {
        build();
        return shared.messages;
    }

    SimHost host(final int index)
    {
        build();
        return hosts[index];
    }

    /**
     * @return a counter of one host's engine (the run's total unless {@link SimSettings#perHostCounters}).
     */
    long counter(final int host, final SystemCounterDescriptor descriptor)
    {
        build();
        return hostCounters[host].get(descriptor).get();
    }

    /**
     * @return virtual time of the last event.
     */
    long nowNs()
    {
        return lastNs;
    }

    Network network()
    {
        build();
        return network;
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
