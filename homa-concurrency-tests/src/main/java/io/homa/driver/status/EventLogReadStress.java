package io.homa.driver.status;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The event log read while its writer laps a 4-record ring: every event the reader hands out must be whole (each
 * field what the writer wrote for that sequence) and in order; records overwritten under the reader are skipped.
 * Results: whether every event read was intact and ordered (1), and how many were read.
 */
@JCStressTest
@Description("Event log: reader vs a writer that overwrites the ring under it")
@Outcome(id = { "1, 0", "1, 1", "1, 2", "1, 3", "1, 4" }, expect = ACCEPTABLE, desc = "whole events, in order")
@Outcome(expect = FORBIDDEN, desc = "a torn, repeated or reordered event")
@State
public class EventLogReadStress implements EventLogReader.EventHandler, NanoClock
{
    private static final int CAPACITY = 4;
    private static final int EVENTS = 11;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[(int)EventLogDescriptor.fileLength(CAPACITY)]);
    private final EventLog log = EventLog.inMemory(buffer, CAPACITY, this);
    private final EventLogReader reader = new EventLogReader(buffer);
    private long clock;
    private long lastSequence;
    private boolean intact = true;

    public long nanoTime()
    {
        // One read when the log is made, then one per record: the timestamp is the sequence + 1.
        return ++clock;
    }

    @Actor
    public void writer()
    {
        for (int i = 1; i <= EVENTS; i++)
        {
            log.record(i, i * 1_000_003L, i * 3, i * 5, i * 7, i * 11, i * 13, i * 17, i * 19, i * 23, i * 29);
        }
    }

    @Actor
    public void reader(final II_Result r)
    {
        r.r2 = reader.read(this);
        r.r1 = intact ? 1 : 0;
    }

    public void onEvent(final EventLogReader.Event e)
    {
        final long s = e.sequence();
        final int i = (int)s;
        if (s <= lastSequence || s > EVENTS || e.timestampNs() != s + 1 || e.type() != i ||
            e.rpcId() != i * 1_000_003L || e.peerIpv4() != i * 3 || e.peerUdpPort() != i * 5 ||
            e.localPort() != i * 7 || e.peerPort() != i * 11 || e.offset() != i * 13 || e.length() != i * 17 ||
            e.arg() != i * 19 || e.extra() != i * 23 || e.flags() != i * 29)
        {
            intact = false;
        }
        lastSequence = s;
    }
}
