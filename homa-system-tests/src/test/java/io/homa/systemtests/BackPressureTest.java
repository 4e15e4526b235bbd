package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full send region pushes back on the sender (a result, or a bounded wait) instead of failing or growing, and
 * nothing is lost; {@link HomaSocket#shutdown()} wakes the waiting threads.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackPressureTest
{
    private static final int SERVER_PORT = 700;
    /** The smallest region the driver accepts: two maximum-length messages. */
    private static final int REGION = 2 * 1024 * 1024;
    /** Each takes a 512 KiB block, so four fill the region. */
    private static final int SIZE = 500_000;

    private MediaDriver driver;
    private Homa homa;
    private HomaSocket server;
    private HomaSocket client;
    private HomaAddress dest;
    private final LongArrayList heldRequests = new LongArrayList();
    private final Map<Long, Integer> requestLengths = new HashMap<>();
    /** The seed of each request's pattern is its first byte: the reply echoes the same pattern. */
    private final Map<Long, Integer> requestSeeds = new HashMap<>();

    private final MessageHandler holdRequests = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            heldRequests.addLong(id);
            requestLengths.put(id, length);
            requestSeeds.put(id, (int)buffer.getByte(offset));
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };

    @BeforeEach
    void before()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .socketSendRegionLength(REGION));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        server = homa.addSocket(SERVER_PORT);
        client = homa.addSocket();
        dest = homa.driverAddress(SERVER_PORT);
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    @Test
    void shouldPushBackOnFullSendRegionAndLoseNothing() throws Exception
    {
        // The server holds the requests unanswered, so their blocks stay in use.
        int accepted = 0;
        long result;
        while (HomaSocket.BACK_PRESSURED != (result = client.trySend(dest, pattern(SIZE, accepted), 0, SIZE,
            accepted, 0)))
        {
            assertEquals(0, result & 1);
            accepted++;
            assertTrue(accepted <= 4, "the region cannot take more than four");
        }
        assertEquals(4, accepted);
        await(() -> 4 == heldRequests.size(), () -> server.poll(holdRequests, 10), 10_000, "4 requests");

        // A bounded wait fails with EAGAIN; nothing was sent.
        final HomaException timedOut = assertThrows(HomaException.class,
            () -> client.send(dest, pattern(SIZE, 99), 0, SIZE, 99, 0, TimeUnit.MILLISECONDS.toNanos(50)));
        assertEquals(HomaError.EAGAIN, timedOut.errorCode());
        assertEquals(4, driver.counter(SystemCounterDescriptor.CLIENT_REQUESTS_STARTED));

        // A waiting sender goes on as soon as a response frees a block.
        final AtomicReference<Object> fifth = new AtomicReference<>();
        final Thread sender = new Thread(() ->
        {
            try
            {
                fifth.set(client.send(dest, pattern(SIZE, 4), 0, SIZE, 4, 0, TimeUnit.SECONDS.toNanos(30)));
            }
            catch (final Throwable ex)
            {
                fifth.set(ex);
            }
        });
        sender.start();

        final Responses responses = new Responses();
        final long firstId = heldRequests.getLong(0);
        server.reply(firstId, pattern(SIZE, requestSeeds.get(firstId)), 0, SIZE);
        await(() -> 1 == responses.count, () -> client.poll(responses, 10), 10_000, "first response");
        sender.join(20_000);
        assertInstanceOf(Long.class, fifth.get(), String.valueOf(fifth.get()));

        // Everything else is answered: five requests, five intact responses, nothing dropped or repeated.
        await(() -> 5 == heldRequests.size(), () -> server.poll(holdRequests, 10), 10_000, "fifth request");
        for (int i = 1; i < 5; i++)
        {
            final long id = heldRequests.getLong(i);
            final int length = requestLengths.get(id);
            assertEquals(SIZE, length);
            server.reply(id, pattern(SIZE, requestSeeds.get(id)), 0, SIZE);
        }
        await(() -> 5 == responses.count, () -> client.poll(responses, 10), 10_000, "all responses");
        assertEquals(5, responses.matched);
        assertEquals(5, driver.counter(SystemCounterDescriptor.CLIENT_RESPONSES_DONE));
        assertEquals(0, driver.counter(SystemCounterDescriptor.DROPPED_DATA_NO_BUFS));
        assertEquals(0, driver.counter(SystemCounterDescriptor.UDP_RECEIVE_DROPS));
    }

    @Test
    void shouldWakeBlockedSenderAndReceiverWithEshutdown() throws Exception
    {
        for (int i = 0; i < 4; i++)
        {
            assertNotEquals(HomaSocket.BACK_PRESSURED, client.trySend(dest, pattern(SIZE, i), 0, SIZE, i, 0));
        }
        final AtomicReference<Throwable> sendOutcome = new AtomicReference<>();
        final AtomicReference<Throwable> receiveOutcome = new AtomicReference<>();
        final Thread sender = new Thread(() -> sendOutcome.set(assertThrows(HomaException.class,
            () -> client.send(dest, pattern(SIZE, 9), 0, SIZE, 9, 0, TimeUnit.SECONDS.toNanos(30)))));
        final Thread receiver = new Thread(() -> receiveOutcome.set(assertThrows(HomaException.class,
            () -> client.receive(new Responses(), TimeUnit.SECONDS.toNanos(30)))));
        sender.start();
        receiver.start();
        // Both block in the socket's wait for the driver (which sleeps in the kernel once the poll budget is over).
        await(() -> isWaitingOnSocket(sender) && isWaitingOnSocket(receiver), Thread::yield, 5_000,
            "threads waiting");

        client.shutdown();
        sender.join(10_000);
        receiver.join(10_000);
        assertEquals(HomaError.ESHUTDOWN, ((HomaException)sendOutcome.get()).errorCode());
        assertEquals(HomaError.ESHUTDOWN, ((HomaException)receiveOutcome.get()).errorCode());
        assertError(HomaError.ESHUTDOWN, () -> client.send(dest, pattern(10, 1), 0, 10, 1));
        assertError(HomaError.ESHUTDOWN, () -> client.poll(new Responses(), 1));
        // The driver closed its side: its port is gone and its RPCs ended.
        await(() -> 1 == driver.counter(SystemCounterDescriptor.SOCKETS_OPEN), Thread::yield, 5_000,
            "driver socket closed");
        client.close();
    }

    private static boolean isWaitingOnSocket(final Thread thread)
    {
        for (final StackTraceElement frame : thread.getStackTrace())
        {
            if ("awaitDriver".equals(frame.getMethodName()) && frame.getClassName().endsWith("HomaSocket"))
            {
                return true;
            }
        }
        return false;
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

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
            if (SIZE == length && matchesPattern(buffer, offset, length, cookie))
            {
                matched++;
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }
}
