package io.homa.sim;

import io.homa.codecs.HomaWire;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The simulated fabric and its clock: the event queue, the switches and ports of the topology, the packet pool,
 * and the random streams routing and faults draw from (each its own stream of the run's seed, so a fault setting
 * does not change the routes). Hosts are nodes 0..N-1 with addresses 10.0.0.1 upwards.
 */
final class Network
{
    static final int BASE_IPV4 = 0x0A00_0001;

    final EventQueue queue = new EventQueue();
    final DropRules drops = new DropRules();
    final SimSettings settings;
    final Trace trace;
    private final SplittableRandom faultRandom;
    private final SplittableRandom routeRandom;
    private Packet freePackets;

    final Node[] hosts;
    final int hostsPerRack;
    final List<Switch> switches = new ArrayList<>();
    final List<Port> nics = new ArrayList<>();
    final List<Port> downlinks = new ArrayList<>();
    final List<Port> uplinks = new ArrayList<>();
    private Switch[] tors;

    /** Packets arriving at a node. */
    long packetArrivals;
    /** Packets finishing serialisation on a link. */
    long linkTransmissions;
    long events;
    long lost;
    long duplicated;
    long reordered;
    long droppedPayloadBytes;
    long packetsMade;

    Network(final SimSettings settings, final Trace trace)
    {
        this.settings = settings;
        this.trace = trace;
        final SplittableRandom root = new SplittableRandom(settings.seed);
        faultRandom = root.split();
        routeRandom = root.split();
        hosts = new Node[settings.hosts];
        if (SimSettings.Topology.TWO_TIER == settings.topology)
        {
            if (settings.racks < 1 || settings.hosts % settings.racks != 0)
            {
                throw new IllegalArgumentException(settings.hosts + " hosts do not fill " + settings.racks + " racks");
            }
            hostsPerRack = settings.hosts / settings.racks;
        }
        else
        {
            hostsPerRack = settings.hosts;
        }
    }

    /**
     * @param wireBytes bytes on the wire.
     * @param bitsPerSecond link rate.
     * @return serialisation time in ns, rounded up.
     */
    static long serialisationNs(final int wireBytes, final long bitsPerSecond)
    {
        return (wireBytes * 8_000_000_000L + bitsPerSecond - 1) / bitsPerSecond;
    }

    static int hostOf(final int ipv4)
    {
        return ipv4 - BASE_IPV4;
    }

    static int ipv4Of(final int host)
    {
        return BASE_IPV4 + host;
    }

    int rackOf(final int host)
    {
        return host / hostsPerRack;
    }

    SplittableRandom faultRandom()
    {
        return faultRandom;
    }

    SplittableRandom routeRandom()
    {
        return routeRandom;
    }

    void schedule(final long timeNs, final SimEvent event)
    {
        queue.schedule(timeNs, event);
    }

    void deliver(final Packet packet, final Node peer, final long timeNs)
    {
        packet.target = peer;
        queue.schedule(timeNs, packet);
    }

    Packet newPacket()
    {
        final Packet packet = freePackets;
        if (null == packet)
        {
            packetsMade++;
            return new Packet(this);
        }
        freePackets = packet.next;
        packet.next = null;
        return packet;
    }

    void release(final Packet packet)
    {
        packet.isLateCopy = false;
        packet.next = freePackets;
        freePackets = packet;
    }

    void onDrop(final Packet packet)
    {
        if (HomaWire.DATA == packet.type)
        {
            droppedPayloadBytes += packet.payloadLength;
        }
        release(packet);
    }

    /**
     * Builds the switches and links between the given hosts: every host's NIC (one FIFO, faults applied here),
     * top-of-rack switches with 8-priority egress queues, and in the two-tier topology core switches.
     *
     * @return the NIC of each host; {@link #attach} connects the hosts to their switch ports.
     */
    Port[] wire()
    {
        final SimSettings s = settings;
        final Faults faults = new Faults(s.loss, s.duplicate, s.reorder, s.reorderNs);
        final int racks = SimSettings.Topology.TWO_TIER == s.topology ? s.racks : 1;
        final int cores = SimSettings.Topology.TWO_TIER == s.topology ? coreCount() : 0;
        final int torBase = hosts.length;
        final int coreBase = torBase + racks;

        final Switch[] tors = new Switch[racks];
        final Switch[] coreSwitches = new Switch[cores];
        for (int r = 0; r < racks; r++)
        {
            final Port[] ports = new Port[hostsPerRack + cores];
            for (int k = 0; k < hostsPerRack; k++)
            {
                ports[k] = new Port(this, torBase + r, "tor" + r + ">h" + (r * hostsPerRack + k), s.hostLinkBps,
                    s.propagationNs, s.switchBufferBytes, true, null);
                downlinks.add(ports[k]);
            }
            for (int c = 0; c < cores; c++)
            {
                ports[hostsPerRack + c] = new Port(this, torBase + r, "tor" + r + ">core" + c, s.uplinkBps,
                    s.propagationNs + s.switchingNs, s.switchBufferBytes, true, null);
                uplinks.add(ports[hostsPerRack + c]);
            }
            final int[] portForHost = new int[hosts.length];
            for (int h = 0; h < hosts.length; h++)
            {
                portForHost[h] = rackOf(h) == r ? h % hostsPerRack : -1;
            }
            tors[r] = new Switch(this, torBase + r, "tor" + r, ports, portForHost, cores);
            switches.add(tors[r]);
        }
        for (int c = 0; c < cores; c++)
        {
            final Port[] ports = new Port[racks];
            for (int r = 0; r < racks; r++)
            {
                ports[r] = new Port(this, coreBase + c, "core" + c + ">tor" + r, s.uplinkBps,
                    s.propagationNs + s.switchingNs, s.switchBufferBytes, true, null);
                uplinks.add(ports[r]);
            }
            final int[] portForHost = new int[hosts.length];
            for (int h = 0; h < hosts.length; h++)
            {
                portForHost[h] = rackOf(h);
            }
            coreSwitches[c] = new Switch(this, coreBase + c, "core" + c, ports, portForHost, 0);
            switches.add(coreSwitches[c]);
        }
        this.tors = tors;
        for (int r = 0; r < racks; r++)
        {
            for (int c = 0; c < cores; c++)
            {
                tors[r].ports[hostsPerRack + c].connect(coreSwitches[c]);
                coreSwitches[c].ports[r].connect(tors[r]);
            }
        }

        final Port[] hostNics = new Port[hosts.length];
        for (int h = 0; h < hosts.length; h++)
        {
            // The NIC is one FIFO (unless asked for priorities) with room for whatever the engine hands it: the
            // engine's pacer bounds it.
            hostNics[h] = new Port(this, h, "h" + h + ">tor" + rackOf(h), s.hostLinkBps,
                s.propagationNs + s.switchingNs, Integer.MAX_VALUE, s.isNicPriorities, faults.isNone() ? null : faults);
            hostNics[h].connect(tors[rackOf(h)]);
            nics.add(hostNics[h]);
        }
        return hostNics;
    }

    /**
     * Connects each top-of-rack port to its host.
     *
     * @param hostNodes the hosts, by number.
     */
    void attach(final Node[] hostNodes)
    {
        System.arraycopy(hostNodes, 0, hosts, 0, hosts.length);
        for (final Switch tor : tors)
        {
            for (int k = 0; k < hostsPerRack; k++)
            {
                final int host = (tor.nodeId() - hosts.length) * hostsPerRack + k;
                tor.ports[k].connect(hosts[host]);
            }
        }
    }

    /**
     * Connects a restarted host in place of the old one (its NIC port tells the new host when it drains).
     *
     * @param host the new host.
     */
    void replaceHost(final SimHost host)
    {
        hosts[host.index] = host;
        tors[rackOf(host.index)].ports[host.index % hostsPerRack].connect(host);
    }

    /**
     * @return core switches: as configured, else enough uplink capacity for the rack's hosts (full bisection).
     */
    int coreCount()
    {
        if (settings.coreSwitches > 0)
        {
            return settings.coreSwitches;
        }
        return (int)Math.max(1, (hostsPerRack * settings.hostLinkBps + settings.uplinkBps - 1) / settings.uplinkBps);
    }

    /**
     * The links a packet crosses from one host to another: rate and latency of each.
     *
     * @param src sending host.
     * @param dst receiving host.
     * @return pairs {bitsPerSecond, latencyNs} in order.
     */
    long[][] path(final int src, final int dst)
    {
        final SimSettings s = settings;
        final long[] first = { s.hostLinkBps, s.propagationNs + s.switchingNs };
        final long[] last = { s.hostLinkBps, s.propagationNs };
        if (rackOf(src) == rackOf(dst))
        {
            return new long[][]{ first, last };
        }
        final long[] core = { s.uplinkBps, s.propagationNs + s.switchingNs };
        return new long[][]{ first, core, core, last };
    }
}
