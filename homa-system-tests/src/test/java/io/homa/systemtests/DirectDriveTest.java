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

    /** A junk datagram (dropped as such once read): it only makes the driver's socket readable. */
    private void makeSocketReadable() throws java.io.IOException
    {
        try (DatagramChannel channel = DatagramChannel.open())
        {
            channel.send(ByteBuffer.wrap(new byte[]{ 1, 2, 3 }), new InetSocketAddress("127.0.0.1", driver.udpPort()));
        }
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
        TestUtil.await(() -> Thread.State.TIMED_WAITING == waiter.getState() || !waiter.isAlive(), Thread::yield,
            10_000, "the waiter half way through its hand-back");

        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final long cpuStartNs = threads.getThreadCpuTime(driverThread.threadId());
        final long wallStartNs = System.nanoTime();
        makeSocketReadable();
        waiter.join(TimeUnit.NANOSECONDS.toMillis(pauseNs) * 20);
        final long cpuNs = threads.getThreadCpuTime(driverThread.threadId()) - cpuStartNs;
        final long wallNs = System.nanoTime() - wallStartNs;

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
        TestUtil.await(() -> Thread.State.TIMED_WAITING == sender.getState() || !sender.isAlive(), Thread::yield,
            10_000, "the sender inside the stalled cycle");

        // Wake the driver thread while the sender holds the driver: a datagram on its socket (dropped as junk).
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final long cpuStartNs = threads.getThreadCpuTime(driverThread.threadId());
        final long wallStartNs = System.nanoTime();
        makeSocketReadable();
        sender.join(TimeUnit.NANOSECONDS.toMillis(STALL_NS) * 20);
        final long cpuNs = threads.getThreadCpuTime(driverThread.threadId()) - cpuStartNs;
        final long wallNs = System.nanoTime() - wallStartNs;

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
