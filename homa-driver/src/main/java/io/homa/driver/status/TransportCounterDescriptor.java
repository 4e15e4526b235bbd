package io.homa.driver.status;

/**
 * Counters of the network layer under the protocol: what NIC discovery found and what the transports did with
 * packets the engine never sees (foreign, malformed at the IP level, ICMP). A separate counter type from the
 * {@link SystemCounterDescriptor}s so the two sets grow independently.
 */
public enum TransportCounterDescriptor
{
    NIC_MTU(1, "nic_mtu", "ours: MTU in use (explicit homa.mtu.length, else the interface's)"),
    NIC_LINK_MBPS(2, "nic_link_mbps", "ours: link speed in use, Mb/s (explicit, discovered, or the fallback)"),
    NIC_LINK_SPEED_KNOWN(3, "nic_link_speed_known", "ours: 1 if the link speed came from the NIC or a property"),
    RAW_FOREIGN_PACKETS(4, "raw_foreign_packets", "ours: IP packets for another address seen by the raw socket"),
    RAW_BAD_PACKETS(5, "raw_bad_packets", "ours: raw IP packets with a bad IP header or a UDP-only type, dropped"),
    ICMP_UNREACH_SENT(6, "icmp_unreach_sent", "ours: ICMP port-unreachable sent for packets to ports with no socket"),
    ICMP_UNREACH_RCVD(7, "icmp_unreach_rcvd", "ours: ICMP destination-unreachable for our packets, RPCs failed"),
    ICMP_IGNORED(8, "icmp_ignored", "ours: ICMP messages received that were not about our Homa packets"),
    SEND_SYSCALLS(9, "send_syscalls", "ours: send system calls made by the transport (one per packet unbatched)"),
    GSO_SENDS(10, "gso_sends", "ours: UDP GSO sends (one system call, several packets)"),
    SEND_UNREACHABLE(11, "send_unreachable", "ours: sends refused locally as unreachable, RPCs failed"),
    BATCH_SEND_ERRORS(12, "batch_send_errors", "ours: datagrams of a batched send the kernel refused, dropped"),
    RECEIVE_SYSCALLS(13, "receive_syscalls", "ours: receive system calls (or ring batches) that returned packets"),
    NEIGHBOUR_MISSES(14, "neighbour_misses", "ours: packets sent through the kernel as the next hop's MAC was unknown"),
    RING_FLUSHES(15, "ring_flushes", "ours: send calls that flushed a packet ring's TX frames"),
    GRO_RECEIVES(16, "gro_receives", "ours: datagrams the kernel coalesced (UDP GRO), each several packets"),
    IPV6_PEERS(17, "ipv6_peers", "ours: IPv6 addresses given a peer key (raw IPv6; keys are never reused)"),
    IPV6_PEER_TABLE_FULL(18, "ipv6_peer_table_full",
        "ours: IPv6 packets from new sources dropped, or keys refused, as the address table was full"),
    TCP_HIJACK_SENT(30, "tcp_hijack_sent", "ours: Homa packets sent as TCP-lookalike segments (homa.hijack.tcp)"),
    TCP_HIJACK_RCVD(31, "tcp_hijack_rcvd",
        "ours: Homa packets received as TCP-lookalike segments (from a Linux peer with hijack_tcp=1)");

    /** Counter type id for transport counters. */
    public static final int TRANSPORT_COUNTER_TYPE_ID = 1;

    private final int id;
    private final String label;
    private final String description;

    TransportCounterDescriptor(final int id, final String label, final String description)
    {
        this.id = id;
        this.label = label;
        this.description = description;
    }

    /**
     * @return the stable id, stored as the counter's key.
     */
    public int id()
    {
        return id;
    }

    /**
     * @return the counter's label.
     */
    public String label()
    {
        return label;
    }

    /**
     * @return what it counts.
     */
    public String description()
    {
        return description;
    }
}
