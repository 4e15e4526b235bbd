package io.homa.samples;

import io.homa.driver.ThreadingMode;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SamplesTest
{
    @Test
    void shouldRunEmbeddedPingPongInBothModesAndPrintPercentiles()
    {
        for (final ThreadingMode mode : ThreadingMode.values())
        {
            final String output = captureStdout(() ->
            {
                final Histogram histogram = EmbeddedPingPong.run(
                    new EmbeddedPingPong.Options().size(100).count(500).warmup(100).mode(mode));
                assertEquals(500, histogram.getTotalCount());
                assertTrue(histogram.getValueAtPercentile(50) > 0);
            });
            assertTrue(output.contains("Percentile"), output);
            assertTrue(output.contains("Summary: p50"), output);
            assertTrue(output.contains("errors 0"), output);
            // Summary first: settings, then the summary and driver lines, then the ~90 lines of percentiles.
            final List<String> lines = output.lines().filter((line) -> !line.isBlank()).toList();
            assertTrue(lines.get(0).startsWith("Homa EmbeddedPingPong: "), output);
            assertTrue(lines.get(1).startsWith("transport: "), output);
            assertTrue(lines.get(2).startsWith("Summary: p50 "), output);
            assertTrue(lines.get(3).startsWith("Driver: DATA sent "), output);
            assertTrue(lines.get(4).startsWith("Round-trip time (µs), 100 B request / 100 B response:"), output);
        }
    }

    @Test
    void shouldRunPingPongWithLargeMultiPacketRequests()
    {
        final String output = captureStdout(() ->
        {
            final Histogram histogram = EmbeddedPingPong.run(
                new EmbeddedPingPong.Options().size(500_000).responseSize(100).count(20).warmup(5).mode(ThreadingMode.SHARED));
            assertEquals(20, histogram.getTotalCount());
        });
        assertTrue(output.contains("500000 B request"), output);
    }

    @Test
    void shouldMeasureShortRpcsAloneAndBesideLongMessages()
    {
        final String output = captureStdout(() ->
        {
            final Histogram[] histograms =
                SrptLatency.run(new SrptLatency.Options().count(200).warmup(50).background(2));
            assertEquals(200, histograms[0].getTotalCount());
            assertEquals(200, histograms[1].getTotalCount());
        });
        assertTrue(output.contains("| alone |"), output);
        assertTrue(output.contains("| with long messages |"), output);
        assertTrue(output.contains("UDP drops 0"), output);
    }

    @Test
    void shouldRunKeyValueLoopOverHomaAndTcpWithEveryValueReadBack()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final KeyValue.Result result = KeyValue.run(new String[]{ "--count", "300", "--runs", "2", "--interval", "0" },
            new PrintStream(bytes, true, StandardCharsets.UTF_8));
        final String output = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, result.failures(), output);
        assertEquals(600, result.homa().getTotalCount(), output);
        assertEquals(600, result.tcp().getTotalCount(), output);
        assertTrue(output.contains("failed Homa RPCs: 0"), output);
        assertTrue(output.lines().anyMatch(line -> line.startsWith("tcp (")), output);
    }

    @Test
    void shouldRunKeyValueLoopAgainstSleepingDrivers()
    {
        // One RPC every 5 ms: both drivers and the server thread are asleep in the kernel when each request comes.
        final KeyValue.Result result = KeyValue.run(
            new String[]{ "--count", "40", "--protocol", "homa", "--interval", "5ms" }, new PrintStream(
                new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, result.failures());
        assertEquals(40, result.homa().getTotalCount());
    }

    @Test
    void shouldDecodeEveryPacketTypeInCodecDemo()
    {
        final String output = captureStdout(() -> CodecDemo.main(new String[0]));
        for (final String type : new String[]{ "DATA", "GRANT", "RESEND", "RPC_UNKNOWN", "BUSY", "CUTOFFS",
            "FREEZE", "NEED_ACK", "ACK", "PORT_UNREACHABLE" })
        {
            assertTrue(output.lines().anyMatch(line -> line.startsWith(type + " ")), type + " missing:\n" + output);
        }
        assertTrue(output.contains("grantOffset=60000 priority=3"), output);
        assertTrue(output.contains("resendLength=ALL priority=7"), output);
    }

    private static String captureStdout(final Runnable body)
    {
        final PrintStream original = System.out;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try
        {
            body.run();
        }
        finally
        {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
