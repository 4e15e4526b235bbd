package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.ActiveDriverException;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real path: an embedded driver, clients through the CnC, RPCs over UDP on loopback. The main cases run in every
 * threading mode; in INVOKER mode an application thread drives the driver's duty cycle.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DriverAndClientTest
{
    private static final int SERVER_PORT = 500;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MediaDriver driver;
    private Homa homa;
    private HomaAddress serverAddress;

    private ThreadingMode mode = ThreadingMode.SHARED;

    private void setUp(final ThreadingMode mode)
    {
        this.mode = mode;
        driver = launchDriver();
        homa = connect(driver);
        serverAddress = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
    }

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launchDriver()
    {
        // Several busy threads per core in the threaded modes can stall a driver thread for 100+ ms on a 2-core
        // machine; these tests are about the API, not timeouts (LossRecoveryTest covers ETIMEDOUT).
        final MediaDriver d = MediaDriver.launchEmbedded(
            new MediaDriver.Context().threadingMode(mode).timeoutTicks(2_000));
        closeables.add(d);
        if (ThreadingMode.INVOKER == mode)
        {
            closeables.add(new DutyCycleThread(d.sharedAgentInvoker()));
        }
        return d;
    }

    private Homa connect(final MediaDriver d)
    {
        final Homa h = Homa.connect(new Homa.Context().homaDirectoryName(d.homaDirectoryName()));
        closeables.add(h);
        return h;
    }

    private EchoServer startEchoServer(final Homa h, final int port)
    {
        final EchoServer server = new EchoServer(h.addSocket(port));
        closeables.add(server);
        return server;
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldServeManyConcurrentRpcsFromSeveralThreadsOnOneSocket(final ThreadingMode mode) throws Exception
    {
        setUp(mode);
        startEchoServer(homa, SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final int threads = 4;
        final int rpcsPerThread = 150;
        // By cookie, recorded before the send: another thread's poll may run the driver and take the response
        // before send() has even returned here.
        final ConcurrentHashMap<Long, Integer> expectedLength = new ConcurrentHashMap<>();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicReference<String> failure = new AtomicReference<>();
        final MessageHandler checker = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                final Integer expected = expectedLength.remove(cookie);
                if (null == expected || expected != length || !matchesPattern(buffer, offset, length, cookie))
                {
                    failure.compareAndSet(null, "bad response for " + id + " length " + length);
                }
                completed.incrementAndGet();
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                failure.compareAndSet(null, "error " + HomaError.name(errorCode) + " for " + id);
            }
        };

        final CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++)
        {
            final int threadIndex = t;
            final Thread thread = new Thread(() ->
            {
                try
                {
                    for (int i = 0; i < rpcsPerThread; i++)
                    {
                        final long cookie = threadIndex * 100_000L + i;
                        final int size = 1 + (int)((cookie * 7919) % 100_000);
                        final UnsafeBuffer request = pattern(size, cookie);
                        final long outstandingDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        while (expectedLength.size() >= 64 && System.nanoTime() - outstandingDeadlineNs < 0)
                        {
                            client.poll(checker, 10);
                        }
                        expectedLength.put(cookie, size);
                        client.send(serverAddress, request, 0, size, cookie);
                        client.poll(checker, 10);
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex.toString());
                }
                finally
                {
                    done.countDown();
                }
            });
            thread.start();
        }

        final int total = threads * rpcsPerThread;
        await(() -> completed.get() == total || null != failure.get(), () -> client.poll(checker, 100), 30_000,
            "all responses");
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(null, failure.get(), this::counters);
        assertEquals(total, completed.get());
        assertTrue(expectedLength.isEmpty());
        assertEquals(total, driver.counter(SystemCounterDescriptor.CLIENT_RESPONSES_DONE));
        assertEquals(0, driver.counter(SystemCounterDescriptor.UDP_RECEIVE_DROPS), this::counters);
    }

    private String counters()
    {
        final StringBuilder sb = new StringBuilder();
        for (final SystemCounterDescriptor d : SystemCounterDescriptor.values())
        {
            sb.append(d.label()).append('=').append(driver.counter(d)).append(' ');
        }
        return sb.toString();
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldServeTwoClientsOfOneDriver(final ThreadingMode mode)
    {
        setUp(mode);
        startEchoServer(homa, SERVER_PORT);
        final Homa otherClient = connect(driver);
        final HomaSocket a = homa.addSocket();
        final HomaSocket b = otherClient.addSocket();
        assertTrue(a.port() >= 0x8000 && b.port() >= 0x8000 && a.port() != b.port());

        final long idA = a.send(serverAddress, pattern(3000, 1), 0, 3000, 1);
        final long idB = b.send(serverAddress, pattern(70_000, 2), 0, 70_000, 2);
        final Responses ra = new Responses();
        final Responses rb = new Responses();
        await(() -> 1 == ra.count && 1 == rb.count, () ->
        {
            a.poll(ra, 10);
            b.poll(rb, 10);
        }, 10_000, "both responses");
        assertEquals(idA, ra.lastId);
        assertEquals(idB, rb.lastId);
        assertTrue(ra.lastMatched && rb.lastMatched);
        assertTrue(homa.clientId() != otherClient.clientId());
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldCarryRpcsBetweenTwoDriversOnOneHost(final ThreadingMode mode)
    {
        setUp(mode);
        final MediaDriver serverDriver = launchDriver();
        final Homa serverHoma = connect(serverDriver);
        startEchoServer(serverHoma, SERVER_PORT);
        final HomaAddress remote = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        final HomaSocket client = homa.addSocket();

        final Responses responses = new Responses();
        for (int i = 0; i < 20; i++)
        {
            final int size = 1 + i * 25_000;
            client.send(remote, pattern(size, i), 0, size, i);
        }
        await(() -> 20 == responses.count, () -> client.poll(responses, 10), 20_000, "20 responses");
        assertEquals(20, responses.matched);
        assertEquals(20, serverDriver.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE));
        assertEquals(0, driver.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE));
        // Acks (piggy-backed or answering NEED_ACK) free the server's state.
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () -> client.poll(responses, 1),
            5_000, "server RPCs acked");
        assertEquals(20, serverDriver.counter(SystemCounterDescriptor.SERVER_RESPONSES_DONE));
    }

    @Test
    void shouldRefuseSecondDriverOnLiveDirectory()
    {
        setUp(ThreadingMode.SHARED);
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .udpPort(0);
        assertThrows(ActiveDriverException.class, () -> MediaDriver.launch(ctx));
        // The live driver is unharmed.
        startEchoServer(homa, SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        client.send(serverAddress, pattern(10, 3), 0, 10, 3);
        final Responses responses = new Responses();
        await(() -> 1 == responses.count, () -> client.poll(responses, 1), 5_000, "response");
    }

    @Test
    void shouldCleanDeadDriverDirectory() throws Exception
    {
        setUp(ThreadingMode.SHARED);
        final File dir = Files.createTempDirectory("homa-dead").toFile();
        Files.write(new File(dir, "cnc.dat").toPath(), new byte[8192]);
        Files.write(new File(dir, "leftover.socket").toPath(), new byte[10]);
        final MediaDriver d = MediaDriver.launch(new MediaDriver.Context()
            .homaDirectoryName(dir.getPath()).udpPort(0).dirDeleteOnShutdown(true));
        closeables.add(d);
        assertFalse(new File(dir, "leftover.socket").exists());
        final Homa h = connect(d);
        assertTrue(h.addSocket().port() >= 0x8000);
    }

    @Test
    void shouldRejectBadArgumentsWithSpecificErrors()
    {
        setUp(ThreadingMode.SHARED);
        final HomaSocket client = homa.addSocket();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1_000_001]);
        assertError(HomaError.EINVAL, () -> client.send(serverAddress, buffer, 0, 0, 0));
        assertError(HomaError.EINVAL, () -> client.send(serverAddress, buffer, 0, 1_000_001, 0));
        assertError(HomaError.EINVAL, () -> client.send(serverAddress, buffer, 1_000_000, 10, 0));
        assertError(HomaError.EINVAL, () -> client.send(null, buffer, 0, 10, 0));
        assertError(HomaError.EINVAL, () -> client.send(serverAddress, buffer, 0, 10, 0, 0x80));
        assertError(HomaError.EINVAL, () -> HomaAddress.of("127.0.0.1", 4000, 0));
        assertError(HomaError.EINVAL, () -> HomaAddress.of("127.0.0.1", 4000, 70_000));
        assertError(HomaError.EINVAL, () -> HomaAddress.of("127.0.0.1", 70_000, 10));
        assertError(HomaError.EINVAL, () -> homa.addSocket(0));
        assertError(HomaError.EINVAL, () -> homa.addSocket(0x8000));
        assertError(HomaError.EINVAL, () -> client.reply(2, buffer, 0, 10));
        assertError(HomaError.EINVAL, () -> client.abort(3));
        assertError(HomaError.EINVAL, () -> client.abort(0));

        homa.addSocket(SERVER_PORT);
        assertError(HomaError.EADDRINUSE, () -> homa.addSocket(SERVER_PORT));
        assertError(HomaError.EADDRINUSE, () -> client.bind(SERVER_PORT));

        client.close();
        assertError(HomaError.ESHUTDOWN, () -> client.send(serverAddress, buffer, 0, 10, 0));
    }

    @Test
    void shouldRefuseReplyToAnIdThisSocketNeverReceived()
    {
        // Was silently dropped by the driver (reply_unknown_rpcs): the client now knows its requests in service.
        // The driver still drops and counts a reply whose request it discarded meanwhile.
        setUp(ThreadingMode.SHARED);
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        assertError(HomaError.EINVAL, () -> server.reply(12_345, pattern(10, 0), 0, 10));
        assertEquals(0, driver.counter(SystemCounterDescriptor.REPLY_UNKNOWN_RPCS));
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldCountAndDropMalformedPacketsAndKeepServing(final ThreadingMode mode) throws Exception
    {
        setUp(mode);
        try (DatagramChannel channel = DatagramChannel.open())
        {
            final InetSocketAddress target = new InetSocketAddress("127.0.0.1", driver.udpPort());
            channel.send(ByteBuffer.wrap(new byte[10]), target);
            final ByteBuffer unknownType = ByteBuffer.allocate(28);
            unknownType.put(11, (byte)0x42);
            channel.send(unknownType, target);
            final ByteBuffer badData = ByteBuffer.allocate(100).order(ByteOrder.BIG_ENDIAN);
            badData.put(11, (byte)0x10);
            badData.putInt(28, 0);
            channel.send(badData, target);
        }
        await(() -> 1 == driver.counter(SystemCounterDescriptor.SHORT_PACKETS) &&
            1 == driver.counter(SystemCounterDescriptor.UNKNOWN_PACKET_TYPES) &&
            1 == driver.counter(SystemCounterDescriptor.PACKET_DISCARDS), () -> { }, 5_000, "drop counters");
        assertEquals(0, driver.counter(SystemCounterDescriptor.ERRORS));

        startEchoServer(homa, SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        client.send(serverAddress, pattern(100, 5), 0, 100, 5);
        final Responses responses = new Responses();
        await(() -> 1 == responses.count, () -> client.poll(responses, 1), 5_000, "response after garbage");
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldFailRequestToUnboundPortFastWithEnotconn(final ThreadingMode mode)
    {
        setUp(mode);
        final HomaSocket client = homa.addSocket();
        final HomaSocket notAServer = homa.addSocket();
        final long idUnbound = client.send(HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), 777),
            pattern(100_000, 1), 0, 100_000, 11);
        final long idClientPort = client.send(
            HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), notAServer.port()), pattern(10, 1), 0, 10, 12);

        final Responses responses = new Responses();
        final long startNs = System.nanoTime();
        await(() -> 2 == responses.errors, () -> client.poll(responses, 10), 5_000, "two ENOTCONN");
        assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(5));
        assertEquals(HomaError.ENOTCONN, responses.errorById.get(idUnbound));
        assertEquals(HomaError.ENOTCONN, responses.errorById.get(idClientPort));
        assertEquals(0, responses.count);
        assertTrue(driver.counter(SystemCounterDescriptor.PACKETS_SENT_PORT_UNREACHABLE) >= 2);
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldDeliverPrivateResponseOnlyToReceiveById(final ThreadingMode mode)
    {
        setUp(mode);
        startEchoServer(homa, SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final long privateId = client.send(serverAddress, pattern(500, 9), 0, 500, 9, HomaSocket.FLAG_PRIVATE);
        final long sharedId = client.send(serverAddress, pattern(400, 8), 0, 400, 8);

        final Responses shared = new Responses();
        await(() -> 1 == shared.count, () -> client.poll(shared, 10), 5_000, "shared response");
        assertEquals(sharedId, shared.lastId);
        // Give the private response time to arrive; poll must never hand it out.
        final long untilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        while (System.nanoTime() - untilNs < 0)
        {
            client.poll(shared, 10);
        }
        assertEquals(1, shared.count);

        final Responses mine = new Responses();
        assertTrue(client.receive(privateId, mine, TimeUnit.SECONDS.toNanos(5)));
        assertEquals(privateId, mine.lastId);
        assertEquals(500, mine.lastLength);
        assertTrue(mine.lastMatched);
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldAbortRpcsWithEcanceled(final ThreadingMode mode)
    {
        setUp(mode);
        final HomaSocket silentServer = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final long first = client.send(serverAddress, pattern(10, 1), 0, 10, 1);
        final long second = client.send(serverAddress, pattern(10, 2), 0, 10, 2);
        final long third = client.send(serverAddress, pattern(10, 3), 0, 10, 3);
        final Responses requests = new Responses();
        await(() -> 3 == requests.count, () -> silentServer.poll(requests, 10), 5_000, "3 requests at the server");

        final Responses responses = new Responses();
        client.abort(first);
        await(() -> 1 == responses.errors, () -> client.poll(responses, 10), 5_000, "abort");
        assertEquals(HomaError.ECANCELED, responses.errorById.get(first));

        client.abortAll();
        await(() -> 3 == responses.errors, () -> client.poll(responses, 10), 5_000, "abortAll");
        assertEquals(HomaError.ECANCELED, responses.errorById.get(second));
        assertEquals(HomaError.ECANCELED, responses.errorById.get(third));
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldRetainMessageBeyondHandlerAndReleaseIt(final ThreadingMode mode)
    {
        setUp(mode);
        startEchoServer(homa, SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        client.send(serverAddress, pattern(5000, 4), 0, 5000, 4);
        final long[] token = { -1 };
        final int[] where = new int[2];
        await(() -> token[0] >= 0, () -> client.poll(new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                token[0] = client.retain();
                where[0] = offset;
                where[1] = length;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                fail();
            }
        }, 1), 5_000, "response");
        assertTrue(matchesPattern(client.receivePool(), where[0], where[1], 4));
        client.release(token[0]);
        assertThrows(IllegalStateException.class, client::retain);
    }

    private static void assertError(final int errorCode, final Runnable call)
    {
        final HomaException ex = assertThrows(HomaException.class, call::run);
        assertEquals(errorCode, ex.errorCode(), ex.getMessage());
    }

    static final class Responses implements MessageHandler
    {
        int count;
        int matched;
        int errors;
        long lastId;
        int lastLength;
        boolean lastMatched;
        final java.util.Map<Long, Integer> errorById = new java.util.HashMap<>();

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
            lastId = id;
            lastLength = length;
            lastMatched = matchesPattern(buffer, offset, length, cookie) ||
                matchesPattern(buffer, offset, length, length);
            if (lastMatched)
            {
                matched++;
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
            errorById.put(id, errorCode);
        }
    }

    /**
     * Echoes every request on its own thread until closed.
     */
    static final class EchoServer implements AutoCloseable
    {
        private final HomaSocket socket;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        EchoServer(final HomaSocket socket)
        {
            this.socket = socket;
            final MessageHandler echo = new MessageHandler()
            {
                public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                    final int length)
                {
                    socket.reply(id, buffer, offset, length);
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                }
            };
            thread = new Thread(() ->
            {
                while (running.get())
                {
                    if (0 == socket.poll(echo, 16))
                    {
                        Thread.onSpinWait();
                    }
                }
            }, "echo-" + socket.port());
            thread.setDaemon(true);
            thread.start();
        }

        public void close() throws InterruptedException
        {
            running.set(false);
            thread.join(5_000);
            socket.close();
        }
    }

    /**
     * INVOKER mode: the application's own thread runs the driver's duty cycle.
     */
    static final class DutyCycleThread implements AutoCloseable
    {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        DutyCycleThread(final org.agrona.concurrent.AgentInvoker invoker)
        {
            thread = new Thread(() ->
            {
                final org.agrona.concurrent.IdleStrategy idle = new org.agrona.concurrent.BackoffIdleStrategy();
                while (running.get() && !invoker.isClosed())
                {
                    idle.idle(invoker.invoke());
                }
            }, "app-duty-cycle");
            thread.setDaemon(true);
            thread.start();
        }

        public void close()
        {
            running.set(false);
            try
            {
                thread.join(5_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
