package io.homa.samples.workload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Slowdown by message size, the way the Homa papers plot it: messages are put in ten buckets of equal share of the
 * workload's messages (x = the size at each decile of the CDF), and each RPC's slowdown is its round-trip time over
 * the round trip of a message of that size on an unloaded network. The unloaded round trip comes from a calibration
 * run (one RPC at a time, sizes from the same workload) fitted as {@code base + perByte * size}: the median RTT of the
 * small messages, and the median extra time per byte of the large ones. Both protocols are measured against the same
 * (Homa's) unloaded baseline, so their curves share a scale.
 */
public final class Slowdowns
{
    /** Buckets on the x axis. */
    public static final int BUCKETS = 10;
    private static final int SMALL_BYTES = 1_500;
    private static final int LARGE_BYTES = 10_000;

    private final int[] upperBytes = new int[BUCKETS];
    private double baseNs;
    private double perByteNs;
    private final Map<String, Samples> series = new LinkedHashMap<>();

    /**
     * @param distribution the workload: bucket edges are its deciles.
     */
    public Slowdowns(final MessageSizeDistribution distribution)
    {
        for (int i = 0; i < BUCKETS; i++)
        {
            upperBytes[i] = distribution.lengthAt(Math.min((i + 1) / (double)BUCKETS, 0.999_999));
        }
    }

    /**
     * Fits the unloaded round trip from calibration samples.
     *
     * @param calibration sizes and round trips of RPCs sent one at a time.
     * @return this.
     */
    public Slowdowns baseline(final Samples calibration)
    {
        final double[] small = new double[calibration.count];
        int smallCount = 0;
        long smallest = Long.MAX_VALUE;
        for (int i = 0; i < calibration.count; i++)
        {
            smallest = Math.min(smallest, calibration.rttNs[i]);
            if (calibration.bytes[i] <= SMALL_BYTES)
            {
                small[smallCount++] = calibration.rttNs[i];
            }
        }
        baseNs = smallCount > 0 ? median(small, smallCount) : Math.max(1, smallest);
        final double[] perByte = new double[calibration.count];
        int largeCount = 0;
        for (int i = 0; i < calibration.count; i++)
        {
            if (calibration.bytes[i] >= LARGE_BYTES)
            {
                perByte[largeCount++] = Math.max(0, calibration.rttNs[i] - baseNs) / calibration.bytes[i];
            }
        }
        perByteNs = largeCount > 0 ? median(perByte, largeCount) : 0;
        if (smallCount > 0 && perByteNs > 0)
        {
            // Take the small messages' own bytes out of the base.
            int n = 0;
            for (int i = 0; i < calibration.count; i++)
            {
                if (calibration.bytes[i] <= SMALL_BYTES)
                {
                    small[n++] = calibration.rttNs[i] - perByteNs * calibration.bytes[i];
                }
            }
            baseNs = median(small, n);
        }
        return this;
    }

    /**
     * @param base    unloaded round trip of a tiny message, ns.
     * @param perByte unloaded extra time per byte, ns.
     * @return this.
     */
    public Slowdowns baseline(final double base, final double perByte)
    {
        this.baseNs = base;
        this.perByteNs = perByte;
        return this;
    }

    /**
     * @param bytes message size.
     * @return the unloaded round trip the model gives, ns.
     */
    public double unloadedNs(final int bytes)
    {
        return baseNs + perByteNs * bytes;
    }

    /**
     * @param name    protocol name, e.g. {@code homa}.
     * @param samples its loaded RPCs.
     * @return this.
     */
    public Slowdowns add(final String name, final Samples samples)
    {
        series.put(name, samples);
        return this;
    }

    /**
     * @param bytes message size.
     * @return its bucket, 0..{@link #BUCKETS} - 1.
     */
    public int bucketOf(final int bytes)
    {
        for (int i = 0; i < BUCKETS - 1; i++)
        {
            if (bytes <= upperBytes[i])
            {
                return i;
            }
        }
        return BUCKETS - 1;
    }

    /**
     * @param bucket a bucket.
     * @return the largest size in it.
     */
    public int upperBytes(final int bucket)
    {
        return upperBytes[bucket];
    }

    /**
     * @param name       a series.
     * @param bucket     a bucket.
     * @param percentile 0..100.
     * @return the slowdown at that percentile, or NaN if the bucket is empty.
     */
    public double slowdown(final String name, final int bucket, final double percentile)
    {
        final Samples samples = series.get(name);
        final double[] values = new double[samples.count];
        int n = 0;
        for (int i = 0; i < samples.count; i++)
        {
            if (bucketOf(samples.bytes[i]) == bucket)
            {
                values[n++] = samples.rttNs[i] / unloadedNs(samples.bytes[i]);
            }
        }
        if (0 == n)
        {
            return Double.NaN;
        }
        Arrays.sort(values, 0, n);
        final int rank = (int)Math.ceil(percentile / 100.0 * n) - 1;
        return values[Math.min(n - 1, Math.max(0, rank))];
    }

    /**
     * Round trip of a series' messages up to a size, pooled across buckets (the paper's short messages).
     *
     * @param name       a series.
     * @param maxBytes   largest message counted.
     * @param percentile 0..100.
     * @return the round trip in ns at that percentile, or NaN if no message is that small.
     */
    public double rttNs(final String name, final int maxBytes, final double percentile)
    {
        final Samples samples = series.get(name);
        final long[] values = new long[samples.count];
        int n = 0;
        for (int i = 0; i < samples.count; i++)
        {
            if (samples.bytes[i] <= maxBytes)
            {
                values[n++] = samples.rttNs[i];
            }
        }
        if (0 == n)
        {
            return Double.NaN;
        }
        Arrays.sort(values, 0, n);
        final int rank = (int)Math.ceil(percentile / 100.0 * n) - 1;
        return values[Math.min(n - 1, Math.max(0, rank))];
    }

    /**
     * @param maxBytes largest message counted.
     * @return one line: every series' pooled P50 and P99 round trip, in µs, of the messages up to that size.
     */
    public String shortMessagesLine(final int maxBytes)
    {
        final StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "messages <= %,d B:", maxBytes));
        String separator = " ";
        for (final String name : series.keySet())
        {
            int n = 0;
            final Samples samples = series.get(name);
            for (int i = 0; i < samples.count; i++)
            {
                n += samples.bytes[i] <= maxBytes ? 1 : 0;
            }
            out.append(String.format(Locale.ROOT, "%s%s n %,d P50 %.1f us P99 %.1f us", separator, name, n,
                rttNs(name, maxBytes, 50) / 1e3, rttNs(name, maxBytes, 99) / 1e3));
            separator = "; ";
        }
        return out.append('\n').toString();
    }

    /**
     * @param name   a series.
     * @param bucket a bucket.
     * @return RPCs in it.
     */
    public int count(final String name, final int bucket)
    {
        final Samples samples = series.get(name);
        int n = 0;
        for (int i = 0; i < samples.count; i++)
        {
            if (bucketOf(samples.bytes[i]) == bucket)
            {
                n++;
            }
        }
        return n;
    }

    /**
     * @return the table: one row per bucket, P50 and P99 slowdown of every series.
     */
    public String table()
    {
        final StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "unloaded RTT model: %.1f us + %.3f ns/byte%n", baseNs / 1e3, perByteNs));
        out.append(String.format(Locale.ROOT, "%-8s %10s", "bucket", "<= bytes"));
        for (final String name : series.keySet())
        {
            out.append(String.format(Locale.ROOT, " %8s %9s %9s", name + " n", name + " P50", name + " P99"));
        }
        out.append('\n');
        for (int b = 0; b < BUCKETS; b++)
        {
            out.append(String.format(Locale.ROOT, "%-8s %,10d", (b + 1) * 10 + "%", upperBytes[b]));
            for (final String name : series.keySet())
            {
                out.append(String.format(Locale.ROOT, " %8d %9.2f %9.2f",
                    count(name, b), slowdown(name, b, 50), slowdown(name, b, 99)));
            }
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * Writes the plot: slowdown (log scale) against the size buckets, P50 and P99 lines per series.
     *
     * @param file  where.
     * @param title caption.
     */
    public void writeSvg(final Path file, final String title)
    {
        final int width = 760;
        final int height = 420;
        final int left = 70;
        final int right = 150;
        final int top = 40;
        final int bottom = 60;
        final double plotW = width - left - right;
        final double plotH = height - top - bottom;
        double max = 10;
        for (final String name : series.keySet())
        {
            for (int b = 0; b < BUCKETS; b++)
            {
                final double v = slowdown(name, b, 99);
                if (!Double.isNaN(v))
                {
                    max = Math.max(max, v);
                }
            }
        }
        final double logMax = Math.ceil(Math.log10(max));
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" " +
            "font-size=\"12\">%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">%s</text>%n", left,
            escape(title)));
        svg.append(String.format(Locale.ROOT,
            "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>%n",
            left, top, plotW, plotH));
        for (int decade = 0; decade <= logMax; decade++)
        {
            final double y = top + plotH - decade / logMax * plotH;
            svg.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>" +
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                left, y, left + plotW, y, left - 6, y + 4, (long)Math.pow(10, decade)));
        }
        for (int b = 0; b < BUCKETS; b++)
        {
            final double x = left + (b + 0.5) / BUCKETS * plotW;
            svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"10\">%s</text>%n",
                x, top + plotH + 16, shortSize(upperBytes[b])));
        }
        svg.append(String.format(Locale.ROOT,
            "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">message size (bucket upper bound; 10%% of messages each)" +
            "</text>%n", left + plotW / 2, height - 18));
        svg.append(String.format(Locale.ROOT,
            "<text x=\"18\" y=\"%.0f\" transform=\"rotate(-90 18 %.0f)\" text-anchor=\"middle\">slowdown</text>%n",
            top + plotH / 2, top + plotH / 2));
        final String[] colours = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd" };
        int index = 0;
        int legendY = top + 10;
        for (final String name : series.keySet())
        {
            final String colour = colours[index++ % colours.length];
            for (final double percentile : new double[]{ 50, 99 })
            {
                final StringBuilder points = new StringBuilder();
                for (int b = 0; b < BUCKETS; b++)
                {
                    final double v = slowdown(name, b, percentile);
                    if (Double.isNaN(v))
                    {
                        continue;
                    }
                    final double y = top + plotH - Math.log10(Math.max(1, v)) / logMax * plotH;
                    points.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + (b + 0.5) / BUCKETS * plotW, y));
                }
                final String dash = 50 == percentile ? "" : " stroke-dasharray=\"6 4\"";
                svg.append(String.format(Locale.ROOT,
                    "<polyline class=\"series\" data-series=\"%s P%d\" fill=\"none\" stroke=\"%s\" " +
                    "stroke-width=\"2\"%s points=\"%s\"/>%n",
                    escape(name), (int)percentile, colour, dash, points.toString().trim()));
                svg.append(String.format(Locale.ROOT,
                    "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>" +
                    "<text x=\"%.0f\" y=\"%d\">%s P%d</text>%n",
                    left + plotW + 10, legendY, left + plotW + 40, legendY, colour, dash, left + plotW + 46,
                    legendY + 4, escape(name), (int)percentile));
                legendY += 18;
            }
        }
        svg.append("</svg>\n");
        try
        {
            Files.writeString(file, svg.toString(), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private static String shortSize(final int bytes)
    {
        return bytes >= 1_000_000 ? bytes / 1_000_000 + "M" : bytes >= 1_000 ? bytes / 1_000 + "K" : bytes + "";
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static double median(final double[] values, final int count)
    {
        Arrays.sort(values, 0, count);
        return 0 == count % 2 ? (values[count / 2 - 1] + values[count / 2]) / 2 : values[count / 2];
    }

    /**
     * Sizes and round trips of completed RPCs, appended by one thread.
     */
    public static final class Samples
    {
        private int[] bytes = new int[1024];
        private long[] rttNs = new long[1024];
        private int count;

        /**
         * @param size  message size.
         * @param rtt   round trip, ns.
         */
        public void add(final int size, final long rtt)
        {
            if (count == bytes.length)
            {
                bytes = Arrays.copyOf(bytes, count * 2);
                rttNs = Arrays.copyOf(rttNs, count * 2);
            }
            bytes[count] = size;
            rttNs[count] = rtt;
            count++;
        }

        /**
         * @param other appended to this.
         */
        public void addAll(final Samples other)
        {
            for (int i = 0; i < other.count; i++)
            {
                add(other.bytes[i], other.rttNs[i]);
            }
        }

        /**
         * @return samples held.
         */
        public int count()
        {
            return count;
        }

        /**
         * @param i index.
         * @return its round trip, ns.
         */
        public long rttNs(final int i)
        {
            return rttNs[i];
        }

        /**
         * @param i index.
         * @return its size.
         */
        public int bytes(final int i)
        {
            return bytes[i];
        }
    }
}
