package io.homa.systemtests;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver deployed as Aeron's is: {@link MediaDriver#main} in a JVM of its own, applications in other JVMs
 * reaching it through the directory.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StandaloneDriverTest
{
    private static final int SERVER_PORT = 77;
    private static final long START_TIMEOUT_MS = 30_000;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private File dir;

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        if (null != dir)
        {
            IoUtil.delete(dir, true);
        }
    }

    private JvmProcess startDriver(final String... args) throws Exception
    {
        dir = new File(Files.createTempDirectory("homa-standalone").toFile(), "driver");
        final JvmProcess driver = JvmProcess.start("driver", MediaDriver.class, List.of(
            "-Dhoma.dir=" + dir.getPath(),
            "-Dhoma.udp.port=0",
            "-Dhoma.client.liveness.timeout=3s",
            "-Dhoma.dir.delete.on.shutdown=true",
            "-Dhoma.print.configuration=true",
            "-Dhoma.socket.pool.length=4m",
            "-Dhoma.socket.send.region.length=4m"), args);
        closeables.add(driver);
        driver.awaitLineStartingWith("homa driver: dir=", START_TIMEOUT_MS);
        return driver;
    }

    private JvmProcess startClient(final String name, final String... args)
    {
        // A short driver timeout so a client notices a dead driver soon (the driver beats every 100 ms).
        final JvmProcess client = JvmProcess.start(name, RemoteClient.class, List.of("-Dhoma.driver.timeout=3s"), args);
        closeables.add(client);
        return client;
    }

    @Test
    void shouldServeClientsInOtherJvmsAndFreeResourcesOfOneKilledMidRpc() throws Exception
    {
        final JvmProcess driver = startDriver();
        final DriverCounters counters = new DriverCounters(dir);
        closeables.add(counters);

        final JvmProcess server = startClient("echo-server", "echo", dir.getPath(), Integer.toString(SERVER_PORT));
        server.awaitLineStartingWith("ready", START_TIMEOUT_MS);
        final JvmProcess victim = startClient(
            "victim", "hammer", dir.getPath(), Integer.toString(SERVER_PORT), "1000000", "2");
        victim.awaitLineStartingWith("progress 3", START_TIMEOUT_MS);
        assertEquals(2, counters.get("clients_active"), counters::all);
        assertEquals(2, counters.get("sockets_open"), counters::all);

        // kill -9 while two 1 MB RPCs are in flight.
        victim.process().destroyForcibly();
        victim.awaitExit(10_000);

        await(() -> 1 == counters.get("client_timeouts"), () -> sleepMs(10), 20_000, "client timeout");
        // The operator sees it: the driver's console says which client, how long silent, what was freed.
        await(() -> driver.output().matches("(?s).*homa driver: client \\d+ timed out \\(silent \\d+ ms, " +
            "homa.client.liveness.timeout 3000 ms\\): its 1 sockets closed.*"), () -> sleepMs(10), 10_000,
            "the timeout line: " + driver.output());
        assertTrue(driver.output().matches("(?s).*homa driver: client \\d+ connected.*"), driver::output);
        assertEquals(1, counters.get("clients_active"), counters::all);
        assertEquals(1, counters.get("sockets_open"), counters::all);
        final String[] socketFiles = new File(dir, CncFileDescriptor.SOCKETS_DIR).list();
        assertEquals(1, null == socketFiles ? 0 : socketFiles.length, "only the server's socket file is left");
        await(() -> 0 == counters.get("rpcs_active"), () -> sleepMs(10), 10_000, "the victim's RPCs freed");
        assertEquals(0, counters.get("errors"), counters::all);

        // The driver goes on serving: a client in yet another JVM gets a 1 MB echo.
        final JvmProcess other = startClient("other", "once", dir.getPath(), Integer.toString(SERVER_PORT), "1000000");
        assertEquals(0, other.awaitExit(START_TIMEOUT_MS), other::output);
        assertTrue(other.output().contains("ok"), other::output);

        // SIGTERM: a clean stop that deletes the directory.
        driver.signal("TERM");
        driver.awaitExit(20_000);
        assertTrue(driver.output().contains("homa driver: shutdown"), driver::output);
        assertFalse(new File(dir, CncFileDescriptor.CNC_FILE).exists(), "directory removed on shutdown");

        // The server in its own JVM sees its driver's heartbeat stop and fails its call.
        server.awaitLineStartingWith("driver timeout", 30_000);
        assertEquals(2, server.awaitExit(10_000), server::output);
    }

    @Test
    void shouldLoadProfileFromClassPathPrintConfigurationAndStopOnSigint() throws Exception
    {
        final JvmProcess driver = startDriver("default.properties");
        driver.awaitLine(line -> line.contains("MediaDriver.Context{") && line.contains("threadingMode=SHARED") &&
            line.contains("clientLivenessTimeoutNs=10000000000"), START_TIMEOUT_MS);

        final JvmProcess client = startClient("client", "echo", dir.getPath(), Integer.toString(SERVER_PORT));
        client.awaitLineStartingWith("ready", START_TIMEOUT_MS);

        driver.signal("INT");
        driver.awaitExit(20_000);
        assertTrue(driver.output().contains("homa driver: shutdown"), driver::output);
        assertFalse(new File(dir, CncFileDescriptor.CNC_FILE).exists(), "directory removed on shutdown");
    }

    @Test
    void shouldExitWithStatusOneAfterAFatalAgentError() throws Exception
    {
        final JvmProcess driver = startDriver();
        // A rogue writer breaks the to-driver ring (as CorruptCommandRingTest): the conductor's next cycle throws
        // CommandRingCorruptedError, an Error, which ends the driver. No test hook: the real command path.
        final MappedByteBuffer cnc = IoUtil.mapExistingFile(new File(dir, CncFileDescriptor.CNC_FILE), "cnc");
        try
        {
            final UnsafeBuffer ring = CncFileDescriptor.toDriverBuffer(cnc, CncFileDescriptor.metaDataBuffer(cnc));
            final byte[] stray = new byte[16];
            Arrays.fill(stray, (byte)'A');
            ring.putBytes(ring.capacity() - RingBufferDescriptor.TRAILER_LENGTH +
                RingBufferDescriptor.TAIL_POSITION_OFFSET, stray);
        }
        finally
        {
            IoUtil.unmap(cnc);
        }

        // A supervisor sees a failure: status 1, not 0 as after a signal, and the console says why.
        assertEquals(1, driver.awaitExit(20_000), driver::output);
        final String output = driver.output();
        assertTrue(output.matches("(?s).*homa driver: \\S*CommandRingCorruptedError: to-driver ring positions " +
            "impossible.* escaped an agent; the driver shuts down.*"), output);
        assertTrue(output.contains("homa driver: shut down after a fatal error"), output);
        assertFalse(output.contains("homa driver: shutdown\n"), output);
        assertFalse(new File(dir, CncFileDescriptor.CNC_FILE).exists(), "directory removed on the way out");
    }

    @Test
    void shouldRefuseABadCommandLineOrSettingWithOneLineAndStatusOneLeavingNoDirectory() throws Exception
    {
        final File parent = Files.createTempDirectory("homa-standalone").toFile();
        dir = new File(parent, "driver");
        final String[][] cases = {
            // { -D setting or "", argument or "", the one line expected }
            { "", "--bogus", "homa driver: argument --bogus is refused: the driver takes -Dhoma.name=value " +
                "settings and property files" },
            { "", "nosuch.properties", "homa driver: property file nosuch.properties is refused: not a file, a URL " +
                "or a resource on the class path" },
            { "-Dhoma.udp.port=abc", "", "homa driver: homa.udp.port=abc is refused: a whole number" },
            { "-Dhoma.unsched.byte=20000", "", "homa driver: homa.unsched.byte is not a Homa setting (did you mean " +
                "homa.unsched.bytes?)" },
            { "-Dhoma.threading.mode=FOO", "", "homa driver: homa.threading.mode=FOO is refused: one of SHARED, " +
                "INVOKER, DEDICATED, SHARED_NETWORK" },
            { "-Dhoma.event.log.enabled=yes", "default.properties", "homa driver: homa.event.log.enabled=yes is " +
                "refused: true or false" },
        };
        for (final String[] refusal : cases)
        {
            final List<String> properties = new ArrayList<>(List.of("-Dhoma.dir=" + dir.getPath(), "-Dhoma.udp.port=0"));
            if (!refusal[0].isEmpty())
            {
                properties.add(refusal[0]);
            }
            final JvmProcess driver = JvmProcess.start("driver", MediaDriver.class, properties,
                refusal[1].isEmpty() ? new String[0] : new String[]{ refusal[1] });
            closeables.add(driver);
            assertEquals(1, driver.awaitExit(START_TIMEOUT_MS), driver::output);
            final String output = driver.output().strip();
            assertFalse(output.contains("\n"), "one line: " + output);
            assertTrue(output.startsWith(refusal[2]), output);
            assertFalse(dir.exists(), "a refused start left " + dir);
        }
        IoUtil.delete(parent, true);
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
        }
    }
}
