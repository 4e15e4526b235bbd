package io.homa.sim;

/**
 * A switch: a packet that has arrived (after the switching delay, which its incoming link's latency includes)
 * goes to the egress port its destination host is reached through; a destination beyond this switch's hosts goes
 * up, to an uplink chosen per packet from the run's seed (packet spraying, so the core shares load evenly).
 */
final class Switch implements Node
{
    final String name;
    private final int nodeId;
    private final Network network;
    /** Egress port per destination host, or -1: reached through an uplink. */
    private final int[] portForHost;
    final Port[] ports;
    private final int firstUplink;
    private final int uplinks;

    /**
     * @param network     the network.
     * @param nodeId      this node's number.
     * @param name        for reports.
     * @param ports       every egress port; uplinks last.
     * @param portForHost egress port per destination host, -1 for "up".
     * @param uplinks     how many of the ports, at the end, are uplinks.
     */
    Switch(
        final Network network,
        final int nodeId,
        final String name,
        final Port[] ports,
        final int[] portForHost,
        final int uplinks)
    {
        this.network = network;
        this.nodeId = nodeId;
        this.name = name;
        this.ports = ports;
        this.portForHost = portForHost;
        this.uplinks = uplinks;
        this.firstUplink = ports.length - uplinks;
    }

    public int nodeId()
    {
        return nodeId;
    }

    public void receive(final Packet packet, final long nowNs)
    {
        final int port = portForHost[packet.dstHost];
        if (port >= 0)
        {
            ports[port].enqueue(packet, nowNs);
        }
        else
        {
            final int uplink = 1 == uplinks ? 0 : network.routeRandom().nextInt(uplinks);
            ports[firstUplink + uplink].enqueue(packet, nowNs);
        }
    }
}
