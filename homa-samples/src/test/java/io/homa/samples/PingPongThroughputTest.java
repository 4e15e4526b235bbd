package io.homa.samples;

import io.homa.client.HomaAddress;
import io.homa.driver.MediaDriver;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PingPongThroughputTest
{
    private static final Pattern RATE_LINE = Pattern.compile(
        "^\\s*[\\d.]+ s:\\s+[\\d,]+ RPC/s, requests\\s+[\\d.]+ Gbit/s, responses\\s+[\\d.]+ Gbit/s, total [\\d,]+ RPCs$");

    @Test
    void shouldReportRatesEverySecondAndLatencyPercentiles()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Throughput.Result result = Throughput.run(
            new String[]{ "--size", "10k", "--response-size", "100", "--outstanding", "4", "--duration", "2.5s" },
            print(bytes));
        final String output = bytes.toString(StandardCharsets.UTF_8);

        assertTrue(result.rpcs() > 0, output);
        assertEquals(0, result.failedRpcs(), output);
        assertEquals(result.rpcs(), result.latency().getTotalCount());
        assertTrue(result.requestGbps() > 0, output);
        assertTrue(output.lines().filter((line) -> RATE_LINE.matcher(line).matches()).count() >= 2, output);
        assertTrue(output.contains("Percentile"), output);
        assertTrue(output.contains("failed RPCs 0"), output);
    }

    @Test
    void shouldCarryMultiPacketMessagesWithManyOutstanding()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Throughput.Result result = Throughput.run(
            new String[]{ "--size", "300000", "--outstanding", "16", "--duration", "1s", "--interval", "500ms" },
            print(bytes));
        assertTrue(result.rpcs() > 0, bytes.toString(StandardCharsets.UTF_8));
        assertEquals(0, result.failedRpcs());
    }

    @Test
    void shouldPingPongOnTwoEmbeddedDrivers() throws Exception
    {
        final ByteArrayOutputStream pongBytes = new ByteArrayOutputStream();
        final AtomicBoolean running = new AtomicBoolean(true);
        final CompletableFuture<HomaAddress> ready = new CompletableFuture<>();
        final AtomicLong answered = new AtomicLong(-1);
        final Thread pong = new Thread(() -> answered.set(Pong.run(
            new String[]{ "--udp-port", "0", "--port", "4001" }, running, ready::complete, print(pongBytes))));
        pong.start();
        try
        {
            final HomaAddress pongAddress = ready.get(30, TimeUnit.SECONDS);
            final ByteArrayOutputStream pingBytes = new ByteArrayOutputStream();
            final Histogram histogram = Ping.run(new String[]{
                "--pong-udp-port", Integer.toString(pongAddress.udpPort()), "--pong-port", "4001",
                "--size", "200", "--count", "300", "--warmup", "50" }, print(pingBytes));
            final String output = pingBytes.toString(StandardCharsets.UTF_8);

            assertEquals(300, histogram.getTotalCount());
            assertTrue(histogram.getValueAtPercentile(50) > 0);
            assertTrue(output.contains("Round-trip time (µs), 200 B request / 200 B response"), output);
            assertTrue(output.contains("Percentile"), output);
            assertTrue(output.contains("Summary: p50 "), output);
        }
        finally
        {
            running.set(false);
            pong.join(30_000);
        }
        assertEquals(350, answered.get());
        final String pongOutput = pongBytes.toString(StandardCharsets.UTF_8);
        assertTrue(pongOutput.contains("Homa Pong: answering on 127.0.0.1:"), pongOutput);
        assertTrue(pongOutput.contains("answered 350 requests"), pongOutput);
    }

    @Test
    void shouldPingPongThroughOneSharedDriverDirectory() throws Exception
    {
        try (MediaDriver driver = MediaDriver.launchEmbedded())
        {
            final String dir = driver.homaDirectoryName();
            final ByteArrayOutputStream pongBytes = new ByteArrayOutputStream();
            final CompletableFuture<HomaAddress> ready = new CompletableFuture<>();
            final AtomicLong answered = new AtomicLong(-1);
            final AtomicBoolean running = new AtomicBoolean(true);
            final Thread pong = new Thread(() -> answered.set(Pong.run(
                new String[]{ "--dir", dir, "--response-size", "32" }, running, ready::complete, print(pongBytes))));
            pong.start();
            final Histogram histogram;
            final ByteArrayOutputStream pingBytes = new ByteArrayOutputStream();
            try
            {
                ready.get(30, TimeUnit.SECONDS);
                histogram = Ping.run(new String[]{ "--dir", dir, "--count", "20", "--warmup", "10" }, print(pingBytes));
            }
            finally
            {
                running.set(false);
                pong.join(30_000);
            }

            assertEquals(20, histogram.getTotalCount());
            assertEquals(30, answered.get(), pongBytes.toString(StandardCharsets.UTF_8));
            final String output = pingBytes.toString(StandardCharsets.UTF_8);
            assertTrue(output.contains("driver in " + dir), output);
            assertTrue(output.contains("100 B request / 32 B response"), output);
        }
    }

    @Test
    void shouldPrintUsageForHelp()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        assertNull(Ping.run(new String[]{ "--help" }, print(bytes)));
        assertNull(Throughput.run(new String[]{ "-h" }, print(bytes)));
        assertEquals(0, Pong.run(new String[]{ "--help" }, new AtomicBoolean(true), (address) -> {}, print(bytes)));
        final String output = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("ping [options]") && output.contains("throughput [options]") &&
            output.contains("pong [options]"), output);
    }

    private static PrintStream print(final ByteArrayOutputStream bytes)
    {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
