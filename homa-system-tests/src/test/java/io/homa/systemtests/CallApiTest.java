package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The call layer of the client ({@code call}, {@code callAsync}, handlers from lambdas) between two embedded
 * drivers on loopback: responses, the errno of failed RPCs, timeouts that abort, futures failed by a shutdown.
 */
class CallApiTest
{
    private static final int ECHO_PORT = 7;
    private static final int SILENT_PORT = 8;
    private static final int NOBODY_PORT = 9;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private MediaDriver serverDriver;
    private MediaDriver clientDriver;
    private Homa serverHoma;
    private Homa clientHoma;
    private HomaServer echo;
    private HomaSocket client;

    @BeforeEach
    void before()
    {
        serverDriver = MediaDriver.launchEmbedded();
        clientDriver = MediaDriver.launchEmbedded();
        serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
        clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
        echo = HomaServer.start(new HomaServer.Context().homa(serverHoma).port(ECHO_PORT).shutdownHook(false)
            .requestHandler((request, offset, length, response) ->
            {
                response.putBytes(0, request, offset, length);
                return length;
            }));
        client = clientHoma.addSocket();
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(client, echo, clientHoma, serverHoma, clientDriver, serverDriver);
    }

    private HomaAddress at(final int port)
    {
        return HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), port);
    }

    @Test
    void shouldReturnTheResponseOfABlockingCall()
    {
        final int size = 100_000;   // many packets, most of them granted
        final UnsafeBuffer request = TestUtil.pattern(size, 3);

        final DirectBuffer response = client.call(at(ECHO_PORT), request, 0, size, TIMEOUT_NS);

        assertEquals(size, response.capacity());
        assertTrue(TestUtil.matchesPattern(response, 0, size, 3));
        assertEquals(1, echo.requestsServed());
    }

    @Test
    void shouldHandTheResponseInPlaceToAListener()
    {
        final UnsafeBuffer request = TestUtil.pattern(3000, 4);
        final boolean[] matched = {false};

        client.call(at(ECHO_PORT), request, 0, 3000, TIMEOUT_NS,
            (id, cookie, buffer, offset, length) -> matched[0] = 3000 == length &&
                TestUtil.matchesPattern(buffer, offset, length, 4) && 0 == (id & 1));

        assertTrue(matched[0]);
    }

    @Test
    void shouldThrowTheErrnoOfACallToAPortWithoutSocket()
    {
        final HomaException ex = assertThrows(HomaException.class,
            () -> client.call(at(NOBODY_PORT), TestUtil.pattern(10, 1), 0, 10, TIMEOUT_NS));

        assertEquals(HomaError.ENOTCONN, ex.errorCode());
        assertEquals("ENOTCONN", ex.errorName());
        assertTrue(ex.getMessage().startsWith("ENOTCONN"), ex.getMessage());
    }

    @Test
    void shouldAbortACallNotAnsweredWithinItsTimeoutAndStayUsable()
    {
        final HomaSocket silent = serverHoma.addSocket(SILENT_PORT);   // bound, never read

        final HomaException ex = assertThrows(HomaException.class,
            () -> client.call(at(SILENT_PORT), TestUtil.pattern(10, 1), 0, 10, TimeUnit.MILLISECONDS.toNanos(200)));

        assertEquals(HomaError.ETIMEDOUT, ex.errorCode());
        TestUtil.await(() -> client.rpcInfo().isEmpty(), () -> LockSupport.parkNanos(1_000_000), 10_000, "the timed-out RPC aborted");
        final DirectBuffer response = client.call(at(ECHO_PORT), TestUtil.pattern(64, 2), 0, 64, TIMEOUT_NS);
        assertTrue(TestUtil.matchesPattern(response, 0, 64, 2));
        final int[] stray = {0};
        client.poll(MessageHandler.of((id, cookie, b, o, l) -> stray[0]++, (id, cookie, code) -> stray[0]++), 10);
        assertEquals(0, stray[0], "the abandoned RPC's outcome reached poll");
        silent.close();
    }

    @Test
    void shouldCompleteTheFuturesOfConcurrentCalls()
    {
        final List<CompletableFuture<DirectBuffer>> futures = new ArrayList<>();
        for (int i = 0; i < 50; i++)
        {
            futures.add(client.callAsync(at(ECHO_PORT), TestUtil.pattern(100 + i * 997, i), 0, 100 + i * 997,
                TIMEOUT_NS));
        }

        for (int i = 0; i < 50; i++)
        {
            final DirectBuffer response = futures.get(i).join();
            assertEquals(100 + i * 997, response.capacity());
            assertTrue(TestUtil.matchesPattern(response, 0, response.capacity(), i), "response " + i);
        }
        assertEquals(50, echo.requestsServed());
    }

    @Test
    void shouldCompleteAFutureWithTheErrnoOfAFailedCall()
    {
        final CompletableFuture<DirectBuffer> future =
            client.callAsync(at(NOBODY_PORT), TestUtil.pattern(10, 1), 0, 10, TIMEOUT_NS);

        assertEquals(HomaError.ENOTCONN, failure(future).errorCode());
    }

    @Test
    void shouldTimeOutAFutureNotAnsweredInTime()
    {
        final HomaSocket silent = serverHoma.addSocket(SILENT_PORT);

        final CompletableFuture<DirectBuffer> future =
            client.callAsync(at(SILENT_PORT), TestUtil.pattern(10, 1), 0, 10, TimeUnit.MILLISECONDS.toNanos(200));

        assertEquals(HomaError.ETIMEDOUT, failure(future).errorCode());
        TestUtil.await(() -> client.rpcInfo().isEmpty(), () -> LockSupport.parkNanos(1_000_000), 10_000, "the timed-out RPC aborted");
        assertTrue(TestUtil.matchesPattern(
            client.callAsync(at(ECHO_PORT), TestUtil.pattern(20, 5), 0, 20, TIMEOUT_NS).join(), 0, 20, 5));
        silent.close();
    }

    @Test
    void shouldFailPendingFuturesWhenTheSocketShutsDown()
    {
        final HomaSocket silent = serverHoma.addSocket(SILENT_PORT);
        final CompletableFuture<DirectBuffer> future =
            client.callAsync(at(SILENT_PORT), TestUtil.pattern(10, 1), 0, 10, TIMEOUT_NS);

        client.shutdown();

        assertEquals(HomaError.ESHUTDOWN, failure(future).errorCode());
        assertEquals(HomaError.ESHUTDOWN,
            failure(client.callAsync(at(ECHO_PORT), TestUtil.pattern(10, 1), 0, 10, TIMEOUT_NS)).errorCode());
        silent.close();
    }

    @Test
    void shouldRunFutureStagesOutsideThePollLock()
    {
        // poll from inside the lock's holder throws: a stage that polls the same socket shows where stages run.
        final MessageHandler ignore = MessageHandler.of((id, cookie, b, o, l) -> { }, (id, cookie, code) -> { });

        final int polled = client.callAsync(at(ECHO_PORT), TestUtil.pattern(10, 1), 0, 10, TIMEOUT_NS)
            .thenApply((response) -> client.poll(ignore, 1))
            .join();

        assertEquals(0, polled);
    }

    @Test
    void shouldDeliverMessagesAndErrorsToAHandlerMadeOfLambdas()
    {
        final long[] responseCookie = {-1};
        final int[] errorCode = {0};
        final MessageHandler handler = MessageHandler.of(
            (id, cookie, buffer, offset, length) -> responseCookie[0] = cookie,
            (id, cookie, code) -> errorCode[0] = code);

        client.send(at(ECHO_PORT), TestUtil.pattern(10, 1), 0, 10, 42);
        client.send(at(NOBODY_PORT), TestUtil.pattern(10, 1), 0, 10, 43);
        TestUtil.await(() -> -1 != responseCookie[0] && 0 != errorCode[0],
            () -> client.receive(handler, TimeUnit.MILLISECONDS.toNanos(100)), 10_000, "response and error");

        assertEquals(42, responseCookie[0]);
        assertEquals(HomaError.ENOTCONN, errorCode[0]);
    }

    private static HomaException failure(final CompletableFuture<DirectBuffer> future)
    {
        final CompletionException ex = assertThrows(CompletionException.class, future::join);
        return assertInstanceOf(HomaException.class, ex.getCause());
    }
}
