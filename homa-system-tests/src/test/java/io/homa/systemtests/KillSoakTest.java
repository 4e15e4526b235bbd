package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.File;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opt-in soak ({@code -Dhoma.test.kill.soak=true}, about two minutes): client processes with drivers of their own,
 * each keeping four 1 MB echo RPCs going to a server in this JVM, are killed with kill -9 at random points, fifty
 * times; afterwards the server's {@code rpcs_active} and its socket's free send region return to their starting
 * values (before #16 item 3 a response waiting for a dead client's GRANTs held its RPC and send block forever).
 */
@EnabledIfSystemProperty(named = "homa.test.kill.soak", matches = "true")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class KillSoakTest
{
    private static final int SERVER_PORT = 714;
    private static final int KILLS = 50;
    private static final int SIZE = 1_000_000;

    private MediaDriver driver;
    private Homa homa;
    private HomaSocket server;
    private Thread echo;
    private volatile boolean isRunning = true;

    @AfterEach
    void after() throws InterruptedException
    {
        isRunning = false;
        if (null != echo)
        {
            echo.join(10_000);
        }
        CloseHelper.quietCloseAll(homa, driver);
    }

    @Test
    void shouldReturnToStartingStateAfterFiftyClientsKilledMidRpc() throws Exception
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        server = homa.addSocket(SERVER_PORT);
        final long rpcsAtStart = driver.counter(SystemCounterDescriptor.RPCS_ACTIVE);
        final long freeAtStart = server.sendRegionFreeBytes();
        final java.util.concurrent.atomic.AtomicLong echoed = new java.util.concurrent.atomic.AtomicLong();
        echo = new Thread(() ->
        {
            final MessageHandler handler = new MessageHandler()
            {
                public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                    final int length)
                {
                    server.reply(id, buffer, offset, length);
                    echoed.incrementAndGet();
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                }
            };
            while (isRunning)
            {
                if (0 == server.poll(handler, 16))
                {
                    Thread.onSpinWait();
                }
            }
        }, "echo");
        echo.start();

        final Random random = new Random(16);
        for (int i = 0; i < KILLS; i++)
        {
            final JvmProcess client = JvmProcess.start("kill-soak-" + i, KillSoakClient.class, List.of(),
                Integer.toString(driver.udpAddressIpv4()), Integer.toString(driver.udpPort()),
                Integer.toString(SERVER_PORT), Integer.toString(SIZE), "4");
            try
            {
                final String dir = client.awaitLine(line -> line.startsWith("dir "), 60_000).substring(4);
                client.awaitLine("ready"::equals, 60_000);
                // A random point: after 0 to 3 more of its echoes (four 1 MB RPCs stay in flight meanwhile).
                final long killAt = echoed.get() + random.nextInt(4);
                TestUtil.await(() -> echoed.get() >= killAt, Thread::yield, 60_000, "echoes before the kill");
                client.signal("KILL");
                client.awaitExit(30_000);
                // A killed driver cannot delete its directory (its socket files are large).
                IoUtil.delete(new File(dir), true);
            }
            finally
            {
                client.close();
            }
        }

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (driver.counter(SystemCounterDescriptor.RPCS_ACTIVE) != rpcsAtStart ||
            server.sendRegionFreeBytes() != freeAtStart)
        {
            assertTrue(System.nanoTime() < deadlineNs, "rpcs_active " +
                driver.counter(SystemCounterDescriptor.RPCS_ACTIVE) + " (start " + rpcsAtStart + "), send region free " +
                server.sendRegionFreeBytes() + " (start " + freeAtStart + ")");
            Thread.yield();
        }
        final long timedOut = driver.counter(SystemCounterDescriptor.RPC_TIMEOUTS);
        final long unreachable = driver.counter(SystemCounterDescriptor.UNREACHABLE_SERVER_RPCS);
        System.out.printf("kill soak: %d clients killed, %d requests echoed, %d server RPCs timed out, %d ended by " +
            "ICMP port-unreachable%n", KILLS, echoed.get(), timedOut, unreachable);
        assertEquals(rpcsAtStart, driver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        // A dead client's UDP port answers with ICMP, which ends its server RPCs at once; a timeout ends the rest.
        assertTrue(timedOut + unreachable > 0, "some RPCs were cut off mid-transfer");
    }
}
