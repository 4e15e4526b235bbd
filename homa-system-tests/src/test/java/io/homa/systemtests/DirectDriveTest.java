package io.homa.systemtests;

import io.homa.client.internal.DirectDriver;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Direct drive (a client thread runs a sleeping SHARED driver's duty cycle) never leaves the driver's own thread
 * spinning on a core that a client thread in the middle of the driver's work needs: on 2 cores a preempted client
 * thread then stayed off the CPU for milliseconds (seen in W4 runs with perf sched), and every RPC behind it waited.
 * Each case stops a client thread at one such point through a seam, makes the driver's socket readable with a
 * datagram, and bounds the CPU time the driver thread uses meanwhile:
 * <ul>
 *   <li>inside a cycle it runs for a send (the conductor's stall seam, which sleeps in the cycle of whichever thread
 *   runs it: the case checks that the client thread is the one): the driver thread, woken, waits for the lock;</li>
 *   <li>half way through handing the driver back after a wait ({@code pauseNextHandBackOnce}): the driver thread
 *   must not sleep as driven with the sockets already back in its set, where a readable socket returns every sleep at
 *   once (it did: about 150,000 empty wake-ups a second in W4 at half load, RTT p99 5-7 ms against 0.9 ms fixed).</li>
 * </ul>
 */
@Timeout(60)
class DirectDriveTest
{
    private static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(600);
    private static final int SERVER_PORT = 4321;

    private MediaDriver driver;
    private Homa homa;

    @AfterEach
    void tearDown()
    {
        CloseHelper.closeAll(homa, driver);
    }

    /**
     * Launches an embedded SHARED driver with direct drive and a client, and waits for the driver thread to sleep.
     *
     * @return the driver's thread.
     */
    private Thread launchAsleep()
    {
        final Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        final Thread driverThread = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && t.getName().contains("homa-conductor"))
            .findFirst().orElseThrow(() -> new AssertionError("no driver thread"));
        assertNotNull(direct(), "an embedded SHARED driver registers for direct drive");
        TestUtil.await(direct()::isDriverAsleep, Thread::yield, 10_000, "the driver thread asleep");
        return driverThread;
    }

    private DirectDriver direct()
    {
        return DirectDriver.Registry.find(new File(driver.homaDirectoryName()));
    }

    /** The driver thread's CPU time and the wall time over which it was measured. */
    private record Spent(long cpuNs, long wallNs)
    {
    }

    /**
     * Waits for a client thread to stop in a seam (parked: TIMED_WAITING), then makes the driver's socket readable
     * with a junk datagram (dropped as such once read) and measures the driver thread until the client thread ends.
     *
     * @param driverThread the driver's thread.
     * @param stopped      the client thread the seam stops.
     * @param stopNs       how long the seam stops it (the join is bounded by 20 times that).
     * @param where        where it stops, for the wait's message.
     * @return what the driver thread used meanwhile.
     */
    private Spent driverThreadWhileStopped(
        final Thread driverThread, final Thread stopped, final long stopNs, final String where) throws Exception
    {
        TestUtil.await(() -> Thread.State.TIMED_WAITING == stopped.getState() || !stopped.isAlive(), Thread::yield,
            10_000, "the client thread " + where);
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final long cpuStartNs = threads.getThreadCpuTime(driverThread.threadId());
        final long wallStartNs = System.nanoTime();
        try (DatagramChannel channel = DatagramChannel.open())
        {
            channel.send(ByteBuffer.wrap(new byte[]{ 1, 2, 3 }), new InetSocketAddress("127.0.0.1", driver.udpPort()));
        }
        stopped.join(TimeUnit.NANOSECONDS.toMillis(stopNs) * 20);
        return new Spent(threads.getThreadCpuTime(driverThread.threadId()) - cpuStartNs,
            System.nanoTime() - wallStartNs);
    }

    @Test
    void shouldNotSpinTheDriverThreadWhileAClientThreadHandsTheDriverBack() throws Exception
    {
        final Thread driverThread = launchAsleep();
        final HomaSocket socket = homa.addSocket();
        final long pauseNs = TimeUnit.MILLISECONDS.toNanos(600);
        driver.pauseNextHandBackOnce(pauseNs);
        final Thread waiter = new Thread(() ->
        {
            // Nothing comes: this thread drives for 20 ms, then hands the driver back, and stops half way.
            socket.receive(new MessageHandler()
            {
                public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
                {
                }

                public void onError(final long id, final long c, final int e)
                {
                }
            }, TimeUnit.MILLISECONDS.toNanos(20));
        }, "pausing-waiter");
        waiter.start();
        // Parked in the seam (the drive itself sleeps in epoll, a native call, so RUNNABLE to the JVM).
        final Spent spent = driverThreadWhileStopped(driverThread, waiter, pauseNs, "half way through its hand-back");
        final long cpuNs = spent.cpuNs();
        final long wallNs = spent.wallNs();

        assertTrue(wallNs > pauseNs / 2, "measured while the hand-back was stopped: " + wallNs / 1_000 + " us");
        assertTrue(cpuNs < wallNs / 5, "driver thread CPU while a client thread was half way through handing the " +
            "driver back: " + cpuNs / 1_000 + " us of " + wallNs / 1_000 + " us");
        TestUtil.await(direct()::isDriverAsleep, Thread::yield, 10_000, "the driver thread asleep again");
    }

    @Test
    void shouldWaitForAClientThreadThatRunsTheCycleInsteadOfPolling() throws Exception
    {
        final Thread driverThread = launchAsleep();
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        driver.stallNextCycleOnce(STALL_NS);
        final AtomicLong sendNs = new AtomicLong(-1);
        final Thread sender = new Thread(() ->
        {
            final long startNs = System.nanoTime();
            // The driver sleeps: this thread runs its cycle, and the conductor's first cycle stalls here.
            client.trySend(dest, new UnsafeBuffer(new byte[100]), 0, 100, 1, 0);
            sendNs.set(System.nanoTime() - startNs);
        }, "stalled-sender");
        sender.start();
        final Spent spent = driverThreadWhileStopped(driverThread, sender, STALL_NS, "inside the stalled cycle");
        final long cpuNs = spent.cpuNs();
        final long wallNs = spent.wallNs();

        assertTrue(sendNs.get() >= STALL_NS, "the client thread ran the stalled cycle: send took " +
            sendNs.get() / 1_000 + " us");
        assertTrue(wallNs > STALL_NS / 2, "measured while the sender held the driver: " + wallNs / 1_000 + " us");
        assertTrue(cpuNs < wallNs / 5, "driver thread CPU while a client thread held the driver: " +
            cpuNs / 1_000 + " us of " + wallNs / 1_000 + " us");

        // And the driver works on: the request reaches the server.
        final AtomicLong received = new AtomicLong();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (0 == received.get() && System.nanoTime() - deadlineNs < 0)
        {
            server.receive(new io.homa.client.MessageHandler()
            {
                public void onMessage(final long id, final long c, final org.agrona.DirectBuffer b, final int o,
                    final int l)
                {
                    received.set(l);
                }

                public void onError(final long id, final long c, final int e)
                {
                }
            }, TimeUnit.MILLISECONDS.toNanos(100));
        }
        assertTrue(100 == received.get(), "request delivered after the stall: " + received.get());
    }
}
