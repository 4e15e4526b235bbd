package io.homa.sim;

import io.homa.codecs.HomaWire;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The figures of one run: slowdown per size bucket (ten buckets of equal share of the workload's messages, as the
 * Homa papers plot them), link utilisation, switch queue lengths per priority, DATA bytes by kind, losses, and the
 * simulator's own speed and trace hash. {@link SimReport} prints and plots them.
 */
public final class SimResult
{
    /** Size buckets. */
    public static final int BUCKETS = 10;

    final SimSettings settings;
    final int messages;
    final int completed;
    final int failed;
    final int[] upperBytes = new int[BUCKETS];
    final int[] bucketCount = new int[BUCKETS];
    final double[] p50 = new double[BUCKETS];
    final double[] p99 = new double[BUCKETS];
    final double allP50;
    final double allP99;
    final double[] nicUtilisation;
    final double[] downlinkUtilisation;
    final double[] uplinkUtilisation;
    final double[] meanQueueBytes = new double[Port.PRIORITIES];
    final long[] maxQueueBytes = new long[Port.PRIORITIES];
    final long unschedBytes;
    final long schedBytes;
    final long resentBytes;
    final long wastedBytes;
    final long droppedPayloadBytes;
    final long overflowDrops;
    final long lost;
    final long duplicated;
    final long reordered;
    final long duplicateData;
    final long sendRegionWaits;
    final long[] sentByType;
    final long events;
    final long packetArrivals;
    final long linkTransmissions;
    final long cpuNs;
    final long simulatedNs;
    final long wallNs;
    final long setupNs;
    final long traceHash;
    final boolean isDrained;
    final long duplicateDeliveries;

    SimResult(
        final SimSettings settings,
        final Network network,
        final Application.Shared shared,
        final Unloaded unloaded,
        final Simulation.Snapshot snapshot,
        final long simulatedNs,
        final long wallNs,
        final long setupNs,
        final long cpuNs,
        final long traceHash,
        final boolean isDrained,
        final long duplicateData)
    {
        this.settings = settings;
        final Messages table = shared.messages;
        messages = table.count();
        completed = table.completed();
        failed = table.failed();
        for (int b = 0; b < BUCKETS; b++)
        {
            upperBytes[b] = Math.max(Long.BYTES, shared.sizes.lengthAt(Math.min((b + 1) / (double)BUCKETS, 0.999_999)));
        }

        final double[][] values = new double[BUCKETS][];
        final double[] all = new double[Math.max(1, completed)];
        int allCount = 0;
        for (int b = 0; b < BUCKETS; b++)
        {
            values[b] = new double[64];
        }
        long needed = 0;
        for (int m = 0; m < messages; m++)
        {
            final long doneNs = table.doneNs(m);
            if (doneNs <= 0)
            {
                continue;
            }
            final int size = table.size(m);
            needed += settings.isEcho ? 2L * size : size + 1;
            final double slowdown = (doneNs - table.startNs(m)) / (double)unloaded.ns(size, table.src(m), table.dst(m));
            final int b = bucketOf(size);
            if (bucketCount[b] == values[b].length)
            {
                values[b] = Arrays.copyOf(values[b], values[b].length * 2);
            }
            values[b][bucketCount[b]++] = slowdown;
            all[allCount++] = slowdown;
        }
        for (int b = 0; b < BUCKETS; b++)
        {
            Arrays.sort(values[b], 0, bucketCount[b]);
            p50[b] = percentile(values[b], bucketCount[b], 50);
            p99[b] = percentile(values[b], bucketCount[b], 99);
        }
        Arrays.sort(all, 0, allCount);
        allP50 = percentile(all, allCount, 50);
        allP99 = percentile(all, allCount, 99);

        final List<Port> ports = snapshot.allPorts();
        final int nics = network.nics.size();
        final int downlinks = network.downlinks.size();
        nicUtilisation = utilisation(ports, snapshot, 0, nics);
        downlinkUtilisation = utilisation(ports, snapshot, nics, nics + downlinks);
        uplinkUtilisation = utilisation(ports, snapshot, nics + downlinks, ports.size());
        final int switchPorts = ports.size() - nics;
        for (int i = nics; i < ports.size(); i++)
        {
            for (int p = 0; p < Port.PRIORITIES; p++)
            {
                meanQueueBytes[p] += snapshot.queueByteNs[i][p] / (double)snapshot.atNs / Math.max(1, switchPorts);
                maxQueueBytes[p] = Math.max(maxQueueBytes[p], ports.get(i).maxQueuedBytes[p]);
            }
        }

        long overflow = 0;
        for (final Port port : ports)
        {
            overflow += port.overflowDrops;
        }
        final Stats stats = shared.stats;
        unschedBytes = stats.unschedBytes;
        schedBytes = stats.schedBytes;
        resentBytes = stats.resentBytes;
        wastedBytes = Math.max(0, unschedBytes + schedBytes + resentBytes - needed);
        droppedPayloadBytes = network.droppedPayloadBytes;
        overflowDrops = overflow;
        lost = network.lost;
        duplicated = network.duplicated;
        reordered = network.reordered;
        this.duplicateData = duplicateData;
        sendRegionWaits = stats.sendRegionWaits;
        sentByType = stats.sentByType.clone();
        events = network.events;
        packetArrivals = network.packetArrivals;
        linkTransmissions = network.linkTransmissions;
        this.cpuNs = cpuNs;
        this.simulatedNs = simulatedNs;
        this.wallNs = wallNs;
        this.setupNs = setupNs;
        this.traceHash = traceHash;
        this.isDrained = isDrained;
        duplicateDeliveries = shared.duplicateDeliveries;
    }

    int bucketOf(final int size)
    {
        for (int b = 0; b < BUCKETS - 1; b++)
        {
            if (size <= upperBytes[b])
            {
                return b;
            }
        }
        return BUCKETS - 1;
    }

    private static double percentile(final double[] sorted, final int count, final double percentile)
    {
        if (0 == count)
        {
            return Double.NaN;
        }
        final int rank = (int)Math.ceil(percentile / 100.0 * count) - 1;
        return sorted[Math.min(count - 1, Math.max(0, rank))];
    }

    /**
     * @return {mean, max} utilisation of ports [from, to), or NaNs if there are none.
     */
    private static double[] utilisation(
        final List<Port> ports, final Simulation.Snapshot snapshot, final int from, final int to)
    {
        if (to <= from)
        {
            return new double[]{ Double.NaN, Double.NaN };
        }
        double sum = 0;
        double max = 0;
        for (int i = from; i < to; i++)
        {
            final double u = snapshot.txWireBytes[i] * 8e9 / ((double)ports.get(i).bitsPerSecond * snapshot.atNs);
            sum += u;
            max = Math.max(max, u);
        }
        return new double[]{ sum / (to - from), max };
    }

    /** @return messages the applications sent. */
    public int messages()
    {
        return messages;
    }

    /** @return messages that completed. */
    public int completed()
    {
        return completed;
    }

    /** @return messages whose RPC failed. */
    public int failed()
    {
        return failed;
    }

    /** @return messages in a bucket. */
    public int count(final int bucket)
    {
        return bucketCount[bucket];
    }

    /** @return the median slowdown of a bucket. */
    public double p50(final int bucket)
    {
        return p50[bucket];
    }

    /** @return the 99th-percentile slowdown of a bucket. */
    public double p99(final int bucket)
    {
        return p99[bucket];
    }

    /** @return the 99th-percentile slowdown of every message. */
    public double allP99()
    {
        return allP99;
    }

    /** @return mean utilisation of the hosts' uplinks over the arrival period. */
    public double meanNicUtilisation()
    {
        return nicUtilisation[0];
    }

    /** @return mean bytes queued at a priority, over the switch ports and the arrival period. */
    public double meanQueueBytes(final int priority)
    {
        return meanQueueBytes[priority];
    }

    /** @return packets dropped by full switch buffers. */
    public long overflowDrops()
    {
        return overflowDrops;
    }

    /** @return packets the links lost on purpose. */
    public long lost()
    {
        return lost;
    }

    /** @return retransmitted DATA payload bytes. */
    public long resentBytes()
    {
        return resentBytes;
    }

    /** @return scheduled DATA payload bytes. */
    public long schedBytes()
    {
        return schedBytes;
    }

    /** @return unscheduled DATA payload bytes. */
    public long unschedBytes()
    {
        return unschedBytes;
    }

    /** @return messages delivered a second time to an application (0 unless the protocol is broken). */
    public long duplicateDeliveries()
    {
        return duplicateDeliveries;
    }

    /** @return events popped. */
    public long events()
    {
        return events;
    }

    /** @return packet events: arrivals at switches and hosts, and transmissions finished on links. */
    public long packetEvents()
    {
        return packetArrivals + linkTransmissions;
    }

    /** @return CPU time of the event loop's thread. */
    public long cpuNs()
    {
        return cpuNs;
    }

    /** @return virtual time of the last event. */
    public long simulatedNs()
    {
        return simulatedNs;
    }

    /** @return wall time of the event loop. */
    public long wallNs()
    {
        return wallNs;
    }

    /** @return the hash of the event trace. */
    public long traceHash()
    {
        return traceHash;
    }

    /** @return true if the run ended with nothing left to happen (everything drained). */
    public boolean isDrained()
    {
        return isDrained;
    }

    /** @return packets of a type the engines sent. */
    public long sent(final int type)
    {
        return sentByType[type & 0xFF];
    }

    /** @return a one-line summary. */
    public String summary()
    {
        return String.format(Locale.ROOT,
            "%,d messages, %,d completed, %,d failed; P99 slowdown smallest bucket %.2f, all %.2f; " +
            "%,d events (%,d packet events) in %.2f s wall (%.2f s CPU) for %.3f ms simulated: " +
            "%.2f M packet events/s wall, %.2f M per CPU second; trace hash %016x", messages, completed, failed,
            p99[0], allP99, events, packetEvents(), wallNs / 1e9, cpuNs / 1e9, simulatedNs / 1e6,
            packetEvents() / (wallNs / 1e9) / 1e6, packetEvents() / (cpuNs / 1e9) / 1e6, traceHash);
    }

    static String typeName(final int type)
    {
        return HomaWire.typeName(type);
    }
}
