package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Server RPCs in the states that wait on the client, through the real path (two embedded INVOKER drivers on one
 * driven clock, clients over the CnC, UDP on loopback): a response waiting for the client's GRANTs and a request
 * waiting for pool space live as long as the client answers (its RESENDs, or BUSY to the server's probe), and end
 * within {@code timeout_ticks} once it stops: a client that dies mid-RPC, or a forged first packet, no longer holds
 * server state and send-region blocks forever. A "dead" client is one whose driver the test stops running.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SilentPeerTimeoutTest
{
    private static final int SERVER_PORT = 710;
    private static final int TIMEOUT_TICKS = 200;
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Driver time per pump: 20 us, so a 1 ms tick is 50 pumps. */
    private static final long PUMP_NS = 20_000;
    private static final long WAIT_MS = 60_000;

    private final ManualNanoClock clock = new ManualNanoClock();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> clientErrors = new ArrayList<>();
    private MediaDriver serverDriver;
    private MediaDriver clientDriver;
    private AgentInvoker serverInvoker;
    private AgentInvoker clientInvoker;
    private HomaSocket server;
    private HomaSocket client;
    private boolean isClientAlive = true;
    private static final int POOL_BYTES = 2 * 1024 * 1024;
    private static final int MB = 1_000_000;

    private int requestsSeen;
    private int responses;
    /** Messages whose pool blocks the application keeps, to fill a 2 MiB pool with two 1 MB messages. */
    private int serverRetains;
    private int clientRetains;
    private UnsafeBuffer response = pattern(100, 1);

    private final MessageHandler serverHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            requestsSeen++;
            if (serverRetains > 0)
            {
                serverRetains--;
                server.retain();
            }
            server.reply(id, response, 0, response.capacity());
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };

    private final MessageHandler clientHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            responses++;
            if (clientRetains > 0)
            {
                clientRetains--;
                client.retain();
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            clientErrors.add(cookie + ": " + errorCode);
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
    void shouldKeepResponseWaitingForGrantsWhileClientAnswersAndEndItWhenClientDies()
    {
        // The client keeps two 1 MB responses, which fill its 2 MiB pool: the third waits for pool space and its
        // client grants nothing, alive. The server's response waits for GRANTs past its unscheduled bytes.
        start(new MediaDriver.Context(), new MediaDriver.Context().socketPoolLength(POOL_BYTES));
        response = pattern(MB, 3);
        clientRetains = 2;
        for (int i = 0; i < 2; i++)
        {
            client.send(dest(), pattern(100, 2), 0, 100, i);
        }
        pumpUntil(() -> 2 == responses, "two responses kept by the client");
        client.send(dest(), pattern(100, 2), 0, 100, 2);
        pumpUntil(() -> 3 == requestsSeen && 1 == clientDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS),
            "the third response waiting for the client's pool");

        pumpTicks(5 * TIMEOUT_TICKS);
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "a live client keeps it");
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertTrue(serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND) > 0, "the server probes");
        assertTrue(clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_BUSY) > 0, "the client answers BUSY");
        assertEquals(2, responses);

        isClientAlive = false;
        final long deadAtNs = clock.nanoTime();
        pumpUntil(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "the server RPC to end");
        final long ticksToEnd = (clock.nanoTime() - deadAtNs) / TICK_NS;
        assertTrue(ticksToEnd <= TIMEOUT_TICKS + 2, "ended after " + ticksToEnd + " ticks");
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.SERVER_RPC_DISCARDS));
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.NEED_ACK_TIMEOUTS));
    }

    @Test
    void shouldKeepRequestWaitingForPoolSpaceWhileClientResendsAndEndItWhenClientDies()
    {
        // The server keeps two 1 MB requests, which fill its 2 MiB pool: the third request waits for pool space.
        start(new MediaDriver.Context().socketPoolLength(POOL_BYTES), new MediaDriver.Context());
        serverRetains = 2;
        for (int i = 0; i < 2; i++)
        {
            client.send(dest(), pattern(MB, 4), 0, MB, i);
        }
        pumpUntil(() -> 2 == responses, "two requests kept by the server");
        client.send(dest(), pattern(MB, 4), 0, MB, 2);
        pumpUntil(() -> 1 == serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS), "a pool waiter");

        pumpTicks(5 * TIMEOUT_TICKS);
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS), "a live client keeps it");
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, clientDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());

        isClientAlive = false;
        final long deadAtNs = clock.nanoTime();
        pumpUntil(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "the server RPC to end");
        final long ticksToEnd = (clock.nanoTime() - deadAtNs) / TICK_NS;
        assertTrue(ticksToEnd <= TIMEOUT_TICKS + 2, "ended after " + ticksToEnd + " ticks");
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.SERVER_RPC_DISCARDS));
        assertEquals(2, requestsSeen);
    }

    private void start(final MediaDriver.Context serverContext, final MediaDriver.Context clientContext)
    {
        serverDriver = launch(serverContext);
        serverInvoker = serverDriver.sharedAgentInvoker();
        server = connect(serverDriver).addSocket(SERVER_PORT);
        clientDriver = launch(clientContext);
        clientInvoker = clientDriver.sharedAgentInvoker();
        client = connect(clientDriver).addSocket();
    }

    private HomaAddress dest()
    {
        return HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
    }

    private MediaDriver launch(final MediaDriver.Context ctx)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(clock)
            .timerTickNs(TICK_NS)
            .timeoutTicks(TIMEOUT_TICKS));
        closeables.add(driver);
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

    private void pump()
    {
        serverInvoker.invoke();
        server.poll(serverHandler, 16);
        if (isClientAlive)
        {
            clientInvoker.invoke();
            client.poll(clientHandler, 16);
        }
        clock.advanceNs(PUMP_NS);
    }

    private void pumpUntil(final java.util.function.BooleanSupplier done, final String what)
    {
        TestUtil.await(done, this::pump, WAIT_MS, what);
    }

    private void pumpTicks(final int ticks)
    {
        final long untilNs = clock.nanoTime() + ticks * TICK_NS;
        while (clock.nanoTime() - untilNs < 0)
        {
            pump();
        }
    }
}
