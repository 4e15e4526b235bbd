package io.homa.systemtests.interop;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Interop with a real Linux HomaModule peer (opt-in): the VM that {@code ../shared/linux-peer/} builds and starts,
 * reached over raw IP (protocol 146) from inside its network namespace. {@code bin/interop} runs this class there with
 * the peer's settings ({@code GUEST_IP4}, {@code GUEST_IP6}, {@code HOST_IP4}, {@code HOST_IP6}, {@code SSH_KEY}, the
 * names of {@code env.sh}); without them every case is skipped with the reason.
 * <p>
 * Both directions: a Java client against Linux's {@code util/server --validate} (every response compared byte by
 * byte with its request), and Linux's {@code util/homa_test invoke} against a Java echo server (which counts the
 * responses it got and checks their bytes). IPv4 and IPv6, 5 % loss on the guest's egress, several RPCs
 * outstanding. Linux's {@code /proc/net/homa_metrics} is read before and after each case: no RPC timed out or
 * was discarded on either side. The emulated guest sometimes stalls for seconds, so every guest command is retried
 * when ssh itself fails (exit 255) and every wait is generous but bounded.
 */
class LinuxPeerInteropTest
{
    private static final int LINUX_SERVER_PORT = 4000;
    private static final int JAVA_SERVER_PORT = 4001;
    private static final int[] SIZES = { 100, 1_400, 1_500, 10_000, 100_000, 500_000, 1_000_000 };
    private static final long CALL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private static String guestIp4;
    private static String guestIp6;
    private static String hostIp4;
    private static String hostIp6;
    private static String sshKey;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MediaDriver driver;
    private Homa homa;

    @BeforeAll
    static void peerConfigured() throws Exception
    {
        guestIp4 = System.getenv("GUEST_IP4");
        Assumptions.assumeTrue(null != guestIp4 && !guestIp4.isBlank(),
            "no Linux peer configured: start ../shared/linux-peer/start-peer.sh, then run bin/interop");
        guestIp6 = env("GUEST_IP6", "fd99::2");
        hostIp4 = env("HOST_IP4", "10.99.0.1");
        hostIp6 = env("HOST_IP6", "fd99::1");
        sshKey = env("SSH_KEY", "/tmp/interop/ssh/id_ed25519");
        Assumptions.assumeTrue(Files.isReadable(Path.of(sshKey)), "SSH_KEY " + sshKey + " not readable");
        Assumptions.assumeTrue(null != NetworkInterface.getByInetAddress(InetAddress.getByName(hostIp4)),
            "HOST_IP4 " + hostIp4 + " is not an address of this host: run inside the peer's namespace (bin/interop)");
        // homa_test takes HOST:PORT, so the guest needs a name for our IPv6 address; the module must be loaded.
        final Guest.Result setup = Guest.run(
            "grep -q ' javahost6$' /etc/hosts || echo '" + hostIp6 + " javahost6' >>/etc/hosts; " +
            "lsmod | grep -qw homa || insmod /root/homa/homa.ko; tc qdisc del dev eth0 root 2>/dev/null; " +
            "tc qdisc del dev eth0 ingress 2>/dev/null; lsmod | grep -w homa", 120);
        assertEquals(0, setup.rc, "guest setup: " + setup.output);
    }

    private static String env(final String name, final String fallback)
    {
        final String value = System.getenv(name);
        return null == value || value.isBlank() ? fallback : value;
    }

    @AfterEach
    void tearDown()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        closeables.clear();
        Guest.run("[ -f /root/server.pid ] && kill $(cat /root/server.pid) 2>/dev/null; rm -f /root/server.pid; " +
            "tc qdisc del dev eth0 root 2>/dev/null; sysctl -qw net.homa.hijack_tcp=0; true", 60);
    }

    private void launch(final boolean ipv6)
    {
        launch(ipv6, false);
    }

    private void launch(final boolean ipv6, final boolean hijackTcp)
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("raw")
            .udpAddress(ipv6 ? hostIp6 : hostIp4)
            .hijackTcp(hijackTcp));
        closeables.add(driver);
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
    }

    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void shouldCallLinuxServerWithEverySize(final boolean ipv6) throws Exception
    {
        launch(ipv6);
        startLinuxServer(ipv6);
        final Map<String, Long> before = linuxMetrics();
        final HomaSocket socket = homa.addSocket();
        closeables.add(socket);
        final HomaAddress dest = homa.address(InetAddress.getByName(ipv6 ? guestIp6 : guestIp4), 0,
            LINUX_SERVER_PORT);
        int seed = 1;
        for (final int size : SIZES)
        {
            for (int i = 0, count = size >= 500_000 ? 3 : 10; i < count; i++)
            {
                final UnsafeBuffer request = homaTestRequest(size, seed++);
                final DirectBuffer response = socket.call(dest, request, 0, size, CALL_TIMEOUT_NS);
                assertEcho(request, response, size);
            }
        }
        assertNoLinuxFailures(before, "Java client -> Linux server");
        assertNoBadValues();
    }

    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void shouldServeLinuxClientsWithEverySize(final boolean ipv6)
    {
        launch(ipv6);
        startJavaEchoServer();
        final Map<String, Long> before = linuxMetrics();
        runHomaTest(ipv6, 1, 10);
        for (final int size : SIZES)
        {
            runHomaTest(ipv6, size, size >= 500_000 ? 3 : 10);
        }
        assertNoLinuxFailures(before, "Linux client -> Java server");
    }

    @Test
    void shouldKeepSeveralRpcsOutstandingToLinux() throws Exception
    {
        launch(false);
        startLinuxServer(false);
        final Map<String, Long> before = linuxMetrics();
        final HomaSocket socket = homa.addSocket();
        closeables.add(socket);
        final HomaAddress dest = homa.address(InetAddress.getByName(guestIp4), 0, LINUX_SERVER_PORT);
        final int[] mix = { 100, 72, 1_400, 3_000, 10_000, 500, 30_000, 200, 100_000, 1_000, 250_000, 300, 1_000_000 };
        final int outstanding = 4;
        final List<CompletableFuture<DirectBuffer>> calls = new ArrayList<>();
        final List<UnsafeBuffer> requests = new ArrayList<>();
        for (int i = 0; i < 52; i++)
        {
            final int size = mix[i % mix.length];
            final UnsafeBuffer request = homaTestRequest(size, 5_000 + i);
            if (i >= outstanding)
            {
                calls.get(i - outstanding).get(90, TimeUnit.SECONDS); // at most `outstanding` in flight
            }
            requests.add(request);
            calls.add(socket.callAsync(dest, request, 0, size, CALL_TIMEOUT_NS));
        }
        for (int i = 0; i < calls.size(); i++)
        {
            assertEcho(requests.get(i), calls.get(i).get(90, TimeUnit.SECONDS), (int)requests.get(i).capacity());
        }
        assertNoLinuxFailures(before, "4 outstanding, mixed sizes");
        assertNoBadValues();
    }

    @Test
    void shouldCompleteEveryRpcBothWaysWithLossOnTheGuest() throws Exception
    {
        launch(false);
        startLinuxServer(false);
        startJavaEchoServer();
        final Map<String, Long> before = linuxMetrics();
        final Guest.Result loss = Guest.run("modprobe sch_netem; tc qdisc replace dev eth0 root netem loss 5%", 60);
        assertEquals(0, loss.rc, "netem: " + loss.output);

        final HomaSocket socket = homa.addSocket();
        closeables.add(socket);
        final HomaAddress dest = homa.address(InetAddress.getByName(guestIp4), 0, LINUX_SERVER_PORT);
        final int[][] plan = { { 100, 30 }, { 10_000, 10 }, { 100_000, 5 }, { 1_000_000, 2 } };
        int seed = 9_000;
        for (final int[] step : plan)
        {
            for (int i = 0; i < step[1]; i++)
            {
                final UnsafeBuffer request = homaTestRequest(step[0], seed++);
                assertEcho(request, socket.call(dest, request, 0, step[0], CALL_TIMEOUT_NS), step[0]);
            }
            runHomaTest(false, step[0], step[1]);
        }
        assertNoLinuxFailures(before, "5 % loss on the guest's egress");
        assertEquals(0, driver.counter(io.homa.driver.status.SystemCounterDescriptor.RPC_TIMEOUTS),
            "Java rpc_timeouts");
    }

    @Test
    void shouldTalkBothWaysToALinuxPeerThatHijacksTcp() throws Exception
    {
        // Ours native: sending hijacked to Linux is not yet right (with homa.hijack.tcp=true the guest lost the
        // first full-size DATA of many messages, asked for ~78,000 RESENDs and timed out 4-8 server RPCs; the same
        // packets as protocol 146 arrive). See the README's "beside Linux Homa" section.
        final boolean hijackToo = false;
        // Linux sockets opened after the sysctl send their packets as TCP-lookalike segments.
        final Guest.Result on = Guest.run("sysctl -w net.homa.hijack_tcp=1", 60);
        assertEquals(0, on.rc, "sysctl: " + on.output);
        launch(false, hijackToo);
        startLinuxServer(false);
        startJavaEchoServer();
        final Map<String, Long> before = linuxMetrics();
        final HomaSocket socket = homa.addSocket();
        closeables.add(socket);
        final HomaAddress dest = homa.address(InetAddress.getByName(guestIp4), 0, LINUX_SERVER_PORT);
        int seed = 20_000;
        for (final int size : new int[]{ 100, 1_500, 100_000, 1_000_000 })
        {
            for (int i = 0; i < 3; i++)
            {
                final UnsafeBuffer request = homaTestRequest(size, seed++);
                assertEcho(request, socket.call(dest, request, 0, size, CALL_TIMEOUT_NS), size);
            }
            runHomaTest(false, size, 3);
        }
        assertNoLinuxFailures(before, "Linux with hijack_tcp=1, ours " + (hijackToo ? "hijacking too" : "native"));
        assertNoBadValues();
        final long received = driver.counter(io.homa.driver.status.TransportCounterDescriptor.TCP_HIJACK_RCVD);
        assertTrue(received > 0, "hijacked packets received from Linux: " + received);
        final long sent = driver.counter(io.homa.driver.status.TransportCounterDescriptor.TCP_HIJACK_SENT);
        assertEquals(hijackToo, sent > 0, "hijacked packets sent: " + sent);
    }

    /** util/homa_test's request: int32 LE length, int32 LE response length (= length), then seed, seed + 1, ... */
    private static UnsafeBuffer homaTestRequest(final int size, final int seed)
    {
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Math.max(size, 8) + 4]);
        scratch.putInt(0, size, ByteOrder.LITTLE_ENDIAN);
        scratch.putInt(4, size, ByteOrder.LITTLE_ENDIAN);
        for (int i = 2; i * 4 < size; i++)
        {
            scratch.putInt(i * 4, seed + i - 2, ByteOrder.LITTLE_ENDIAN);
        }
        final byte[] bytes = new byte[size];
        scratch.getBytes(0, bytes, 0, size);
        return new UnsafeBuffer(bytes);
    }

    private static void assertEcho(final DirectBuffer request, final DirectBuffer response, final int size)
    {
        assertEquals(size, response.capacity(), "response length");
        for (int i = 0; i < size; i++)
        {
            if (request.getByte(i) != response.getByte(i))
            {
                fail("response of " + size + " B differs from its request at byte " + i);
            }
        }
    }

    private void startLinuxServer(final boolean ipv6)
    {
        final Guest.Result started = Guest.run("nohup /root/homa/server --port " + LINUX_SERVER_PORT +
            " --validate" + (ipv6 ? " --ipv6" : "") + " >/root/interop-server.log 2>&1 & echo $! >/root/server.pid; " +
            "sleep 1; kill -0 $(cat /root/server.pid)", 60);
        assertEquals(0, started.rc, "util/server did not start: " + started.output);
    }

    private void startJavaEchoServer()
    {
        closeables.add(HomaServer.start(homa, JAVA_SERVER_PORT, (request, offset, length, response) ->
        {
            response.putBytes(0, request, offset, length);
            return length;
        }));
    }

    /** Linux's util/homa_test: {@code count} sequential invokes of {@code size} bytes against the Java echo server. */
    private void runHomaTest(final boolean ipv6, final int size, final int count)
    {
        final StringBuilder ops = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            ops.append(" invoke");
        }
        final Guest.Result result = Guest.run("timeout 600 /root/homa/homa_test " +
            (ipv6 ? "javahost6" : hostIp4) + ":" + JAVA_SERVER_PORT + (ipv6 ? " --ipv6" : "") + " --length " + size +
            ops, 660);
        final long received = result.output.lines().filter(l -> l.startsWith("Received message")).count();
        final List<String> bad = result.output.lines()
            .filter(l -> l.contains("Bad value") || l.startsWith("Error") || l.contains("failed")).toList();
        assertTrue(bad.isEmpty(), "homa_test " + size + " B: " + bad);
        assertEquals(count, received, "homa_test " + size + " B responses; output: " + tail(result.output));
    }

    private static void assertNoBadValues()
    {
        final Guest.Result log = Guest.run("grep -c 'Bad value' /root/interop-server.log; true", 60);
        assertEquals("0", log.output.trim(), "util/server found requests with bad values");
    }

    private static Map<String, Long> linuxMetrics()
    {
        final Guest.Result result = Guest.run("cat /proc/net/homa_metrics", 60);
        assertEquals(0, result.rc, "homa_metrics: " + result.output);
        final Map<String, Long> metrics = new HashMap<>();
        for (final String line : result.output.split("\n"))
        {
            final String[] fields = line.trim().split("\\s+");
            if (fields.length >= 2 && fields[1].matches("\\d+"))
            {
                metrics.merge(fields[0], Long.parseLong(fields[1]), Long::sum);
            }
        }
        return metrics;
    }

    private void assertNoLinuxFailures(final Map<String, Long> before, final String what)
    {
        final Map<String, Long> after = linuxMetrics();
        for (final String name : new String[]{ "rpc_timeouts", "server_rpc_discards", "server_cant_create_rpcs",
            "short_packets", "unknown_packet_types", "packet_discards" })
        {
            final long delta = after.getOrDefault(name, 0L) - before.getOrDefault(name, 0L);
            assertEquals(0, delta, what + ": Linux " + name + " rose by " + delta + "; changed: " + changes(before, after));
        }
        assertEquals(0, driver.counter(io.homa.driver.status.SystemCounterDescriptor.RPC_TIMEOUTS),
            what + ": Java rpc_timeouts");
    }

    /** The Linux metrics that moved during a case, for a failure's message. */
    private static String changes(final Map<String, Long> before, final Map<String, Long> after)
    {
        final java.util.TreeMap<String, Long> moved = new java.util.TreeMap<>();
        after.forEach((name, value) ->
        {
            final long delta = value - before.getOrDefault(name, 0L);
            if (0 != delta && !name.contains("cycles") && !name.equals("time_cycles") && !name.equals("cpu_khz"))
            {
                moved.put(name, delta);
            }
        });
        return moved.toString();
    }

    private static String tail(final String output)
    {
        final String[] lines = output.split("\n");
        return String.join(" | ", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 5), lines.length));
    }

    /** ssh into the guest; ssh's own failures (exit 255: the emulated guest stalled) are retried. */
    static final class Guest
    {
        record Result(int rc, String output)
        {
        }

        static Result run(final String command, final int timeoutS)
        {
            Result result = new Result(255, "not run");
            for (int attempt = 0; attempt < 3 && 255 == result.rc; attempt++)
            {
                if (attempt > 0)
                {
                    sleepQuietly(5_000); // the guest stalled: give it time before asking again
                }
                result = once(command, timeoutS);
            }
            return result;
        }

        private static Result once(final String command, final int timeoutS)
        {
            try
            {
                final Process process = new ProcessBuilder("ssh", "-i", sshKey, "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30",
                    "-o", "BatchMode=yes", "root@" + guestIp4, command).redirectErrorStream(true).start();
                process.getOutputStream().close();
                final CompletableFuture<String> output = CompletableFuture.supplyAsync(() ->
                {
                    try
                    {
                        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    }
                    catch (final IOException ex)
                    {
                        return "read failed: " + ex;
                    }
                });
                if (!process.waitFor(timeoutS, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                    return new Result(124, "timed out after " + timeoutS + " s: " + command);
                }
                return new Result(process.exitValue(), output.get(30, TimeUnit.SECONDS));
            }
            catch (final Exception ex)
            {
                return new Result(255, ex.toString());
            }
        }

        private static void sleepQuietly(final long ms)
        {
            try
            {
                Thread.sleep(ms);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
