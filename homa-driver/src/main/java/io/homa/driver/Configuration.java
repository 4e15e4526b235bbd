package io.homa.driver;

import org.agrona.SystemUtil;
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
 * Every driver setting as a {@code homa.*} system property with its default. Sizes accept k/m/g suffixes and
 * durations accept ns/us/ms/s suffixes (Agrona {@link SystemUtil}). The README's property table lists them all.
 */
public final class Configuration
{
    /** Threading mode: SHARED or INVOKER. */
    public static final String THREADING_MODE_PROP_NAME = "homa.threading.mode";
    /** Default threading mode. */
    public static final String THREADING_MODE_DEFAULT = "SHARED";

    /** Idle strategy of the shared agent thread (SHARED mode). */
    public static final String SHARED_IDLE_STRATEGY_PROP_NAME = "homa.shared.idle.strategy";
    /**
     * Default idle strategy: back off from spinning to yielding to parking 1 µs .. 1 ms. Keeps latency low while
     * busy and gives the core back when idle, which matters on a 2-core host.
     */
    public static final String IDLE_STRATEGY_DEFAULT = "backoff";

    /** Delete the directory of a dead driver before starting. */
    public static final String DIR_DELETE_ON_START_PROP_NAME = "homa.dir.delete.on.start";
    /** Delete the directory when the driver closes. */
    public static final String DIR_DELETE_ON_SHUTDOWN_PROP_NAME = "homa.dir.delete.on.shutdown";

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
    /** Homa: ticks after a response is fully sent before the server asks for an ack (Linux request_ack_ticks). */
    public static final String REQUEST_ACK_TICKS_PROP_NAME = "homa.request.ack.ticks";
    /** Linux's default. */
    public static final int REQUEST_ACK_TICKS_DEFAULT = 2;

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
    /** Link speed in Mb/s (Linux link_mbps); 0 = ask the NIC (ethtool), else {@link #LINK_MBPS_FALLBACK}. */
    public static final String LINK_MBPS_PROP_NAME = "homa.link.mbps";
    /** Default: discover. */
    public static final int LINK_MBPS_DEFAULT = 0;
    /** Used when the NIC does not tell (loopback, virtio): Linux's link_mbps default. */
    public static final int LINK_MBPS_FALLBACK = 25_000;

    /** Print the configuration when the driver starts. */
    public static final String PRINT_CONFIGURATION_PROP_NAME = "homa.print.configuration";

    private Configuration()
    {
    }

    static ThreadingMode threadingMode()
    {
        return ThreadingMode.valueOf(System.getProperty(THREADING_MODE_PROP_NAME, THREADING_MODE_DEFAULT).trim());
    }

    static String idleStrategyName(final String propName)
    {
        return System.getProperty(propName, IDLE_STRATEGY_DEFAULT);
    }

    /**
     * Makes an idle strategy from an alias (noop, spin, yield, sleep-ns, sleep-ms, backoff) or a class name with
     * a no-argument constructor.
     *
     * @param name alias or class name.
     * @return the strategy.
     */
    public static IdleStrategy idleStrategy(final String name)
    {
        return switch (name.trim())
        {
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
                    throw new IllegalArgumentException("unknown idle strategy: " + name, ex);
                }
            }
        };
    }

    static int ringLength(final String propName, final int defaultLength)
    {
        return SystemUtil.getSizeAsInt(propName, defaultLength) + RingBufferDescriptor.TRAILER_LENGTH;
    }

    static int broadcastLength(final String propName, final int defaultLength)
    {
        return SystemUtil.getSizeAsInt(propName, defaultLength) + BroadcastBufferDescriptor.TRAILER_LENGTH;
    }

    static int sizeAsInt(final String propName, final int defaultValue)
    {
        return SystemUtil.getSizeAsInt(propName, defaultValue);
    }

    static int intValue(final String propName, final int defaultValue)
    {
        return Integer.getInteger(propName, defaultValue);
    }

    static long durationNs(final String propName, final long defaultNs)
    {
        return SystemUtil.getDurationInNanos(propName, defaultNs);
    }
}
