package io.homa.client;

import io.homa.client.internal.BuddyAllocator;
import io.homa.client.internal.SocketFileDescriptor;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.nio.ByteBuffer;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Receive-pool returns: application threads hand blocks back through the socket's many-producer return ring
 * ({@link HomaSocket#tryReturnPoolBlock}) and the driver drains it into its allocator as
 * {@code DriverSocket.drainReturns} does. Every block must come back exactly once (a double free throws).
 * A 4 KiB pool of 1 KiB blocks, two of them delivered to the application.
 */
public final class PoolReturnStress
{
    private static final int MIN_BLOCK = 1024;
    private static final int POOL = 4 * MIN_BLOCK;

    private PoolReturnStress()
    {
    }

    abstract static class Pool
    {
        final ManyToOneRingBuffer returnRing = new ManyToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(1024 + RingBufferDescriptor.TRAILER_LENGTH)));
        final BuddyAllocator driverAllocator = new BuddyAllocator(POOL, MIN_BLOCK);
        final int blockA = driverAllocator.allocate(MIN_BLOCK);
        final int blockB = driverAllocator.allocate(MIN_BLOCK);
        final MessageHandler free = (msgTypeId, buffer, index, length) ->
        {
            if (SocketFileDescriptor.RETURN_POOL_BLOCK_MSG_TYPE_ID == msgTypeId)
            {
                driverAllocator.free(buffer.getInt(index));
            }
        };

        int drain()
        {
            return returnRing.read(free, Integer.MAX_VALUE);
        }
    }

    /**
     * Two application threads return their blocks at once.
     * Results: both returns accepted (1 each), pool bytes free once the driver drained.
     */
    @JCStressTest
    @Description("Receive pool: two application threads return blocks at once")
    @Outcome(id = "2, 4096", expect = ACCEPTABLE, desc = "both blocks back, once each")
    @Outcome(expect = FORBIDDEN, desc = "a block lost or returned twice")
    @State
    public static class TwoApplicationThreads extends Pool
    {
        private boolean returnedA;
        private boolean returnedB;

        @Actor
        public void applicationThread1()
        {
            returnedA = HomaSocket.tryReturnPoolBlock(returnRing, blockA);
        }

        @Actor
        public void applicationThread2()
        {
            returnedB = HomaSocket.tryReturnPoolBlock(returnRing, blockB);
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            r.r1 = (returnedA ? 1 : 0) + (returnedB ? 1 : 0);
            drain();
            r.r2 = (int)driverAllocator.freeBytes();
        }
    }

    /**
     * An application thread returns a block while the driver drains the ring.
     * Results: blocks the driver took during the race, pool bytes free at the end.
     */
    @JCStressTest
    @Description("Receive pool: a return racing the driver's drain")
    @Outcome(id = { "0, 3072", "1, 3072" }, expect = ACCEPTABLE, desc = "the block back exactly once")
    @Outcome(expect = FORBIDDEN, desc = "a block lost or returned twice")
    @State
    public static class ApplicationAndDriver extends Pool
    {
        @Actor
        public void applicationThread()
        {
            HomaSocket.tryReturnPoolBlock(returnRing, blockA);
        }

        @Actor
        public void driver(final II_Result r)
        {
            r.r1 = drain();
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            drain();
            r.r2 = (int)driverAllocator.freeBytes();
        }
    }
}
