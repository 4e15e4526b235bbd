package io.homa.systemtests.netns;

import io.homa.client.Homa;
import io.homa.driver.net.UdpSocket;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A small data centre in network namespaces, made and torn down from a test: a switch (a namespace holding a
 * Linux bridge) and N hosts, each a namespace with one veth "eth0" (10.0.0.i/24, and fd00:146::i/64 where the
 * kernel has IPv6) cabled to a bridge port. Every egress (each host's eth0 and each switch port) gets a
 * strict-priority tree built from HTB, since this kernel has no prio/ets qdisc: a link class at the line rate,
 * eight leaves with a token guaranteed rate that borrow the rest, HTB priority ordering them, u32 on the top three
 * DSCP bits (Homa's priority; IPv6: of the traffic class) choosing the leaf, a pfifo each. GSO/GRO are capped at
 * one MTU so queues see wire-sized packets.
 * <p>
 * One media driver per host runs in its own JVM ({@code ip netns exec}); the test's JVM is a Homa client of all of
 * them through their CnC files, which live outside the network namespaces. Everything is named
 * {@code homat-<pid>-…} and removed by {@link #close()} (drivers ended by PID first), also from a shutdown hook
 * if the test JVM dies early.
 */
public final class NetnsTestbed implements AutoCloseable
{
    /** Queue limit of each priority leaf, in packets: deep enough that nothing is lost before loss recovery. */
    public static final int LEAF_QUEUE_PACKETS = 20_000;

    private static final long COMMAND_TIMEOUT_S = 30;
    private static final String MAIN_CLASS = "io.homa.driver.MediaDriver";
    /** {@link #startDriver} transport name for raw IP over IPv6 (homa.transport=raw with the host's IPv6 address). */
    public static final String RAW_IPV6 = "raw-ipv6";
    private static final boolean HAS_IPV6 = Files.exists(Path.of("/proc/net/if_inet6"));

    private final String prefix = "homat-" + ProcessHandle.current().pid() + "-";
    private final List<String> namespaces = new ArrayList<>();
    private final List<Driver> drivers = new ArrayList<>();
    private final Path logDir;
    private final int hosts;
    private final Thread shutdownHook = new Thread(this::close, "netns-testbed-cleanup");
    private int mtu;
    private boolean isClosed;

    /**
     * Why namespaces cannot be used here, or null if they can: needs root and iproute2, and a trial namespace.
     *
     * @return the reason to skip, or null.
     */
    public static String unavailableReason()
    {
        if (!new File("/usr/sbin/ip").canExecute() && !new File("/sbin/ip").canExecute() &&
            !new File("/usr/bin/ip").canExecute())
        {
            return "iproute2 (ip) is not installed";
        }
        if (!"root".equals(System.getProperty("user.name")))
        {
            return "network namespaces need root (running as " + System.getProperty("user.name") + ")";
        }
        final String probe = "homat-" + ProcessHandle.current().pid() + "-probe";
        try
        {
            final Result add = exec(List.of("ip", "netns", "add", probe));
            if (0 != add.status)
            {
                return "cannot create a network namespace: " + add.output.trim();
            }
            exec(List.of("ip", "netns", "del", probe));
            return null;
        }
        catch (final RuntimeException ex)
        {
            return "cannot run ip: " + ex.getMessage();
        }
    }

    /**
     * Builds the switch, the hosts and the cabling.
     *
     * @param hosts    number of hosts (1..250).
     * @param mtu      MTU of every link.
     * @param rateMbit line rate of every egress, Mbit/s.
     */
    public NetnsTestbed(final int hosts, final int mtu, final int rateMbit)
    {
        this.hosts = hosts;
        this.mtu = mtu;
        logDir = Path.of("target", "netns-logs");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try
        {
            Files.createDirectories(logDir);
            addNamespace(switchNs());
            ip(switchNs(), "link", "add", "br0", "type", "bridge");
            ip(switchNs(), "link", "set", "br0", "up");
            for (int h = 1; h <= hosts; h++)
            {
                final String ns = hostNs(h);
                addNamespace(ns);
                run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p" + h, "netns",
                    switchNs());
                ip(ns, "addr", "add", UdpSocket.ipv4ToString(hostIpv4(h)) + "/24", "dev", "eth0");
                if (HAS_IPV6)
                {
                    // nodad: usable at once, no duplicate-address detection to wait for.
                    ip(ns, "addr", "add", hostIpv6(h) + "/64", "dev", "eth0", "nodad");
                }
                ip(ns, "link", "set", "lo", "up");
                ip(switchNs(), "link", "set", "p" + h, "master", "br0");
                for (final String[] end : new String[][]{ { ns, "eth0" }, { switchNs(), "p" + h } })
                {
                    ip(end[0], "link", "set", end[1], "mtu", Integer.toString(mtu), "gso_max_segs", "1",
                        "gso_max_size", Integer.toString(mtu), "gro_max_size", Integer.toString(mtu));
                    ip(end[0], "link", "set", end[1], "up");
                    priorityTree(end[0], end[1], rateMbit);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            close();
            throw ex instanceof RuntimeException re ? re : new IllegalStateException(ex);
        }
    }

    /**
     * @return the switch namespace.
     */
    public String switchNs()
    {
        return prefix + "sw";
    }

    /**
     * @param host 1..hosts.
     * @return that host's namespace.
     */
    public String hostNs(final int host)
    {
        return prefix + "h" + host;
    }

    /**
     * @param host 1..hosts.
     * @return that host's address, 10.0.0.host.
     */
    public static int hostIpv4(final int host)
    {
        return 0x0A000000 | host;
    }

    /**
     * @param host 1..hosts.
     * @return that host's IPv6 address, fd00:146::host (only where the kernel has IPv6).
     */
    public static String hostIpv6(final int host)
    {
        return "fd00:146::" + Integer.toHexString(host);
    }

    /**
     * @return true if the hosts have IPv6 addresses too.
     */
    public static boolean hasIpv6()
    {
        return HAS_IPV6;
    }

    /**
     * @return hosts on the bridge.
     */
    public int hosts()
    {
        return hosts;
    }

    /**
     * @return the MTU of every link.
     */
    public int mtu()
    {
        return mtu;
    }

    /**
     * Changes the MTU of every link (drivers started later discover it).
     *
     * @param mtu new MTU.
     */
    public void mtu(final int mtu)
    {
        for (int h = 1; h <= hosts; h++)
        {
            for (final String[] end : new String[][]{ { hostNs(h), "eth0" }, { switchNs(), "p" + h } })
            {
                ip(end[0], "link", "set", end[1], "mtu", Integer.toString(mtu), "gso_max_size",
                    Integer.toString(mtu), "gro_max_size", Integer.toString(mtu));
            }
        }
        this.mtu = mtu;
    }

    /**
     * Changes the line rate of every egress tree (the link class and the ceiling of each leaf).
     *
     * @param rateMbit new rate in Mbit/s.
     */
    public void rate(final int rateMbit)
    {
        final String rate = rateMbit + "mbit";
        for (int h = 1; h <= hosts; h++)
        {
            for (final String[] end : new String[][]{ { hostNs(h), "eth0" }, { switchNs(), "p" + h } })
            {
                tc(end[0], "class", "change", "dev", end[1], "parent", "1:", "classid", "1:1", "htb", "rate", rate,
                    "ceil", rate);
                for (int p = 0; p < 8; p++)
                {
                    tc(end[0], "class", "change", "dev", end[1], "parent", "1:1", "classid", "1:" + (10 + p), "htb",
                        "rate", "1mbit", "ceil", rate, "prio", Integer.toString(7 - p));
                }
            }
        }
    }

    /**
     * Builds the strict-priority tree on one egress.
     */
    private void priorityTree(final String ns, final String dev, final int rateMbit)
    {
        final String rate = rateMbit + "mbit";
        tc(ns, "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10");
        tc(ns, "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", rate, "ceil", rate);
        for (int p = 0; p < 8; p++)
        {
            final String leaf = "1:" + (10 + p);
            // HTB serves lower "prio" first: Homa's priority 7 gets HTB prio 0.
            tc(ns, "class", "add", "dev", dev, "parent", "1:1", "classid", leaf, "htb", "rate", "1mbit", "ceil", rate,
                "prio", Integer.toString(7 - p));
            tc(ns, "qdisc", "add", "dev", dev, "parent", leaf, "handle", (10 + p) + ":", "pfifo", "limit",
                Integer.toString(LEAF_QUEUE_PACKETS));
            tc(ns, "filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip",
                "tos", "0x" + Integer.toHexString(p << 5), "0xe0", "flowid", leaf);
            if (HAS_IPV6)
            {
                // "ip6 priority" is the traffic class.
                tc(ns, "filter", "add", "dev", dev, "parent", "1:", "protocol", "ipv6", "prio", "2", "u32", "match",
                    "ip6", "priority", "0x" + Integer.toHexString(p << 5), "0xe0", "flowid", leaf);
            }
        }
    }

    /**
     * Packets each priority leaf of an egress has sent, read from {@code tc -s class}.
     *
     * @param ns  namespace.
     * @param dev device.
     * @return packets sent per Homa priority 0..7.
     */
    public long[] leafPackets(final String ns, final String dev)
    {
        final Result result = exec(List.of("ip", "netns", "exec", ns, "tc", "-s", "class", "show", "dev", dev));
        final long[] packets = new long[8];
        int current = -1;
        for (final String line : result.output.split("\n"))
        {
            final String trimmed = line.trim();
            if (trimmed.startsWith("class htb 1:"))
            {
                final String id = trimmed.substring("class htb 1:".length()).split(" ")[0];
                final int number = Integer.parseInt(id, 16);
                current = number >= 0x10 && number < 0x18 ? number - 0x10 : -1;
            }
            else if (trimmed.startsWith("Sent ") && current >= 0)
            {
                packets[current] = Long.parseLong(trimmed.split(" ")[3]);
            }
        }
        return packets;
    }

    /**
     * Starts a media driver in a host's namespace, in a JVM of its own, and waits until clients can connect.
     *
     * @param host      1..hosts.
     * @param transport {@code raw}, {@code udp}, {@code udp-batch}, {@code packet-ring} or {@link #RAW_IPV6}.
     * @param extra     further {@code homa.*} properties.
     * @return the running driver.
     */
    public Driver startDriver(final int host, final String transport, final Map<String, String> extra)
    {
        final String name = prefix + "h" + host + "-" + transport + "-" + drivers.size();
        final File dir = new File("/dev/shm", name);
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", hostNs(host),
            ProcessHandle.current().info().command().orElse("java"),
            "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
            "-XX:+UseSerialGC", "-Xmx256m", "-XX:MaxDirectMemorySize=512m", "-Djava.net.preferIPv4Stack=true",
            "-cp", System.getProperty("java.class.path"),
            "-Dhoma.dir=" + dir.getPath(),
            "-Dhoma.dir.delete.on.shutdown=true",
            "-Dhoma.transport=" + (RAW_IPV6.equals(transport) ? "raw" : transport),
            "-Dhoma.udp.address=" + (RAW_IPV6.equals(transport) ? hostIpv6(host) :
            UdpSocket.ipv4ToString(hostIpv4(host))),
            "-Dhoma.udp.port=4000"));
        extra.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add(MAIN_CLASS);

        final File log = logDir.resolve(name + ".log").toFile();
        final Process process;
        try
        {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start driver: " + command, ex);
        }
        final Driver driver = new Driver(host, transport, process, dir, log);
        drivers.add(driver);

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!driver.logText().contains("homa driver: dir="))
        {
            if (!process.isAlive() || System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("driver on host " + host + " did not start:\n" + driver.logText());
            }
            sleepMs(20);
        }
        return driver;
    }

    /**
     * A driver JVM in a host namespace.
     */
    public final class Driver implements AutoCloseable
    {
        private final int host;
        private final String transport;
        private final Process process;
        private final File dir;
        private final File log;
        private Homa homa;

        Driver(final int host, final String transport, final Process process, final File dir, final File log)
        {
            this.host = host;
            this.transport = transport;
            this.process = process;
            this.dir = dir;
            this.log = log;
        }

        /**
         * @return the host this driver runs on.
         */
        public int host()
        {
            return host;
        }

        /**
         * @return the address peers reach it at.
         */
        public int ipv4()
        {
            return hostIpv4(host);
        }

        /**
         * @param port a Homa port on this driver's host.
         * @param from a client of the driver that sends (IPv6 peers are named by that driver).
         * @return where to send to reach the port on this driver's host.
         */
        public io.homa.client.HomaAddress address(final int port, final Homa from)
        {
            if (RAW_IPV6.equals(transport))
            {
                try
                {
                    return from.address(java.net.InetAddress.getByName(hostIpv6(host)), 0, port);
                }
                catch (final java.net.UnknownHostException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }
            return io.homa.client.HomaAddress.of(ipv4(), transportPort(), port);
        }

        /**
         * @return the transport port peers name (0 over raw IP).
         */
        public int transportPort()
        {
            return transport.startsWith("udp") ? 4000 : 0;
        }

        /**
         * @return this test JVM's client connection to the driver (made once).
         */
        public Homa homa()
        {
            if (null == homa)
            {
                homa = Homa.connect(new Homa.Context().homaDirectoryName(dir.getPath()));
            }
            return homa;
        }

        /**
         * @return the driver's directory (CnC file, socket files).
         */
        public File directory()
        {
            return dir;
        }

        /**
         * @return what the driver printed so far.
         */
        public String logText()
        {
            try
            {
                return Files.readString(log.toPath(), StandardCharsets.UTF_8);
            }
            catch (final IOException ex)
            {
                return "";
            }
        }

        /**
         * Closes the client connection, then ends the driver: SIGTERM (a clean shutdown), SIGKILL if it lingers.
         */
        public void close()
        {
            if (null != homa)
            {
                homa.close();
                homa = null;
            }
            if (process.isAlive())
            {
                process.destroy();
                try
                {
                    if (!process.waitFor(10, TimeUnit.SECONDS))
                    {
                        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    process.destroyForcibly();
                }
            }
            deleteRecursively(dir.toPath());
        }
    }

    /**
     * Ends every driver (by PID) and deletes every namespace this testbed made. Idempotent, never throws.
     */
    public synchronized void close()
    {
        if (isClosed)
        {
            return;
        }
        isClosed = true;
        for (final Driver driver : drivers)
        {
            try
            {
                driver.close();
            }
            catch (final RuntimeException ignore)
            {
                // Go on: the namespaces must go whatever happened to one driver.
            }
        }
        for (int i = namespaces.size() - 1; i >= 0; i--)
        {
            try
            {
                exec(List.of("ip", "netns", "del", namespaces.get(i)));
            }
            catch (final RuntimeException ignore)
            {
                // Best effort; the next one may still go.
            }
        }
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: this is the hook.
        }
    }

    private void addNamespace(final String ns)
    {
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
    }

    private static void ip(final String ns, final String... args)
    {
        final List<String> command = new ArrayList<>(List.of("ip", "-n", ns));
        command.addAll(List.of(args));
        check(command, exec(command));
    }

    private static void tc(final String ns, final String... args)
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "tc"));
        command.addAll(List.of(args));
        check(command, exec(command));
    }

    private static void run(final String... command)
    {
        check(List.of(command), exec(List.of(command)));
    }

    private static void check(final List<String> command, final Result result)
    {
        if (0 != result.status)
        {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + result.status + "): " +
                result.output.trim());
        }
    }

    private record Result(int status, String output)
    {
    }

    private static Result exec(final List<String> command)
    {
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            return new Result(process.exitValue(), output);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot run " + command.get(0) + ": " + ex.getMessage(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private static void deleteRecursively(final Path path)
    {
        if (!Files.exists(path))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(path))
        {
            walk.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
        catch (final IOException ignore)
        {
            // Best effort.
        }
    }
}
