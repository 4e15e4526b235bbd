package io.homa.driver.status;

/**
 * What happens to an {@link EventLog} once a FREEZE froze it: the port between the log, which only records, and
 * whoever writes the frozen events out. The driver writes them to a text file on a thread of its own
 * ({@link FileFreezeDumper}); a simulator formats them on the spot, in virtual time, and starts no thread.
 */
public interface FreezeDumper
{
    /**
     * A dumper that does nothing with a frozen log (the log stays frozen and readable in memory).
     */
    FreezeDumper NONE = (frozenLog, freezeNumber) ->
    {
    };

    /**
     * Called on the thread that writes the log (the engine's), once per freeze, right after recording stopped. The
     * log stays frozen, and so what the reader sees stays put, until a tool clears the frozen flag; a dumper that
     * needs more time than a duty cycle hands the work to another thread.
     *
     * @param frozenLog    reads the frozen ring.
     * @param freezeNumber how many times the log has been frozen, this one included (1 for the first).
     */
    void onFrozen(EventLogReader frozenLog, int freezeNumber);

    /**
     * Waits, for a bounded time, for dumps still under way; the log calls it when it closes.
     *
     * @return true if none is still running, so the log's memory may be released.
     */
    default boolean awaitDumps()
    {
        return true;
    }
}
