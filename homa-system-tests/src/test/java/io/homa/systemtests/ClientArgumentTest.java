package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client calls that used to do nothing, or the wrong thing, quietly now refuse with EINVAL (through a real driver
 * and client): a stale, repeated or made-up release token, which could free a block that holds another message; a
 * reply that names no request in service; an abort that names no RPC of the socket still waiting for its outcome;
 * a poll limit below one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientArgumentTest
{
    private static final int SERVER_PORT = 712;
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(10);

    private MediaDriver driver;
    private Homa homa;
    private HomaSocket server;
    private HomaSocket client;
    private HomaAddress dest;

    private long lastId;
    private long token;
    private int lastOffset;
    private int lastLength;
    private boolean retainNext;

    private final MessageHandler keeper = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            lastId = id;
            lastOffset = offset;
            lastLength = length;
            if (retainNext)
            {
                token = current.retain();
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };
    private HomaSocket current;

    @BeforeEach
    void before()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        server = homa.addSocket(SERVER_PORT);
        client = homa.addSocket();
        dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    @Test
    void shouldRefuseRepeatedStaleAndMadeUpReleaseTokens()
    {
        final long first = receiveRetained(1);
        client.release(first);
        assertEinval(() -> client.release(first));
        assertEinval(() -> client.release(12_345));

        // The next message most likely lands in the block just freed: the stale token must not free it again.
        final long second = receiveRetained(2);
        assertEinval(() -> client.release(first));
        assertTrue(matchesPattern(client.receivePool(), lastOffset, lastLength, 2), "the second message intact");
        client.release(second);
    }

    @Test
    void shouldRefuseRepliesThatNameNoRequestInService()
    {
        client.send(dest, pattern(100, 1), 0, 100, 1);
        current = server;
        assertTrue(server.receive(keeper, WAIT_NS) > 0, "the request");
        final long requestId = lastId;
        assertEinval(() -> server.reply(requestId + 2, pattern(10, 2), 0, 10));
        server.reply(requestId, pattern(10, 2), 0, 10);
        assertEinval(() -> server.reply(requestId, pattern(10, 2), 0, 10));
        assertEinval(() -> client.reply(requestId, pattern(10, 2), 0, 10));
        current = client;
        assertTrue(client.receive(keeper, WAIT_NS) > 0, "the one response");
        assertEquals(10, lastLength);
    }

    @Test
    void shouldRefuseAbortsThatNameNoOutstandingRpc()
    {
        final long id = client.send(dest, pattern(100, 3), 0, 100, 3);
        assertEinval(() -> client.abort(id + 2));
        assertEinval(() -> server.abort(id));
        current = server;
        assertTrue(server.receive(keeper, WAIT_NS) > 0, "the request");
        server.reply(lastId, pattern(10, 4), 0, 10);
        current = client;
        assertTrue(client.receive(keeper, WAIT_NS) > 0, "the response");
        assertEinval(() -> client.abort(id));

        // One still outstanding is aborted: it completes with ECANCELED.
        final long pending = client.send(dest, pattern(100, 5), 0, 100, 5);
        client.abort(pending);
        final int[] error = { 0 };
        assertTrue(client.receive(new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                error[0] = errorCode;
            }
        }, WAIT_NS) > 0);
        assertEquals(HomaError.ECANCELED, error[0]);
        assertEinval(() -> client.abort(pending));
    }

    @Test
    void shouldRefuseAPollLimitBelowOne()
    {
        assertEinval(() -> client.poll(keeper, 0));
        assertEinval(() -> client.poll(keeper, -1));
    }

    private long receiveRetained(final int seed)
    {
        client.send(dest, pattern(2_000, seed), 0, 2_000, seed);
        current = server;
        retainNext = false;
        assertTrue(server.receive(keeper, WAIT_NS) > 0, "request " + seed);
        server.reply(lastId, pattern(2_000, seed), 0, 2_000);
        current = client;
        retainNext = true;
        assertTrue(client.receive(keeper, WAIT_NS) > 0, "response " + seed);
        retainNext = false;
        return token;
    }

    private static void assertEinval(final Runnable call)
    {
        final HomaException ex = assertThrows(HomaException.class, call::run);
        assertEquals(HomaError.EINVAL, ex.errorCode(), ex.getMessage());
    }
}
