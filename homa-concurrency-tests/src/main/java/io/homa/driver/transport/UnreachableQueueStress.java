package io.homa.driver.transport;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The queue of send-side unreachability reports ({@link UnreachableQueue}): the sender's thread offers, the
 * receiver's drains. Every report arrives once, whole, in order.
 * Results: reports the receiver drained during the race, and a check (1 = all intact and in order).
 */
@JCStressTest
@Description("Unreachable queue: offers on the sender's thread, drains on the receiver's")
@Outcome(id = { "0, 1", "1, 1", "2, 1" }, expect = ACCEPTABLE, desc = "whole reports, in order, once")
@Outcome(expect = FORBIDDEN, desc = "a torn, lost, repeated or reordered report")
@State
public class UnreachableQueueStress implements PacketTransport.UnreachableHandler
{
    private final UnreachableQueue queue = new UnreachableQueue(4);
    private int seen;
    private boolean intact = true;

    @Actor
    public void sender()
    {
        queue.offer(1, 113);
        queue.offer(2, 97);
    }

    @Actor
    public void receiver(final II_Result r)
    {
        r.r1 = queue.drain(this);
    }

    @Arbiter
    public void arbiter(final II_Result r)
    {
        queue.drain(this);
        r.r2 = intact && 2 == seen ? 1 : 0;
    }

    public void onUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        seen++;
        if (seen != ipv4 || 0 != port || 0 != homaPort || (1 == seen ? 113 : 97) != errorCode)
        {
            intact = false;
        }
    }
}
