package io.homa.samples.tools;

import io.homa.client.CommonContext;
import io.homa.driver.status.EventFormatter;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.EventLogReader;
import io.homa.driver.status.EventType;
import io.homa.samples.Args;

import java.io.File;
import java.io.PrintStream;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Prints a driver's event log ({@code events.dat}, Linux's timetrace), live or after the driver died: one line
 * per event, oldest first, with the time in µs since the first event shown, the gap to the previous one, and the
 * decoded fields. Events the driver overwrote while they were being read are skipped and counted. Run with
 * {@code --help}.
 */
public final class EventDump
{
    private EventDump()
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
     * @param out  where events go.
     * @param err  where errors go.
     * @return exit status: 0 ok, 1 bad arguments, 2 no event log.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final Args parsed;
        final long rpcId;
        final long last;
        final Pattern type;
        try
        {
            parsed = Args.parse(args, Set.of("dir", "file", "rpc", "type", "last"), Set.of("unfreeze"));
            rpcId = Long.parseLong(parsed.string("rpc", "0"));
            last = parsed.size("last", Long.MAX_VALUE);
            type = Pattern.compile(parsed.string("type", ".*"));
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("homa-events: " + ex.getMessage());
            err.println(usage());
            return 1;
        }
        if (parsed.help())
        {
            out.println(usage());
            return 0;
        }

        final File file = parsed.has("file") ? new File(parsed.string("file", "")) : new File(
            parsed.string("dir", System.getProperty(CommonContext.HOMA_DIR_PROP_NAME, CommonContext.HOMA_DIR_DEFAULT)),
            EventLogDescriptor.EVENT_LOG_FILE);
        final boolean unfreeze = parsed.flag("unfreeze");
        try (EventLogReader reader = EventLogReader.map(file, unfreeze))
        {
            out.println(EventFormatter.header(reader, file.getParent()));
            final long[] times = { Long.MIN_VALUE, 0 };
            final int[] shown = { 0 };
            final StringBuilder line = new StringBuilder(160);
            final int read = reader.read((event) ->
            {
                if (0 != rpcId && event.rpcId() != rpcId && event.rpcId() != (rpcId ^ 1))
                {
                    return;
                }
                if (!type.matcher(EventType.name(event.type())).matches())
                {
                    return;
                }
                if (Long.MIN_VALUE == times[0])
                {
                    times[0] = event.timestampNs();
                    times[1] = event.timestampNs();
                }
                line.setLength(0);
                EventFormatter.format(event, times[0], times[1], line);
                out.println(line);
                times[1] = event.timestampNs();
                shown[0]++;
            }, last);
            out.println("# " + shown[0] + " of " + read + " events shown" +
                (reader.skipped() > 0 ? ", " + reader.skipped() + " overwritten by the driver while being read" : ""));
            if (unfreeze)
            {
                final boolean wasFrozen = reader.isFrozen();
                reader.unfreeze();
                out.println(wasFrozen ? "# unfrozen: the driver records again from its next timer tick" :
                    "# the log was not frozen");
            }
            out.flush();
            return 0;
        }
        catch (final IllegalStateException ex)
        {
            err.println("homa-events: " + ex.getMessage());
            return 2;
        }
    }

    static String usage()
    {
        return """
            homa-events [options]: a Homa driver's event log (events.dat), oldest first, live or dead driver
              --dir DIR       driver directory (default: -Dhoma.dir, else the default directory)
              --file PATH     an events.dat elsewhere (e.g. copied from another host)
              --rpc ID        only the events of one RPC (either side: ID and ID ^ 1)
              --type REGEX    only events whose type matches, e.g. 'DATA_.*' or 'RPC_.*|GRANT_OUT'
              --last N        only the newest N events
              --unfreeze      after printing, let a driver frozen by a FREEZE packet record again
            Each line: µs since the first event shown, +µs since the previous one, #sequence, type, id (this
            host's id of the RPC), local port and peer (address:udp-port/homa-port), then the type's fields
            (DATA: offset, length, message length, priority out / incoming in; GRANT: offset, priority; RESEND:
            offset, length, priority; RPC events: state, length, error).
            A FREEZE packet freezes the log and the driver writes it to events-freeze-<n>.txt in its directory.
            """;
    }
}
