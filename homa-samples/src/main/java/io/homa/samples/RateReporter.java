package io.homa.samples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints RPC and bit rates once per interval, from the sample's own loop (no thread of its own, so it costs
 * nothing on a small machine): call {@link #onRpc(long, long)} per completed RPC and {@link #poll(long)} often.
 */
public final class RateReporter
{
    private final long intervalNs;
    private final PrintStream out;
    private final long startNs;
    private long lastReportNs;
    private long totalRpcs;
    private long totalRequestBytes;
    private long totalResponseBytes;
    private long lastRpcs;
    private long lastRequestBytes;
    private long lastResponseBytes;
    private long reports;

    /**
     * @param intervalNs how often to print.
     * @param out        where to print.
     * @param nowNs      the start time.
     */
    public RateReporter(final long intervalNs, final PrintStream out, final long nowNs)
    {
        this.intervalNs = intervalNs;
        this.out = out;
        this.startNs = nowNs;
        this.lastReportNs = nowNs;
    }

    /**
     * @param requestBytes  request message bytes of a completed RPC.
     * @param responseBytes response message bytes.
     */
    public void onRpc(final long requestBytes, final long responseBytes)
    {
        totalRpcs++;
        totalRequestBytes += requestBytes;
        totalResponseBytes += responseBytes;
    }

    /**
     * Prints a report line if an interval has passed.
     *
     * @param nowNs the current time.
     * @return 1 if it printed.
     */
    public int poll(final long nowNs)
    {
        if (nowNs - lastReportNs < intervalNs)
        {
            return 0;
        }
        report(nowNs);
        return 1;
    }

    /**
     * Prints the rates since the last report, whatever the time.
     *
     * @param nowNs the current time.
     */
    public void report(final long nowNs)
    {
        final double seconds = Math.max(1, nowNs - lastReportNs) / 1e9;
        final long rpcs = totalRpcs - lastRpcs;
        out.printf(Locale.ROOT,
            "%8.3f s: %,12.0f RPC/s, requests %8.3f Gbit/s, responses %8.3f Gbit/s, total %,d RPCs%n",
            (nowNs - startNs) / 1e9,
            rpcs / seconds,
            (totalRequestBytes - lastRequestBytes) * 8 / seconds / 1e9,
            (totalResponseBytes - lastResponseBytes) * 8 / seconds / 1e9,
            totalRpcs);
        lastReportNs = nowNs;
        lastRpcs = totalRpcs;
        lastRequestBytes = totalRequestBytes;
        lastResponseBytes = totalResponseBytes;
        reports++;
    }

    /**
     * Prints a last, partial-interval report if RPCs completed since the previous one.
     *
     * @param nowNs the current time.
     */
    public void reportRemainder(final long nowNs)
    {
        if (totalRpcs != lastRpcs && nowNs != lastReportNs)
        {
            report(nowNs);
        }
    }

    /**
     * @return RPCs counted so far.
     */
    public long totalRpcs()
    {
        return totalRpcs;
    }

    /**
     * @return request bytes counted so far.
     */
    public long totalRequestBytes()
    {
        return totalRequestBytes;
    }

    /**
     * @return response bytes counted so far.
     */
    public long totalResponseBytes()
    {
        return totalResponseBytes;
    }

    /**
     * @return report lines printed so far.
     */
    public long reports()
    {
        return reports;
    }
}
