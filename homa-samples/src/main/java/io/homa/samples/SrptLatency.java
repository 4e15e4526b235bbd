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
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * What SRPT scheduling buys: the round-trip time of short RPCs (100 B request, 100 B response) to a server, first
 * alone, then while the same client keeps several long requests (1 MB by default) outstanding to the same server.
 * The long messages need grants; the short ones go unscheduled at a high priority, first in the sender's choice and
 * in the receiver's. Prints an HdrHistogram table per phase and a summary. Client and server run on separate
 * embedded drivers ("hosts") over UDP on loopback. By default (INVOKER) one thread runs both drivers, the server,
 * the long-message client and the short-message client, so what is measured is the protocol's queueing rather
 * than how a small host schedules five busy threads; SHARED gives each driver and application its own thread.
 * Run with {@code --help} for options.
 */
public final class SrptLatency
{
    private static final int SERVER_PORT = 4100;
    private static final int REPLY_SIZE = 100;

    private SrptLatency()
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
            System.err.println("SrptLatency: " + ex.getMessage() + " (--help lists the options)");
            System.exit(1);
            return;
        }
        if (null == options)
        {
            System.out.println(Options.usage());
            return;
        }
        run(options);
    }

    /**
     * Runs both phases and prints the tables.
     *
     * @param options what to run.
     * @return round-trip histograms in ns: [0] without, [1] with background traffic.
     */
    public static Histogram[] run(final Options options)
    {
        System.out.printf(Locale.ROOT,
            "Homa SrptLatency: %,d B RPCs, %,d measured after %,d warm-up, alone and beside %d outstanding %,d B " +
            "requests; %s, driver idle %s, application idle %s%s%n",
            options.size, options.count, options.warmup, options.background, options.longSize, options.mode,
            options.driverIdle, options.appIdle, options.noGrants ? "; NO GRANTS (every byte unscheduled)" : "");

        final AtomicBoolean running = new AtomicBoolean(true);
        MediaDriver serverDriver = null;
        MediaDriver clientDriver = null;
        Homa serverHoma = null;
        Homa clientHoma = null;
        Thread serverThread = null;
        Thread backgroundThread = null;
        try
        {
            serverDriver = MediaDriver.launchEmbedded(driverContext(options));
            clientDriver = MediaDriver.launchEmbedded(driverContext(options));
            final AgentInvoker serverInvoker = serverDriver.sharedAgentInvoker();
            final AgentInvoker clientInvoker = clientDriver.sharedAgentInvoker();
            serverHoma = Homa.connect(new Homa.Context()
                .homaDirectoryName(serverDriver.homaDirectoryName()).driverAgentInvoker(serverInvoker));
            clientHoma = Homa.connect(new Homa.Context()
                .homaDirectoryName(clientDriver.homaDirectoryName()).driverAgentInvoker(clientInvoker));
            final HomaSocket serverSocket = serverHoma.addSocket(SERVER_PORT);
            final HomaAddress serverAddress =
                HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
            final boolean isInvoker = ThreadingMode.INVOKER == options.mode;
            final Server server = new Server(serverSocket);
            final Background background =
                new Background(clientHoma.addSocket(), serverAddress, options.longSize, options.background);
            if (!isInvoker)
            {
                serverThread = startThread("srpt-server", running, Configuration.idleStrategy(options.appIdle),
                    server::poll);
            }

            final Ping ping = new Ping(clientHoma.addSocket(), serverAddress, options.size,
                Configuration.idleStrategy(options.appIdle));
            if (isInvoker)
            {
                // One thread does everything: both drivers' duty cycles, the server, and (when on) the long messages.
                ping.sideWork = () -> serverInvoker.invoke() + clientInvoker.invoke() + server.poll() +
                    (background.isOn ? background.step() : 0);
            }
            final Histogram alone = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            ping.run(options.warmup, new Histogram(TimeUnit.SECONDS.toNanos(10), 3));
            ping.run(options.count, alone);

            background.isOn = true;
            final AtomicBoolean backgroundRunning = new AtomicBoolean(true);
            if (!isInvoker)
            {
                backgroundThread = startThread("srpt-background", backgroundRunning,
                    Configuration.idleStrategy(options.appIdle), background::step);
            }
            final Histogram loaded = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            ping.run(options.warmup, new Histogram(TimeUnit.SECONDS.toNanos(10), 3));
            final long longBefore = background.done.get();
            final long startNs = System.nanoTime();
            ping.run(options.count, loaded);
            final long elapsedNs = System.nanoTime() - startNs;
            final long longMessages = background.done.get() - longBefore;
            backgroundRunning.set(false);
            join(backgroundThread);

            print("alone", alone);
            print("with " + options.background + " x " + options.longSize + " B requests outstanding", loaded);
            final double backgroundGbps = longMessages * (double)options.longSize * 8 / elapsedNs;
            System.out.println();
            System.out.println("| short RPC RTT (µs) | p50 | p90 | p99 | p99.9 | max | background |");
            System.out.println("|---|---|---|---|---|---|---|");
            row("alone", alone, "-");
            row("with long messages", loaded, String.format(Locale.ROOT, "%.2f Gbit/s (%,d messages)",
                backgroundGbps, longMessages));
            System.out.printf(Locale.ROOT,
                "%nServer driver: GRANT sent %,d, FIFO grant bytes %,d, max_total_incoming %,d, UDP drops %,d; " +
                "client driver: DATA at priority 7 %,d, 4 %,d, 0-3 %,d%n",
                serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT),
                serverDriver.counter(SystemCounterDescriptor.FIFO_GRANT_BYTES),
                serverDriver.counter(SystemCounterDescriptor.MAX_TOTAL_INCOMING),
                serverDriver.counter(SystemCounterDescriptor.UDP_RECEIVE_DROPS),
                clientDriver.counter(SystemCounterDescriptor.PRIORITY7_PACKETS),
                clientDriver.counter(SystemCounterDescriptor.PRIORITY4_PACKETS),
                clientDriver.counter(SystemCounterDescriptor.PRIORITY0_PACKETS) +
                clientDriver.counter(SystemCounterDescriptor.PRIORITY1_PACKETS) +
                clientDriver.counter(SystemCounterDescriptor.PRIORITY2_PACKETS) +
                clientDriver.counter(SystemCounterDescriptor.PRIORITY3_PACKETS));
            return new Histogram[]{ alone, loaded };
        }
        finally
        {
            running.set(false);
            join(backgroundThread);
            join(serverThread);
            CloseHelper.closeAll(clientHoma, serverHoma, clientDriver, serverDriver);
        }
    }

    private static MediaDriver.Context driverContext(final Options options)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .threadingMode(options.mode)
            .sharedIdleStrategy(Configuration.idleStrategy(options.driverIdle));
        if (options.noGrants)
        {
            // The behaviour before receiver-driven scheduling: whole messages go unscheduled.
            ctx.unschedBytes(1_000_000);
        }
        return ctx;
    }

    private static Thread startThread(
        final String name, final AtomicBoolean running, final IdleStrategy idle, final IntSupplier work)
    {
        final Thread thread = new Thread(() ->
        {
            while (running.get())
            {
                idle.idle(work.getAsInt());
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /**
     * Answers every request with 100 B (echoing a short request's timestamp).
     */
    static final class Server implements MessageHandler
    {
        private final HomaSocket socket;
        private final UnsafeBuffer reply = new UnsafeBuffer(new byte[REPLY_SIZE]);

        Server(final HomaSocket socket)
        {
            this.socket = socket;
        }

        int poll()
        {
            return socket.poll(this, 16);
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            reply.putBytes(0, buffer, offset, Math.min(length, 8));
            socket.reply(id, reply, 0, REPLY_SIZE);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    /**
     * Keeps a number of long requests outstanding.
     */
    static final class Background implements MessageHandler
    {
        private final HomaSocket socket;
        private final HomaAddress dest;
        private final UnsafeBuffer message;
        private final int target;
        private int outstanding;
        final AtomicLong done = new AtomicLong();
        volatile boolean isOn;

        Background(final HomaSocket socket, final HomaAddress dest, final int longSize, final int target)
        {
            this.socket = socket;
            this.dest = dest;
            this.message = new UnsafeBuffer(new byte[longSize]);
            this.target = target;
        }

        int step()
        {
            int work = 0;
            while (outstanding < target)
            {
                socket.send(dest, message, 0, message.capacity(), 0);
                outstanding++;
                work++;
            }
            return work + socket.poll(this, 16);
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            outstanding--;
            done.incrementAndGet();
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            outstanding--;
        }
    }

    private static void join(final Thread thread)
    {
        if (null != thread)
        {
            try
            {
                thread.join(10_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void print(final String phase, final Histogram histogram)
    {
        System.out.println();
        System.out.println("Short RPC round-trip time (µs), " + phase + ":");
        histogram.outputPercentileDistribution(System.out, 1000.0);
    }

    private static void row(final String phase, final Histogram h, final String background)
    {
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %s |%n", phase,
            h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0,
            background);
    }

    static final class Ping implements MessageHandler
    {
        private final HomaSocket socket;
        private final HomaAddress dest;
        private final UnsafeBuffer request;
        private final int size;
        private final IdleStrategy idle;
        private boolean received;
        private long receivedCookie;
        IntSupplier sideWork = () -> 0;

        Ping(final HomaSocket socket, final HomaAddress dest, final int size, final IdleStrategy idle)
        {
            this.socket = socket;
            this.dest = dest;
            this.size = size;
            this.request = new UnsafeBuffer(new byte[size]);
            this.idle = idle;
        }

        void run(final int count, final Histogram histogram)
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            for (int i = 0; i < count; i++)
            {
                final long startNs = System.nanoTime();
                received = false;
                socket.send(dest, request, 0, size, startNs);
                while (!received)
                {
                    idle.idle(sideWork.getAsInt() + socket.poll(this, 16));
                    if (System.nanoTime() - deadlineNs > 0)
                    {
                        throw new IllegalStateException("short RPC " + i + " did not complete");
                    }
                }
                histogram.recordValue(Math.min(System.nanoTime() - receivedCookie, histogram.getHighestTrackableValue()));
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
            throw new IllegalStateException("short RPC failed: " + HomaError.name(errorCode));
        }
    }

    /**
     * Command-line options.
     */
    public static final class Options
    {
        int size = 100;
        int count = 20_000;
        int warmup = 5_000;
        int background = 4;
        int longSize = 1_000_000;
        String driverIdle = "wake";
        String appIdle = "yield";
        boolean noGrants;
        ThreadingMode mode = ThreadingMode.INVOKER;

        /**
         * @param args --size N --count N --warmup N --background N --long-size N --idle NAME --app-idle NAME
         *             --no-grants.
         * @return the options, or null when help was asked for.
         */
        public static Options parse(final String[] args)
        {
            final Args parsed = Args.parse(args, java.util.Set.of("size", "count", "warmup", "background",
                "long-size", "idle", "app-idle", "mode"), java.util.Set.of("no-grants"));
            if (parsed.help())
            {
                return null;
            }
            parsed.noPositional();
            final Options o = new Options();
            o.size = parsed.count("size", o.size, 8);
            o.count = parsed.count("count", o.count, 1);
            o.warmup = parsed.count("warmup", o.warmup, 0);
            o.background = parsed.count("background", o.background, 1);
            o.longSize = parsed.count("long-size", o.longSize, 1);
            o.driverIdle = parsed.string("idle", o.driverIdle);
            o.appIdle = parsed.string("app-idle", o.appIdle);
            o.noGrants = parsed.flag("no-grants");
            o.mode = parsed.choice("mode", ThreadingMode.class, o.mode);
            if (o.size > 1_000_000 || o.longSize > 1_000_000)
            {
                throw new IllegalArgumentException("--size and --long-size are refused above 1000000");
            }
            return o;
        }

        static String usage()
        {
            return """
                SrptLatency [options]
                  --size N         short request bytes (default 100; the response is 100 B)
                  --count N        measured short RPCs per phase (default 20000)
                  --warmup N       warm-up short RPCs per phase (default 5000)
                  --background N   long requests kept outstanding in the second phase (default 4)
                  --long-size N    long request bytes (default 1000000)
                  --idle NAME      driver idle strategy: wake, noop, spin, yield, backoff, sleep-ns (default wake)
                  --app-idle NAME  client/server idle strategy (default yield)
                  --no-grants      send every message fully unscheduled (homa.unsched.bytes 1000000), for comparison
                  --mode M         INVOKER (default: one thread runs drivers, server and clients) or SHARED
                                   (a thread per driver, server, long-message client and short-message client)
                """;
        }

        /**
         * @param count measured RPCs per phase.
         * @return this.
         */
        public Options count(final int count)
        {
            this.count = count;
            return this;
        }

        /**
         * @param warmup warm-up RPCs per phase.
         * @return this.
         */
        public Options warmup(final int warmup)
        {
            this.warmup = warmup;
            return this;
        }

        /**
         * @param mode INVOKER (one thread for everything) or SHARED.
         * @return this.
         */
        public Options mode(final ThreadingMode mode)
        {
            this.mode = mode;
            return this;
        }

        /**
         * @param noGrants true to send every message fully unscheduled.
         * @return this.
         */
        public Options noGrants(final boolean noGrants)
        {
            this.noGrants = noGrants;
            return this;
        }

        /**
         * @param background long requests kept outstanding.
         * @return this.
         */
        public Options background(final int background)
        {
            this.background = background;
            return this;
        }
    }
}
