package io.homa.sim;

import io.homa.driver.status.EventFormatter;
import io.homa.driver.status.EventLogReader;
import io.homa.driver.status.FreezeDumper;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulator's {@link FreezeDumper}: a frozen host's event log is formatted at once, on the simulation's only
 * thread and at the virtual instant of the freeze, and kept in memory; no thread, no file.
 */
final class SimFreezeDumps implements FreezeDumper
{
    private final String source;
    private final List<String> dumps = new ArrayList<>();

    /**
     * @param source what the dump's heading names as the log's source (the host).
     */
    SimFreezeDumps(final String source)
    {
        this.source = source;
    }

    public void onFrozen(final EventLogReader frozenLog, final int freezeNumber)
    {
        final StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text))
        {
            EventFormatter.print(frozenLog, source, out);
        }
        dumps.add(text.toString());
    }

    /**
     * @return the dumps so far, oldest first, one per freeze.
     */
    List<String> dumps()
    {
        return List.copyOf(dumps);
    }
}
