package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Receiver-driven scheduling through the real path: embedded drivers in INVOKER mode (every agent, client and
 * server on the test thread), clients over the CnC, UDP on loopback. The drivers share a clock that the test moves
 * by {@link #PUMP_NS} per pump: time (timer ticks, RESENDs, pacing, FIFO grant intervals) passes with the work done,
 * not with the wall clock, so a descheduled test thread changes nothing and runs are repeatable on a busy host.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulingTest
{
    private static final int SERVER_PORT = 700;
    private static final int MB = 1_000_000;
    private static final long WAIT_MS = 30_000;
    /** Driver time per pump of every agent and socket: 1 us, so a 1 ms tick is a thousand pumps. */
    private static final long PUMP_NS = 1_000;

    private final ManualNanoClock clock = new ManualNanoClock();

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<AgentInvoker> invokers = new ArrayList<>();
    private final List<Long> completed = new ArrayList<>();
    private final List<Integer> serverCompleted = new ArrayList<>();
    private final UnsafeBuffer reply = pattern(100, 100);
    private HomaSocket server;
    private HomaSocket client;
    private MessageHandler serverHandler;
    private final MessageHandler clientHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            completed.add(cookie);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("RPC " + cookie + " failed: " + errorCode);
        }
    };

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    @Test
    void shouldGrantLongMessageInWindowsAtScheduledPriorities()
    {
        final MediaDriver driver = launch(linuxContext());
        final Homa homa = connect(driver);
        startServer(homa, true);
        client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        client.send(dest, pattern(MB, 7), 0, MB, 7);
        pumpUntil(() -> 1 == completed.size(), "1 MB RPC");

        final long grants = driver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT);
        // 960,000 scheduled bytes in windows of at most 200,000 beyond what arrived: at least 4 GRANTs.
        assertTrue(grants >= 4, "GRANTs sent: " + grants);
        assertEquals(grants, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_GRANT));
        final long maxIncoming = driver.counter(SystemCounterDescriptor.MAX_TOTAL_INCOMING);
        assertTrue(maxIncoming > 0 && maxIncoming <= 200_000,
            "a lone message never has more than max_incoming / 2 granted but unreceived: " + maxIncoming);
        assertEquals(0, driver.counter(SystemCounterDescriptor.GRANTABLE_RPCS));

        // First contact: unscheduled bytes at 6 (no CUTOFFS yet), scheduled ones at the lone message's level 0,
        // control (GRANT, CUTOFFS) at 7. The request's first DATA draws exactly one CUTOFFS (the driver is its own
        // peer here, so the response already uses the new cutoffs).
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS));
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_CUTOFFS));
        assertTrue(driver.counter(SystemCounterDescriptor.PRIORITY6_PACKETS) >= 1);
        assertTrue(driver.counter(SystemCounterDescriptor.PRIORITY0_PACKETS) >= 4);
        assertTrue(driver.counter(SystemCounterDescriptor.PRIORITY7_PACKETS) >= grants + 1);
        assertEquals(0, driver.counter(SystemCounterDescriptor.PRIORITY4_PACKETS));
        assertEquals(List.of(MB), serverCompleted);

        // With the receiver's cutoffs known, a long message's unscheduled bytes go at 4; no new CUTOFFS.
        client.send(dest, pattern(MB, 8), 0, MB, 8);
        pumpUntil(() -> 2 == completed.size(), "second 1 MB RPC");
        assertTrue(driver.counter(SystemCounterDescriptor.PRIORITY4_PACKETS) >= 1);
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS));
        assertTrue(driver.counter(SystemCounterDescriptor.MAX_TOTAL_INCOMING) <= 200_000);
    }

    @Test
    void shouldKeepConcurrentMessagesWithinMaxIncomingAndExchangeCutoffsOncePerPeer()
    {
        // CUTOFFS are rate-limited per peer per tick: a long tick keeps a descheduled test thread from mattering.
        final long tickNs = TimeUnit.SECONDS.toNanos(1);
        final MediaDriver serverDriver = launch(linuxContext().timerTickNs(tickNs));
        startServer(connect(serverDriver), true);
        final MediaDriver clientDriver = launch(linuxContext().timerTickNs(tickNs));
        client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        for (int round = 1; round <= 2; round++)
        {
            for (int i = 0; i < 4; i++)
            {
                client.send(dest, pattern(MB, i), 0, MB, i);
            }
            final int expected = 4 * round;
            pumpUntil(() -> expected == completed.size(), "4 concurrent 1 MB RPCs, round " + round);

            final long maxIncoming = serverDriver.counter(SystemCounterDescriptor.MAX_TOTAL_INCOMING);
            assertTrue(maxIncoming > 200_000 && maxIncoming <= 400_000, "max_total_incoming " + maxIncoming);
            // One CUTOFFS each way (requests to the server, responses to the client), however many messages.
            assertEquals(1, serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS));
            assertEquals(1, clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS));
            assertEquals(1, clientDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_CUTOFFS));
        }
        assertEquals(8, serverCompleted.size());
        assertTrue(serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT) >= 8 * 4);
        assertEquals(0, clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT), "100 B responses");
    }

    @Test
    void shouldFinishShortMessageSentAfterLongOnesFirst()
    {
        final MediaDriver serverDriver = launch(linuxContext());
        startServer(connect(serverDriver), false);
        final MediaDriver clientDriver = launch(linuxContext());
        client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        final UnsafeBuffer longMessage = pattern(MB, 1);
        for (int i = 1; i <= 4; i++)
        {
            client.send(dest, longMessage, 0, MB, i);
        }
        // Wait until all four long messages are under the receiver's scheduling, then send a short one.
        pumpUntil(() -> 4 == serverDriver.counter(SystemCounterDescriptor.GRANTABLE_RPCS) &&
            serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT) >= 4, "grants for longs");
        assertEquals(List.of(), serverCompleted, "no long request complete yet");
        client.send(dest, pattern(100, 0), 0, 100, 0);
        final UnsafeBuffer medium = pattern(150_000, 5);
        client.send(dest, medium, 0, 150_000, 5);

        pumpUntil(() -> 6 == completed.size(), "all RPCs");
        assertEquals(0L, completed.get(0), "the short message finishes before the long ones sent earlier: " + completed);
        assertEquals(5L, completed.get(1), "the scheduled 150 KB message too: " + completed);
    }

    @Test
    void shouldGrantShortestMessageWhenOnlyOneMayBeActive()
    {
        final MediaDriver serverDriver = launch(linuxContext().maxOvercommit(1));
        startServer(connect(serverDriver), false);
        final MediaDriver clientDriver = launch(linuxContext());
        client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        final UnsafeBuffer longMessage = pattern(MB, 1);
        for (int i = 1; i <= 3; i++)
        {
            client.send(dest, longMessage, 0, MB, i);
        }
        pumpUntil(() -> 3 == serverDriver.counter(SystemCounterDescriptor.GRANTABLE_RPCS) &&
            serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT) >= 2, "grants for longs");
        assertEquals(List.of(), serverCompleted, "no long request complete yet");
        client.send(dest, pattern(200_000, 9), 0, 200_000, 9);

        pumpUntil(() -> 4 == completed.size(), "all RPCs");
        // One active message at a time, in SRPT order: the 200 KB message displaces every long one that has more
        // left than it, so at most the one long message that was nearly done can beat it.
        final int mediumPosition = completed.indexOf(9L);
        assertTrue(mediumPosition <= 1, "completion order " + completed);
    }

    @Test
    void shouldCompleteOldestLongMessageWhileShorterOnesKeepArrivingWithFifoGrants() throws IOException
    {
        // One active message at a time, so SRPT alone would starve a long message behind a stream of shorter ones
        // (measured: it finished only after ~160 of them); FIFO grants at Linux's 50/1000 of 25 Gbit/s keep it moving.
        final MediaDriver serverDriver = launch(linuxContext().maxOvercommit(1).grantFifoFraction(50));
        startServer(connect(serverDriver), false);
        final MediaDriver clientDriver = launch(linuxContext());
        client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        final StarveWorkload workload = StarveWorkload.load();
        final Random random = new Random(42);
        final UnsafeBuffer payload = pattern(MB, 3);
        final long oldest = 1_000;
        client.send(dest, payload, 0, MB, oldest);

        final int streamLength = 200;
        final int outstanding = 3;
        int sent = 0;
        int shorterSentBeforeOldestDone = 0;
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!completed.contains(oldest))
        {
            while (sent < streamLength && sent - completedExcept(oldest) < outstanding)
            {
                final int size = Math.min(workload.sample(random), MB - 1);
                client.send(dest, payload, 0, size, sent);
                sent++;
                shorterSentBeforeOldestDone++;
            }
            pump();
            if (sent == streamLength && completedExcept(oldest) == streamLength)
            {
                break;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("stuck: sent " + sent + ", completed " + completed.size());
            }
        }
        assertTrue(completed.contains(oldest), "oldest message completed");
        assertTrue(sent < streamLength,
            "the oldest message finished while shorter ones kept arriving (stream sent " + sent + " of " +
            streamLength + ")");
        assertTrue(serverDriver.counter(SystemCounterDescriptor.FIFO_GRANT_BYTES) > 0);
        assertTrue(shorterSentBeforeOldestDone > outstanding);
    }

    @Test
    void shouldDeriveUnscheduledBytesAndMaxIncomingFromRttAndLinkSpeed()
    {
        final MediaDriver linuxLike = launch(new MediaDriver.Context()
            .rttNs(TimeUnit.MICROSECONDS.toNanos(13)).linkMbps(25_000));
        assertEquals(40_625, linuxLike.context().unschedBytes());
        assertEquals(406_250, linuxLike.context().maxIncoming());
        final MediaDriver explicit = launch(new MediaDriver.Context()
            .rttNs(TimeUnit.MICROSECONDS.toNanos(13)).linkMbps(25_000).unschedBytes(30_000));
        assertEquals(30_000, explicit.context().unschedBytes(), "explicit values win");
        assertEquals(406_250, explicit.context().maxIncoming(), "still ten RTTs of link time");

        // A 300 Mbit/s network with a 100 us RTT needs far smaller values; a 1 MB message still goes through.
        final MediaDriver slow = launch(new MediaDriver.Context()
            .rttNs(TimeUnit.MICROSECONDS.toNanos(100)).linkMbps(300));
        assertEquals(3_750, slow.context().unschedBytes());
        assertEquals(37_500, slow.context().maxIncoming());
        final Homa homa = connect(slow);
        startServer(homa, true);
        client = homa.addSocket();
        client.send(HomaAddress.of(slow.udpAddressIpv4(), slow.udpPort(), SERVER_PORT), pattern(MB, 4), 0, MB, 4);
        pumpUntil(() -> 1 == completed.size(), "1 MB RPC with small windows");
        assertTrue(slow.counter(SystemCounterDescriptor.MAX_TOTAL_INCOMING) <= 37_500 / 2);
        assertTrue(slow.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT) >= (MB - 3_750) / (37_500 / 2));
    }

    @Test
    void shouldTakeLoopbacksRoundTripAsUnscheduledBytesUnlessTold()
    {
        final MediaDriver loopback = launch(new MediaDriver.Context());
        assertEquals(Configuration.LOOPBACK_UNSCHED_BYTES, loopback.context().unschedBytes());
        assertEquals(10 * Configuration.LOOPBACK_UNSCHED_BYTES, loopback.context().maxIncoming());
        final MediaDriver linux = launch(new MediaDriver.Context().unschedBytes(40_000));
        assertEquals(40_000, linux.context().unschedBytes(), "explicit values win");
        assertEquals(Configuration.MAX_INCOMING_DEFAULT, linux.context().maxIncoming(), "Linux's max_incoming with it");

        // A 1 MB request on loopback's numbers: 150,000 bytes without grants, then windows of 750,000 (max_incoming
        // over one active message plus one): two grants where Linux's numbers need five.
        final Homa homa = connect(loopback);
        startServer(homa, true);
        client = homa.addSocket();
        client.send(HomaAddress.of(loopback.udpAddressIpv4(), loopback.udpPort(), SERVER_PORT), pattern(MB, 7), 0,
            MB, 7);
        pumpUntil(() -> 1 == completed.size(), "1 MB RPC on loopback's numbers");
        final long grants = loopback.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT);
        assertTrue(grants >= 1 && grants <= 3, "GRANTs for a 1 MB request: " + grants);
    }

    @Test
    void shouldNotPaceOnLoopbackUnlessAskedAndStillCompleteWhenPacing()
    {
        final MediaDriver unpaced = launch(new MediaDriver.Context().linkMbps(25_000));
        assertTrue(!unpaced.context().schedulingSettings().pacing(), "auto: no pacing on loopback");

        final MediaDriver paced = launch(new MediaDriver.Context().linkMbps(25_000).pacing("true"));
        assertTrue(paced.context().schedulingSettings().pacing());
        final Homa homa = connect(paced);
        startServer(homa, true);
        client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(paced.udpAddressIpv4(), paced.udpPort(), SERVER_PORT);
        for (int i = 0; i < 3; i++)
        {
            client.send(dest, pattern(MB, i), 0, MB, i);
        }
        pumpUntil(() -> 3 == completed.size(), "3 paced 1 MB RPCs");
        // 64 KB loopback packets take 21 us each at 25 Gbit/s: more than the 5 us backlog allowed, so DATA waited.
        assertTrue(paced.counter(SystemCounterDescriptor.THROTTLE_LIST_ADDS) > 0);
        assertTrue(paced.counter(SystemCounterDescriptor.PACER_HOMA_PACKETS) > 0);
        assertEquals(0, unpaced.counter(SystemCounterDescriptor.THROTTLE_LIST_ADDS));
    }

    // ---------------------------------------------------------------------------------------------------------

    private int completedExcept(final long cookie)
    {
        return completed.size() - (completed.contains(cookie) ? 1 : 0);
    }

    /**
     * These tests follow Linux's numbers (unsched_bytes 40,000, max_incoming 400,000), not the larger ones a driver on
     * loopback takes by default ({@link Configuration#LOOPBACK_UNSCHED_BYTES}).
     */
    private static MediaDriver.Context linuxContext()
    {
        return new MediaDriver.Context().unschedBytes(Configuration.UNSCHED_BYTES_DEFAULT);
    }

    private MediaDriver launch(final MediaDriver.Context ctx)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx.threadingMode(ThreadingMode.INVOKER).nanoClock(clock));
        closeables.add(driver);
        invokers.add(driver.sharedAgentInvoker());
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
        closeables.add(homa);
        return homa;
    }

    private void startServer(final Homa homa, final boolean checkPayload)
    {
        server = homa.addSocket(SERVER_PORT);
        serverHandler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                if (checkPayload && !matchesPattern(buffer, offset, length, buffer.getByte(offset)))
                {
                    fail("request bytes differ");
                }
                serverCompleted.add(length);
                server.reply(id, reply, 0, reply.capacity());
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                fail("server error " + errorCode);
            }
        };
    }

    private void pump()
    {
        for (int i = 0, size = invokers.size(); i < size; i++)
        {
            invokers.get(i).invoke();
        }
        server.poll(serverHandler, 16);
        client.poll(clientHandler, 16);
        clock.advanceNs(PUMP_NS);
    }

    private void pumpUntil(final java.util.function.BooleanSupplier done, final String what)
    {
        TestUtil.await(done, this::pump, WAIT_MS, what);
    }

    /**
     * Message sizes of {@code ../shared/homa-workloads/starve.csv} (100 KB to 1 MB), sampled by their CDF.
     */
    record StarveWorkload(int[] sizes, double[] cdf)
    {
        static StarveWorkload load() throws IOException
        {
            final Path path = Path.of("..", "..", "shared", "homa-workloads", "starve.csv");
            final List<String> lines = Files.exists(path) ? Files.readAllLines(path) : List.of(
                "length_bytes,weight,cdf", "100000,100,0.105263157895", "200000,100,0.210526315789",
                "300000,100,0.315789473684", "400000,100,0.421052631579", "500000,100,0.526315789474",
                "600000,100,0.631578947368", "700000,100,0.736842105263", "800000,100,0.842105263158",
                "900000,100,0.947368421053", "1000000,50,1.000000000000");
            final int n = lines.size() - 1;
            final int[] sizes = new int[n];
            final double[] cdf = new double[n];
            for (int i = 0; i < n; i++)
            {
                final String[] fields = lines.get(i + 1).split(",");
                sizes[i] = Integer.parseInt(fields[0].trim());
                cdf[i] = Double.parseDouble(fields[2].trim());
            }
            return new StarveWorkload(sizes, cdf);
        }

        int sample(final Random random)
        {
            final double u = random.nextDouble();
            for (int i = 0; i < sizes.length; i++)
            {
                if (u <= cdf[i])
                {
                    return sizes[i];
                }
            }
            return sizes[sizes.length - 1];
        }
    }
}
