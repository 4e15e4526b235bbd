package io.homa.driver;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.transport.ForwardingPacketTransport;
import io.homa.driver.transport.PacketTransport;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A transport whose every receive fails costs the driver a count, not an allocation, per cycle (#16): the receiver
 * counts each failure in {@code receive_errors} and reports an errno once, where it used to make an exception (and
 * write the error log) on every cycle. A real INVOKER driver whose UDP transport is wrapped to fail receives with
 * ENOMEM; the test thread runs the agents and reads its own allocation counter. Lives in the driver's package for
 * its transport seam; named for the allocation tests' own JVM (see this module's pom).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReceiveErrorSteadyStateAllocationTest
{
    private static final int ENOMEM = 12;
    private static final int WARM_UP_CYCLES = 50_000;
    private static final int WINDOWS = 4;
    private static final int CYCLES_PER_WINDOW = 25_000;
    /** Bytes the test thread may allocate per duty cycle, averaged over every measured window. */
    private static final double MAX_BYTES_PER_CYCLE = 1.0;
    private static final int MAX_EXTRA_WARM_UP_WINDOWS = 20;

    @Test
    void shouldCountEveryFailedReceiveWithoutAllocating()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        final AtomicInteger reported = new AtomicInteger();
        final FailingReceives[] transport = new FailingReceives[1];

        MediaDriver driver = null;
        try
        {
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .threadingMode(ThreadingMode.INVOKER)
                .errorHandler((ex) -> reported.incrementAndGet())
                .transportDecorator((udp) -> transport[0] = new FailingReceives(udp)));
            final AgentInvoker invoker = driver.sharedAgentInvoker();

            run(invoker, WARM_UP_CYCLES);
            final long threadId = Thread.currentThread().threadId();
            // Until C2 has compiled the cycle (bounded): allocation in every cycle never gets within the bound.
            int extraWarmUpWindows = 0;
            while (extraWarmUpWindows < MAX_EXTRA_WARM_UP_WINDOWS)
            {
                final long before = threads.getThreadAllocatedBytes(threadId);
                run(invoker, CYCLES_PER_WINDOW);
                if (threads.getThreadAllocatedBytes(threadId) - before <= MAX_BYTES_PER_CYCLE * CYCLES_PER_WINDOW)
                {
                    break;
                }
                extraWarmUpWindows++;
            }

            final long failuresBefore = transport[0].failures;
            final long countedBefore = driver.counter(SystemCounterDescriptor.RECEIVE_ERRORS);
            long total = 0;
            final StringBuilder windows = new StringBuilder("after " + extraWarmUpWindows +
                " extra warm-up windows, bytes allocated per failing cycle in each window:");
            for (int window = 0; window < WINDOWS; window++)
            {
                final long before = threads.getThreadAllocatedBytes(threadId);
                run(invoker, CYCLES_PER_WINDOW);
                final long bytes = threads.getThreadAllocatedBytes(threadId) - before;
                total += bytes;
                windows.append(String.format(" %.3f", (double)bytes / CYCLES_PER_WINDOW));
            }
            final long failures = transport[0].failures - failuresBefore;
            final double average = (double)total / (WINDOWS * CYCLES_PER_WINDOW);
            windows.append(String.format("; over all %d windows %.3f (%d bytes); %d failed receives, %d reported",
                WINDOWS, average, total, failures, reported.get()));
            System.out.println(windows);

            assertTrue(failures >= WINDOWS * CYCLES_PER_WINDOW, "a receive failed in every cycle: " + windows);
            assertEquals(failures, driver.counter(SystemCounterDescriptor.RECEIVE_ERRORS) - countedBefore,
                "receive_errors counts every failure");
            assertTrue(average <= MAX_BYTES_PER_CYCLE, windows.toString());
            assertEquals(1, reported.get(), "one errno, reported once: " + windows);
        }
        finally
        {
            CloseHelper.close(driver);
        }
    }

    private static void run(final AgentInvoker invoker, final int cycles)
    {
        for (int i = 0; i < cycles; i++)
        {
            invoker.invoke();
        }
    }

    /**
     * The real transport, its receives failing with ENOMEM (as a socket whose kernel cannot allocate would). Touched
     * only by the agents' thread, the test's in INVOKER mode.
     */
    static final class FailingReceives extends ForwardingPacketTransport
    {
        long failures;

        FailingReceives(final PacketTransport delegate)
        {
            super(delegate);
        }

        public int receive(final long address, final int capacity)
        {
            failures++;
            return -ENOMEM;
        }

        public int receiveScattered(final long headerAddress, final int headerLength, final long hintAddress,
            final int hintLength, final long restAddress, final int restLength)
        {
            failures++;
            return -ENOMEM;
        }

        public int receiveBatch()
        {
            failures++;
            return -ENOMEM;
        }
    }
}
