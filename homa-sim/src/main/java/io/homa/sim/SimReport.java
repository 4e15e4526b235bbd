package io.homa.sim;

import io.homa.codecs.HomaWire;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A run's figures as a table for people, a CSV of the slowdown buckets, and an SVG plot of P50 and P99 slowdown
 * by size bucket (log scale), like {@code bin/workload}'s.
 */
public final class SimReport
{
    private SimReport()
    {
    }

    /**
     * @param r a run.
     * @return the report as text.
     */
    public static String table(final SimResult r)
    {
        final StringBuilder out = new StringBuilder();
        out.append(r.settings.describe()).append('\n');
        out.append(String.format(Locale.ROOT, "%-8s %10s %9s %9s %9s%n", "bucket", "<= bytes", "messages", "P50",
            "P99"));
        for (int b = 0; b < SimResult.BUCKETS; b++)
        {
            out.append(String.format(Locale.ROOT, "%-8s %,10d %,9d %9.2f %9.2f%n", (b + 1) * 10 + "%",
                r.upperBytes[b], r.bucketCount[b], r.p50[b], r.p99[b]));
        }
        out.append(String.format(Locale.ROOT, "%-8s %10s %,9d %9.2f %9.2f%n", "all", "", r.completed, r.allP50,
            r.allP99));
        out.append(String.format(Locale.ROOT, "messages %,d sent, %,d completed, %,d failed, %,d still open%s%n",
            r.messages, r.completed, r.failed, r.messages - r.completed - r.failed,
            r.sendRegionWaits > 0 ? String.format(Locale.ROOT, " (%,d waited for send space)", r.sendRegionWaits) :
                ""));
        out.append(String.format(Locale.ROOT,
            "link utilisation (mean/max): host uplinks %s, ToR downlinks %s, core links %s%n",
            pair(r.nicUtilisation), pair(r.downlinkUtilisation), pair(r.uplinkUtilisation)));
        out.append("switch queues per priority, mean/max bytes:");
        for (int p = Port.PRIORITIES - 1; p >= 0; p--)
        {
            out.append(String.format(Locale.ROOT, " P%d %.0f/%,d", p, r.meanQueueBytes[p], r.maxQueueBytes[p]));
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT,
            "DATA payload: unscheduled %,d, scheduled %,d, retransmitted %,d, wasted %,d bytes (dropped %,d)%n",
            r.unschedBytes, r.schedBytes, r.resentBytes, r.wastedBytes, r.droppedPayloadBytes));
        out.append(String.format(Locale.ROOT,
            "network: %,d buffer overflows, %,d lost, %,d duplicated, %,d reordered; receivers saw %,d " +
            "duplicate DATA%n", r.overflowDrops, r.lost, r.duplicated, r.reordered, r.duplicateData));
        out.append("packets sent:");
        for (int type = 0; type < r.sentByType.length; type++)
        {
            if (r.sentByType[type] > 0)
            {
                out.append(' ').append(HomaWire.typeName(type)).append(String.format(Locale.ROOT, " %,d",
                    r.sentByType[type]));
            }
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT,
            "simulated %.3f ms in %.2f s wall, %.2f s CPU (+%.2f s setup)%s%n", r.simulatedNs / 1e6, r.wallNs / 1e9,
            r.cpuNs / 1e9, r.setupNs / 1e9, r.isDrained ? "" : " (drain limit reached)"));
        out.append(String.format(Locale.ROOT,
            "%,d events, %,d packet events (%,d arrivals, %,d link transmissions): %.2f M packet events/s wall, " +
            "%.2f M per CPU second%n", r.events, r.packetEvents(), r.packetArrivals, r.linkTransmissions,
            r.packetEvents() / (r.wallNs / 1e9) / 1e6, r.packetEvents() / (r.cpuNs / 1e9) / 1e6));
        out.append(String.format(Locale.ROOT, "trace hash %016x%n", r.traceHash));
        return out.toString();
    }

    private static String pair(final double[] meanMax)
    {
        return Double.isNaN(meanMax[0]) ? "-" :
            String.format(Locale.ROOT, "%.1f%%/%.1f%%", meanMax[0] * 100, meanMax[1] * 100);
    }

    /**
     * @param r a run.
     * @return the slowdown buckets as CSV, with a header.
     */
    public static String csv(final SimResult r)
    {
        final StringBuilder out = new StringBuilder(
            "workload,load,hosts,echo,seed,bucket,upper_bytes,messages,p50_slowdown,p99_slowdown\n");
        for (int b = 0; b < SimResult.BUCKETS; b++)
        {
            out.append(String.format(Locale.ROOT, "%s,%.3f,%d,%b,%d,%d,%d,%d,%.4f,%.4f%n", r.settings.workload,
                r.settings.load, r.settings.hosts, r.settings.isEcho, r.settings.seed, b + 1, r.upperBytes[b],
                r.bucketCount[b], r.p50[b], r.p99[b]));
        }
        return out.toString();
    }

    /**
     * @param r a run.
     * @return the plot: slowdown on a log axis against the size buckets, P50 and P99 lines.
     */
    public static String svg(final SimResult r)
    {
        final int width = 760;
        final int height = 420;
        final int left = 70;
        final int right = 30;
        final int top = 40;
        final int bottom = 70;
        double max = 2;
        for (int b = 0; b < SimResult.BUCKETS; b++)
        {
            if (!Double.isNaN(r.p99[b]))
            {
                max = Math.max(max, r.p99[b]);
            }
        }
        final double decades = Math.ceil(Math.log10(max));
        final double plotWidth = width - left - right;
        final double plotHeight = height - top - bottom;
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" " +
            "font-size=\"12\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">%s</text>%n", left,
            escape("homa-sim: " + r.settings.describe())));
        for (int d = 0; d <= decades; d++)
        {
            final double y = top + plotHeight - d / decades * plotHeight;
            svg.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>" +
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left, y, width - right, y, left - 6,
                y + 4, (long)Math.pow(10, d)));
        }
        for (int b = 0; b < SimResult.BUCKETS; b++)
        {
            final double x = left + (b + 0.5) / SimResult.BUCKETS * plotWidth;
            svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, height - bottom + 18,
                human(r.upperBytes[b])));
        }
        svg.append(String.format(Locale.ROOT,
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">message size (upper edge of each 10%% bucket)</text>%n",
            left + plotWidth / 2, height - 20));
        svg.append(String.format(Locale.ROOT,
            "<text x=\"16\" y=\"%.1f\" transform=\"rotate(-90 16 %.1f)\" text-anchor=\"middle\">slowdown</text>%n",
            top + plotHeight / 2, top + plotHeight / 2));
        line(svg, r.p50, "#1f77b4", "", left, top, plotWidth, plotHeight, decades);
        line(svg, r.p99, "#d62728", " stroke-dasharray=\"6 4\"", left, top, plotWidth, plotHeight, decades);
        svg.append(String.format(Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" fill=\"#1f77b4\">P50</text><text x=\"%d\" y=\"%d\" fill=\"#d62728\">P99</text>%n",
            width - right - 80, top + 14, width - right - 40, top + 14));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static void line(
        final StringBuilder svg,
        final double[] values,
        final String colour,
        final String dash,
        final int left,
        final int top,
        final double plotWidth,
        final double plotHeight,
        final double decades)
    {
        final StringBuilder points = new StringBuilder();
        for (int b = 0; b < values.length; b++)
        {
            if (Double.isNaN(values[b]))
            {
                continue;
            }
            final double x = left + (b + 0.5) / values.length * plotWidth;
            final double y = top + plotHeight - Math.log10(Math.max(1, values[b])) / decades * plotHeight;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        svg.append(String.format(Locale.ROOT,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>%n", colour, dash,
            points.toString().trim()));
    }

    private static String human(final int bytes)
    {
        if (bytes >= 1_000_000)
        {
            return String.format(Locale.ROOT, "%.1fM", bytes / 1e6);
        }
        if (bytes >= 1_000)
        {
            return String.format(Locale.ROOT, "%.1fK", bytes / 1e3);
        }
        return Integer.toString(bytes);
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /**
     * Writes the CSV and the SVG beside each other.
     *
     * @param r      a run.
     * @param prefix path prefix: {@code <prefix>.csv} and {@code <prefix>.svg}.
     */
    public static void write(final SimResult r, final Path prefix)
    {
        try
        {
            final Path parent = prefix.toAbsolutePath().getParent();
            if (null != parent)
            {
                Files.createDirectories(parent);
            }
            Files.writeString(Path.of(prefix + ".csv"), csv(r), StandardCharsets.UTF_8);
            Files.writeString(Path.of(prefix + ".svg"), svg(r), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
