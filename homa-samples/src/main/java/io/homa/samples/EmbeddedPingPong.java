package io.homa.samples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ping/pong through an embedded Homa driver over UDP on loopback: a pong server socket answers every request, a
 * ping client sends one request at a time and records the round-trip time. Prints an HdrHistogram percentile
 * table in µs after a warm-up. Run with {@code --help} for options.
 */
public final class EmbeddedPingPong
{
    /** A blocking receive's longest wait before the loop looks at its flags again. */
    static final long RECEIVE_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private static final Set<String> VALUE_OPTIONS = Set.of("size", "response-size", "count",
        "warmup", "mode", "idle", "app-idle", "drivers", "transport");
    private static final int PONG_PORT = 4001;
    private static final String RAW_LOOPBACK_NET = "127.77.0.";

    private EmbeddedPingPong()
    {
    }

    /**
     * @param args options, see {@link Options#usage()}.
     */
    public static void main(final String[] args)
    {
        final Options options;
        try
        {
            options = Options.parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("EmbeddedPingPong: " + ex.getMessage() + " (--help lists the options)");
            System.exit(1);
            return;
        }
        if (null == options)
        {
            System.out.println(Options.usage());
            return;
        }
        try
        {
            run(options);
        }
        catch (final IllegalArgumentException ex)
        {
            // A refused homa.* setting: one line, no stack trace.
            System.err.println("EmbeddedPingPong: " + ex.getMessage());
            System.exit(1);
        }
    }

    /**
     * Runs one measurement and prints the summary, then the table, to standard output.
     *
     * @param options what to run.
     * @return the histogram of round-trip times in ns.
     */
    public static Histogram run(final Options options)
    {
        return run(options, System.out);
    }

    /**
     * Runs one measurement and prints its settings, the one-line summary and the driver's counters, then the
     * percentile table (the summary comes first so it is not lost above ~90 lines of percentiles).
     *
     * @param options what to run.
     * @param out     where to print.
     * @return the histogram of round-trip times in ns.
     */
    public static Histogram run(final Options options, final PrintStream out)
    {
        if (options.responseSize < 0)
        {
            options.responseSize = options.size;
        }
        out.printf(Locale.ROOT,
            "Homa EmbeddedPingPong: request %,d B, response %,d B, %,d RPCs after %,d warm-up, threading %s, " +
            "driver idle %s, application idle %s, %d driver(s)%s%n",
            options.size, options.responseSize, options.count, options.warmup, options.mode, options.driverIdle,
            options.appIdle, options.drivers, 2 == options.drivers ? " (one per side, pong on its own thread)" :
            options.pongThread ? ", pong on its own thread" : ", pong on the ping thread");
        out.println("transport: " + (null != options.transport ? options.transport :
            System.getProperty("homa.transport", "udp")));

        final AtomicBoolean running = new AtomicBoolean(true);
        final MediaDriver pingDriver = launchDriver(options, 2);
        final MediaDriver pongDriver = 2 == options.drivers ? launchDriver(options, 3) : pingDriver;
        Thread pongThread = null;
        try (Homa pingHoma = connect(pingDriver);
            Homa pongHoma = pongDriver == pingDriver ? null : connect(pongDriver))
        {
            final Homa serverHoma = null != pongHoma ? pongHoma : pingHoma;
            final AgentInvoker pingInvoker = pingDriver.sharedAgentInvoker();
            final AgentInvoker pongInvoker = pongDriver == pingDriver ? null : pongDriver.sharedAgentInvoker();
            final HomaSocket pongSocket = serverHoma.addSocket(PONG_PORT);
            final HomaSocket pingSocket = pingHoma.addSocket();
            final HomaAddress pongAddress =
                HomaAddress.of(pongDriver.udpAddressIpv4(), pongDriver.udpPort(), PONG_PORT);
            final UnsafeBuffer response = new UnsafeBuffer(new byte[options.responseSize]);
            final MessageHandler pong = new Pong(pongSocket, response, options.responseSize);

            // With two drivers pong always has its own thread (it is another host); with one driver it may share
            // the ping thread, which then also runs the driver in INVOKER mode.
            final boolean pongOnOwnThread = 2 == options.drivers || (options.pongThread && null == pingInvoker);
            if (pongOnOwnThread)
            {
                final IdleStrategy pongIdle = Configuration.idleStrategy(options.appIdle);
                final boolean pongSleeps = "wake".equals(options.appIdle) && null == pongInvoker;
                pongThread = new Thread(() ->
                {
                    while (running.get())
                    {
                        if (pongSleeps)
                        {
                            // Poll for homa.poll.duration, then sleep until the driver publishes a request.
                            pongSocket.receive(pong, RECEIVE_TIMEOUT_NS);
                            continue;
                        }
                        int work = pongSocket.poll(pong, 16);
                        if (null != pongInvoker)
                        {
                            work += pongInvoker.invoke();
                        }
                        pongIdle.idle(work);
                    }
                }, "pong");
                pongThread.setDaemon(true);
                pongThread.start();
            }
            final MessageHandler pongInline = pongOnOwnThread ? null : pong;

            final Ping ping = new Ping(pingSocket, pongAddress, options.size, pingInvoker, pongSocket, pongInline,
                Configuration.idleStrategy(options.appIdle));
            final Histogram warmupHistogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            ping.run(options.warmup, warmupHistogram);
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            final long startNs = System.nanoTime();
            ping.run(options.count, histogram);
            final long elapsedNs = System.nanoTime() - startNs;

            running.set(false);
            if (null != pongThread)
            {
                pongThread.join(5_000);
            }

            final double rpcPerSec = options.count * 1e9 / elapsedNs;
            out.printf(Locale.ROOT,
                "%nSummary: p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs; %,.0f RPC/s; request payload " +
                "%.2f Gbit/s (one RPC outstanding)%n",
                histogram.getValueAtPercentile(50) / 1000.0,
                histogram.getValueAtPercentile(99) / 1000.0,
                histogram.getValueAtPercentile(99.9) / 1000.0,
                histogram.getMaxValue() / 1000.0,
                rpcPerSec,
                rpcPerSec * options.size * 8 / 1e9);
            printDriver(out, "Driver", pingDriver);
            if (pongDriver != pingDriver)
            {
                printDriver(out, "Pong driver", pongDriver);
            }
            out.println();
            out.println("Round-trip time (µs), " + options.size + " B request / " + options.responseSize +
                " B response:");
            histogram.outputPercentileDistribution(out, 1000.0);
            return histogram;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        finally
        {
            running.set(false);
            if (pongDriver != pingDriver)
            {
                pongDriver.close();
            }
            pingDriver.close();
        }
    }

    private static MediaDriver launchDriver(final Options options, final int host)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .threadingMode(options.mode)
            .sharedIdleStrategy(Configuration.idleStrategy(options.driverIdle))
            .conductorIdleStrategy(Configuration.idleStrategy(options.driverIdle))
            .senderIdleStrategy(Configuration.idleStrategy(options.driverIdle))
            .receiverIdleStrategy(Configuration.idleStrategy(options.driverIdle))
            .sharedNetworkIdleStrategy(Configuration.idleStrategy(options.driverIdle));
        if (null != options.transport)
        {
            ctx.transportName(options.transport);
            if ("raw".equals(options.transport) || "packet-ring".equals(options.transport))
            {
                // A raw-IP or packet-ring driver owns its address: each side gets one of its own on loopback.
                ctx.udpAddress(RAW_LOOPBACK_NET + host);
            }
        }
        return MediaDriver.launchEmbedded(ctx);
    }

    private static Homa connect(final MediaDriver driver)
    {
        return Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
    }

    private static void printDriver(final PrintStream out, final String name, final MediaDriver driver)
    {
        out.printf(Locale.ROOT,
            "%s: DATA sent %,d, received %,d, UDP drops %,d, errors %,d, driver thread sleeps %,d%n",
            name,
            driver.counter(SystemCounterDescriptor.PACKETS_SENT_DATA),
            driver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA),
            driver.counter(SystemCounterDescriptor.UDP_RECEIVE_DROPS),
            driver.counter(SystemCounterDescriptor.ERRORS),
            driver.threadSleeps());
    }

    static final class Pong implements MessageHandler
    {
        private final HomaSocket socket;
        private final UnsafeBuffer response;
        private final int responseSize;

        Pong(final HomaSocket socket, final UnsafeBuffer response, final int responseSize)
        {
            this.socket = socket;
            this.response = response;
            this.responseSize = responseSize;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            // Echo the first bytes (the ping's timestamp lives there), pad to the response size.
            response.putBytes(0, buffer, offset, Math.min(length, responseSize));
            socket.reply(id, response, 0, responseSize);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    static final class Ping implements MessageHandler
    {
        private final HomaSocket socket;
        private final HomaAddress dest;
        private final UnsafeBuffer request;
        private final int size;
        private final AgentInvoker invoker;
        private final HomaSocket pongSocket;
        private final MessageHandler pongInline;
        private final IdleStrategy idle;
        private final boolean isSleeping;
        private boolean received;
        private long receivedCookie;

        Ping(
            final HomaSocket socket,
            final HomaAddress dest,
            final int size,
            final AgentInvoker invoker,
            final HomaSocket pongSocket,
            final MessageHandler pongInline,
            final IdleStrategy idle)
        {
            this.socket = socket;
            this.dest = dest;
            this.size = size;
            this.request = new UnsafeBuffer(new byte[size]);
            this.invoker = invoker;
            this.pongSocket = pongSocket;
            this.pongInline = pongInline;
            this.idle = idle;
            // "wake": block in receive (poll, then sleep on the socket) unless this thread also drives something.
            this.isSleeping = idle instanceof io.homa.driver.WakeupIdleStrategy && null == invoker && null == pongInline;
        }

        void run(final int count, final Histogram histogram)
        {
            final long reportEveryNs = TimeUnit.SECONDS.toNanos(5);
            long nextReportNs = System.nanoTime() + reportEveryNs;
            for (int i = 0; i < count; i++)
            {
                final long startNs = System.nanoTime();
                received = false;
                socket.send(dest, request, 0, size, startNs);
                while (!received && isSleeping)
                {
                    socket.receive(this, RECEIVE_TIMEOUT_NS);
                }
                while (!received)
                {
                    int work = 0;
                    if (null != invoker)
                    {
                        work += invoker.invoke();
                    }
                    if (null != pongInline)
                    {
                        work += pongSocket.poll(pongInline, 16);
                    }
                    work += socket.poll(this, 16);
                    idle.idle(work);
                }
                final long nowNs = System.nanoTime();
                histogram.recordValue(Math.min(nowNs - receivedCookie, histogram.getHighestTrackableValue()));
                if (nowNs - nextReportNs > 0)
                {
                    nextReportNs = nowNs + reportEveryNs;
                    System.out.printf(Locale.ROOT, "  ... %,d of %,d RPCs%n", i + 1, count);
                }
            }
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            receivedCookie = cookie;
            received = true;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new IllegalStateException("ping RPC failed: " + HomaError.name(errorCode));
        }
    }

    /**
     * Command-line options.
     */
    public static final class Options
    {
        int size = 100;
        int responseSize = -1;
        int count = 100_000;
        int warmup = 20_000;
        ThreadingMode mode = ThreadingMode.SHARED;
        String driverIdle = "wake";
        String appIdle = "wake";
        boolean pongThread;
        int drivers = 1;
        String transport;

        /**
         * @param args --size N --response-size N --count N --warmup N --mode SHARED|INVOKER --idle NAME
         *             --app-idle NAME --pong-thread.
         * @return the options, or null when help was asked for.
         */
        public static Options parse(final String[] args)
        {
            final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of("pong-thread"));
            if (parsed.help())
            {
                return null;
            }
            parsed.noPositional();
            final Options o = new Options();
            o.size = parsed.count("size", o.size, 8);
            o.responseSize = parsed.count("response-size", o.size, 8);
            o.count = parsed.count("count", o.count, 1);
            o.warmup = parsed.count("warmup", o.warmup, 0);
            o.mode = parsed.choice("mode", ThreadingMode.class, o.mode);
            o.driverIdle = parsed.string("idle", o.driverIdle);
            o.appIdle = parsed.string("app-idle", o.appIdle);
            o.pongThread = parsed.flag("pong-thread");
            o.drivers = parsed.count("drivers", o.drivers, 1);
            o.transport = parsed.string("transport", null);
            if (o.drivers > 2)
            {
                throw new IllegalArgumentException("--drivers " + o.drivers + " is refused: 1 or 2");
            }
            if (o.size > 1_000_000 || o.responseSize > 1_000_000)
            {
                throw new IllegalArgumentException("--size and --response-size are refused above 1000000");
            }
            checkIdle("idle", o.driverIdle);
            checkIdle("app-idle", o.appIdle);
            return o;
        }

        private static void checkIdle(final String option, final String name)
        {
            try
            {
                Configuration.idleStrategy(name, 0);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("--" + option + " " + name + " is refused: one of " +
                    Configuration.IDLE_STRATEGY_ALIASES + " or an IdleStrategy class name");
            }
        }

        static String usage()
        {
            return """
                EmbeddedPingPong [options]
                  --size N            request bytes (default 100)
                  --response-size N   response bytes (default: same as --size)
                  --count N           measured RPCs (default 100000)
                  --warmup N          warm-up RPCs (default 20000)
                  --mode M            driver threading mode: SHARED, INVOKER, DEDICATED or SHARED_NETWORK
                                      (default SHARED)
                  --idle NAME         idle strategy of every driver thread: wake, noop, spin, yield, backoff,
                                      sleep-ns (default wake: poll, then sleep until something arrives)
                  --app-idle NAME     ping/pong idle strategy (default wake: block in receive)
                  --pong-thread       run pong on its own thread (default: ping and pong share one thread)
                  --drivers N         1: ping and pong share one driver (default); 2: one driver per side, each
                                      driven by its own thread in INVOKER mode (two hosts on one machine)
                  --transport NAME    udp or raw (IP protocol 146 on 127.77.0.2/.3; needs CAP_NET_RAW)
                                      (default: homa.transport, else udp)
                """;
        }

        /**
         * @param size request size.
         * @return this.
         */
        public Options size(final int size)
        {
            this.size = size;
            return this;
        }

        /**
         * @param responseSize response size (default: the request size).
         * @return this.
         */
        public Options responseSize(final int responseSize)
        {
            this.responseSize = responseSize;
            return this;
        }

        /**
         * @param count measured RPCs.
         * @return this.
         */
        public Options count(final int count)
        {
            this.count = count;
            return this;
        }

        /**
         * @param warmup warm-up RPCs.
         * @return this.
         */
        public Options warmup(final int warmup)
        {
            this.warmup = warmup;
            return this;
        }

        /**
         * @param drivers 1 (shared driver) or 2 (one per side).
         * @return this.
         */
        public Options drivers(final int drivers)
        {
            this.drivers = drivers;
            return this;
        }

        /**
         * @param transport udp or raw (null: homa.transport).
         * @return this.
         */
        public Options transport(final String transport)
        {
            this.transport = transport;
            return this;
        }

        /**
         * @param mode threading mode.
         * @return this.
         */
        public Options mode(final ThreadingMode mode)
        {
            this.mode = mode;
            return this;
        }
    }
}
