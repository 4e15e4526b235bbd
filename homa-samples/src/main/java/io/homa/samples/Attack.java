package io.homa.samples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.SystemCounterDescriptor;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The forged-DATA attack of issue #16's "Shown by": one embedded server driver (echo), a legitimate client on its
 * own embedded driver doing sequential RPCs, and an attacker thread sending forged first DATA packets (message length
 * 1,000,000 by default, random RPC ids, random Homa source ports, from a pool of UDP sockets so each is a new peer)
 * at the server over UDP. Phases: before, attack at {@code --rate} bytes/s, after (until the server's rpcs_active and
 * receive-pool use are back at their baseline, at most {@code --recover-max}), attack at line rate (as fast as one
 * thread sends), after. Then the same ping over a TCP socket (echo server on loopback) with the same flood aimed at
 * the host (a UDP socket there that nobody reads), for ratios. Run with {@code --help}.
 */
public final class Attack
{
    private static final Set<String> VALUE_OPTIONS = Set.of("before", "attack", "recover-max", "tcp-after", "rate",
        "size", "message-length", "packet-payload", "attack-sockets", "protocol", "seed", "rpc-timeout");
    private static final long MAX_PHASE_NS = TimeUnit.SECONDS.toNanos(120);
    private static final int SERVER_PORT = 99;
    private static final String[] LIMIT_COUNTERS = { "unearned_limit_waits", "peer_rpc_limit_drops",
        "peer_limit_drops", "timer_control_limit_skips", "server_rpc_discards", "rpc_timeouts",
        "unreachable_server_rpcs" };

    private Attack()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        try
        {
            run(args, System.out);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("attack: " + ex.getMessage());
            System.exit(1);
        }
    }

    static String usage()
    {
        return """
            attack [options]: forged-DATA flood against a Homa echo server while a client pings it, then the same
            against a TCP echo server (issue #16); per phase: client p50/p99/max, RPCs, errors, server counters
              --before D          quiet phase before the first attack (default 5s)
              --attack D          each attack phase (default 10s)
              --recover-max D     longest wait for the server to return to its baseline after an attack (default 30s)
              --tcp-after D       the TCP run's after phases (default: --before)
              --rate B            bytes/s of the slow attack (default 40000); the second attack is at line rate
              --size N            legitimate request bytes (default 100)
              --message-length N  message length the forged DATA claims (default 1000000)
              --packet-payload N  payload bytes of each forged packet (default 1400)
              --attack-sockets N  UDP sockets the attacker sends from, each a peer (default 64)
              --protocol P        homa, tcp or both (default both)
              --seed N            attacker's random seed (default 1)
              --rpc-timeout D     legitimate call timeout (default 1s)
            durations take ns, us, ms or s (bare: s), each at most 120 s
            """;
    }

    /**
     * @param args the command line.
     * @param out  where to print.
     */
    public static void run(final String[] args, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return;
        }
        parsed.noPositional();
        final Settings s = new Settings();
        s.beforeNs = phase(parsed, "before", 5);
        s.attackNs = phase(parsed, "attack", 10);
        s.recoverMaxNs = phase(parsed, "recover-max", 30);
        s.tcpAfterNs = parsed.has("tcp-after") ? phase(parsed, "tcp-after", 0) : s.beforeNs;
        s.rate = parsed.size("rate", 40_000);
        s.size = parsed.intValue("size", 100);
        s.messageLength = parsed.intValue("message-length", 1_000_000);
        s.payload = parsed.intValue("packet-payload", 1_400);
        s.sockets = parsed.intValue("attack-sockets", 64);
        s.seed = parsed.intValue("seed", 1);
        s.rpcTimeoutNs = parsed.durationNs("rpc-timeout", TimeUnit.SECONDS.toNanos(1), "s");
        final String protocol = parsed.string("protocol", "both");
        check(s.rate >= 1 && s.rate <= 10_000_000_000L, "--rate " + s.rate + " is refused: 1..10g bytes/s");
        check(s.size >= 1 && s.size <= 1_000_000, "--size " + s.size + " is refused: 1..1000000");
        check(s.messageLength >= 1 && s.messageLength <= 1_000_000,
            "--message-length " + s.messageLength + " is refused: 1..1000000");
        check(s.payload >= 0 && s.payload <= 1_400 && s.payload <= s.messageLength,
            "--packet-payload " + s.payload + " is refused: 0..1400, at most --message-length");
        check(s.sockets >= 1 && s.sockets <= 1_024, "--attack-sockets " + s.sockets + " is refused: 1..1024");
        check(s.rpcTimeoutNs >= TimeUnit.MILLISECONDS.toNanos(1) && s.rpcTimeoutNs <= MAX_PHASE_NS,
            "--rpc-timeout is refused: 1 ms..120 s");
        check(Set.of("homa", "tcp", "both").contains(protocol),
            "--protocol " + protocol + " is refused: homa, tcp or both");

        out.printf(Locale.ROOT, "attack: forged first DATA (%,d B payload, message_length %,d, random ids and " +
            "Homa ports, %d UDP sockets); legitimate %,d B sequential RPCs%n", s.payload, s.messageLength,
            s.sockets, s.size);
        if (!"tcp".equals(protocol))
        {
            runHoma(s, out);
        }
        if (!"homa".equals(protocol))
        {
            runTcp(s, out);
        }
    }

    private static long phase(final Args parsed, final String name, final long defaultSeconds)
    {
        final long ns = parsed.durationNs(name, TimeUnit.SECONDS.toNanos(defaultSeconds), "s");
        check(ns > 0 && ns <= MAX_PHASE_NS, "--" + name + " " + parsed.string(name, "") +
            " is refused: a duration above 0 and at most 120 s");
        return ns;
    }

    private static void check(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }

    static final class Settings
    {
        long beforeNs;
        long attackNs;
        long recoverMaxNs;
        long tcpAfterNs;
        long rate;
        int size;
        int messageLength;
        int payload;
        int sockets;
        int seed;
        long rpcTimeoutNs;
    }

    // ---------------------------------------------------------------- Homa

    private static void runHoma(final Settings s, final PrintStream out)
    {
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded(new MediaDriver.Context());
            MediaDriver clientDriver = MediaDriver.launchEmbedded(new MediaDriver.Context());
            Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
            // Reads the pool through its own connection, giving up after 2 s while the flood holds the driver up.
            Homa observer = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName())
                .driverTimeoutNs(TimeUnit.SECONDS.toNanos(2)));
            Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
            HomaSocket server = serverHoma.addSocket(SERVER_PORT);
            HomaSocket client = clientHoma.addSocket())
        {
            final EchoServer echo = new EchoServer(server);
            echo.start();
            final HomaAddress dest =
                HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
            final InetSocketAddress target =
                new InetSocketAddress(InetAddress.getLoopbackAddress(), serverDriver.udpPort());
            final Pinger pinger = new HomaPinger(client, dest, s);
            out.printf(Locale.ROOT, "%nHoma: echo server %s, client on its own driver%n", dest);
            header(out, true);
            try (Attacker attacker = new Attacker(target, s))
            {
                // Warm the path first (not counted).
                pinger.runFor(Math.min(TimeUnit.SECONDS.toNanos(1), s.beforeNs), new Phase("warm-up"));
                Phase phase = pinger.runFor(s.beforeNs, new Phase("before"));
                // The legitimate client has at most one RPC at the server and one waiting for its ack.
                final long baselineRpcs = serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE) + 2;
                final long baselinePool = poolFree(observer);
                print(out, phase, serverDriver, observer, -1);

                for (final long rate : new long[]{ s.rate, 0 })
                {
                    final String name = 0 == rate ? "attack line rate" :
                        String.format(Locale.ROOT, "attack %,d B/s", rate);
                    final long[] before = snapshot(serverDriver);
                    attacker.start(rate);
                    phase = pinger.runFor(s.attackNs, new Phase(name));
                    attacker.stop();
                    phase.attackBytes = attacker.bytesSent();
                    phase.attackPackets = attacker.packetsSent();
                    phase.counterDeltas = delta(before, snapshot(serverDriver));
                    print(out, phase, serverDriver, observer, -1);

                    final long[] beforeAfter = snapshot(serverDriver);
                    final long startNs = System.nanoTime();
                    final Phase after = new Phase("after");
                    long recoveredNs = -1;
                    while (System.nanoTime() - startNs < s.recoverMaxNs)
                    {
                        pinger.runFor(TimeUnit.MILLISECONDS.toNanos(100), after);
                        if (serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE) <= baselineRpcs &&
                            poolFree(observer) >= baselinePool)
                        {
                            recoveredNs = System.nanoTime() - startNs;
                            break;
                        }
                    }
                    after.counterDeltas = delta(beforeAfter, snapshot(serverDriver));
                    print(out, after, serverDriver, observer, recoveredNs);
                }
            }
            echo.close();
        }
    }

    /**
     * @return the server socket's free receive-pool bytes, or -1 when the driver did not answer in time.
     */
    private static long poolFree(final Homa observer)
    {
        try
        {
            return observer.rpcInfo(SERVER_PORT).poolAvailBytes();
        }
        catch (final HomaException ex)
        {
            return -1;
        }
    }

    private static long[] snapshot(final MediaDriver driver)
    {
        final long[] values = new long[LIMIT_COUNTERS.length];
        for (int i = 0; i < LIMIT_COUNTERS.length; i++)
        {
            values[i] = driver.counter(counter(LIMIT_COUNTERS[i]));
        }
        return values;
    }

    private static SystemCounterDescriptor counter(final String label)
    {
        for (final SystemCounterDescriptor d : SystemCounterDescriptor.values())
        {
            if (d.label().equals(label))
            {
                return d;
            }
        }
        throw new IllegalStateException("no counter " + label);
    }

    private static long[] delta(final long[] before, final long[] after)
    {
        final long[] d = new long[before.length];
        for (int i = 0; i < d.length; i++)
        {
            d[i] = after[i] - before[i];
        }
        return d;
    }

    private static void header(final PrintStream out, final boolean homa)
    {
        out.printf(Locale.ROOT, "%-18s %9s %9s %9s %10s %8s %6s  %s%n", "phase", "p50 us", "p99 us", "max us",
            "RPCs", "errors", "", homa ? "server (deltas in the phase; gauges at its end)" : "attack sent");
    }

    private static void print(
        final PrintStream out, final Phase p, final MediaDriver driver, final Homa homa, final long recoveredNs)
    {
        final StringBuilder extra = new StringBuilder();
        if (p.attackPackets > 0)
        {
            extra.append(String.format(Locale.ROOT, "attack %,d pkts %,d B (%,.0f KB/s); ", p.attackPackets,
                p.attackBytes, p.attackBytes / (p.elapsedNs / 1e9) / 1e3));
        }
        if (null != driver)
        {
            if (null != p.counterDeltas)
            {
                for (int i = 0; i < LIMIT_COUNTERS.length; i++)
                {
                    if (0 != p.counterDeltas[i])
                    {
                        extra.append(LIMIT_COUNTERS[i]).append(' ').append(p.counterDeltas[i]).append("; ");
                    }
                }
            }
            extra.append("rpcs_active ").append(driver.counter(SystemCounterDescriptor.RPCS_ACTIVE))
                .append(", buffer_waiting_rpcs ").append(driver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS))
                .append(", peers_active ").append(driver.counter(SystemCounterDescriptor.PEERS_ACTIVE))
                .append(", pool free ");
            final long free = poolFree(homa);
            extra.append(free < 0 ? "? (no answer within 2 s)" : String.valueOf(free));
        }
        if (recoveredNs >= 0)
        {
            extra.append(String.format(Locale.ROOT, "; back to baseline after %.2f s", recoveredNs / 1e9));
        }
        else if ("after".equals(p.name) && null != driver)
        {
            extra.append("; NOT back to baseline within --recover-max");
        }
        out.printf(Locale.ROOT, "%-18s %9.1f %9.1f %9.1f %10d %8d %6s  %s%n", p.name,
            p.histogram.getTotalCount() > 0 ? p.histogram.getValueAtPercentile(50) / 1e3 : 0.0,
            p.histogram.getTotalCount() > 0 ? p.histogram.getValueAtPercentile(99) / 1e3 : 0.0,
            p.histogram.getMaxValue() / 1e3, p.histogram.getTotalCount(), p.errorCount(), "", extra);
        if (!p.errors.isEmpty())
        {
            out.println("    errors: " + p.errors);
        }
    }

    static final class Phase
    {
        final String name;
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        final Map<String, Long> errors = new TreeMap<>();
        long elapsedNs;
        long attackBytes;
        long attackPackets;
        long[] counterDeltas;

        Phase(final String name)
        {
            this.name = name;
        }

        long errorCount()
        {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    abstract static class Pinger
    {
        final UnsafeBuffer request;

        Pinger(final int size)
        {
            request = new UnsafeBuffer(new byte[size]);
        }

        /** One round trip; throws on failure with the error's name as message. */
        abstract void roundTrip();

        Phase runFor(final long durationNs, final Phase phase)
        {
            final long startNs = System.nanoTime();
            long nowNs = startNs;
            while (nowNs - startNs < durationNs)
            {
                try
                {
                    roundTrip();
                    final long endNs = System.nanoTime();
                    phase.histogram.recordValue(Math.min(endNs - nowNs, phase.histogram.getHighestTrackableValue()));
                    nowNs = endNs;
                }
                catch (final HomaException ex)
                {
                    phase.errors.merge(ex.errorName(), 1L, Long::sum);
                    nowNs = System.nanoTime();
                }
                catch (final RuntimeException ex)
                {
                    phase.errors.merge(ex.getClass().getSimpleName(), 1L, Long::sum);
                    nowNs = System.nanoTime();
                }
            }
            phase.elapsedNs += nowNs - startNs;
            return phase;
        }
    }

    static final class HomaPinger extends Pinger
    {
        private final HomaSocket socket;
        private final HomaAddress dest;
        private final long timeoutNs;

        HomaPinger(final HomaSocket socket, final HomaAddress dest, final Settings s)
        {
            super(s.size);
            this.socket = socket;
            this.dest = dest;
            this.timeoutNs = s.rpcTimeoutNs;
        }

        void roundTrip()
        {
            socket.call(dest, request, 0, request.capacity(), timeoutNs);
        }
    }

    /** Echoes every request on its own thread. */
    static final class EchoServer extends Thread implements MessageHandler
    {
        private final HomaSocket socket;
        private volatile boolean running = true;

        EchoServer(final HomaSocket socket)
        {
            super("attack-echo");
            setDaemon(true);
            this.socket = socket;
        }

        public void run()
        {
            while (running)
            {
                try
                {
                    socket.receive(this, TimeUnit.MILLISECONDS.toNanos(50));
                }
                catch (final HomaException ex)
                {
                    if (!running)
                    {
                        return;
                    }
                }
            }
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            socket.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }

        void close()
        {
            running = false;
            try
            {
                join(1_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Sends forged first DATA packets from its own thread: rate 0 means as fast as the thread can. The sockets stay
     * open (and unread) to the end, as a silent hostile peer's would: closing them would let ICMP end the RPCs.
     */
    static final class Attacker implements AutoCloseable
    {
        private final InetSocketAddress target;
        private final Settings s;
        private final DatagramChannel[] channels;
        private final AtomicLong bytes = new AtomicLong();
        private final AtomicLong packets = new AtomicLong();
        private volatile boolean sending;
        private Thread thread;

        Attacker(final InetSocketAddress target, final Settings s)
        {
            this.target = target;
            this.s = s;
            channels = new DatagramChannel[s.sockets];
            try
            {
                for (int i = 0; i < channels.length; i++)
                {
                    channels[i] = DatagramChannel.open(StandardProtocolFamily.INET);
                    channels[i].bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    channels[i].configureBlocking(false);
                }
            }
            catch (final IOException ex)
            {
                close();
                throw new UncheckedIOException(ex);
            }
        }

        void start(final long rate)
        {
            bytes.set(0);
            packets.set(0);
            sending = true;
            thread = new Thread(() -> send(rate), "attacker");
            thread.setDaemon(true);
            thread.start();
        }

        private void send(final long rate)
        {
            final SplittableRandom random = new SplittableRandom(s.seed * 31L + rate);
            final PacketWriter writer = new PacketWriter();
            final ByteBuffer packet = ByteBuffer.allocateDirect(HomaWire.DATA_HEADER_LENGTH + s.payload);
            final UnsafeBuffer view = new UnsafeBuffer(packet);
            final int length = packet.capacity();
            final long nsPerPacket = 0 == rate ? 0 : (long)(length * 1e9 / rate);
            long nextNs = System.nanoTime();
            while (sending)
            {
                if (nsPerPacket > 0)
                {
                    final long waitNs = nextNs - System.nanoTime();
                    if (waitNs > 0)
                    {
                        LockSupport.parkNanos(Math.min(waitNs, 10_000_000L));
                        continue;
                    }
                    nextNs += nsPerPacket;
                }
                // A first DATA of a new request: even id (a client's), random Homa source port.
                writer.data(view, 0, 1 + random.nextInt(65_535), SERVER_PORT, random.nextLong() & ~1L,
                    s.messageLength, Math.min(s.messageLength, 10_000), 0, 0, 0, false, 0);
                try
                {
                    packet.clear();
                    if (channels[random.nextInt(channels.length)].send(packet, target) > 0)
                    {
                        bytes.addAndGet(length);
                        packets.incrementAndGet();
                    }
                }
                catch (final IOException ex)
                {
                    // Refused or full: a flood goes on.
                }
            }
        }

        void stop()
        {
            sending = false;
            try
            {
                thread.join(5_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }

        long bytesSent()
        {
            return bytes.get();
        }

        long packetsSent()
        {
            return packets.get();
        }

        public void close()
        {
            sending = false;
            for (final DatagramChannel channel : channels)
            {
                if (null != channel)
                {
                    try
                    {
                        channel.close();
                    }
                    catch (final IOException ignore)
                    {
                        // closing
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- TCP

    private static void runTcp(final Settings s, final PrintStream out)
    {
        try (ServerSocketChannel listener = ServerSocketChannel.open();
            DatagramChannel sink = DatagramChannel.open(StandardProtocolFamily.INET))
        {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            // The flood's target on the same host: a UDP socket nobody reads (the kernel queues, then drops).
            sink.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            final Thread server = new Thread(() -> tcpEcho(listener, s.size), "attack-tcp-echo");
            server.setDaemon(true);
            server.start();
            try (SocketChannel channel = SocketChannel.open(listener.getLocalAddress());
                Attacker attacker = new Attacker((InetSocketAddress)sink.getLocalAddress(), s))
            {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                final ByteBuffer buffer = ByteBuffer.allocateDirect(s.size);
                final Pinger pinger = new Pinger(s.size)
                {
                    void roundTrip()
                    {
                        try
                        {
                            buffer.clear();
                            while (buffer.hasRemaining())
                            {
                                channel.write(buffer);
                            }
                            buffer.clear();
                            while (buffer.hasRemaining())
                            {
                                if (channel.read(buffer) < 0)
                                {
                                    throw new IllegalStateException("TCP echo server closed");
                                }
                            }
                        }
                        catch (final IOException ex)
                        {
                            throw new UncheckedIOException(ex);
                        }
                    }
                };
                out.printf(Locale.ROOT, "%nTCP: echo server %s (TCP_NODELAY, one connection), flood at UDP %s%n",
                    listener.getLocalAddress(), sink.getLocalAddress());
                header(out, false);
                pinger.runFor(Math.min(TimeUnit.SECONDS.toNanos(1), s.beforeNs), new Phase("warm-up"));
                print(out, pinger.runFor(s.beforeNs, new Phase("before")), null, null, -1);
                for (final long rate : new long[]{ s.rate, 0 })
                {
                    final String name = 0 == rate ? "attack line rate" :
                        String.format(Locale.ROOT, "attack %,d B/s", rate);
                    attacker.start(rate);
                    final Phase phase = pinger.runFor(s.attackNs, new Phase(name));
                    attacker.stop();
                    phase.attackBytes = attacker.bytesSent();
                    phase.attackPackets = attacker.packetsSent();
                    print(out, phase, null, null, -1);
                    print(out, pinger.runFor(s.tcpAfterNs, new Phase("after")), null, null, -1);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private static void tcpEcho(final ServerSocketChannel listener, final int size)
    {
        try (SocketChannel channel = listener.accept())
        {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            final ByteBuffer buffer = ByteBuffer.allocateDirect(size);
            while (true)
            {
                buffer.clear();
                while (buffer.hasRemaining())
                {
                    if (channel.read(buffer) < 0)
                    {
                        return;
                    }
                }
                buffer.flip();
                while (buffer.hasRemaining())
                {
                    channel.write(buffer);
                }
            }
        }
        catch (final IOException ex)
        {
            // The client closed.
        }
    }
}
