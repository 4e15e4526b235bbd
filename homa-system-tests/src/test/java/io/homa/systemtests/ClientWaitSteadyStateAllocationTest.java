package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client's waits allocate nothing per call (#16): a {@code receive} that times out with nothing arriving, and a
 * command offered through the to-driver ring, including offers that find the ring full and retry while the driver
 * drains it, used to make an idle strategy per call. A real driver and client in INVOKER mode, so the test thread
 * runs every layer and its allocation counter sees all of it; named for the allocation tests' own JVM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientWaitSteadyStateAllocationTest
{
    private static final int WARM_UP_CALLS = 50_000;
    private static final int WINDOWS = 4;
    private static final int CALLS_PER_WINDOW = 20_000;
    /** Bytes the test thread may allocate per call, averaged over every measured window. */
    private static final double MAX_BYTES_PER_CALL = 1.0;
    private static final int MAX_EXTRA_WARM_UP_WINDOWS = 20;

    private final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    private int delivered;
    private final MessageHandler handler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            delivered++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            delivered++;
        }
    };

    @Test
    void shouldNotAllocatePerReceiveThatTimesOutOrPerCommandOffer()
    {
        new ClientWaitSteadyStateAllocationTest().measureBoth();
    }

    /**
     * The same in a JVM with C1 only (as {@link SocketCallAllocationTest}): no escape analysis to remove an object
     * a call makes and drops, such as an idle strategy made per receive that C2 finds unused in INVOKER mode.
     */
    @Test
    void shouldNotAllocatePerReceiveThatTimesOutOrPerCommandOfferWithoutEscapeAnalysis()
    {
        try (JvmProcess child = JvmProcess.start("client-waits", ClientWaitSteadyStateAllocationTest.class, List.of()))
        {
            final String result = child.awaitLine((line) -> line.startsWith("result="), 100_000);
            System.out.println("C1 only: " + child.output());
            assertTrue(result.startsWith("result=ok"), () -> result + "\n" + child.output());
        }
    }

    /**
     * Child JVM: measures, then prints {@code result=ok} or {@code result=failed} with the figures.
     */
    public static void main(final String[] args)
    {
        try
        {
            new ClientWaitSteadyStateAllocationTest().measureBoth();
            System.out.println("result=ok");
        }
        catch (final Throwable ex)
        {
            System.out.println("result=failed " + ex.getMessage().replace('\n', ' '));
        }
        System.out.flush();
    }

    private void measureBoth()
    {
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.INVOKER));
            homa = Homa.connect(new Homa.Context()
                .homaDirectoryName(driver.homaDirectoryName())
                .driverAgentInvoker(driver.sharedAgentInvoker()));
            final HomaSocket socket = homa.addSocket(601);

            // Nothing is sent to this socket: each receive waits its 2 us (running the driver's cycle meanwhile)
            // and returns 0.
            final int[] timedOut = new int[1];
            final String receives = measure("receive timing out", (calls) ->
            {
                for (int i = 0; i < calls; i++)
                {
                    if (0 == socket.receive(handler, 2_000))
                    {
                        timedOut[0]++;
                    }
                }
            });
            assertEquals(0, delivered, receives);
            assertTrue(timedOut[0] >= WARM_UP_CALLS + WINDOWS * CALLS_PER_WINDOW, receives);

            // Commands offered back to back with no driver cycle between them: most go on the ring at once; when it
            // is full, the offer retries, running the driver's cycle, which drains it.
            final long refusalsBefore = driver.counter(SystemCounterDescriptor.COMMAND_REFUSALS);
            final long commandsBefore = driver.counter(SystemCounterDescriptor.CLIENT_COMMANDS);
            final long[] offered = new long[1];
            final String offers = measure("command offer", (calls) ->
            {
                for (int i = 0; i < calls; i++)
                {
                    socket.abortAll();
                }
                offered[0] += calls;
            });
            // Only an offer's retry ran the driver here: that most commands were taken shows that offers retried.
            final long taken = driver.counter(SystemCounterDescriptor.CLIENT_COMMANDS) - commandsBefore;
            System.out.println(taken + " of " + offered[0] + " commands taken by the driver, run only by retries");
            assertTrue(taken > offered[0] / 2, taken + " of " + offered[0] + " commands taken; " + offers);
            assertEquals(refusalsBefore, driver.counter(SystemCounterDescriptor.COMMAND_REFUSALS), offers);
            assertEquals(0, delivered, offers);
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }

    /**
     * Warms up, then measures {@link #WINDOWS} windows of {@link #CALLS_PER_WINDOW} calls and requires the total
     * this thread allocated over all of them to be at most {@link #MAX_BYTES_PER_CALL} per call (as
     * {@link SteadyStateAllocationTest} does per RPC).
     */
    private String measure(final String what, final IntConsumer calls)
    {
        calls.accept(WARM_UP_CALLS);
        return AllocationSites.assertSteadyState(threads, what + ": ", "call", calls, CALLS_PER_WINDOW, WINDOWS,
            MAX_EXTRA_WARM_UP_WINDOWS, Long.MAX_VALUE / 4, MAX_BYTES_PER_CALL);
    }
}
