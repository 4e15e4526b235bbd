package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HomaServer}'s lifecycle through the real path: it serves from start to close, then the port is free;
 * a throwing handler costs one request, not the server; a SIGTERM to its JVM frees the port through the shutdown
 * hook (the driver is told, no liveness timeout).
 */
class HomaServerTest
{
    private static final int PORT = 4321;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private MediaDriver driver;
    private Homa serverHoma;
    private Homa clientHoma;
    private HomaSocket client;

    @BeforeEach
    void before()
    {
        // Clients that stop sending keepalives are dropped only after a minute: the hook test must not see it.
        driver = MediaDriver.launchEmbedded(
            new MediaDriver.Context().clientLivenessTimeoutNs(TimeUnit.SECONDS.toNanos(60)));
        serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        client = clientHoma.addSocket();
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(client, clientHoma, serverHoma, driver);
    }

    private HomaAddress dest()
    {
        return HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), PORT);
    }

    private DirectBuffer call(final int size, final long seed)
    {
        return client.call(dest(), TestUtil.pattern(size, seed), 0, size, TIMEOUT_NS);
    }

    private static HomaServer echo(final Homa homa)
    {
        return HomaServer.start(new HomaServer.Context().homa(homa).port(PORT).shutdownHook(false)
            .requestHandler((request, offset, length, response) ->
            {
                response.putBytes(0, request, offset, length);
                return length;
            }));
    }

    @Test
    void shouldServeUntilClosedThenFreeThePort()
    {
        final HomaServer server = echo(serverHoma);
        assertTrue(server.isRunning());
        assertEquals(PORT, server.socket().port());
        assertTrue(TestUtil.matchesPattern(call(2000, 1), 0, 2000, 1));
        assertEquals(1, server.requestsServed());

        server.close();
        server.close();

        assertFalse(server.isRunning());
        assertTrue(server.socket().isClosed());
        assertEquals(HomaError.ENOTCONN, assertThrows(HomaException.class, () -> call(10, 2)).errorCode());
        try (HomaServer again = echo(serverHoma))
        {
            assertTrue(TestUtil.matchesPattern(call(10, 3), 0, 10, 3));
            assertEquals(1, again.requestsServed());
        }
    }

    @Test
    void shouldRefuseAPortInUse()
    {
        try (HomaServer server = echo(serverHoma))
        {
            assertEquals(HomaError.EADDRINUSE,
                assertThrows(HomaException.class, () -> echo(clientHoma)).errorCode());
            assertTrue(server.isRunning());
        }
    }

    @Test
    void shouldKeepServingAfterAHandlerThrows()
    {
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (HomaServer server = HomaServer.start(new HomaServer.Context()
            .homa(serverHoma)
            .port(PORT)
            .shutdownHook(false)
            .errorHandler(errors::add)
            .requestHandler((request, offset, length, response) ->
            {
                if (1 == length)
                {
                    throw new IllegalArgumentException("one byte is not a request");
                }
                response.putBytes(0, request, offset, length);
                return length;
            })))
        {
            final HomaException unanswered = assertThrows(HomaException.class,
                () -> client.call(dest(), TestUtil.pattern(1, 1), 0, 1, TimeUnit.MILLISECONDS.toNanos(300)));

            assertEquals(HomaError.ETIMEDOUT, unanswered.errorCode());
            assertTrue(TestUtil.matchesPattern(call(500, 4), 0, 500, 4));
            assertEquals(1, server.handlerErrors());
            assertEquals(1, server.requestsServed());
            assertEquals(1, errors.size());
            assertInstanceOf(IllegalArgumentException.class, errors.get(0));
        }
    }

    @Test
    void shouldFreeThePortWhenItsJvmIsTerminated()
    {
        try (JvmProcess child = JvmProcess.start("homa-server", RemoteClient.class, List.of(),
            "server", driver.homaDirectoryName(), Integer.toString(PORT)))
        {
            child.awaitLineStartingWith("serving port=" + PORT, 30_000);
            assertTrue(TestUtil.matchesPattern(call(100, 5), 0, 100, 5));

            child.signal("TERM");
            child.awaitExit(30_000);

            // Without the hook the socket would stay until the client liveness timeout (a minute), taking requests
            // nobody answers: calls would time out instead of finding no socket.
            final int[] errorCode = {0};
            TestUtil.await(() -> HomaError.ENOTCONN == errorCode[0], () ->
            {
                try
                {
                    client.call(dest(), TestUtil.pattern(10, 6), 0, 10, TimeUnit.MILLISECONDS.toNanos(500));
                }
                catch (final HomaException ex)
                {
                    errorCode[0] = ex.errorCode();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }, 20_000, "ENOTCONN from the terminated server's port");
            assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENT_TIMEOUTS));
        }
    }
}
