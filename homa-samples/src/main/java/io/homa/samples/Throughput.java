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
 * Throughput sample: keeps a number of RPCs outstanding from a client socket to a server socket on the same
 * driver (embedded by default, or a running one with {@code --dir}), and prints the RPC rate and Gbit/s every
 * second, then the RPC latency as an HdrHistogram table in µs. Client and server share one application thread,
 * which keeps the sample honest on a small machine. Run with {@code --help}.
 */
public final class Throughput
{
    private static final int SERVER_PORT = 4002;
    private static final Set<String> VALUE_OPTIONS = Set.of(
        "dir", "udp-port", "size", "response-size", "outstanding", "duration", "interval", "idle", "app-idle");

    private Throughput()
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
            System.err.println("throughput: " + ex.getMessage());
            System.err.println(usage());
            System.exit(1);
        }
    }

    /**
     * Runs the sample.
     *
     * @param args the command line.
     * @param out  where to print.
     * @return what was measured, or null when help was asked for.
     */
    public static Result run(final String[] args, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return null;
        }
        final int size = parsed.intValue("size", 10_000);
        final int responseSize = parsed.intValue("response-size", 100);
        final int outstanding = parsed.intValue("outstanding", 8);
        final long durationNs = parsed.durationNs("duration", TimeUnit.SECONDS.toNanos(10), "s");
        final long intervalNs = parsed.durationNs("interval", TimeUnit.SECONDS.toNanos(1), "s");
        if (size < 1 || size > 1_000_000 || responseSize < 1 || responseSize > 1_000_000 || outstanding < 1 ||
            outstanding > 1024 || durationNs <= 0 || intervalNs <= 0)
        {
            throw new IllegalArgumentException("need sizes in 1..1000000, --outstanding in 1..1024, positive times");
        }
        final IdleStrategy idle = Configuration.idleStrategy(parsed.string("app-idle", "yield"));

        try (SampleDriver driver = SampleDriver.open(
            parsed.string("dir", null), parsed.intValue("udp-port", 0), parsed.string("idle", null));
            HomaSocket server = driver.homa().addSocket(SERVER_PORT);
            HomaSocket client = driver.homa().addSocket())
        {
            out.printf(Locale.ROOT,
                "Homa Throughput: %,d B requests, %,d B responses, %d outstanding, %.1f s, %s%n",
                size, responseSize, outstanding, durationNs / 1e9, driver.describe());

            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            final long startNs = System.nanoTime();
            final RateReporter reporter = new RateReporter(intervalNs, out, startNs);
            final Server serverHandler = new Server(server, responseSize);
            final Client clientHandler = new Client(
                client, driver.address(SERVER_PORT), size, reporter, histogram);

            for (int i = 0; i < outstanding; i++)
            {
                clientHandler.sendOne();
            }
            final long endNs = startNs + durationNs;
            long nowNs = startNs;
            while (nowNs - endNs < 0)
            {
                int work = driver.invoke();
                work += server.poll(serverHandler, 16);
                work += client.poll(clientHandler, 16);
                nowNs = System.nanoTime();
                work += reporter.poll(nowNs);
                idle.idle(work);
            }
            reporter.reportRemainder(nowNs);
            final double seconds = (nowNs - startNs) / 1e9;

            out.println();
            out.printf(Locale.ROOT, "RPC latency (µs) with %d outstanding:%n", outstanding);
            histogram.outputPercentileDistribution(out, 1000.0);
            final Result result = new Result(reporter.totalRpcs(), clientHandler.errors, seconds,
                reporter.totalRpcs() / seconds, reporter.totalRequestBytes() * 8 / seconds / 1e9, histogram);
            out.printf(Locale.ROOT,
                "%nSummary: %,d RPCs in %.2f s: %,.0f RPC/s, requests %.3f Gbit/s, responses %.3f Gbit/s, " +
                "p50 %.1f µs, p99 %.1f µs, failed RPCs %d%n",
                result.rpcs, seconds, result.rpcsPerSecond, result.requestGbps,
                reporter.totalResponseBytes() * 8 / seconds / 1e9,
                histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(99) / 1000.0,
                result.failedRpcs);
            return result;
        }
    }

    static String usage()
    {
        return """
            throughput [options]: RPC/s and Gbit/s with several RPCs outstanding, then latency percentiles (µs)
              --size N            request bytes (default 10000)
              --response-size N   response bytes (default 100)
              --outstanding N     RPCs kept in flight (default 8)
              --duration D        run time, seconds unless suffixed (default 10)
              --interval D        report interval (default 1s)
              --dir DIR           use the running driver in DIR (default: embed a driver)
              --udp-port P        UDP port of the embedded driver (default: any free port)
              --idle NAME         embedded driver idle strategy (default: homa.shared.idle.strategy)
              --app-idle NAME     idle strategy of the client/server loop (default yield)
            """;
    }

    /**
     * What a run measured.
     *
     * @param rpcs          completed RPCs.
     * @param failedRpcs    RPCs that ended in an error.
     * @param seconds       run time.
     * @param rpcsPerSecond completed RPCs per second.
     * @param requestGbps   request payload rate.
     * @param latency       RPC latency in ns.
     */
    public record Result(
        long rpcs, long failedRpcs, double seconds, double rpcsPerSecond, double requestGbps, Histogram latency)
    {
    }

    private static final class Server implements MessageHandler
    {
        private final HomaSocket socket;
        private final UnsafeBuffer response;

        Server(final HomaSocket socket, final int responseSize)
        {
            this.socket = socket;
            this.response = new UnsafeBuffer(new byte[responseSize]);
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            socket.reply(id, response, 0, response.capacity());
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    private static final class Client implements MessageHandler
    {
        private final HomaSocket socket;
        private final HomaAddress server;
        private final UnsafeBuffer request;
        private final RateReporter reporter;
        private final Histogram histogram;
        private long errors;

        Client(
            final HomaSocket socket,
            final HomaAddress server,
            final int size,
            final RateReporter reporter,
            final Histogram histogram)
        {
            this.socket = socket;
            this.server = server;
            this.request = new UnsafeBuffer(new byte[size]);
            this.reporter = reporter;
            this.histogram = histogram;
        }

        void sendOne()
        {
            socket.send(server, request, 0, request.capacity(), System.nanoTime());
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            final long nowNs = System.nanoTime();
            histogram.recordValue(Math.min(nowNs - cookie, histogram.getHighestTrackableValue()));
            reporter.onRpc(request.capacity(), length);
            sendOne();
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
            if (1 == errors)
            {
                System.err.println("throughput: RPC failed: " + HomaError.name(errorCode));
            }
            sendOne();
        }
    }
}
