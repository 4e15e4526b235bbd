package io.homa.sim;

import io.homa.codecs.HomaWire;
import io.homa.driver.protocol.RecoverySettings;

import java.util.HashMap;
import java.util.Map;

import java.util.Locale;

/**
 * What to simulate, with fluent setters in the style of an Aeron context. Defaults: 16 hosts on one rack at
 * 10 Gbit/s, W4 at 50 % load for 10 ms, one-way messages, no faults, Linux Homa's protocol defaults (40,000
 * unscheduled bytes, 8 priorities, overcommitment 8, pacing at the link rate), 8 MiB receive pool and 8 MiB send
 * region per host (Linux has no send region: ours must not be what limits a host; 1,000 hosts want less).
 */
public final class SimSettings
{
    /**
     * How the hosts are connected.
     */
    public enum Topology
    {
        /** Every host on one top-of-rack switch. */
        ONE_RACK,
        /** Racks of hosts under top-of-rack switches, each with one uplink to every core switch. */
        TWO_TIER
    }

    Topology topology = Topology.ONE_RACK;
    int hosts = 16;
    int racks = 1;
    int coreSwitches = 0;
    long hostLinkBps = 10_000_000_000L;
    long uplinkBps = 40_000_000_000L;
    long propagationNs = 100;
    long switchingNs = 250;
    int switchBufferBytes = 1 << 20;
    int mtu = 1_500;
    boolean isNicPriorities;

    String workload = "w4";
    double load = 0.5;
    long durationNs = 10_000_000;
    long drainNs = 200_000_000;
    boolean isEcho;
    long seed = 1;

    double loss;
    double duplicate;
    double reorder;
    long reorderNs = 20_000;

    int poolBytes = 8 << 20;
    int sendRegionBytes = 8 << 20;
    int unschedBytes = 40_000;
    int numPriorities = HomaWire.HOMA_MAX_PRIORITIES;
    int maxOvercommit = 8;
    boolean isPacing = true;
    long tickNs = 1_000_000;
    int timeoutTicks = 100;
    int resendTicks = RecoverySettings.defaults().resendTicks();
    int recentAckTicks = RecoverySettings.defaults().recentAckTicks();
    int recentAcksPerPeer = RecoverySettings.defaults().recentAcksPerPeer();
    boolean isPerHostCounters;
    int eventLogLength;
    private final Map<Integer, RecoverySettings> hostRecovery = new HashMap<>();
    private final Map<Integer, Integer> hostPoolBytes = new HashMap<>();

    /** Builds the two-tier topology of the SIGCOMM'18 simulations: 144 hosts in 9 racks, 4 core switches. */
    public SimSettings paperTopology()
    {
        topology = Topology.TWO_TIER;
        hosts = 144;
        racks = 9;
        coreSwitches = 4;
        hostLinkBps = 10_000_000_000L;
        uplinkBps = 40_000_000_000L;
        return this;
    }

    public SimSettings topology(final Topology topology)
    {
        this.topology = topology;
        return this;
    }

    public SimSettings hosts(final int hosts)
    {
        this.hosts = hosts;
        return this;
    }

    public SimSettings racks(final int racks)
    {
        this.racks = racks;
        return this;
    }

    public SimSettings coreSwitches(final int coreSwitches)
    {
        this.coreSwitches = coreSwitches;
        return this;
    }

    public SimSettings hostLinkGbps(final double gbps)
    {
        this.hostLinkBps = Math.round(gbps * 1e9);
        return this;
    }

    public SimSettings uplinkGbps(final double gbps)
    {
        this.uplinkBps = Math.round(gbps * 1e9);
        return this;
    }

    public SimSettings propagationNs(final long ns)
    {
        this.propagationNs = ns;
        return this;
    }

    public SimSettings switchingNs(final long ns)
    {
        this.switchingNs = ns;
        return this;
    }

    public SimSettings switchBufferBytes(final int bytes)
    {
        this.switchBufferBytes = bytes;
        return this;
    }

    /**
     * @param priorities give host NICs 8 strict-priority queues too (a Linux NIC has one FIFO: the default).
     * @return this.
     */
    public SimSettings nicPriorities(final boolean priorities)
    {
        this.isNicPriorities = priorities;
        return this;
    }

    public SimSettings workload(final String workload)
    {
        this.workload = workload;
        return this;
    }

    public SimSettings load(final double load)
    {
        this.load = load;
        return this;
    }

    public SimSettings durationNs(final long ns)
    {
        this.durationNs = ns;
        return this;
    }

    public SimSettings drainNs(final long ns)
    {
        this.drainNs = ns;
        return this;
    }

    public SimSettings echo(final boolean echo)
    {
        this.isEcho = echo;
        return this;
    }

    public SimSettings seed(final long seed)
    {
        this.seed = seed;
        return this;
    }

    public SimSettings loss(final double loss)
    {
        this.loss = loss;
        return this;
    }

    public SimSettings duplicate(final double duplicate)
    {
        this.duplicate = duplicate;
        return this;
    }

    public SimSettings reorder(final double reorder)
    {
        this.reorder = reorder;
        return this;
    }

    public SimSettings poolBytes(final int bytes)
    {
        this.poolBytes = bytes;
        return this;
    }

    public SimSettings sendRegionBytes(final int bytes)
    {
        this.sendRegionBytes = bytes;
        return this;
    }

    public SimSettings unschedBytes(final int bytes)
    {
        this.unschedBytes = bytes;
        return this;
    }

    public SimSettings numPriorities(final int levels)
    {
        this.numPriorities = levels;
        return this;
    }

    public SimSettings maxOvercommit(final int messages)
    {
        this.maxOvercommit = messages;
        return this;
    }

    public SimSettings pacing(final boolean pacing)
    {
        this.isPacing = pacing;
        return this;
    }

    /**
     * @param ticks silent ticks before an RPC is aborted (Linux's 100 by default here).
     * @return this.
     */
    public SimSettings timeoutTicks(final int ticks)
    {
        this.timeoutTicks = ticks;
        return this;
    }

    /**
     * @param ticks silent ticks before a receiver asks for missing bytes (RESEND).
     * @return this.
     */
    public SimSettings resendTicks(final int ticks)
    {
        this.resendTicks = ticks;
        return this;
    }

    /**
     * @param ticks how long a server remembers an acked RPC's id (the at-most-once window).
     * @return this.
     */
    public SimSettings recentAckTicks(final int ticks)
    {
        this.recentAckTicks = ticks;
        return this;
    }

    /**
     * @param ids acked server-RPC ids remembered per peer (the at-most-once window; preallocated when a peer
     *            first sends a request, about 48 bytes an id: 1,000 hosts that all talk to all want few).
     * @return this.
     */
    public SimSettings recentAcksPerPeer(final int ids)
    {
        this.recentAcksPerPeer = ids;
        return this;
    }

    /**
     * @param perHost give each engine its own counters (to tell client from server) instead of one set of totals.
     * @return this.
     */
    public SimSettings perHostCounters(final boolean perHost)
    {
        this.isPerHostCounters = perHost;
        return this;
    }

    /**
     * @param length records each host's event log keeps (a power of two, on virtual time, accepting FREEZE, each
     *               freeze dumped into memory), or 0 for none (the default).
     * @return this.
     */
    public SimSettings eventLogLength(final int length)
    {
        this.eventLogLength = length;
        return this;
    }

    /**
     * @param host     a host.
     * @param recovery its recovery settings in place of the run's.
     * @return this.
     */
    public SimSettings hostRecovery(final int host, final RecoverySettings recovery)
    {
        hostRecovery.put(host, recovery);
        return this;
    }

    /**
     * @param host  a host.
     * @param bytes its receive pool in place of the run's (an incast receiver, say).
     * @return this.
     */
    public SimSettings hostPoolBytes(final int host, final int bytes)
    {
        hostPoolBytes.put(host, bytes);
        return this;
    }

    /**
     * @return the recovery settings of a host: Linux's defaults with this run's timeout, resend and recent-ack
     * ticks, unless {@link #hostRecovery} set others.
     */
    RecoverySettings recoveryOf(final int host)
    {
        final RecoverySettings own = hostRecovery.get(host);
        if (null != own)
        {
            return own;
        }
        final RecoverySettings d = RecoverySettings.defaults();
        return new RecoverySettings(resendTicks, d.resendInterval(), timeoutTicks, recentAckTicks,
            recentAcksPerPeer, d.peerGcThreshold(), d.peerIdleMinNs(), d.peerIdleMaxNs(),
            d.needAckIntervalTicks());
    }

    int poolBytesOf(final int host)
    {
        return hostPoolBytes.getOrDefault(host, poolBytes);
    }

    /**
     * Reads {@code --name value} options (names as the setters, e.g. {@code --hosts 144 --load 0.8}).
     *
     * @param args the command line.
     * @return this.
     * @throws IllegalArgumentException for an unknown option.
     */
    public SimSettings parse(final String[] args)
    {
        for (int i = 0; i < args.length; i++)
        {
            final String name = args[i];
            if ("--paper".equals(name))
            {
                paperTopology();
                continue;
            }
            if ("--echo".equals(name))
            {
                isEcho = true;
                continue;
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException("missing value for " + name);
            }
            final String value = args[++i];
            switch (name)
            {
                case "--topology" -> topology = Topology.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
                case "--hosts" -> hosts = Integer.parseInt(value);
                case "--racks" -> racks = Integer.parseInt(value);
                case "--core-switches" -> coreSwitches = Integer.parseInt(value);
                case "--host-gbps" -> hostLinkGbps(Double.parseDouble(value));
                case "--uplink-gbps" -> uplinkGbps(Double.parseDouble(value));
                case "--propagation-ns" -> propagationNs = Long.parseLong(value);
                case "--switching-ns" -> switchingNs = Long.parseLong(value);
                case "--switch-buffer" -> switchBufferBytes = Integer.parseInt(value);
                case "--nic-priorities" -> isNicPriorities = Boolean.parseBoolean(value);
                case "--workload" -> workload = value;
                case "--load" -> load = Double.parseDouble(value);
                case "--ms" -> durationNs = Math.round(Double.parseDouble(value) * 1e6);
                case "--drain-ms" -> drainNs = Math.round(Double.parseDouble(value) * 1e6);
                case "--seed" -> seed = Long.parseLong(value);
                case "--loss" -> loss = Double.parseDouble(value);
                case "--duplicate" -> duplicate = Double.parseDouble(value);
                case "--reorder" -> reorder = Double.parseDouble(value);
                case "--pool" -> poolBytes = Integer.parseInt(value);
                case "--send-region" -> sendRegionBytes = Integer.parseInt(value);
                case "--unsched" -> unschedBytes = Integer.parseInt(value);
                case "--priorities" -> numPriorities = Integer.parseInt(value);
                case "--overcommit" -> maxOvercommit = Integer.parseInt(value);
                case "--pacing" -> isPacing = Boolean.parseBoolean(value);
                case "--timeout-ticks" -> timeoutTicks = Integer.parseInt(value);
                case "--resend-ticks" -> resendTicks = Integer.parseInt(value);
                case "--recent-acks-per-peer" -> recentAcksPerPeer = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown option: " + name);
            }
        }
        return this;
    }

    /**
     * @return a one-line description for reports.
     */
    public String describe()
    {
        return String.format(Locale.ROOT,
            "%s %d hosts%s, %.0f Gbit/s hosts%s, %s %.0f%% load %s, %.1f ms, seed %d%s",
            topology.name().toLowerCase(Locale.ROOT).replace('_', '-'), hosts,
            Topology.TWO_TIER == topology ? " in " + racks + " racks" : "", hostLinkBps / 1e9,
            Topology.TWO_TIER == topology ? String.format(Locale.ROOT, ", %.0f Gbit/s uplinks", uplinkBps / 1e9) : "",
            workload.toUpperCase(Locale.ROOT), load * 100, isEcho ? "echo RPCs" : "one-way", durationNs / 1e6, seed,
            loss + duplicate + reorder > 0 ?
                String.format(Locale.ROOT, ", loss %.3f dup %.3f reorder %.3f", loss, duplicate, reorder) : "");
    }
}
