package io.homa.samples.tools;

import io.homa.client.CommonContext;
import io.homa.samples.Args;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Prints the counters of a running Homa driver, as Aeron's AeronStat does: maps the driver's CnC file read-only,
 * prints a header (CnC version, driver PID, heartbeat age, UDP address) and every counter as
 * {@code id: value - label}, and refreshes every second until stopped. Regex filters pick counters by label,
 * type id or counter id; {@code --once} prints one snapshot for scripts and tests. Refreshing, every snapshot after
 * the first adds each counter's rate per second since the one before ({@code id: value rate/s - label}). Run with
 * {@code --help}.
 */
public final class HomaStat
{
    private static final DateTimeFormatter TIME_FORMAT =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final String CLEAR_SCREEN = "\u001b[H\u001b[2J";

    private HomaStat()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        final int status = run(args, System.out, System.err);
        if (0 != status)
        {
            System.exit(status);
        }
    }

    /**
     * Runs the tool.
     *
     * @param args the command line.
     * @param out  where snapshots go.
     * @param err  where errors go.
     * @return exit status: 0 ok, 1 bad arguments, 2 no usable driver.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final Args parsed;
        try
        {
            parsed = Args.parse(args, Set.of("dir", "delay", "count", "label", "type", "id"), Set.of("once"));
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("homa-stat: " + ex.getMessage());
            err.println(usage());
            return 1;
        }
        if (parsed.help())
        {
            out.println(usage());
            return 0;
        }

        final File dir = new File(parsed.string("dir", System.getProperty(
            CommonContext.HOMA_DIR_PROP_NAME, CommonContext.HOMA_DIR_DEFAULT)));
        final long delayMs = TimeUnit.NANOSECONDS.toMillis(parsed.durationNs("delay", TimeUnit.SECONDS.toNanos(1), "ms"));
        final long count = parsed.flag("once") ? 1 : parsed.size("count", Long.MAX_VALUE);
        final Filter filter = new Filter(
            Pattern.compile(parsed.string("label", ".*")),
            Pattern.compile(parsed.string("type", ".*")),
            Pattern.compile(parsed.string("id", ".*")));
        final boolean clearScreen = count > 1 && null != System.console() && out == System.out;

        try (CncFileReader cnc = CncFileReader.map(dir))
        {
            Map<Integer, Long> previous = null;
            long previousNs = 0;
            for (long i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    Thread.sleep(Math.max(1, delayMs));
                }
                if (!cnc.isFilePresent())
                {
                    err.println("homa-stat: driver directory " + dir + " is gone (driver closed)");
                    return 2;
                }
                if (clearScreen)
                {
                    out.print(CLEAR_SCREEN);
                }
                else if (i > 0)
                {
                    out.println();
                }
                final long nowNs = System.nanoTime();
                previous = printSnapshot(cnc, filter, out, count > 1 ? previous : null, nowNs - previousNs,
                    count > 1);
                previousNs = nowNs;
                out.flush();
            }
            return 0;
        }
        catch (final IllegalStateException ex)
        {
            err.println("homa-stat: " + ex.getMessage());
            return 2;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /**
     * Prints the header and the counters that pass the filter.
     *
     * @param cnc       the driver's CnC.
     * @param filter    which counters.
     * @param out       where to print.
     * @param previous  the values of the snapshot before, by counter id, or null for none (no rates).
     * @param elapsedNs time since that snapshot.
     * @param rates     print the rate column (refreshing: blank on the first snapshot).
     * @return the values printed, by counter id.
     */
    static Map<Integer, Long> printSnapshot(
        final CncFileReader cnc,
        final Filter filter,
        final PrintStream out,
        final Map<Integer, Long> previous,
        final long elapsedNs,
        final boolean rates)
    {
        final long nowMs = System.currentTimeMillis();
        final long heartbeatAgeMs = cnc.heartbeatAgeMs(nowMs);
        final boolean alive = 0 != cnc.heartbeatMs() &&
            heartbeatAgeMs <= TimeUnit.NANOSECONDS.toMillis(cnc.driverTimeoutNs());
        out.printf(Locale.ROOT,
            "%s - Homa driver: CnC version %d, PID %d, heartbeat age %d ms%s, UDP %s:%d, started %s, dir %s%n",
            TIME_FORMAT.format(Instant.ofEpochMilli(nowMs)),
            cnc.version(),
            cnc.pid(),
            heartbeatAgeMs,
            alive ? "" : " (driver looks dead)",
            cnc.udpAddress(),
            cnc.udpPort(),
            TIME_FORMAT.format(Instant.ofEpochMilli(cnc.startTimestampMs())),
            cnc.directory());
        out.println("=".repeat(80));

        final CountersReader counters = cnc.countersReader();
        final Map<Integer, Long> values = new HashMap<>();
        counters.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (filter.matches(counterId, typeId, label))
            {
                final long value = counters.getCounterValue(counterId);
                values.put(counterId, value);
                if (!rates)
                {
                    out.printf(Locale.ROOT, "%3d: %,20d - %s%n", counterId, value, label);
                    return;
                }
                // A counter new since the last snapshot (a socket's, a client's) has no rate yet.
                final Long before = null == previous || elapsedNs <= 0 ? null : previous.get(counterId);
                final String rate = null == before ? "" :
                    String.format(Locale.ROOT, "%,.1f/s", (value - before) * 1e9 / elapsedNs);
                out.printf(Locale.ROOT, "%3d: %,20d %16s - %s%n", counterId, value, rate, label);
            }
        });
        return values;
    }

    static String usage()
    {
        return """
            homa-stat [options]: counters of a running Homa driver, refreshed (like AeronStat)
              --dir DIR       driver directory (default: -Dhoma.dir, else the default directory)
              --delay D       refresh interval, ms unless suffixed (default 1s)
              --count N       snapshots to print, then exit (default: until Ctrl-C)
              --once          print one snapshot and exit (same as --count 1, no rates)
              --label REGEX   only counters whose label matches (e.g. 'packets_.*_DATA')
              --type REGEX    only counters whose type id matches (system counters are type 0)
              --id REGEX      only counters whose id matches
            Filters also work AeronStat-style: label=REGEX type=REGEX id=REGEX.
            Output: a header (time, CnC version, PID, heartbeat age, UDP address) then 'id: value - label';
            refreshing, 'id: value rate/s - label', the rate per second since the snapshot before (blank on the
            first). Counters of clients and sockets are labelled 'name client=ID' and 'name socket=ID port=P client=ID'.
            """;
    }

    /**
     * Regex filters on a counter's label, type id and counter id; all must match (whole string).
     *
     * @param label   on the label.
     * @param typeId  on the decimal type id.
     * @param counter on the decimal counter id.
     */
    record Filter(Pattern label, Pattern typeId, Pattern counter)
    {
        boolean matches(final int counterId, final int type, final String counterLabel)
        {
            return label.matcher(counterLabel).matches() &&
                typeId.matcher(Integer.toString(type)).matches() &&
                counter.matcher(Integer.toString(counterId)).matches();
        }
    }
}
