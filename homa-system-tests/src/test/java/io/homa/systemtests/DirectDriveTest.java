package io.homa.systemtests;

import io.homa.client.internal.DirectDriver;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
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
 * Direct drive (a client thread runs a sleeping SHARED driver's duty cycle): while a client thread holds the driver
 * for one cycle, the driver's own thread, woken meanwhile by an arriving packet, waits for it instead of polling.
 * A polling driver thread took the core the holder needed: on 2 cores a preempted holder then stayed off the CPU
 * for milliseconds (seen in W4 runs with perf sched), and every RPC behind it waited.
 * <p>
 * The cycle is held long with the conductor's stall seam, which sleeps inside the cycle of whichever thread runs it;
 * the test checks that the client thread is the one (its send takes the stall), then bounds the CPU time the
 * driver thread used meanwhile. Polling, it used the whole stall.
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

    @Test
    void shouldWaitForAClientThreadThatRunsTheCycleInsteadOfPolling() throws Exception
    {
        final Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        final Thread driverThread = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && t.getName().contains("homa-conductor"))
            .findFirst().orElseThrow(() -> new AssertionError("no driver thread"));
        final DirectDriver direct = DirectDriver.Registry.find(new File(driver.homaDirectoryName()));
        assertNotNull(direct, "an embedded SHARED driver registers for direct drive");

        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
        TestUtil.await(direct::isDriverAsleep, Thread::yield, 10_000, "the driver thread asleep");

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
        try (DatagramChannel channel = DatagramChannel.open())
        {
            channel.send(ByteBuffer.wrap(new byte[]{ 1, 2, 3 }), new InetSocketAddress("127.0.0.1", driver.udpPort()));
        }
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
