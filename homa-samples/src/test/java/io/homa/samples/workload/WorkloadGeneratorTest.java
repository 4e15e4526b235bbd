package io.homa.samples.workload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadGeneratorTest
{
    @TempDir
    Path dir;

    @Test
    void shouldMakePoissonArrivalsAtTheRateTheLoadAsks()
    {
        final MessageSizeDistribution w4 = MessageSizeDistribution.workload("w4");
        // 40 % of 1 Gbit/s in W4 requests: 0.4e9 / 8 / 61,008 B = 819.6 RPC/s, split over two threads.
        final double rate = 0.4 * 1_000 * 1e6 / 8 / w4.mean();
        final WorkloadGenerator.Schedule[] schedules =
            WorkloadGenerator.Schedule.build(w4, rate, 2, TimeUnit.SECONDS.toNanos(200), 0, 7);
        long bytes = 0;
        int count = 0;
        for (final WorkloadGenerator.Schedule schedule : schedules)
        {
            final double meanGapNs = (double)schedule.atNs[schedule.count - 1] / schedule.count;
            assertEquals(2e9 / rate, meanGapNs, 0.03 * 2e9 / rate, "mean gap per thread");
            // Exponential gaps: the standard deviation equals the mean.
            double sumSquares = 0;
            for (int i = 1; i < schedule.count; i++)
            {
                final double gap = schedule.atNs[i] - schedule.atNs[i - 1];
                sumSquares += (gap - meanGapNs) * (gap - meanGapNs);
            }
            assertEquals(meanGapNs, Math.sqrt(sumSquares / (schedule.count - 1)), 0.05 * meanGapNs, "gap spread");
            for (int i = 0; i < schedule.count; i++)
            {
                bytes += schedule.bytes[i];
            }
            count += schedule.count;
        }
        assertEquals(w4.mean(), (double)bytes / count, 0.05 * w4.mean(), "sizes follow the workload");

        final WorkloadGenerator.Schedule again =
            WorkloadGenerator.Schedule.build(w4, rate, 2, TimeUnit.SECONDS.toNanos(200), 0, 7)[1];
        assertArrayEquals(schedules[1].atNs, again.atNs, "same seed, same arrivals");
        assertArrayEquals(schedules[1].bytes, again.bytes, "same seed, same sizes");
        assertEquals(1_000, Arrays.stream(WorkloadGenerator.Schedule.build(w4, rate, 3, 0, 1_000, 1))
            .mapToInt(s -> s.count).sum(), "--count splits over the threads");
    }

    @Test
    void shouldComputeSlowdownByBucketAgainstTheUnloadedModel()
    {
        final MessageSizeDistribution w4 = MessageSizeDistribution.workload("w4");
        final Slowdowns slowdowns = new Slowdowns(w4);
        // Calibration: 10 us + 1 ns per byte, exactly.
        final Slowdowns.Samples calibration = new Slowdowns.Samples();
        for (final int size : new int[]{ 100, 200, 1_000, 20_000, 100_000, 1_000_000 })
        {
            calibration.add(size, 10_000 + size);
        }
        slowdowns.baseline(calibration);
        assertEquals(10_000, slowdowns.unloadedNs(0), 10);
        assertEquals(1_010_000, slowdowns.unloadedNs(1_000_000), 0.01 * 1_010_000);

        // Loaded: in the smallest bucket, RTTs of 1..100 times the unloaded one.
        final int small = slowdowns.upperBytes(0);
        final Slowdowns.Samples loaded = new Slowdowns.Samples();
        for (int k = 1; k <= 100; k++)
        {
            loaded.add(small, (long)(k * slowdowns.unloadedNs(small)));
        }
        loaded.add(1_000_000, (long)(2 * slowdowns.unloadedNs(1_000_000)));
        slowdowns.add("homa", loaded);
        assertEquals(0, slowdowns.bucketOf(1));
        assertEquals(Slowdowns.BUCKETS - 1, slowdowns.bucketOf(1_000_000));
        assertEquals(100, slowdowns.count("homa", 0));
        assertEquals(50, slowdowns.slowdown("homa", 0, 50), 1e-3);
        assertEquals(99, slowdowns.slowdown("homa", 0, 99), 1e-3);
        assertEquals(2, slowdowns.slowdown("homa", Slowdowns.BUCKETS - 1, 50), 1e-3);
        assertTrue(Double.isNaN(slowdowns.slowdown("homa", 5, 50)), "empty bucket");
        for (int b = 1; b < Slowdowns.BUCKETS; b++)
        {
            assertTrue(slowdowns.upperBytes(b) >= slowdowns.upperBytes(b - 1), "edges grow");
        }
        assertEquals(1_000_000, slowdowns.upperBytes(Slowdowns.BUCKETS - 1));

        // Short messages pooled: the 100 small ones (sizes up to 1,000 B), not the 1 MB one.
        assertTrue(small <= 1_000, "the smallest bucket holds short messages: " + small);
        assertEquals(50 * slowdowns.unloadedNs(small), slowdowns.rttNs("homa", 1_000, 50), 1);
        assertEquals(99 * slowdowns.unloadedNs(small), slowdowns.rttNs("homa", 1_000, 99), 1);
        assertTrue(Double.isNaN(slowdowns.rttNs("homa", 0, 50)), "no message of 0 bytes");
        assertTrue(slowdowns.shortMessagesLine(1_000).startsWith("messages <= 1,000 B: homa n 100 P50 "),
            slowdowns.shortMessagesLine(1_000));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldRunTheWorkloadOverHomaAndTcpAndReportSlowdowns() throws Exception
    {
        final Path plot = dir.resolve("w4.svg");
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final WorkloadGenerator.Result result;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8))
        {
            result = WorkloadGenerator.run(new String[]{ "--role", "both", "--protocol", "both", "--workload", "w4",
                "--load", "0.05", "--link-mbps", "1000", "--count", "300", "--calibrate", "60",
                "--warmup", "0.3", "--warmup-rpcs", "200", "--plot", plot.toString() }, out);
        }
        final String output = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(300, result.completed()[0], output);
        assertEquals(300, result.completed()[1], output);
        assertEquals(0, result.skipped()[0] + result.skipped()[1] + result.failed()[0] + result.failed()[1], output);
        assertTrue(output.contains("Slowdown by message size"), output);
        assertTrue(output.contains("homa warm-up: ") && output.contains("tcp warm-up: "), output);
        assertTrue(output.contains("homa warm-up burst: 200 RPCs") && output.contains("tcp warm-up burst: 200 RPCs"),
            output);
        int rows = 0;
        for (final String line : output.split("\n"))
        {
            if (line.matches("^\\d+% +[\\d,]+ +\\d+ +[\\d.]+ +[\\d.]+ +\\d+ +[\\d.]+ +[\\d.]+\\s*$"))
            {
                rows++;
            }
        }
        assertEquals(Slowdowns.BUCKETS, rows, "one row per bucket with numbers for both protocols:\n" + output);
        assertTrue(java.util.regex.Pattern.compile("(?m)^messages <= 1,000 B: homa n [\\d,]+ P50 [\\d.]+ us P99 " +
            "[\\d.]+ us; tcp n [\\d,]+ P50 [\\d.]+ us P99 [\\d.]+ us$").matcher(output).find(),
            "the short messages' pooled round trips, both protocols:\n" + output);

        final Document svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(plot.toFile());
        assertEquals("svg", svg.getDocumentElement().getTagName());
        final NodeList lines = svg.getElementsByTagName("polyline");
        final Set<String> series = new HashSet<>();
        for (int i = 0; i < lines.getLength(); i++)
        {
            final Element line = (Element)lines.item(i);
            series.add(line.getAttribute("data-series"));
            assertTrue(line.getAttribute("points").split(" ").length >= 5, "points of " + series);
        }
        assertEquals(Set.of("homa P50", "homa P99", "tcp P50", "tcp P99"), series);
    }
}
