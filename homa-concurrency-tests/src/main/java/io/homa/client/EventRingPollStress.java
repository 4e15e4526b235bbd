package io.homa.client;

import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A socket's event ring: one producer (the driver) and, through the poll lock, one consumer at a time however
 * many application threads poll, as {@link HomaSocket#poll} reads it. Each event is delivered exactly once, in
 * order.
 */
public final class EventRingPollStress
{
    private EventRingPollStress()
    {
    }

    abstract static class Socket
    {
        final OneToOneRingBuffer eventRing = new OneToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(1024 + RingBufferDescriptor.TRAILER_LENGTH)));
        final ReentrantLock pollLock = new ReentrantLock();
        final long[] delivered = new long[4];
        int deliveredCount;
        final MessageHandler collect = (msgTypeId, buffer, index, length) ->
            delivered[deliveredCount++] = buffer.getLong(index);

        int poll(final int limit)
        {
            pollLock.lock();
            try
            {
                return eventRing.read(collect, limit);
            }
            finally
            {
                pollLock.unlock();
            }
        }

        void offer(final long id)
        {
            final int index = eventRing.tryClaim(1, Long.BYTES);
            eventRing.buffer().putLong(index, id);
            eventRing.commit(index);
        }

        boolean inOrderOnce()
        {
            return 2 == deliveredCount && 1 == delivered[0] && 2 == delivered[1];
        }
    }

    /**
     * The driver writes two events while an application thread polls.
     * Results: events the poller got during the race, check (1 = every event once, in order).
     */
    @JCStressTest
    @Description("Event ring: driver writes while the application polls")
    @Outcome(id = { "0, 1", "1, 1", "2, 1" }, expect = ACCEPTABLE, desc = "every event exactly once, in order")
    @Outcome(expect = FORBIDDEN, desc = "an event lost, repeated or out of order")
    @State
    public static class DriverAndPoller extends Socket
    {
        @Actor
        public void driver()
        {
            offer(1);
            offer(2);
        }

        @Actor
        public void applicationThread(final II_Result r)
        {
            r.r1 = poll(Integer.MAX_VALUE);
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            poll(Integer.MAX_VALUE);
            r.r2 = inOrderOnce() ? 1 : 0;
        }
    }

    /**
     * Two application threads poll one event each from a ring holding two.
     * Results: events each got.
     */
    @JCStressTest
    @Description("Event ring: two application threads poll under the poll lock")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "one event each")
    @Outcome(expect = FORBIDDEN, desc = "an event delivered twice or not at all")
    @State
    public static class TwoPollers extends Socket
    {
        public TwoPollers()
        {
            offer(1);
            offer(2);
        }

        @Actor
        public void applicationThread1(final II_Result r)
        {
            r.r1 = poll(1);
        }

        @Actor
        public void applicationThread2(final II_Result r)
        {
            r.r2 = poll(1);
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            if (!inOrderOnce())
            {
                r.r1 = -1;
            }
        }
    }
}
