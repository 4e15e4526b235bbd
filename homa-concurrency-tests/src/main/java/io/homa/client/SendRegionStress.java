package io.homa.client;

import io.homa.client.internal.SocketFileDescriptor;
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

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The send region ({@link SendRegion}) as client and driver share it. Regions of two 1 KiB blocks.
 */
public final class SendRegionStress
{
    private static final int MIN_BLOCK = 1024;

    private SendRegionStress()
    {
    }

    static OneToOneRingBuffer releaseRing()
    {
        return new OneToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(
            1024 + RingBufferDescriptor.TRAILER_LENGTH)));
    }

    static SendRegion region(final OneToOneRingBuffer releaseRing)
    {
        return new SendRegion(new UnsafeBuffer(ByteBuffer.allocateDirect(2 * MIN_BLOCK)), MIN_BLOCK, releaseRing);
    }

    /**
     * What {@code DriverSocket.releaseSendBlock} writes when the driver is done with a block.
     */
    static void driverRelease(final OneToOneRingBuffer releaseRing, final int offset)
    {
        final int index = releaseRing.tryClaim(SocketFileDescriptor.RELEASE_SEND_BLOCK_MSG_TYPE_ID, Integer.BYTES);
        releaseRing.buffer().putInt(index, offset);
        releaseRing.commit(index);
    }

    /**
     * Two application threads allocate at once; block 0's release is waiting in the ring and block 1024 is free,
     * so whichever thread takes the socket lock first drains the ring. Each must get a different block.
     */
    @JCStressTest
    @Description("Send region: two application threads allocate under the socket lock, draining releases")
    @Outcome(id = { "0, 1024", "1024, 0" }, expect = ACCEPTABLE, desc = "one block each")
    @Outcome(expect = FORBIDDEN, desc = "a block given twice, or one lost")
    @State
    public static class TwoApplicationThreads
    {
        private final OneToOneRingBuffer releaseRing = releaseRing();
        private final SendRegion region = region(releaseRing);

        public TwoApplicationThreads()
        {
            driverRelease(releaseRing, region.tryAllocate(MIN_BLOCK));
        }

        @Actor
        public void applicationThread1(final II_Result r)
        {
            r.r1 = region.tryAllocate(MIN_BLOCK);
        }

        @Actor
        public void applicationThread2(final II_Result r)
        {
            r.r2 = region.tryAllocate(MIN_BLOCK);
        }
    }

    /**
     * The region is full (both blocks in flight) while the driver releases block 0: the application gets it or
     * is pushed back, and then finds it free.
     * Results: the application's allocation, blocks free at the end.
     */
    @JCStressTest
    @Description("Send region: an application allocation racing the driver's release")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the release arrived first; the block was reused")
    @Outcome(id = "-1, 1", expect = ACCEPTABLE, desc = "pushed back; the block is free afterwards")
    @Outcome(expect = FORBIDDEN, desc = "a block given twice, or one lost")
    @State
    public static class ApplicationAndDriver
    {
        private final OneToOneRingBuffer releaseRing = releaseRing();
        private final SendRegion region = region(releaseRing);
        private final int inFlight = region.tryAllocate(MIN_BLOCK);
        private final int alsoInFlight = region.tryAllocate(MIN_BLOCK);

        @Actor
        public void applicationThread(final II_Result r)
        {
            r.r1 = region.tryAllocate(MIN_BLOCK);
        }

        @Actor
        public void driver()
        {
            driverRelease(releaseRing, inFlight);
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            int free = 0;
            while (region.tryAllocate(MIN_BLOCK) >= 0)
            {
                free++;
            }
            r.r2 = free;
        }
    }

    /**
     * A socket closing (about to unmap the region) while an application thread allocates: the allocation either
     * happened before the close, or fails with CLOSED; nothing succeeds after it.
     * Results: the application's allocation, an allocation after both.
     */
    @JCStressTest
    @Description("Send region: close racing an allocation")
    @Outcome(id = { "0, -2", "-2, -2" }, expect = ACCEPTABLE, desc = "allocated before the close, or refused")
    @Outcome(expect = FORBIDDEN, desc = "an allocation after the close")
    @State
    public static class CloseAndAllocate
    {
        private final SendRegion region = region(releaseRing());

        @Actor
        public void applicationThread(final II_Result r)
        {
            r.r1 = region.tryAllocate(MIN_BLOCK);
        }

        @Actor
        public void closingThread()
        {
            region.close();
        }

        @Arbiter
        public void arbiter(final II_Result r)
        {
            r.r2 = region.tryAllocate(MIN_BLOCK);
        }
    }
}
