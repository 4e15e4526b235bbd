package io.homa.samples.workload;

import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.samples.Args;
import io.homa.samples.SampleDriver;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A cp_node-like workload generator: open-loop Poisson arrivals of RPCs whose request sizes follow one of the
 * Homa paper's workloads (W1-W5), at a target load given as a fraction of the link speed, over Homa and over TCP
 * with the same arrival and size sequence (same seed), reporting slowdown by message-size bucket (P50, P99) as a
 * table and an SVG plot. Servers echo each request (the response has the request's length), so both directions carry
 * the load, as cp_node's default. Roles: {@code server} (Homa ports and a TCP port on this host), {@code client}
 * (against {@code --servers}), or {@code both} in one process on loopback (two embedded drivers). Run with
 * {@code --help}.
 */
public final class WorkloadGenerator
{
    /** How long before an RPC is due the Homa client stops sleeping and polls (the TCP dispatcher: 50-100 us). */
    /** The short messages whose pooled round trip the run reports on a line of its own (issue targets use it). */
    static final int SHORT_MESSAGE_BYTES = 1_000;
    private static final long EARLY_WAKE_NS = TimeUnit.MICROSECONDS.toNanos(100);
    /** RPCs in flight during the warm-up burst. */
    private static final int WARMUP_OUTSTANDING = 8;

    static final int HOMA_PORT = 4100;
    static final int TCP_PORT = 5100;
    private static final Set<String> VALUES = Set.of("role", "protocol", "workload", "load", "link-mbps", "duration",
        "count", "seed", "threads", "ports", "servers", "dir", "udp-port", "tcp-port", "homa-port", "plot",
        "calibrate", "tcp-connections", "max-outstanding", "bind", "warmup", "warmup-rpcs");

    private WorkloadGenerator()
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
            System.err.println("workload: " + ex.getMessage());
            System.err.println(usage());
            System.exit(1);
        }
    }

    static String usage()
    {
        return String.join("\n",
            "usage: workload [options]",
            "  --role both|client|server   default both: server and client in this process on loopback",
            "  --protocol homa|tcp|both    default both (Homa first, then TCP, same arrivals and sizes)",
            "  --workload w1..w5           message sizes (../shared/homa-workloads), default w4",
            "  --load F                    offered request load as a fraction of --link-mbps, default 0.5",
            "  --link-mbps M               link speed the load refers to, default 10000",
            "  --duration S                seconds of load per protocol (default 10), or --count N RPCs",
            "  --seed N                    arrivals and sizes, default 1",
            "  --threads N                 client threads (Homa: a socket each), default 1",
            "  --ports N                   server Homa ports and TCP listeners (a thread each), default 1",
            "  --servers H[:U],...         client role: server hosts (U = their driver's UDP port, default 4000)",
            "  --homa-port P --tcp-port P  first server ports, default 4100 and 5100",
            "  --dir D                     use a running driver (else an embedded one; --udp-port for its port)",
            "  --bind A                    TCP server address, default 0.0.0.0",
            "  --calibrate N               unloaded RPCs for the slowdown baseline, default 2000",
            "  --warmup S                  seconds of the same load per protocol before measuring, not counted",
            "                              (default 3, 0 = none), after --warmup-rpcs N RPCs as fast as they",
            "                              go, 8 at a time, also not counted (the JIT; default 20000, 0 = none)",
            "  --tcp-connections N         TCP connections per server port, default 16",
            "  --max-outstanding N         per client thread; a due RPC beyond it is skipped, default 100",
            "  --plot FILE.svg             also write the slowdown plot");
    }

    /**
     * What a run measured.
     *
     * @param slowdowns  the buckets, per protocol.
     * @param completed  RPCs completed per protocol (in order: homa, tcp when run).
     * @param skipped    RPCs skipped because the open loop fell behind.
     * @param failed     RPCs that failed.
     */
    public record Result(Slowdowns slowdowns, long[] completed, long[] skipped, long[] failed)
    {
    }

    /**
     * Runs the generator.
     *
     * @param args the command line.
     * @param out  where to print.
     * @return what was measured (null for help or the server role).
     */
    public static Result run(final String[] args, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUES, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return null;
        }
        final Options o = new Options(parsed);
        final MessageSizeDistribution distribution = MessageSizeDistribution.workload(o.workload);
        out.printf(Locale.ROOT, "workload %s (mean %.0f B), load %.2f of %,d Mbit/s, role %s, protocol %s%n",
            o.workload, distribution.mean(), o.load, o.linkMbps, o.role, o.protocol);

        final List<AutoCloseable> closeables = new ArrayList<>();
        try
        {
            if ("server".equals(o.role) || "both".equals(o.role))
            {
                final HomaServer homaServer = new HomaServer(SampleDriver.open(
                    "both".equals(o.role) ? null : o.dir, "both".equals(o.role) ? 0 : o.udpPort, null), o);
                closeables.add(homaServer);
                for (int p = 0; p < o.ports; p++)
                {
                    closeables.add(new TcpWorkload.Server(o.bind, "both".equals(o.role) ? 0 : o.tcpPort + p));
                }
                if ("server".equals(o.role))
                {
                    out.printf(Locale.ROOT, "serving Homa ports %d..%d on UDP port %d, TCP ports %d..%d; Ctrl-C stops%n",
                        o.homaPort, o.homaPort + o.ports - 1, homaServer.driver.udpPort(), o.tcpPort,
                        o.tcpPort + o.ports - 1);
                    awaitShutdown();
                    return null;
                }
                o.homaTargets.clear();
                o.tcpTargets.clear();
                for (int p = 0; p < o.ports; p++)
                {
                    o.homaTargets.add(HomaAddress.of(homaServer.driver.udpAddressIpv4(), homaServer.driver.udpPort(),
                        o.homaPort + p));
                    final TcpWorkload.Server tcp = (TcpWorkload.Server)closeables.get(1 + p);
                    o.tcpTargets.add(new InetSocketAddress("127.0.0.1", tcp.port()));
                }
            }
            return runClient(o, distribution, out);
        }
        finally
        {
            for (int i = closeables.size() - 1; i >= 0; i--)
            {
                try
                {
                    closeables.get(i).close();
                }
                catch (final Exception ignore)
                {
                    // shutting down
                }
            }
        }
    }

    private static Result runClient(final Options o, final MessageSizeDistribution distribution, final PrintStream out)
    {
        // Arrivals: Poisson at the rate that makes the requests' bytes the given share of the link.
        final double ratePerSec = o.load * o.linkMbps * 1e6 / 8.0 / distribution.mean();
        final Schedule[] schedules = Schedule.build(distribution, ratePerSec, o.threads, o.durationNs, o.count, o.seed);
        final Slowdowns slowdowns = new Slowdowns(distribution);
        final boolean homa = !"tcp".equals(o.protocol);
        final boolean tcp = !"homa".equals(o.protocol);
        final long[] completed = new long[2];
        final long[] skipped = new long[2];
        final long[] failed = new long[2];

        try (SampleDriver driver = SampleDriver.open("both".equals(o.role) ? null : o.dir,
            "both".equals(o.role) ? 0 : o.udpPort, null))
        {
            if (o.warmupRpcs > 0)
            {
                // As fast as it goes, a few at a time: the JIT compiles the per-packet paths only after
                // thousands of packets, which at a low load would take the whole measured run.
                final long startNs = System.nanoTime();
                final HomaClient burst = new HomaClient(driver, o, Schedule.closedLoop(distribution,
                    o.warmupRpcs, o.seed + 5_555), new Slowdowns.Samples(), WARMUP_OUTSTANDING, true);
                burst.run();
                out.printf(Locale.ROOT, "homa warm-up burst: %,d RPCs in %.1f s, not counted%n", burst.completed,
                    (System.nanoTime() - startNs) / 1e9);
            }
            // The unloaded baseline (after the burst, so from compiled code): one Homa RPC at a time, sizes from
            // the workload.
            final Slowdowns.Samples calibration = new Slowdowns.Samples();
            final HomaClient calibrator = new HomaClient(driver, o, Schedule.closedLoop(distribution, o.calibrate,
                o.seed + 99), calibration, 1, true);
            calibrator.run();
            slowdowns.baseline(calibration);
            out.printf(Locale.ROOT, "unloaded Homa RTT: %.1f us + %.3f ns per byte (%d RPCs, one at a time)%n",
                slowdowns.unloadedNs(0) / 1e3, slowdowns.unloadedNs(1_000_000) / 1e6 - slowdowns.unloadedNs(0) / 1e6,
                calibration.count());

            final Schedule[] warmup = o.warmupNs > 0 ?
                Schedule.build(distribution, ratePerSec, o.threads, o.warmupNs, 0, o.seed + 7_777) : null;
            if (homa)
            {
                if (null != warmup)
                {
                    final Phase warm = homaPhase(driver, o, warmup, out, "homa warm-up");
                    out.printf(Locale.ROOT, "homa warm-up: %,d RPCs in %.1f s, not counted%n", warm.samples.count(),
                        warm.elapsedNs / 1e9);
                }
                final Phase phase = homaPhase(driver, o, schedules, out, "homa");
                completed[0] = phase.completed;
                skipped[0] = phase.skipped;
                failed[0] = phase.failed;
                summary(out, "homa", phase.samples, phase.elapsedNs, skipped[0], failed[0]);
                slowdowns.add("homa", phase.samples);
            }
            if (tcp)
            {
                if (o.warmupRpcs > 0)
                {
                    tcpBurst(o, distribution, out);
                }
                if (null != warmup)
                {
                    final Phase warm = tcpPhase(o, warmup, out, "tcp warm-up");
                    out.printf(Locale.ROOT, "tcp warm-up: %,d RPCs in %.1f s, not counted%n", warm.samples.count(),
                        warm.elapsedNs / 1e9);
                }
                final Phase phase = tcpPhase(o, schedules, out, "tcp");
                completed[1] = phase.completed;
                skipped[1] = phase.skipped;
                failed[1] = phase.failed;
                summary(out, "tcp", phase.samples, phase.elapsedNs, skipped[1], failed[1]);
                slowdowns.add("tcp", phase.samples);
            }
        }

        out.println();
        out.printf(Locale.ROOT, "Slowdown by message size (%s, load %.2f of %,d Mbit/s; each bucket holds 10%% of " +
            "the messages):%n", o.workload, o.load, o.linkMbps);
        out.print(slowdowns.table());
        out.print(slowdowns.shortMessagesLine(SHORT_MESSAGE_BYTES));
        if (null != o.plot)
        {
            slowdowns.writeSvg(Path.of(o.plot), String.format(Locale.ROOT, "%s at %.0f%% load: slowdown, Homa vs TCP",
                o.workload.toUpperCase(Locale.ROOT), o.load * 100));
            out.println("plot: " + o.plot);
        }
        return new Result(slowdowns, completed, skipped, failed);
    }

    /**
     * What one load phase of one protocol measured.
     */
    private record Phase(Slowdowns.Samples samples, long completed, long skipped, long failed, long elapsedNs)
    {
    }

    private static Phase homaPhase(
        final SampleDriver driver, final Options o, final Schedule[] schedules, final PrintStream out, final String name)
    {
        final Slowdowns.Samples samples = new Slowdowns.Samples();
        final List<HomaClient> clients = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < o.threads; t++)
        {
            final HomaClient client = new HomaClient(driver, o, schedules[t], new Slowdowns.Samples(),
                o.maxOutstanding, false);
            clients.add(client);
            threads.add(new Thread(client::run, "homa-client-" + t));
        }
        final long startNs = System.nanoTime();
        threads.forEach(Thread::start);
        progress(out, name, startNs, () -> clients.stream().mapToLong(c -> c.completed).sum(),
            () -> threads.stream().anyMatch(Thread::isAlive));
        long completed = 0;
        long skipped = 0;
        long failed = 0;
        for (final HomaClient client : clients)
        {
            samples.addAll(client.samples);
            completed += client.completed;
            skipped += client.skipped;
            failed += client.failed;
        }
        return new Phase(samples, completed, skipped, failed, System.nanoTime() - startNs);
    }

    private static void tcpBurst(final Options o, final MessageSizeDistribution distribution, final PrintStream out)
    {
        final Schedule burst = Schedule.closedLoop(distribution, o.warmupRpcs, o.seed + 5_555);
        try (TcpWorkload.Client client = new TcpWorkload.Client(o.tcpTargets, o.tcpConnections, 1 << 16))
        {
            final long startNs = System.nanoTime();
            for (int i = 0; i < burst.count; i++)
            {
                // At most WARMUP_OUTSTANDING in flight, as the Homa burst.
                while (i - client.completed() - client.failed() >= WARMUP_OUTSTANDING ||
                    !client.offer(System.nanoTime(), burst.bytes[i]))
                {
                    Thread.yield();
                }
            }
            client.drain(TimeUnit.SECONDS.toNanos(30), burst.count);
            out.printf(Locale.ROOT, "tcp warm-up burst: %,d RPCs in %.1f s, not counted%n", client.completed(),
                (System.nanoTime() - startNs) / 1e9);
        }
    }

    private static Phase tcpPhase(final Options o, final Schedule[] schedules, final PrintStream out, final String name)
    {
        try (TcpWorkload.Client client = new TcpWorkload.Client(o.tcpTargets, o.tcpConnections, 1 << 16))
        {
            final long startNs = System.nanoTime();
            final Thread[] dispatchers = new Thread[o.threads];
            final long[] offered = new long[o.threads];
            final long[] tcpSkipped = new long[o.threads];
            for (int t = 0; t < o.threads; t++)
            {
                final int index = t;
                dispatchers[t] = new Thread(() ->
                {
                    final Schedule schedule = schedules[index];
                    for (int i = 0; i < schedule.count; i++)
                    {
                        final long dueNs = startNs + schedule.atNs[i];
                        long waitNs;
                        while ((waitNs = dueNs - System.nanoTime()) > 0)
                        {
                            if (waitNs > 100_000)
                            {
                                java.util.concurrent.locks.LockSupport.parkNanos(waitNs - 50_000);
                            }
                            else
                            {
                                Thread.yield();
                            }
                        }
                        if (client.offer(dueNs, schedule.bytes[i]))
                        {
                            offered[index]++;
                        }
                        else
                        {
                            tcpSkipped[index]++;
                        }
                    }
                }, "tcp-dispatch-" + t);
                dispatchers[t].start();
            }
            progress(out, name, startNs, client::completed,
                () -> java.util.Arrays.stream(dispatchers).anyMatch(Thread::isAlive));
            long totalOffered = 0;
            long skipped = 0;
            for (int t = 0; t < o.threads; t++)
            {
                totalOffered += offered[t];
                skipped += tcpSkipped[t];
            }
            client.drain(TimeUnit.SECONDS.toNanos(30), totalOffered);
            final long failed = client.failed() + (totalOffered - client.completed() - client.failed());
            return new Phase(client.samples(), client.completed(), skipped, failed, System.nanoTime() - startNs);
        }
    }

    private static void progress(
        final PrintStream out,
        final String name,
        final long startNs,
        final java.util.function.LongSupplier completed,
        final java.util.function.BooleanSupplier running)
    {
        long lastReportNs = startNs;
        while (running.getAsBoolean())
        {
            try
            {
                Thread.sleep(20);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
            final long nowNs = System.nanoTime();
            if (nowNs - lastReportNs >= TimeUnit.SECONDS.toNanos(2))
            {
                out.printf(Locale.ROOT, "  %s: %.0f s, %,d RPCs done%n", name, (nowNs - startNs) / 1e9,
                    completed.getAsLong());
                lastReportNs = nowNs;
            }
        }
    }

    private static void summary(
        final PrintStream out, final String name, final Slowdowns.Samples samples, final long elapsedNs,
        final long skipped, final long failed)
    {
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long bytes = 0;
        for (int i = 0; i < samples.count(); i++)
        {
            histogram.recordValue(Math.min(samples.rttNs(i) / 1_000, histogram.getHighestTrackableValue()));
            bytes += samples.bytes(i);
        }
        out.printf(Locale.ROOT, "%s: %,d RPCs in %.1f s (%,.0f RPC/s, %.2f Gbit/s each way), skipped %,d, failed %,d;" +
            " RTT us p50 %,d p99 %,d p99.9 %,d max %,d%n",
            name, samples.count(), elapsedNs / 1e9, samples.count() * 1e9 / elapsedNs, bytes * 8.0 / elapsedNs,
            skipped, failed, histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(99),
            histogram.getValueAtPercentile(99.9), histogram.getMaxValue());
    }

    /**
     * Application threads back off to short parks when idle, so the driver's threads get the cores.
     */
    static IdleStrategy idleStrategy()
    {
        return new BackoffIdleStrategy(10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(100));
    }

    private static void awaitShutdown()
    {
        final AtomicBoolean stop = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.set(true)));
        while (!stop.get())
        {
            try
            {
                Thread.sleep(100);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
        }
    }

    /**
     * Arrival times and sizes of one client thread's RPCs.
     */
    static final class Schedule
    {
        final long[] atNs;
        final int[] bytes;
        final int count;

        Schedule(final long[] atNs, final int[] bytes)
        {
            this.atNs = atNs;
            this.bytes = bytes;
            this.count = atNs.length;
        }

        /**
         * @return per thread, Poisson arrivals at {@code ratePerSec / threads} until the duration or the count.
         */
        static Schedule[] build(
            final MessageSizeDistribution distribution,
            final double ratePerSec,
            final int threads,
            final long durationNs,
            final long count,
            final long seed)
        {
            final Schedule[] schedules = new Schedule[threads];
            final double meanGapNs = 1e9 * threads / ratePerSec;
            for (int t = 0; t < threads; t++)
            {
                final SplittableRandom random = new SplittableRandom(seed * 1_000 + t);
                final long perThread = count > 0 ? (count + threads - 1 - t) / threads :
                    (long)(durationNs / meanGapNs) + 1;
                final long[] at = new long[(int)Math.min(perThread, Integer.MAX_VALUE - 8)];
                final int[] sizes = new int[at.length];
                double nowNs = 0;
                for (int i = 0; i < at.length; i++)
                {
                    nowNs += -Math.log(1.0 - random.nextDouble()) * meanGapNs;
                    at[i] = (long)nowNs;
                    sizes[i] = distribution.sample(random);
                }
                schedules[t] = new Schedule(at, sizes);
            }
            return schedules;
        }

        /**
         * @return {@code count} RPCs all due at once: with one outstanding they go one after another.
         */
        static Schedule closedLoop(final MessageSizeDistribution distribution, final int count, final long seed)
        {
            final SplittableRandom random = new SplittableRandom(seed);
            final int[] sizes = new int[count];
            for (int i = 0; i < count; i++)
            {
                sizes[i] = distribution.sample(random);
            }
            return new Schedule(new long[count], sizes);
        }
    }

    /**
     * One client thread: its own socket, sends as its schedule says, polls for responses.
     */
    private static final class HomaClient implements MessageHandler
    {
        private final HomaSocket socket;
        private final Options options;
        private final Schedule schedule;
        private final Slowdowns.Samples samples;
        private final int maxOutstanding;
        private final boolean closedLoop;
        private final IdleStrategy idle = idleStrategy();
        private final long[] dueNs;
        /** Requests are written in place (zero-copy send), as TCP's client sends its buffer without a copy of ours. */
        private final io.homa.client.SendClaim claim = new io.homa.client.SendClaim();
        private volatile long completed;
        private long skipped;
        private long failed;
        private int outstanding;

        HomaClient(
            final SampleDriver driver,
            final Options options,
            final Schedule schedule,
            final Slowdowns.Samples samples,
            final int maxOutstanding,
            final boolean closedLoop)
        {
            this.closedLoop = closedLoop;
            this.socket = driver.homa().addSocket();
            this.options = options;
            this.schedule = schedule;
            this.samples = samples;
            this.maxOutstanding = maxOutstanding;
            this.dueNs = new long[schedule.count];
        }

        void run()
        {
            final long startNs = System.nanoTime();
            final List<HomaAddress> targets = options.homaTargets;
            int next = 0;
            final long giveUpNs = TimeUnit.SECONDS.toNanos(30);
            long lastProgressNs = startNs;
            while (next < schedule.count || outstanding > 0)
            {
                final long nowNs = System.nanoTime();
                while (next < schedule.count && nowNs - (startNs + schedule.atNs[next]) >= 0)
                {
                    if (closedLoop && outstanding >= maxOutstanding)
                    {
                        break;
                    }
                    final int i = next++;
                    // Open loop: the round trip counts from when the RPC was due; closed loop: from its send.
                    dueNs[i] = closedLoop ? System.nanoTime() : startNs + schedule.atNs[i];
                    if (outstanding >= maxOutstanding)
                    {
                        skipped++;
                        continue;
                    }
                    if (!socket.tryClaim(schedule.bytes[i], claim))
                    {
                        // Back-pressure: the send region is full.
                        skipped++;
                        continue;
                    }
                    claim.commitRequest(targets.get(i % targets.size()), i);
                    outstanding++;
                }
                // Block until a response comes or the next RPC is due: receive polls for homa.poll.duration, then
                // sleeps until the driver wakes it (or the time passes), so an idle client gives its core away.
                final long untilDueNs = next < schedule.count && !(closedLoop && outstanding >= maxOutstanding) ?
                    startNs + schedule.atNs[next] - System.nanoTime() : TimeUnit.MILLISECONDS.toNanos(100);
                // Wake early and poll the last stretch, as the TCP dispatcher does: a sleep's own lateness (timer
                // slack) would otherwise count as latency of an RPC that was due.
                final int events = untilDueNs > EARLY_WAKE_NS ?
                    socket.receive(this, Math.min(untilDueNs - EARLY_WAKE_NS, TimeUnit.MILLISECONDS.toNanos(100))) :
                    socket.poll(this, 64);
                if (events > 0)
                {
                    lastProgressNs = System.nanoTime();
                }
                else if (outstanding > 0 && System.nanoTime() - lastProgressNs > giveUpNs)
                {
                    // Homa fails an RPC itself (ETIMEDOUT) long before this: here only as a bound on the run.
                    failed += outstanding;
                    break;
                }
                else if (untilDueNs <= EARLY_WAKE_NS)
                {
                    // The last stretch before a due RPC (or at most outstanding): poll, but yield the core, since on
                    // a small machine a spinning application starves the driver's threads.
                    Thread.yield();
                    continue;
                }
                idle.reset();
            }
            socket.close();
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            final int i = (int)cookie;
            outstanding--;
            if (length != schedule.bytes[i])
            {
                failed++;
                return;
            }
            samples.add(length, System.nanoTime() - dueNs[i]);
            completed++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            outstanding--;
            failed++;
        }
    }

    /**
     * Homa server: one socket per port, each with a thread that echoes.
     */
    private static final class HomaServer implements AutoCloseable
    {
        private final SampleDriver driver;
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);

        HomaServer(final SampleDriver driver, final Options options)
        {
            this.driver = driver;
            for (int p = 0; p < options.ports; p++)
            {
                final HomaSocket socket = driver.homa().addSocket(options.homaPort + p);
                final MessageHandler echo = new MessageHandler()
                {
                    public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
                    {
                        socket.reply(id, b, o, l);
                    }

                    public void onError(final long id, final long c, final int e)
                    {
                    }
                };
                final Thread thread = new Thread(() ->
                {
                    while (running.get())
                    {
                        // Poll for homa.poll.duration, then sleep until the driver publishes a request.
                        socket.receive(echo, TimeUnit.MILLISECONDS.toNanos(100));
                    }
                }, "homa-server-" + p);
                thread.setDaemon(true);
                threads.add(thread);
            }
            threads.forEach(Thread::start);
        }

        public void close()
        {
            running.set(false);
            for (final Thread thread : threads)
            {
                try
                {
                    thread.join(2_000);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            driver.close();
        }
    }

    private static final class Options
    {
        final String role;
        final String protocol;
        final String workload;
        final double load;
        final int linkMbps;
        final long durationNs;
        final long count;
        final long seed;
        final int threads;
        final int ports;
        final String dir;
        final int udpPort;
        final int homaPort;
        final int tcpPort;
        final String plot;
        final int calibrate;
        final long warmupNs;
        final int warmupRpcs;
        final int tcpConnections;
        final int maxOutstanding;
        final String bind;
        final List<HomaAddress> homaTargets = new ArrayList<>();
        final List<InetSocketAddress> tcpTargets = new ArrayList<>();

        Options(final Args args)
        {
            role = args.string("role", "both");
            protocol = args.string("protocol", "both");
            workload = args.string("workload", "w4").toLowerCase(Locale.ROOT);
            load = Double.parseDouble(args.string("load", "0.5"));
            linkMbps = args.intValue("link-mbps", 10_000);
            durationNs = args.durationNs("duration", TimeUnit.SECONDS.toNanos(10), "s");
            count = args.intValue("count", 0);
            seed = args.intValue("seed", 1);
            threads = args.intValue("threads", 1);
            ports = args.intValue("ports", 1);
            dir = args.string("dir", null);
            udpPort = args.intValue("udp-port", 4000);
            homaPort = args.intValue("homa-port", HOMA_PORT);
            tcpPort = args.intValue("tcp-port", TCP_PORT);
            plot = args.string("plot", null);
            calibrate = args.intValue("calibrate", 2_000);
            warmupNs = args.durationNs("warmup", TimeUnit.SECONDS.toNanos(3), "s");
            warmupRpcs = args.intValue("warmup-rpcs", 20_000);
            tcpConnections = args.intValue("tcp-connections", 16);
            maxOutstanding = args.intValue("max-outstanding", 100);
            bind = args.string("bind", "0.0.0.0");
            if (!Set.of("both", "client", "server").contains(role))
            {
                throw new IllegalArgumentException("--role must be both, client or server: " + role);
            }
            if (!Set.of("homa", "tcp", "both").contains(protocol))
            {
                throw new IllegalArgumentException("--protocol must be homa, tcp or both: " + protocol);
            }
            if (load <= 0 || load > 1 || linkMbps <= 0 || threads < 1 || ports < 1 || calibrate < 10 || warmupNs < 0 ||
                warmupRpcs < 0)
            {
                throw new IllegalArgumentException("need 0 < --load <= 1, --link-mbps > 0, --threads >= 1, " +
                    "--ports >= 1, --calibrate >= 10, --warmup >= 0, --warmup-rpcs >= 0");
            }
            if ("client".equals(role))
            {
                final String servers = args.string("servers", null);
                if (null == servers)
                {
                    throw new IllegalArgumentException("--role client needs --servers");
                }
                for (final String server : servers.split(","))
                {
                    final String[] hostPort = server.trim().split(":");
                    final int serverUdpPort = hostPort.length > 1 ? Integer.parseInt(hostPort[1]) : 4000;
                    final InetAddress host;
                    try
                    {
                        host = InetAddress.getByName(hostPort[0]);
                    }
                    catch (final UnknownHostException ex)
                    {
                        throw new IllegalArgumentException("unknown server host " + hostPort[0]);
                    }
                    for (int p = 0; p < ports; p++)
                    {
                        homaTargets.add(HomaAddress.of(host, serverUdpPort, homaPort + p));
                        tcpTargets.add(new InetSocketAddress(host, tcpPort + p));
                    }
                }
            }
        }
    }
}
