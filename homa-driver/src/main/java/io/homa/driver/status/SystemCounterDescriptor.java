package io.homa.driver.status;

/**
 * The driver's system counters. Names follow Linux's {@code /proc/net/homa_metrics} where one exists, so a Homa
 * user reads them the same way; the rest are ours and say so in their description.
 */
public enum SystemCounterDescriptor
{
    // Packets by type, both directions (homa_metrics: packets_sent_<TYPE>, packets_rcvd_<TYPE>).
    PACKETS_SENT_DATA(1, "packets_sent_DATA", "DATA packets sent"),
    PACKETS_SENT_GRANT(2, "packets_sent_GRANT", "GRANT packets sent"),
    PACKETS_SENT_RESEND(3, "packets_sent_RESEND", "RESEND packets sent"),
    PACKETS_SENT_RPC_UNKNOWN(4, "packets_sent_RPC_UNKNOWN", "RPC_UNKNOWN packets sent"),
    PACKETS_SENT_BUSY(5, "packets_sent_BUSY", "BUSY packets sent"),
    PACKETS_SENT_CUTOFFS(6, "packets_sent_CUTOFFS", "CUTOFFS packets sent"),
    PACKETS_SENT_FREEZE(7, "packets_sent_FREEZE", "FREEZE packets sent"),
    PACKETS_SENT_NEED_ACK(8, "packets_sent_NEED_ACK", "NEED_ACK packets sent"),
    PACKETS_SENT_ACK(9, "packets_sent_ACK", "ACK packets sent"),
    PACKETS_SENT_PORT_UNREACHABLE(10, "packets_sent_PORT_UNREACHABLE", "ours: PORT_UNREACHABLE sent (UDP's ICMP)"),
    PACKETS_RCVD_DATA(11, "packets_rcvd_DATA", "DATA packets received"),
    PACKETS_RCVD_GRANT(12, "packets_rcvd_GRANT", "GRANT packets received"),
    PACKETS_RCVD_RESEND(13, "packets_rcvd_RESEND", "RESEND packets received"),
    PACKETS_RCVD_RPC_UNKNOWN(14, "packets_rcvd_RPC_UNKNOWN", "RPC_UNKNOWN packets received"),
    PACKETS_RCVD_BUSY(15, "packets_rcvd_BUSY", "BUSY packets received"),
    PACKETS_RCVD_CUTOFFS(16, "packets_rcvd_CUTOFFS", "CUTOFFS packets received"),
    PACKETS_RCVD_FREEZE(17, "packets_rcvd_FREEZE", "FREEZE packets received"),
    PACKETS_RCVD_NEED_ACK(18, "packets_rcvd_NEED_ACK", "NEED_ACK packets received"),
    PACKETS_RCVD_ACK(19, "packets_rcvd_ACK", "ACK packets received"),
    PACKETS_RCVD_PORT_UNREACHABLE(20, "packets_rcvd_PORT_UNREACHABLE", "ours: PORT_UNREACHABLE received"),

    // Scheduling (ids from 200 up): bytes and packets sent per priority level (homa_metrics priorityN_*), grants,
    // pacer.
    PRIORITY0_BYTES(200, "priority0_bytes", "bytes of packets sent at priority 0 (headers included)"),
    PRIORITY1_BYTES(201, "priority1_bytes", "bytes of packets sent at priority 1 (headers included)"),
    PRIORITY2_BYTES(202, "priority2_bytes", "bytes of packets sent at priority 2 (headers included)"),
    PRIORITY3_BYTES(203, "priority3_bytes", "bytes of packets sent at priority 3 (headers included)"),
    PRIORITY4_BYTES(204, "priority4_bytes", "bytes of packets sent at priority 4 (headers included)"),
    PRIORITY5_BYTES(205, "priority5_bytes", "bytes of packets sent at priority 5 (headers included)"),
    PRIORITY6_BYTES(206, "priority6_bytes", "bytes of packets sent at priority 6 (headers included)"),
    PRIORITY7_BYTES(207, "priority7_bytes", "bytes of packets sent at priority 7 (headers included)"),
    PRIORITY0_PACKETS(208, "priority0_packets", "packets sent at priority 0"),
    PRIORITY1_PACKETS(209, "priority1_packets", "packets sent at priority 1"),
    PRIORITY2_PACKETS(210, "priority2_packets", "packets sent at priority 2"),
    PRIORITY3_PACKETS(211, "priority3_packets", "packets sent at priority 3"),
    PRIORITY4_PACKETS(212, "priority4_packets", "packets sent at priority 4"),
    PRIORITY5_PACKETS(213, "priority5_packets", "packets sent at priority 5"),
    PRIORITY6_PACKETS(214, "priority6_packets", "packets sent at priority 6"),
    PRIORITY7_PACKETS(215, "priority7_packets", "packets sent at priority 7"),
    GRANT_CHECK_CALLS(216, "grant_check_calls", "grant decisions made for messages that received data"),
    NEEDY_GRANTS(217, "needy_grants", "grants to messages that had been denied for lack of room under max_incoming"),
    FIFO_GRANT_BYTES(218, "fifo_grant_bytes", "bytes granted by FIFO (anti-starvation) grants"),
    GRANTABLE_RPCS(219, "grantable_rpcs", "ours: incoming messages waiting for or receiving grants now"),
    MAX_TOTAL_INCOMING(220, "max_total_incoming",
        "ours: highest total_incoming (granted-but-unreceived bytes) right after an SRPT grant"),
    PACER_HOMA_PACKETS(221, "pacer_homa_packets", "DATA packets sent after waiting for the NIC queue estimate"),
    PACER_HOMA_BYTES(222, "pacer_homa_bytes", "bytes of DATA sent after waiting for the NIC queue estimate"),
    THROTTLE_LIST_ADDS(223, "throttle_list_adds", "times DATA had to wait because the NIC queue estimate was full"),
    PACER_FIFO_PICKS(224, "pacer_fifo_picks", "ours: transmit picks given to the oldest message instead of SRPT's"),

    BYTES_SENT(21, "bytes_sent", "ours: bytes of Homa packets handed to the transport (headers included)"),
    BYTES_RCVD(22, "bytes_rcvd", "ours: bytes of Homa packets received (headers included)"),
    SENT_MSG_BYTES(23, "sent_msg_bytes", "message bytes sent in DATA (first transmissions)"),

    CLIENT_REQUESTS_STARTED(24, "client_requests_started", "client RPCs started"),
    CLIENT_RESPONSES_DONE(25, "client_responses_done", "client RPCs whose whole response arrived"),
    SERVER_REQUESTS_DONE(26, "server_requests_done", "requests fully received by servers"),
    SERVER_RESPONSES_STARTED(27, "server_responses_started", "responses started by servers"),
    SERVER_RESPONSES_DONE(28, "server_responses_done", "server RPCs ended by an ack"),
    CLIENT_RPCS_FAILED(29, "client_rpcs_failed", "ours: client RPCs completed with an error"),

    SHORT_PACKETS(30, "short_packets", "packets shorter than their type's header, dropped"),
    UNKNOWN_PACKET_TYPES(31, "unknown_packet_types", "packets of an unknown type, dropped"),
    PACKET_DISCARDS(32, "packet_discards", "packets dropped as malformed (other than short or unknown type)"),
    UNKNOWN_RPCS(33, "unknown_rpcs", "packets for an RPC that does not exist, dropped"),
    DUPLICATE_DATA(34, "duplicate_data", "ours: DATA packets that brought no new bytes"),
    DROPPED_DATA_NO_BUFS(35, "dropped_data_no_bufs", "DATA dropped because the receive pool was full"),
    REPLY_UNKNOWN_RPCS(36, "reply_unknown_rpcs", "ours: replies to an id that no longer exists, ignored"),
    CONTROL_XMIT_ERRORS(37, "control_xmit_errors", "control packets the transport refused"),
    DATA_XMIT_ERRORS(38, "data_xmit_errors", "DATA packets the transport refused"),
    TRUNCATED_PACKETS(39, "truncated_packets", "ours: datagrams larger than the receive buffer, dropped"),
    UDP_RECEIVE_DROPS(40, "udp_receive_drops", "ours: datagrams the kernel dropped on our UDP socket"),
    DATA_RECEIVED_IN_PLACE(95, "data_received_in_place",
        "ours: DATA packets whose payload the kernel put straight into its receive-pool block (homa.receive.in.place)"),

    ERRORS(41, "errors", "ours: errors recorded in the distinct error log"),
    CLIENT_COMMANDS(42, "client_commands", "ours: commands received from clients"),
    CONDUCTOR_MAX_CYCLE_TIME(43, "conductor_max_cycle_time_ns", "ours: longest conductor duty cycle"),
    SENDER_MAX_CYCLE_TIME(44, "sender_max_cycle_time_ns", "ours: longest sender duty cycle"),
    RECEIVER_MAX_CYCLE_TIME(45, "receiver_max_cycle_time_ns", "ours: longest receiver duty cycle"),
    SOCKETS_OPEN(46, "sockets_open", "ours: sockets open now"),
    RPCS_ACTIVE(47, "rpcs_active", "ours: RPCs alive now (both sides)"),
    ACKS_PIGGYBACKED(48, "acks_piggybacked", "ours: acks carried in DATA packets"),

    // Loss recovery and at-most-once (ids from 100 so other additions do not collide).
    RESENT_PACKETS(100, "resent_packets", "DATA packets retransmitted in answer to a RESEND or RPC_UNKNOWN"),
    RPC_TIMEOUTS(101, "rpc_timeouts", "RPCs aborted after timeout_ticks of silence (client: ETIMEDOUT)"),
    SERVER_RPC_DISCARDS(102, "server_rpc_discards",
        "server RPCs discarded: timed out receiving the request, or the client answered RPC_UNKNOWN"),
    BUFFER_ALLOC_FAILURES(103, "buffer_alloc_failures",
        "incoming messages that found no receive-pool space and had to wait for it"),
    BUFFER_WAITING_RPCS(104, "buffer_waiting_rpcs", "ours: RPCs waiting for receive-pool space now"),
    RPC_RESTARTS(105, "rpc_restarts", "ours: client RPCs that sent their request again after RPC_UNKNOWN"),
    ACKED_RPC_DROPS(106, "acked_rpc_drops",
        "ours: DATA re-creating a server RPC that already ran and ended, dropped (at-most-once)"),
    NEED_ACK_TIMEOUTS(107, "need_ack_timeouts",
        "ours: server RPCs given up after timeout_ticks of unanswered NEED_ACKs"),
    UNREACHABLE_SERVER_RPCS(114, "unreachable_server_rpcs",
        "ours: server RPCs ended because the network said their client's port or host cannot be reached (ICMP " +
        "destination-unreachable, or PORT_UNREACHABLE over UDP); also in server_rpc_discards, as Linux counts them"),
    PEERS_ACTIVE(108, "peers_active", "ours: peers known now (updated on each peer scan)"),
    PEER_EVICTIONS(109, "peer_evictions", "ours: idle peers evicted"),
    FAULT_DROPPED(110, "fault_dropped", "ours: packets dropped by fault injection"),
    FAULT_DUPLICATED(111, "fault_duplicated", "ours: packets delivered twice by fault injection"),
    FAULT_DELAYED(112, "fault_delayed", "ours: packets held back (reordered) by fault injection"),
    FAULT_CORRUPTED(113, "fault_corrupted", "ours: packets with a header bit flipped by fault injection"),
    // Driver hardening (ids from 71 leave room for the protocol's own counters).
    CLIENTS_ACTIVE(71, "clients_active", "ours: clients connected now (seen within the liveness timeout)"),
    CLIENT_TIMEOUTS(72, "client_timeouts", "ours: clients timed out for missing keepalives, resources freed"),
    COMMAND_RING_UNBLOCKS(73, "command_ring_unblocks",
        "ours: to-driver ring records a dead client claimed and never committed, skipped"),
    UNEARNED_LIMIT_WAITS(74, "unearned_limit_waits",
        "ours: requests that waited because their peer's or socket's unearned-bytes budget was full"),
    PEER_RPC_LIMIT_DROPS(75, "peer_rpc_limit_drops",
        "ours: DATA dropped because its peer had homa.limit.server.rpcs.per.peer server RPCs open"),
    PEER_LIMIT_DROPS(76, "peer_limit_drops", "ours: packets from a new peer dropped with the peer table full"),
    SOCKET_LIMIT_REFUSALS(77, "socket_limit_refusals",
        "ours: addSocket refused at homa.limit.sockets.per.client or homa.limit.sockets.per.driver"),
    TIMER_CONTROL_LIMIT_SKIPS(78, "timer_control_limit_skips",
        "ours: RESENDs, probes or NEED_ACKs skipped at homa.limit.timer.control.per.peer.per.tick"),
    WAITING_RPC_LIMIT_DROPS(82, "waiting_rpc_limit_drops",
        "ours: requests dropped (the new one, or the longest waiting one for a shorter new one) with " +
        "homa.limit.waiting.rpcs.per.socket requests waiting for pool space or budget"),
    // Diagnostics (ids from 300): event log and RPC snapshots.
    EVENT_LOG_FREEZES(300, "event_log_freezes",
        "ours: times a FREEZE packet froze the event log and had it dumped to a text file"),
    RPC_INFO_REQUESTS(301, "rpc_info_requests", "ours: RPC snapshots taken (rpc-stat, Homa.rpcInfo)"),
    RECEIVE_ERRORS(80, "receive_errors", "ours: failed receive calls on the transport (errno other than EAGAIN)"),
    COMMAND_REFUSALS(81, "command_refusals",
        "ours: client commands that named a socket their client does not own (or one gone), refused"),
    CONTROL_RING_FULL(79, "control_ring_full",
        "ours: control packets not sent because the outbound ring to the sender was full"),
    FREEZES_REFUSED(302, "freezes_refused", "ours: FREEZE packets ignored because homa.freeze.accept is off");

    /** Counter type id for system counters. */
    public static final int SYSTEM_COUNTER_TYPE_ID = 0;

    private final int id;
    private final String label;
    private final String description;

    SystemCounterDescriptor(final int id, final String label, final String description)
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
     * @return the counter's label (its homa_metrics name where one exists).
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
