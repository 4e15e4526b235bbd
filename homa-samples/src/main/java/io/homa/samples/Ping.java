package io.homa.samples;

import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.Configuration;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The client half of a separate-process ping/pong: sends one request at a time to a {@link Pong}, records each
 * round trip in an HdrHistogram and prints the percentile table in µs after a warm-up. Embeds its own driver by
 * default, or uses a running driver ({@code --dir}, e.g. the one Pong also uses). Run with {@code --help}.
 */
public final class Ping
{
    private static final Set<String> VALUE_OPTIONS = Set.of("dir", "udp-port", "pong-host", "pong-udp-port",
        "pong-port", "size", "count", "warmup", "idle", "app-idle", "rpc-timeout");

    private Ping()
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
            System.err.println("ping: " + ex.getMessage());
            System.err.println(usage());
            System.exit(1);
        }
        catch (final IllegalStateException ex)
        {
            System.err.println("ping: " + ex.getMessage());
            System.exit(2);
        }
    }

    /**
     * Runs the warm-up and the measurement and prints the table.
     *
     * @param args the command line.
     * @param out  where to print.
     * @return the measured round trips in ns, or null when help was asked for.
     */
    public static Histogram run(final String[] args, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return null;
        }
        final int size = parsed.intValue("size", 100);
        final int count = parsed.intValue("count", 100_000);
        final int warmup = parsed.intValue("warmup", 20_000);
        if (size < 1 || size > 1_000_000 || count < 1 || warmup < 0)
        {
            throw new IllegalArgumentException("need 1 <= --size <= 1000000, --count >= 1, --warmup >= 0");
        }
        final IdleStrategy idle = Configuration.idleStrategy(parsed.string("app-idle", "wake"));
        final long rpcTimeoutNs = parsed.durationNs("rpc-timeout", TimeUnit.SECONDS.toNanos(10), "s");
        final String dir = parsed.string("dir", null);

        try (SampleDriver driver = SampleDriver.open(dir, parsed.intValue("udp-port", 0), parsed.string("idle", null));
            HomaSocket socket = driver.homa().addSocket())
        {
            // Sharing a running driver with Pong is the common case for --dir: default to that driver's endpoint.
            final int pongUdpPort = parsed.intValue(
                "pong-udp-port", null != dir ? driver.udpPort() : Pong.PONG_UDP_PORT_DEFAULT);
            // Through the client so an IPv6 pong works too (the driver names IPv6 peers).
            final HomaAddress pong = driver.homa().address(inetAddress(parsed.string("pong-host", "127.0.0.1")),
                pongUdpPort, parsed.intValue("pong-port", Pong.PONG_PORT_DEFAULT));
            out.printf(Locale.ROOT, "Homa Ping: %,d B requests to %s, %,d RPCs after %,d warm-up, %s%n",
                size, pong, count, warmup, driver.describe());

            final Pinger pinger = new Pinger(socket, driver, pong, size, idle, rpcTimeoutNs);
            pinger.run(warmup, new Histogram(TimeUnit.SECONDS.toNanos(10), 3), out);
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            final long startNs = System.nanoTime();
            pinger.run(count, histogram, out);
            final long elapsedNs = System.nanoTime() - startNs;

            out.println();
            out.printf(Locale.ROOT, "Round-trip time (µs), %,d B request / %,d B response:%n", size,
                pinger.lastResponseLength);
            histogram.outputPercentileDistribution(out, 1000.0);
            out.printf(Locale.ROOT, "%nSummary: p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs; %,.0f RPC/s%n",
                histogram.getValueAtPercentile(50) / 1000.0,
                histogram.getValueAtPercentile(99) / 1000.0,
                histogram.getValueAtPercentile(99.9) / 1000.0,
                histogram.getMaxValue() / 1000.0,
                count * 1e9 / elapsedNs);
            return histogram;
        }
    }

    private static java.net.InetAddress inetAddress(final String host)
    {
        try
        {
            return java.net.InetAddress.getByName(host);
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalArgumentException("unknown --pong-host: " + host);
        }
    }

    static String usage()
    {
        return """
            ping [options]: round-trip times to a running pong, as an HdrHistogram table in µs
              --dir DIR             use the running driver in DIR (default: embed a driver)
              --udp-port P          UDP port of the embedded driver (default: any free port)
              --pong-host H         pong's driver address, IPv4 or IPv6 (default 127.0.0.1)
              --pong-udp-port P     pong's driver UDP port (default: the --dir driver's, else 4000)
              --pong-port P         pong's Homa port (default 4001)
              --size N              request bytes (default 100; pong echoes unless told otherwise)
              --count N             measured RPCs (default 100000)
              --warmup N            warm-up RPCs (default 20000)
              --idle NAME           embedded driver idle strategy (default: homa.shared.idle.strategy)
              --app-idle NAME       idle strategy while waiting for a response (default wake: block in receive)
              --rpc-timeout D       give up when a response takes longer, seconds unless suffixed (default 10)
            """;
    }

    private static final class Pinger implements MessageHandler
    {
        private final HomaSocket socket;
        private final SampleDriver driver;
        private final HomaAddress pong;
        private final UnsafeBuffer request;
        private final IdleStrategy idle;
        private final boolean sleeps;
        private final long rpcTimeoutNs;
        private boolean received;
        private long sentNs;
        private int lastResponseLength;

        Pinger(
            final HomaSocket socket,
            final SampleDriver driver,
            final HomaAddress pong,
            final int size,
            final IdleStrategy idle,
            final long rpcTimeoutNs)
        {
            this.rpcTimeoutNs = rpcTimeoutNs;
            this.socket = socket;
            this.driver = driver;
            this.pong = pong;
            this.request = new UnsafeBuffer(new byte[size]);
            this.idle = idle;
            this.sleeps = idle instanceof io.homa.driver.WakeupIdleStrategy && !driver.isInvoker();
        }

        void run(final int count, final Histogram histogram, final PrintStream out)
        {
            final long reportEveryNs = TimeUnit.SECONDS.toNanos(5);
            long nextReportNs = System.nanoTime() + reportEveryNs;
            for (int i = 0; i < count; i++)
            {
                received = false;
                final long startNs = System.nanoTime();
                socket.send(pong, request, 0, request.capacity(), startNs);
                while (!received)
                {
                    if (sleeps)
                    {
                        // Poll for homa.poll.duration, then sleep until the driver publishes the response.
                        socket.receive(this, 100_000_000L);
                    }
                    else
                    {
                        idle.idle(socket.poll(this, 16) + driver.invoke());
                    }
                    // A lost response must not hang the run (or a test): give up loudly instead.
                    if (System.nanoTime() - startNs > rpcTimeoutNs || Thread.currentThread().isInterrupted())
                    {
                        throw new IllegalStateException("no response from pong at " + pong + " to RPC " + (i + 1) +
                            " of " + count + " within " + TimeUnit.NANOSECONDS.toMillis(rpcTimeoutNs) + " ms");
                    }
                }
                final long nowNs = System.nanoTime();
                histogram.recordValue(Math.min(nowNs - sentNs, histogram.getHighestTrackableValue()));
                if (nowNs - nextReportNs > 0)
                {
                    nextReportNs = nowNs + reportEveryNs;
                    out.printf(Locale.ROOT, "  ... %,d of %,d RPCs%n", i + 1, count);
                }
            }
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            sentNs = cookie;
            lastResponseLength = length;
            received = true;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new IllegalStateException("RPC to pong at " + pong + " failed: " + HomaError.name(errorCode) +
                (HomaError.ENOTCONN == errorCode ? " (is pong running on that port?)" : ""));
        }
    }
}
