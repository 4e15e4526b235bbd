package io.homa.driver;

import io.homa.client.HomaProperties;
import io.homa.driver.protocol.SchedulingSettings;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.broadcast.BroadcastBufferDescriptor;

import java.util.concurrent.TimeUnit;

/**
 * Every driver setting as a {@code homa.*} system property with its default. Read strictly ({@link HomaProperties}):
 * every size accepts k/m/g suffixes, durations ns/us/ms/s suffixes, booleans only true or false, and a value that
 * does not parse, like a {@code homa.*} name that is no setting's, is refused at start with one line naming it. The
 * README's property table lists them all ({@code ReadmeConfigurationTest} holds it to these constants).
 */
public final class Configuration
{
    /** Threading mode: SHARED, INVOKER, DEDICATED or SHARED_NETWORK. */
    public static final String THREADING_MODE_PROP_NAME = "homa.threading.mode";
    /** Default threading mode. */
    public static final String THREADING_MODE_DEFAULT = "SHARED";

    /** Idle strategy of the shared agent thread (SHARED mode). */
    public static final String SHARED_IDLE_STRATEGY_PROP_NAME = "homa.shared.idle.strategy";
    /**
     * Default idle strategy: {@code wake} ({@link WakeupIdleStrategy}) polls for {@code homa.poll.duration} after
     * work, then sleeps in the kernel until a packet, a client command, another driver thread or the timer wakes
     * it: latency close to spinning while busy, almost no CPU while idle, which matters on a 2-core host.
     */
    public static final String IDLE_STRATEGY_DEFAULT = "wake";

    /** Delete the directory of a dead driver before starting. */
    public static final String DIR_DELETE_ON_START_PROP_NAME = "homa.dir.delete.on.start";
    /** Default: a live-looking driver's directory is refused. */
    public static final boolean DIR_DELETE_ON_START_DEFAULT = false;
    /** Delete the directory when the driver closes (embedded drivers: also when the JVM exits, see launch). */
    public static final String DIR_DELETE_ON_SHUTDOWN_PROP_NAME = "homa.dir.delete.on.shutdown";
    /** Default: kept (embedded drivers always delete theirs). */
    public static final boolean DIR_DELETE_ON_SHUTDOWN_DEFAULT = false;

    /** IPv4 address the driver's UDP socket binds. */
    public static final String UDP_ADDRESS_PROP_NAME = "homa.udp.address";
    /** Default UDP address: loopback. */
    public static final String UDP_ADDRESS_DEFAULT = "127.0.0.1";
    /** UDP port of the driver's one socket (a peer is an IP address plus this port); 0 = any free port. */
    public static final String UDP_PORT_PROP_NAME = "homa.udp.port";
    /** Default UDP port. */
    public static final int UDP_PORT_DEFAULT = 4000;

    /** MTU of the path; 0 = read it from the interface that owns the UDP address. */
    public static final String MTU_LENGTH_PROP_NAME = "homa.mtu.length";
    /** Default MTU: discover. */
    public static final int MTU_LENGTH_DEFAULT = 0;

    /** Kernel receive buffer of the UDP socket (SO_RCVBUFFORCE as root, else capped by net.core.rmem_max). */
    public static final String SOCKET_RCVBUF_PROP_NAME = "homa.socket.rcvbuf";
    /** Default receive buffer. */
    public static final int SOCKET_RCVBUF_DEFAULT = 32 * 1024 * 1024;
    /** Kernel send buffer of the UDP socket. */
    public static final String SOCKET_SNDBUF_PROP_NAME = "homa.socket.sndbuf";
    /** Default send buffer. */
    public static final int SOCKET_SNDBUF_DEFAULT = 4 * 1024 * 1024;

    /** Homa timer tick (Linux: 1 ms). */
    public static final String TIMER_TICK_PROP_NAME = "homa.timer.tick";
    /** Default tick. */
    public static final long TIMER_TICK_DEFAULT_NS = TimeUnit.MILLISECONDS.toNanos(1);

    /** To-driver command ring length (a power of two; the trailer is added). */
    public static final String TO_DRIVER_BUFFER_LENGTH_PROP_NAME = "homa.to.driver.buffer.length";
    /** Default to-driver ring length. */
    public static final int TO_DRIVER_BUFFER_LENGTH_DEFAULT = 1024 * 1024;
    /** To-clients broadcast length (a power of two; the trailer is added). */
    public static final String TO_CLIENTS_BUFFER_LENGTH_PROP_NAME = "homa.to.clients.buffer.length";
    /** Default to-clients broadcast length. */
    public static final int TO_CLIENTS_BUFFER_LENGTH_DEFAULT = 1024 * 1024;
    /** Counters values section length (metadata is four times this). */
    public static final String COUNTERS_VALUES_BUFFER_LENGTH_PROP_NAME = "homa.counters.buffer.length";
    /** Default counters values length. */
    public static final int COUNTERS_VALUES_BUFFER_LENGTH_DEFAULT = 256 * 1024;
    /** Distinct error log length. */
    public static final String ERROR_BUFFER_LENGTH_PROP_NAME = "homa.error.buffer.length";
    /** Default error log length. */
    public static final int ERROR_BUFFER_LENGTH_DEFAULT = 1024 * 1024;

    /** Per-socket event ring length (a power of two; the trailer is added). */
    public static final String SOCKET_EVENT_BUFFER_LENGTH_PROP_NAME = "homa.socket.event.buffer.length";
    /** Default event ring length. */
    public static final int SOCKET_EVENT_BUFFER_LENGTH_DEFAULT = 1024 * 1024;
    /** Per-socket receive pool length (a power of two). */
    public static final String SOCKET_POOL_LENGTH_PROP_NAME = "homa.socket.pool.length";
    /** Default receive pool: 64 MiB, sparse until touched. */
    public static final int SOCKET_POOL_LENGTH_DEFAULT = 64 * 1024 * 1024;
    /** Per-socket send region length (a power of two). */
    public static final String SOCKET_SEND_REGION_LENGTH_PROP_NAME = "homa.socket.send.region.length";
    /** Default send region: 64 MiB, sparse until touched. */
    public static final int SOCKET_SEND_REGION_LENGTH_DEFAULT = 64 * 1024 * 1024;
    /** Smallest block of the receive pool and send region allocators (a power of two). */
    public static final String SOCKET_MIN_BLOCK_LENGTH_PROP_NAME = "homa.socket.min.block.length";
    /** Default smallest block. */
    public static final int SOCKET_MIN_BLOCK_LENGTH_DEFAULT = 1024;

    /** Ring between the protocol engine and the sender agent (a power of two; the trailer is added). */
    public static final String OUTBOUND_BUFFER_LENGTH_PROP_NAME = "homa.outbound.buffer.length";
    /** Default outbound ring length: room for 64 loopback-sized packets. */
    public static final int OUTBOUND_BUFFER_LENGTH_DEFAULT = 4 * 1024 * 1024;

    /** Homa: bytes a message may send before it needs grants (Linux unsched_bytes); packets never straddle it. */
    public static final String UNSCHED_BYTES_PROP_NAME = "homa.unsched.bytes";
    /** Linux's default. */
    public static final int UNSCHED_BYTES_DEFAULT = 40_000;
    /**
     * {@code homa.unsched.bytes} of a driver on a loopback address when neither it nor {@code homa.rtt} with
     * {@code homa.link.mbps} is set (and {@code homa.max.incoming}, unless set, {@link #MAX_INCOMING_RTTS} of it).
     * Linux's 40,000 is one round trip of a 25 Gbit/s network; loopback has no NIC, and one round trip there is two
     * thread wake-ups (about 45 µs on a small machine) at a few GB/s of memory copy: about 150 KB. With Linux's
     * numbers a 1 MB message waited for a grant after every 200 KB, each wait a wake-up round trip.
     */
    public static final int LOOPBACK_UNSCHED_BYTES = 150_000;
    /** Homa: ticks after a response is fully sent before the server asks for an ack (Linux request_ack_ticks). */
    public static final String REQUEST_ACK_TICKS_PROP_NAME = "homa.request.ack.ticks";
    /** Linux's default. */
    public static final int REQUEST_ACK_TICKS_DEFAULT = 2;

    /** Ticks between repeated NEED_ACKs while a server waits for an ack (Linux: every tick). */
    public static final String NEED_ACK_INTERVAL_TICKS_PROP_NAME = "homa.need.ack.interval.ticks";
    /** Linux's behaviour. */
    public static final int NEED_ACK_INTERVAL_TICKS_DEFAULT = 1;
    /** Homa: silent ticks before an RPC asks for retransmission (Linux resend_ticks). */
    public static final String RESEND_TICKS_PROP_NAME = "homa.resend.ticks";
    /** Linux's default. */
    public static final int RESEND_TICKS_DEFAULT = 5;
    /** Homa: ticks between RESENDs once an RPC has started asking (Linux resend_interval). */
    public static final String RESEND_INTERVAL_PROP_NAME = "homa.resend.interval";
    /** Linux's default. */
    public static final int RESEND_INTERVAL_DEFAULT = 5;
    /** Homa: silent ticks before an RPC is aborted, ETIMEDOUT for clients (Linux timeout_ticks). */
    public static final String TIMEOUT_TICKS_PROP_NAME = "homa.timeout.ticks";
    /**
     * 1.5 s at 1 ms ticks, where Linux has 100 ticks: Linux's peers are kernels that are never off the CPU for
     * long, ours are JVMs on shared machines that a scheduler, a GC pause or a stopped process can keep silent for
     * a second. A dead peer is still reported within 1.5 s (sooner where ICMP says so); RESENDs and NEED_ACKs keep
     * Linux's cadence for the first 100 silent ticks and then slow to one per 50 (see RpcTimer).
     */
    public static final int TIMEOUT_TICKS_DEFAULT = 1500;
    /** Ticks a server remembers the id of an RPC that ran and ended, so a late copy of its request is dropped. */
    public static final String RECENT_ACKS_TICKS_PROP_NAME = "homa.recent.acks.ticks";
    /** Default: twice the RPC timeout, longer than a packet can linger in the network. */
    public static final int RECENT_ACKS_TICKS_DEFAULT = 3000;
    /** Most such ids remembered per peer (the oldest go first when full). */
    public static final String RECENT_ACKS_PER_PEER_PROP_NAME = "homa.recent.acks.per.peer";
    /** Default per-peer capacity. */
    public static final int RECENT_ACKS_PER_PEER_DEFAULT = 1024;
    /** Above this many peers, idle peers are evicted after homa.peer.idle.min (Linux peer_gc_threshold). */
    public static final String PEER_GC_THRESHOLD_PROP_NAME = "homa.peer.gc.threshold";
    /** Linux's default. */
    public static final int PEER_GC_THRESHOLD_DEFAULT = 5000;
    /** Idle time after which an unused peer may be evicted when there are many (Linux peer_idle_secs_min). */
    public static final String PEER_IDLE_MIN_PROP_NAME = "homa.peer.idle.min";
    /** Linux's default. */
    public static final long PEER_IDLE_MIN_DEFAULT_NS = TimeUnit.SECONDS.toNanos(10);
    /** Idle time after which an unused peer is always evicted (Linux peer_idle_secs_max). */
    public static final String PEER_IDLE_MAX_PROP_NAME = "homa.peer.idle.max";
    /** Linux's default. */
    public static final long PEER_IDLE_MAX_DEFAULT_NS = TimeUnit.SECONDS.toNanos(120);

    /** Fault injection (tests): seed of the random generator. */
    public static final String FAULT_SEED_PROP_NAME = "homa.fault.seed";
    /** Default seed. */
    public static final long FAULT_SEED_DEFAULT = 1;
    /** Fault injection: probability that an arriving DATA packet is dropped. */
    public static final String FAULT_DATA_DROP_RATE_PROP_NAME = "homa.fault.data.drop.rate";
    /** Fault injection: probability that an arriving control packet is dropped. */
    public static final String FAULT_CONTROL_DROP_RATE_PROP_NAME = "homa.fault.control.drop.rate";
    /** Fault injection: probability that an arriving DATA packet is delivered twice. */
    public static final String FAULT_DATA_DUPLICATE_RATE_PROP_NAME = "homa.fault.data.duplicate.rate";
    /** Fault injection: probability that an arriving control packet is delivered twice. */
    public static final String FAULT_CONTROL_DUPLICATE_RATE_PROP_NAME = "homa.fault.control.duplicate.rate";
    /** Fault injection: probability that an arriving DATA packet is held back so later ones overtake it. */
    public static final String FAULT_DATA_REORDER_RATE_PROP_NAME = "homa.fault.data.reorder.rate";
    /** Fault injection: probability that an arriving control packet is held back. */
    public static final String FAULT_CONTROL_REORDER_RATE_PROP_NAME = "homa.fault.control.reorder.rate";
    /** Fault injection: longest hold-back of a reordered packet. */
    public static final String FAULT_REORDER_DELAY_PROP_NAME = "homa.fault.reorder.delay";
    /** Default longest hold-back. */
    public static final long FAULT_REORDER_DELAY_DEFAULT_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Fault injection: how long after the original a duplicated packet arrives. */
    public static final String FAULT_DUPLICATE_DELAY_PROP_NAME = "homa.fault.duplicate.delay";
    /** Default: at once. */
    public static final long FAULT_DUPLICATE_DELAY_DEFAULT_NS = 0;
    /** Fault injection: probability that an arriving DATA packet gets a header bit flipped. */
    public static final String FAULT_DATA_CORRUPT_RATE_PROP_NAME = "homa.fault.data.corrupt.rate";
    /** Fault injection: probability that an arriving control packet gets a header bit flipped. */
    public static final String FAULT_CONTROL_CORRUPT_RATE_PROP_NAME = "homa.fault.control.corrupt.rate";
    /** Fault injection: packets to drop by type and index, e.g. {@code DATA:0,3;RESEND:0}. */
    public static final String FAULT_DROP_INDICES_PROP_NAME = "homa.fault.drop.indices";
    /** Homa: fixed grant window in bytes; 0 = dynamic, max_incoming / (active messages + 1) (Linux window). */
    public static final String WINDOW_PROP_NAME = "homa.window";
    /** Linux's default: dynamic. */
    public static final int WINDOW_DEFAULT = 0;
    /** Homa: cap on granted-but-unreceived plus unreceived unscheduled bytes at a receiver (Linux max_incoming). */
    public static final String MAX_INCOMING_PROP_NAME = "homa.max.incoming";
    /** Linux's default. */
    public static final int MAX_INCOMING_DEFAULT = SchedulingSettings.MAX_INCOMING_DEFAULT;
    /** Homa: messages a receiver grants to at once, at most 8 (Linux max_overcommit). */
    public static final String MAX_OVERCOMMIT_PROP_NAME = "homa.max.overcommit";
    /** Linux's default. */
    public static final int MAX_OVERCOMMIT_DEFAULT = SchedulingSettings.MAX_OVERCOMMIT_DEFAULT;
    /** Homa: thousandths of the link given to FIFO grants for the oldest message, 0..500 (Linux grant_fifo_fraction). */
    public static final String GRANT_FIFO_FRACTION_PROP_NAME = "homa.grant.fifo.fraction";
    /** Linux's default. */
    public static final int GRANT_FIFO_FRACTION_DEFAULT = SchedulingSettings.GRANT_FIFO_FRACTION_DEFAULT;
    /** Homa: bytes per FIFO grant (Linux fifo_grant_increment). */
    public static final String FIFO_GRANT_INCREMENT_PROP_NAME = "homa.fifo.grant.increment";
    /** Linux's default. */
    public static final int FIFO_GRANT_INCREMENT_DEFAULT = SchedulingSettings.FIFO_GRANT_INCREMENT_DEFAULT;
    /** Homa: uplink speed in Mbit/s for the pacer and the FIFO-grant rate (Linux link_mbps). */
    public static final String LINK_MBPS_PROP_NAME = "homa.link.mbps";
    /** Linux's default. */
    public static final int LINK_MBPS_DEFAULT = SchedulingSettings.LINK_MBPS_DEFAULT;
    /** Homa: priority levels in use, 1..8 (Linux num_priorities). */
    public static final String NUM_PRIORITIES_PROP_NAME = "homa.num.priorities";
    /** Linux's default. */
    public static final int NUM_PRIORITIES_DEFAULT = 8;
    /** Homa: this receiver's 8 unscheduled cutoffs, comma-separated, entry i for level i (Linux unsched_cutoffs). */
    public static final String UNSCHED_CUTOFFS_PROP_NAME = "homa.unsched.cutoffs";
    /** Linux's default. */
    public static final String UNSCHED_CUTOFFS_DEFAULT = "0,0,0,0,1000000,15000,2800,200";
    /** Homa: estimated NIC queue (µs) beyond which DATA waits in the pacer (Linux max_nic_est_backlog_usecs). */
    public static final String MAX_NIC_EST_BACKLOG_USECS_PROP_NAME = "homa.max.nic.est.backlog.usecs";
    /** Linux's default. */
    public static final int MAX_NIC_EST_BACKLOG_USECS_DEFAULT = 5;
    /** Homa: messages with at most this many bytes left never wait in the pacer (Linux defer_min_bytes). */
    public static final String DEFER_MIN_BYTES_PROP_NAME = "homa.defer.min.bytes";
    /** Linux's default. */
    public static final int DEFER_MIN_BYTES_DEFAULT = SchedulingSettings.DEFER_MIN_BYTES_DEFAULT;
    /** Homa: thousandths of transmit picks given to the oldest message (Linux pacer_fifo_fraction). */
    public static final String PACER_FIFO_FRACTION_PROP_NAME = "homa.pacer.fifo.fraction";
    /** Linux's default. */
    public static final int PACER_FIFO_FRACTION_DEFAULT = SchedulingSettings.PACER_FIFO_FRACTION_DEFAULT;
    /**
     * Pacing: {@code auto} paces only when {@code homa.link.mbps} is set and the UDP address is not loopback (there
     * is no NIC queue to keep short there, and the pacer must never be loopback's bottleneck); {@code true} or
     * {@code false} force it.
     */
    public static final String PACING_PROP_NAME = "homa.pacing";
    /** Default pacing mode. */
    public static final String PACING_DEFAULT = "auto";

    /**
     * Opt-in: the network's round-trip time. With it and {@code homa.link.mbps} set, {@code homa.unsched.bytes}
     * defaults to one RTT of link time and {@code homa.max.incoming} to {@link #MAX_INCOMING_RTTS} of them
     * (explicit values win); 0 = off, use Linux's numbers.
     */
    public static final String RTT_PROP_NAME = "homa.rtt";
    /** Default: off. */
    public static final long RTT_DEFAULT_NS = 0;
    /** max_incoming in unscheduled-byte units when derived from the RTT: Linux's 400,000 / 40,000. */
    public static final int MAX_INCOMING_RTTS = 10;
    /** Smallest derived unsched_bytes. */
    public static final int MIN_DERIVED_UNSCHED_BYTES = 1_000;
    /**
     * What carries Homa packets: {@code udp} (Java to Java), {@code raw} (IPv4 protocol 146, interoperable with the
     * Linux module; needs CAP_NET_RAW and its own address, {@code homa.udp.address}).
     */
    public static final String TRANSPORT_PROP_NAME = "homa.transport";
    /** Default transport. */
    public static final String TRANSPORT_DEFAULT = "udp";
    /**
     * TPACKET version of the packet-ring transport: 3 (receive in blocks, retired when full or after 1 ms: fewer
     * wake-ups, but a lone packet may wait) or 2 (every frame visible as soon as it lands: low latency).
     */
    public static final String PACKET_RING_VERSION_PROP_NAME = "homa.packet.ring.version";
    /**
     * Default TPACKET version: 2, because V3's block timer (1 ms at least) puts milliseconds into every lone
     * packet's delivery, which defeats Homa's point; measured between namespaces: 100 B RTT about 50 us with V2
     * against 2-3 ms with V3.
     */
    public static final int PACKET_RING_VERSION_DEFAULT = 2;
    /** udp-batch: let the kernel coalesce runs of received datagrams (UDP GRO) where it can. */
    public static final String UDP_GRO_PROP_NAME = "homa.udp.gro";
    /** Default: on. */
    public static final boolean UDP_GRO_DEFAULT = true;
    /**
     * raw (IPv4): send Homa packets as TCP-lookalike segments (IP protocol 6, flags SYN|RST, urgent 0xB97D, a real
     * TCP checksum), as Linux Homa does with {@code net.homa.hijack_tcp=1}. Such packets are received either way.
     */
    public static final String HIJACK_TCP_PROP_NAME = "homa.hijack.tcp";
    /** Default: off (Linux's hijack_tcp default). */
    public static final boolean HIJACK_TCP_DEFAULT = false;

    /** Print the configuration when the driver starts. */
    public static final String PRINT_CONFIGURATION_PROP_NAME = "homa.print.configuration";
    /** Default: quiet. */
    public static final boolean PRINT_CONFIGURATION_DEFAULT = false;

    /**
     * Whether client threads in the driver's own JVM may run a sleeping SHARED driver's duty cycle themselves (a
     * blocked receive drives it and sleeps on its sockets; a send to it transmits at once), as a Linux system call
     * runs Homa in the caller's context: one wake-up fewer per message. See {@link DirectDrive}.
     */
    public static final String DIRECT_DRIVE_PROP_NAME = "homa.direct.drive";
    /** Default: on. */
    public static final boolean DIRECT_DRIVE_DEFAULT = true;
    /**
     * Receive in place: a UDP receive puts a DATA payload straight into the receive-pool block where the engine
     * expects the next bytes of the message that arrived last (one {@code recvmsg} with three {@code iovec}s), so
     * in-order packets of a long message skip the engine's copy into the pool. Only where the engine reads the
     * receive buffer itself (SHARED, INVOKER) over the {@code udp} transport.
     */
    public static final String RECEIVE_IN_PLACE_PROP_NAME = "homa.receive.in.place";
    /** Default: on. */
    public static final boolean RECEIVE_IN_PLACE_DEFAULT = true;
    /**
     * CPUs the driver's agent threads are pinned to ({@code sched_setaffinity}), as {@code taskset -c} lists them
     * ({@code 1}, {@code 0,2}, {@code 2-3}); empty: wherever the kernel schedules them. On a 2-CPU machine the kernel
     * may keep the driver thread and the application's on one CPU while the other idles.
     */
    public static final String DRIVER_CPUS_PROP_NAME = "homa.driver.cpus";
    /** Default: not pinned. */
    public static final String DRIVER_CPUS_DEFAULT = "";
    /** Idle strategy of the conductor thread (DEDICATED and SHARED_NETWORK modes). */
    public static final String CONDUCTOR_IDLE_STRATEGY_PROP_NAME = "homa.conductor.idle.strategy";
    /** Idle strategy of the sender thread (DEDICATED mode). */
    public static final String SENDER_IDLE_STRATEGY_PROP_NAME = "homa.sender.idle.strategy";
    /** Idle strategy of the receiver thread (DEDICATED mode). */
    public static final String RECEIVER_IDLE_STRATEGY_PROP_NAME = "homa.receiver.idle.strategy";
    /** Idle strategy of the thread that runs sender and receiver together (SHARED_NETWORK mode). */
    public static final String SHARED_NETWORK_IDLE_STRATEGY_PROP_NAME = "homa.sharednetwork.idle.strategy";

    /** Ring from the receiver to the conductor when they run on different threads (a power of two). */
    public static final String INBOUND_BUFFER_LENGTH_PROP_NAME = "homa.inbound.buffer.length";
    /** Default inbound ring: every packet takes a whole slot, so room for 256 loopback-sized (64 KiB) packets. */
    public static final int INBOUND_BUFFER_LENGTH_DEFAULT = 16 * 1024 * 1024;

    /** A client that sent no keepalive for this long is timed out: its sockets, RPCs and pool space are freed. */
    public static final String CLIENT_LIVENESS_TIMEOUT_PROP_NAME = "homa.client.liveness.timeout";
    /** Default client liveness timeout (as Aeron's). */
    public static final long CLIENT_LIVENESS_TIMEOUT_DEFAULT_NS = TimeUnit.SECONDS.toNanos(10);

    /** Record protocol events in {@code events.dat} of the driver directory (Linux's timetrace). */
    public static final String EVENT_LOG_ENABLED_PROP_NAME = "homa.event.log.enabled";
    /** Default: on; a record costs a clock read and one cache line of stores (see README for the measurement). */
    public static final boolean EVENT_LOG_ENABLED_DEFAULT = true;
    /** Events the log keeps, the newest overwriting the oldest (a power of two; 64 bytes each). */
    public static final String EVENT_LOG_LENGTH_PROP_NAME = "homa.event.log.length";
    /** Default: 64 Ki events, a 4 MiB file. */
    public static final int EVENT_LOG_LENGTH_DEFAULT = 64 * 1024;

    /** Export the CnC counters as attributes of a JMX MBean, {@code io.homa:type=MediaDriver,dir="<dir>"}. */
    public static final String JMX_ENABLED_PROP_NAME = "homa.jmx.enabled";
    /** Default: off (opt-in, like the Prometheus endpoint): with the MBean registered, W4 at 0.1 measured a P99 of
     * 9.7-11.1 ms against 3.4-3.6 ms without it on the same build (bin/workload seeds 1 and 2, 2026-12-04). */
    public static final boolean JMX_ENABLED_DEFAULT = false;
    /**
     * Port of the opt-in Prometheus text endpoint ({@code /metrics}, the JDK's HTTP server): empty off, 0 any free
     * port.
     */
    public static final String PROMETHEUS_PORT_PROP_NAME = "homa.prometheus.port";
    /** Default: empty, off. */
    public static final String PROMETHEUS_PORT_DEFAULT = "";

    /**
     * @return the Prometheus endpoint's port from {@link #PROMETHEUS_PORT_PROP_NAME}: -1 when empty (off).
     */
    static int prometheusPort()
    {
        return stringValue(PROMETHEUS_PORT_PROP_NAME, PROMETHEUS_PORT_DEFAULT).isBlank() ? -1 :
            intValue(PROMETHEUS_PORT_PROP_NAME, -1);
    }
    /** Address the Prometheus endpoint listens on. */
    public static final String PROMETHEUS_ADDRESS_PROP_NAME = "homa.prometheus.address";
    /** Default: loopback only; a scraper on another host needs it set (e.g. {@code 0.0.0.0}). */
    public static final String PROMETHEUS_ADDRESS_DEFAULT = "127.0.0.1";

    /** Let a FREEZE packet from the network freeze the event log and dump it (off: any peer could). */
    public static final String FREEZE_ACCEPT_PROP_NAME = "homa.freeze.accept";
    /** Default: FREEZE packets are counted and ignored. */
    public static final boolean FREEZE_ACCEPT_DEFAULT = false;

    /** Let the owner's group read and write the driver directory and files (else owner only). */
    public static final String DIR_GROUP_ACCESS_PROP_NAME = "homa.dir.group.access";
    /** Default: owner only. */
    public static final boolean DIR_GROUP_ACCESS_DEFAULT = false;

    // Limits on the state peers and clients can make the driver hold (see LimitSettings).
    /** Pool bytes one peer's requests may reserve unearned (neither arrived nor granted); 0: a quarter of the pool. */
    public static final String LIMIT_UNEARNED_BYTES_PER_PEER_PROP_NAME = "homa.limit.unearned.bytes.per.peer";
    /** The same for all peers of one socket; 0: half of the pool. */
    public static final String LIMIT_UNEARNED_BYTES_PER_SOCKET_PROP_NAME = "homa.limit.unearned.bytes.per.socket";
    /** Server RPCs one peer may have open. */
    public static final String LIMIT_SERVER_RPCS_PER_PEER_PROP_NAME = "homa.limit.server.rpcs.per.peer";
    /** Peers that packets may add to the peer table. */
    public static final String LIMIT_PEERS_PROP_NAME = "homa.limit.peers";
    /** Sockets one client may hold. */
    public static final String LIMIT_SOCKETS_PER_CLIENT_PROP_NAME = "homa.limit.sockets.per.client";
    /** Sockets all clients of the driver may hold. */
    public static final String LIMIT_SOCKETS_PER_DRIVER_PROP_NAME = "homa.limit.sockets.per.driver";
    /** RESENDs, probes and NEED_ACKs the timer sends one peer per tick. */
    public static final String LIMIT_TIMER_CONTROL_PER_PEER_PER_TICK_PROP_NAME =
        "homa.limit.timer.control.per.peer.per.tick";
    /** Requests that may wait for pool space or unearned budget on one socket. */
    public static final String LIMIT_WAITING_RPCS_PER_SOCKET_PROP_NAME = "homa.limit.waiting.rpcs.per.socket";

    private Configuration()
    {
    }

    /** The idle strategy aliases {@link #idleStrategy(String, long)} knows. */
    public static final String IDLE_STRATEGY_ALIASES = "wake, noop, spin, yield, sleep-ns, sleep-ms, backoff";

    static ThreadingMode threadingMode()
    {
        return HomaProperties.enumValue(
            THREADING_MODE_PROP_NAME, ThreadingMode.class, ThreadingMode.valueOf(THREADING_MODE_DEFAULT));
    }

    static String idleStrategyName(final String propName)
    {
        return HomaProperties.string(propName, IDLE_STRATEGY_DEFAULT);
    }

    static String stringValue(final String propName, final String defaultValue)
    {
        return HomaProperties.string(propName, defaultValue);
    }

    /**
     * {@link #idleStrategy(String, long)} for a setting: an unknown name is refused naming the setting.
     *
     * @param propName the setting, for the message.
     * @param name     alias or class name.
     * @param pollNs   how long {@code wake} polls after work before it sleeps.
     * @return the strategy.
     */
    static IdleStrategy idleStrategy(final String propName, final String name, final long pollNs)
    {
        try
        {
            return idleStrategy(name, pollNs);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new HomaProperties.ConfigurationException(propName + "=" + name + " is refused: one of " +
                IDLE_STRATEGY_ALIASES + ", or the name of an IdleStrategy class with a no-argument constructor");
        }
    }

    /**
     * Makes an idle strategy from an alias (see {@link #idleStrategy(String, long)}) with the poll duration of
     * {@code homa.poll.duration}.
     *
     * @param name alias or class name.
     * @return the strategy.
     */
    public static IdleStrategy idleStrategy(final String name)
    {
        return idleStrategy(name, HomaProperties.durationNs(
            io.homa.client.CommonContext.POLL_DURATION_PROP_NAME, io.homa.client.CommonContext.POLL_DURATION_DEFAULT_NS));
    }

    /**
     * Makes an idle strategy from an alias (wake, noop, spin, yield, sleep-ns, sleep-ms, backoff) or a class name
     * with a no-argument constructor.
     *
     * @param name   alias or class name.
     * @param pollNs how long {@code wake} polls after work before it sleeps.
     * @return the strategy.
     */
    public static IdleStrategy idleStrategy(final String name, final long pollNs)
    {
        return switch (name.trim())
        {
            case "wake" -> new WakeupIdleStrategy(pollNs);
            case "noop" -> NoOpIdleStrategy.INSTANCE;
            case "spin" -> new BusySpinIdleStrategy();
            case "yield" -> new YieldingIdleStrategy();
            case "sleep-ns" -> new SleepingIdleStrategy();
            case "sleep-ms" -> new SleepingMillisIdleStrategy();
            case "backoff" -> new BackoffIdleStrategy(10, 20, TimeUnit.MICROSECONDS.toNanos(1),
                TimeUnit.MILLISECONDS.toNanos(1));
            default ->
            {
                try
                {
                    yield (IdleStrategy)Class.forName(name.trim()).getConstructor().newInstance();
                }
                catch (final ReflectiveOperationException | ClassCastException ex)
                {
                    throw new IllegalArgumentException("unknown idle strategy: " + name + " (" +
                        IDLE_STRATEGY_ALIASES + " or an IdleStrategy class name)", ex);
                }
            }
        };
    }

    static int ringLength(final String propName, final int defaultLength)
    {
        return HomaProperties.sizeAsInt(propName, defaultLength) + RingBufferDescriptor.TRAILER_LENGTH;
    }

    static int broadcastLength(final String propName, final int defaultLength)
    {
        return HomaProperties.sizeAsInt(propName, defaultLength) + BroadcastBufferDescriptor.TRAILER_LENGTH;
    }

    static int sizeAsInt(final String propName, final int defaultValue)
    {
        return HomaProperties.sizeAsInt(propName, defaultValue);
    }

    static boolean booleanValue(final String propName, final boolean defaultValue)
    {
        return HomaProperties.bool(propName, defaultValue);
    }

    static int intValue(final String propName, final int defaultValue)
    {
        return HomaProperties.intValue(propName, defaultValue);
    }

    /**
     * The {@code homa.limit.*} properties, each checked.
     *
     * @return the limits.
     * @throws IllegalArgumentException naming the first property out of range.
     */
    static io.homa.driver.protocol.LimitSettings limitSettings()
    {
        return new io.homa.driver.protocol.LimitSettings(
            atLeast(LIMIT_UNEARNED_BYTES_PER_PEER_PROP_NAME,
                HomaProperties.size(LIMIT_UNEARNED_BYTES_PER_PEER_PROP_NAME, 0), 0),
            atLeast(LIMIT_UNEARNED_BYTES_PER_SOCKET_PROP_NAME,
                HomaProperties.size(LIMIT_UNEARNED_BYTES_PER_SOCKET_PROP_NAME, 0), 0),
            positiveInt(LIMIT_SERVER_RPCS_PER_PEER_PROP_NAME,
                io.homa.driver.protocol.LimitSettings.SERVER_RPCS_PER_PEER_DEFAULT),
            positiveInt(LIMIT_PEERS_PROP_NAME, io.homa.driver.protocol.LimitSettings.MAX_PEERS_DEFAULT),
            positiveInt(LIMIT_SOCKETS_PER_CLIENT_PROP_NAME,
                io.homa.driver.protocol.LimitSettings.SOCKETS_PER_CLIENT_DEFAULT),
            positiveInt(LIMIT_SOCKETS_PER_DRIVER_PROP_NAME,
                io.homa.driver.protocol.LimitSettings.SOCKETS_PER_DRIVER_DEFAULT),
            positiveInt(LIMIT_TIMER_CONTROL_PER_PEER_PER_TICK_PROP_NAME,
                io.homa.driver.protocol.LimitSettings.TIMER_CONTROL_PER_PEER_PER_TICK_DEFAULT),
            positiveInt(LIMIT_WAITING_RPCS_PER_SOCKET_PROP_NAME,
                io.homa.driver.protocol.LimitSettings.WAITING_RPCS_PER_SOCKET_DEFAULT));
    }

    private static int positiveInt(final String propName, final int defaultValue)
    {
        return (int)atLeast(propName, intValue(propName, defaultValue), 1);
    }

    private static long atLeast(final String propName, final long value, final long minimum)
    {
        if (value < minimum)
        {
            throw new IllegalArgumentException(propName + " must be >= " + minimum + ": " + value);
        }
        return value;
    }

    static long durationNs(final String propName, final long defaultNs)
    {
        return HomaProperties.durationNs(propName, defaultNs);
    }

    /**
     * Fault injection as the {@code homa.fault.*} properties describe it (inactive unless one is set).
     *
     * @return the settings.
     */
    public static io.homa.driver.transport.FaultInjection faultInjection()
    {
        return new io.homa.driver.transport.FaultInjection()
            .seed(HomaProperties.longValue(FAULT_SEED_PROP_NAME, FAULT_SEED_DEFAULT))
            .dataDropRate(rate(FAULT_DATA_DROP_RATE_PROP_NAME))
            .controlDropRate(rate(FAULT_CONTROL_DROP_RATE_PROP_NAME))
            .dataDuplicateRate(rate(FAULT_DATA_DUPLICATE_RATE_PROP_NAME))
            .controlDuplicateRate(rate(FAULT_CONTROL_DUPLICATE_RATE_PROP_NAME))
            .dataReorderRate(rate(FAULT_DATA_REORDER_RATE_PROP_NAME))
            .controlReorderRate(rate(FAULT_CONTROL_REORDER_RATE_PROP_NAME))
            .reorderDelayNs(durationNs(FAULT_REORDER_DELAY_PROP_NAME, FAULT_REORDER_DELAY_DEFAULT_NS))
            .duplicateDelayNs(durationNs(FAULT_DUPLICATE_DELAY_PROP_NAME, FAULT_DUPLICATE_DELAY_DEFAULT_NS))
            .dataCorruptRate(rate(FAULT_DATA_CORRUPT_RATE_PROP_NAME))
            .controlCorruptRate(rate(FAULT_CONTROL_CORRUPT_RATE_PROP_NAME))
            .dropIndices(HomaProperties.string(FAULT_DROP_INDICES_PROP_NAME, null));
    }

    private static double rate(final String propName)
    {
        return HomaProperties.rate(propName);
    }

    /**
     * Parses the 8 unscheduled cutoffs.
     *
     * @param value comma-separated list, e.g. {@link #UNSCHED_CUTOFFS_DEFAULT}.
     * @return 8 cutoffs.
     * @throws IllegalArgumentException if there are not exactly 8 sizes (k/m/g suffixes allowed).
     */
    public static int[] parseCutoffs(final String value)
    {
        final String[] parts = value.trim().split("\\s*,\\s*");
        if (8 != parts.length)
        {
            throw new HomaProperties.ConfigurationException(UNSCHED_CUTOFFS_PROP_NAME + "=" + value +
                " is refused: 8 comma-separated sizes, entry i for priority level i, e.g. " + UNSCHED_CUTOFFS_DEFAULT);
        }
        final int[] cutoffs = new int[8];
        for (int i = 0; i < 8; i++)
        {
            final long cutoff;
            try
            {
                cutoff = HomaProperties.parseSize(UNSCHED_CUTOFFS_PROP_NAME, parts[i]);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new HomaProperties.ConfigurationException(UNSCHED_CUTOFFS_PROP_NAME + "=" + value +
                    " is refused: entry " + i + " (" + parts[i] + ") is not a size, a whole number of bytes with " +
                    "an optional k, m or g suffix");
            }
            cutoffs[i] = (int)Math.min(cutoff, Integer.MAX_VALUE);
        }
        return cutoffs;
    }

    /**
     * One round trip of link time in bytes: {@code rtt x link rate / 8}, at least {@link #MIN_DERIVED_UNSCHED_BYTES}.
     * 25 Gbit/s and 13 µs give 40,625 B, close to Linux's 40,000.
     *
     * @param rttNs    round-trip time.
     * @param linkMbps link speed.
     * @return unscheduled bytes.
     */
    public static int unschedBytesForNetwork(final long rttNs, final int linkMbps)
    {
        final long bytes = (rttNs * linkMbps + 7_999) / 8_000;
        return (int)Math.max(MIN_DERIVED_UNSCHED_BYTES, Math.min(bytes, 1_000_000));
    }

    /**
     * @param unschedBytes unscheduled bytes (one RTT of link time).
     * @return max_incoming for them: {@link #MAX_INCOMING_RTTS} round trips.
     */
    public static int maxIncomingForNetwork(final int unschedBytes)
    {
        return (int)Math.min((long)unschedBytes * MAX_INCOMING_RTTS, Integer.MAX_VALUE);
    }

    /**
     * Decides whether to pace.
     *
     * @param mode         {@code auto}, {@code true} or {@code false}.
     * @param isLinkKnown  true if the link speed was configured (or discovered).
     * @param isLoopback   true if the driver's address is a loopback address.
     * @return true to pace.
     */
    public static boolean pacing(final String mode, final boolean isLinkKnown, final boolean isLoopback)
    {
        return switch (mode.trim())
        {
            case "auto" -> isLinkKnown && !isLoopback;
            case "true", "on" -> true;
            case "false", "off" -> false;
            default -> throw new HomaProperties.ConfigurationException(
                PACING_PROP_NAME + "=" + mode + " is refused: one of auto, true, false");
        };
    }
}
