package io.homa.samples.tools;

import io.homa.client.CommonContext;
import io.homa.samples.Args;
import org.agrona.concurrent.errors.ErrorLogReader;

import java.io.File;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;

/**
 * Prints the distinct error log of a Homa driver, as Aeron's ErrorStat does: each distinct error once, with how
 * often and between which times it was observed, then the number of distinct errors. Works on a dead driver's
 * directory too, as long as its CnC file is still there. Run with {@code --help}.
 */
public final class ErrorStat
{
    private static final DateTimeFormatter TIME_FORMAT =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSZ", Locale.ROOT).withZone(ZoneId.systemDefault());

    private ErrorStat()
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
     * @param out  where the errors go.
     * @param err  where problems of the tool itself go.
     * @return exit status: 0 ok, 1 bad arguments, 2 no usable driver directory.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final Args parsed;
        try
        {
            parsed = Args.parse(args, Set.of("dir"), Set.of());
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("error-stat: " + ex.getMessage());
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
        try (CncFileReader cnc = CncFileReader.map(dir))
        {
            final int distinctErrors = ErrorLogReader.read(
                cnc.errorLogBuffer(),
                (observationCount, firstTimestampMs, lastTimestampMs, encodedException) ->
                {
                    out.println("***");
                    out.printf(Locale.ROOT, "%,d observation%s from %s to %s for:%n %s%n",
                        observationCount,
                        1 == observationCount ? "" : "s",
                        TIME_FORMAT.format(Instant.ofEpochMilli(firstTimestampMs)),
                        TIME_FORMAT.format(Instant.ofEpochMilli(lastTimestampMs)),
                        encodedException);
                });
            out.println();
            out.printf(Locale.ROOT, "%d distinct error%s observed in %s.%n",
                distinctErrors, 1 == distinctErrors ? "" : "s", dir);
            return 0;
        }
        catch (final IllegalStateException ex)
        {
            err.println("error-stat: " + ex.getMessage());
            return 2;
        }
    }

    static String usage()
    {
        return """
            error-stat [options]: the distinct error log of a Homa driver (like Aeron's ErrorStat)
              --dir DIR   driver directory (default: -Dhoma.dir, else the default directory)
            Each distinct error is printed once: observation count, first and last time, stack trace.
            """;
    }
}
