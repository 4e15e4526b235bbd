package io.homa.all;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged product as a user runs it: the shaded jar's contents and manifest, and the bin/ scripts running
 * real processes (a standalone driver, homa-stat, pong, ping, error-stat, packet-dump) against each other.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HomaAllJarTest
{
    private static final Path JAR = Paths.get(System.getProperty("homa.all.jar", "target/homa-all.jar"));
    private static final Path ROOT = Paths.get(System.getProperty("homa.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tempDir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void after() throws InterruptedException
    {
        for (final Process process : processes)
        {
            if (process.isAlive())
            {
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void shouldHoldEverythingWithHdrHistogramRelocatedAndTheJvmFlagsInTheManifest() throws IOException
    {
        try (JarFile jar = new JarFile(JAR.toFile()))
        {
            for (final String name : List.of(
                "io/homa/driver/MediaDriver.class",
                "io/homa/client/Homa.class",
                "io/homa/codecs/HomaWire.class",
                "io/homa/codecs/wire/DataHeaderDecoder.class",
                "io/homa/samples/Ping.class",
                "io/homa/samples/Pong.class",
                "io/homa/samples/Throughput.class",
                "io/homa/samples/EmbeddedPingPong.class",
                "io/homa/samples/tools/HomaStat.class",
                "io/homa/samples/tools/ErrorStat.class",
                "io/homa/samples/tools/PacketDump.class",
                "io/homa/samples/tools/RpcStat.class",
                "io/homa/samples/tools/EventDump.class",
                "io/homa/examples/Echo.class",
                "io/homa/examples/KeyValue.class",
                "io/homa/examples/FanOut.class",
                "debug-loss.properties",
                "org/agrona/concurrent/ringbuffer/ManyToOneRingBuffer.class",
                "io/homa/shadow/org/HdrHistogram/Histogram.class"))
            {
                assertNotNull(jar.getEntry(name), name + " missing from " + JAR);
            }
            assertTrue(jar.stream().noneMatch((entry) -> entry.getName().startsWith("org/HdrHistogram/")));
            assertTrue(jar.stream().noneMatch((entry) -> entry.getName().startsWith("org/openjdk/jmh/")));
            assertTrue(jar.stream().noneMatch((entry) -> entry.getName().startsWith("io/homa/samples/bench/")));

            final Attributes manifest = jar.getManifest().getMainAttributes();
            assertEquals("java.base/jdk.internal.misc java.base/java.util.zip", manifest.getValue("Add-Opens"));
            assertEquals("ALL-UNNAMED", manifest.getValue("Enable-Native-Access"));
            assertEquals("io.homa.driver.MediaDriver", manifest.getValue("Main-Class"));
        }
    }

    @Test
    void shouldPrintUsageFromEveryScript() throws Exception
    {
        final String[][] scripts = {
            { "homa-driver", "standalone Homa media driver" },
            { "homa-stat", "homa-stat [options]" },
            { "error-stat", "error-stat [options]" },
            { "packet-dump", "packet-dump [options]" },
            { "rpc-stat", "rpc-stat [options]" },
            { "homa-events", "homa-events [options]" },
            { "ping", "ping [options]" },
            { "pong", "pong [options]" },
            { "throughput", "throughput [options]" },
        };
        for (final String[] script : scripts)
        {
            final Result result = runScript(script[0], "--help");
            assertEquals(0, result.status, script[0] + ": " + result.output);
            assertTrue(result.output.contains(script[1]), script[0] + ": " + result.output);
        }
    }

    @Test
    void shouldRunDriverStatPingPongAndErrorStatAsSeparateProcesses() throws Exception
    {
        final String dir = tempDir.resolve("homa").toString();
        final Path driverLog = tempDir.resolve("driver.log");
        final Process driver = start(driverLog, "homa-driver",
            "-Dhoma.dir=" + dir, "-Dhoma.udp.port=0", "-Dhoma.dir.delete.on.shutdown=true");
        awaitLine(driverLog, Pattern.compile("homa driver: dir=.* udp=.*:(\\d+)"), driver);

        final Result statBefore = runScript("homa-stat", "--dir", dir, "--once", "--label", "client_requests_started");
        assertEquals(0, statBefore.status, statBefore.output);
        final String header = "Homa driver: CnC version " + io.homa.client.internal.CncFileDescriptor.CNC_VERSION + ", PID ";
        assertTrue(statBefore.output.contains(header + driver.pid()), statBefore.output);
        assertTrue(statBefore.output.matches("(?s).*\\n\\s+\\d+:\\s+0 - client_requests_started\\n.*"),
            statBefore.output);

        final Path pongLog = tempDir.resolve("pong.log");
        final Process pong = start(pongLog, "pong", "--dir", dir, "--count", "60");
        awaitLine(pongLog, Pattern.compile("Homa Pong: answering on .*"), pong);

        final Result ping = runScript("ping", "--dir", dir, "--count", "50", "--warmup", "10", "--size", "64");
        assertEquals(0, ping.status, ping.output);
        assertTrue(ping.output.contains("Round-trip time (µs), 64 B request / 64 B response"), ping.output);
        assertTrue(ping.output.contains("Percentile"), ping.output);
        assertTrue(ping.output.contains("Summary: p50 "), ping.output);
        assertTrue(pong.waitFor(60, TimeUnit.SECONDS), "pong did not exit after --count");
        assertTrue(Files.readString(pongLog).contains("answered 60 requests"), Files.readString(pongLog));

        final Result statAfter = runScript("homa-stat", "--dir", dir, "--once", "label=client_requests_started");
        assertTrue(statAfter.output.matches("(?s).*\\n\\s+\\d+:\\s+60 - client_requests_started\\n.*"),
            statAfter.output);

        final Result rpcs = runScript("rpc-stat", "--dir", dir);
        assertEquals(0, rpcs.status, rpcs.output);
        assertTrue(rpcs.output.contains("Homa driver " + dir), rpcs.output);
        assertTrue(rpcs.output.matches("(?s).*: \\d+ RPCs? \\(all ports\\).*"), rpcs.output);

        final Result events = runScript("homa-events", "--dir", dir, "--type", "RPC_CREATED");
        assertEquals(0, events.status, events.output);
        assertTrue(events.output.contains("# Homa event log of driver PID " + driver.pid()), events.output);
        assertEquals(120, events.output.lines().filter((line) -> line.contains(" RPC_CREATED ")).count(),
            events.output);

        final Result errors = runScript("error-stat", "--dir", dir);
        assertEquals(0, errors.status, errors.output);
        assertTrue(errors.output.contains("distinct error"), errors.output);

        driver.destroy();
        assertTrue(driver.waitFor(30, TimeUnit.SECONDS), "driver did not stop on SIGTERM");
        assertTrue(Files.readString(driverLog).contains("homa driver: shutdown"), Files.readString(driverLog));
        assertFalse(new File(dir).exists(), "driver directory left behind");
    }

    @Test
    void shouldRefuseBadArgumentsAndSettingsOfTheDriverScriptWithOneLine() throws Exception
    {
        final String dir = tempDir.resolve("refused").toString();
        final String[][] cases = {
            // { argument, the one line's start }
            { "--bogus", "homa driver: argument --bogus is refused: the driver takes -Dhoma.name=value settings" },
            { "nosuch.properties", "homa driver: property file nosuch.properties is refused: not a file, a URL or " +
                "a resource on the class path" },
            { "-Dhoma.udp.port=abc", "homa driver: homa.udp.port=abc is refused: a whole number" },
            { "-Dhoma.unsched.bytes=20x", "homa driver: homa.unsched.bytes=20x is refused: a size is a whole " +
                "number of bytes with an optional k, m or g suffix" },
            { "-Dhoma.timeout.ticks=abc", "homa driver: homa.timeout.ticks=abc is refused: a whole number" },
            { "-Dhoma.event.log.enabled=yes", "homa driver: homa.event.log.enabled=yes is refused: true or false" },
            { "-Dhoma.unsched.byte=20000", "homa driver: homa.unsched.byte is not a Homa setting (did you mean " +
                "homa.unsched.bytes?)" },
        };
        for (final String[] refusal : cases)
        {
            final Result result = runScript("homa-driver", "-Dhoma.dir=" + dir, refusal[0]);
            assertEquals(1, result.status, refusal[0] + ": " + result.output);
            assertEquals(1, result.output.strip().lines().count(), "one line: " + result.output);
            assertTrue(result.output.startsWith(refusal[1]), result.output);
            assertFalse(new File(dir).exists(), refusal[0] + " left " + dir);
        }
    }

    @Test
    void shouldRefuseBadDemoArgumentsWithTheValidValuesAndNoStackTrace() throws Exception
    {
        final String[][] cases = {
            { "--count", "-5", "EmbeddedPingPong: --count -5 is refused: a whole number >= 0" },
            { "--count", "abc", "EmbeddedPingPong: --count abc is refused: a whole number >= 0" },
            { "--count", "0", "EmbeddedPingPong: --count 0 is refused: a count >= 1" },
            { "--mode", "FOO", "EmbeddedPingPong: --mode FOO is refused: one of SHARED, INVOKER, DEDICATED, " +
                "SHARED_NETWORK" },
        };
        for (final String[] refusal : cases)
        {
            // bin/demo runs EmbeddedPingPong from the samples jar; the shaded jar holds the same class.
            final Result result = runScript("run-java", "io.homa.samples.EmbeddedPingPong", refusal[0], refusal[1]);
            assertEquals(1, result.status, result.output);
            assertEquals(1, result.output.strip().lines().count(), "one line, no stack trace: " + result.output);
            assertTrue(result.output.startsWith(refusal[2]), result.output);
        }
    }

    @Test
    void shouldDumpALinuxCaptureThroughTheScript() throws Exception
    {
        final Path shared = Paths.get(System.getProperty("homa.shared.dir", ROOT.resolve("../shared").toString()));
        final Path capture = shared.resolve("linux-captures").resolve("small_100B.pcap");
        final Result result = runScript("packet-dump", capture.toString());
        assertEquals(0, result.status, result.output);
        assertEquals(48, result.output.lines().filter((line) -> line.matches("^\\d+ .*")).count(), result.output);
        assertTrue(result.output.contains("48 packets: CUTOFFS 2, DATA 41, ICMP 2, NEED_ACK 2, RESEND 1"),
            result.output);
    }

    private Process start(final Path log, final String script, final String... args) throws IOException
    {
        final Process process = builder(script, args).redirectOutput(log.toFile()).start();
        processes.add(process);
        return process;
    }

    private static void awaitLine(final Path log, final Pattern pattern, final Process process) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true)
        {
            final String text = Files.exists(log) ? Files.readString(log) : "";
            final Matcher matcher = pattern.matcher(text);
            if (matcher.find())
            {
                return;
            }
            if (!process.isAlive() || System.nanoTime() - deadlineNs > 0)
            {
                fail("no line matching " + pattern + " (alive " + process.isAlive() + "):\n" + text);
            }
            Thread.sleep(50);
        }
    }

    private Result runScript(final String script, final String... args) throws Exception
    {
        final Path log = tempDir.resolve(script + "-" + System.nanoTime() + ".log");
        final Process process = builder(script, args).redirectOutput(log.toFile()).start();
        processes.add(process);
        if (!process.waitFor(120, TimeUnit.SECONDS))
        {
            fail(script + " did not finish:\n" + Files.readString(log));
        }
        return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static ProcessBuilder builder(final String script, final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add("bash");
        command.add(ROOT.resolve("bin").resolve(script).toString());
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // Never start a nested Maven build from inside this one: the jar under test is the one just shaded.
        builder.environment().put("HOMA_SKIP_BUILD", "1");
        builder.environment().put("HOMA_ALL_JAR", JAR.toAbsolutePath().toString());
        return builder;
    }

    private record Result(int status, String output)
    {
    }
}
