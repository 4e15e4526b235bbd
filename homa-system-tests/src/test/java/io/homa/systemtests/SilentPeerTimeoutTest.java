package io.homa.systemtests;

import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.DirectBuffer;
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
    private final List<String> clientErrors = new ArrayList<>();
    private static final int POOL_BYTES = 2 * 1024 * 1024;
    private static final int MB = 1_000_000;

    private int requestsSeen;
    private int responses;
    /** Messages whose pool blocks the application keeps, to fill a 2 MiB pool with two 1 MB messages. */
    private int serverRetains;
    private int clientRetains;
    private UnsafeBuffer response = pattern(100, 1);
    /** Replies go through tryReply, which fails (counted) instead of waiting when the send region is full. */
    private boolean isTryReply;
    private int replyRefusals;

    private final MessageHandler serverHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            requestsSeen++;
            if (serverRetains > 0)
            {
                serverRetains--;
                pair.server.retain();
            }
            if (!isTryReply)
            {
                pair.server.reply(id, response, 0, response.capacity());
            }
            else if (!pair.server.tryReply(id, response, 0, response.capacity()))
            {
                replyRefusals++;
            }
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
                pair.client.retain();
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            clientErrors.add(cookie + ": " + errorCode);
        }
    };

    private final DrivenPair pair = new DrivenPair(SERVER_PORT, serverHandler, clientHandler);

    @AfterEach
    void after()
    {
        pair.close();
    }

    @Test
    void shouldKeepResponseWaitingForGrantsWhileClientAnswersAndEndItWhenClientDies()
    {
        // The client keeps two 1 MB responses, which fill its 2 MiB pool: the third waits for pool space and its
        // client grants nothing, alive. The server's response waits for GRANTs past its unscheduled bytes.
        pair.start(new MediaDriver.Context().timeoutTicks(TIMEOUT_TICKS),
            new MediaDriver.Context().socketPoolLength(POOL_BYTES).timeoutTicks(TIMEOUT_TICKS));
        response = pattern(MB, 3);
        clientRetains = 2;
        for (int i = 0; i < 2; i++)
        {
            pair.client.send(pair.dest(), pattern(100, 2), 0, 100, i);
        }
        pair.pumpUntil(() -> 2 == responses, "two responses kept by the client");
        pair.client.send(pair.dest(), pattern(100, 2), 0, 100, 2);
        pair.pumpUntil(() -> 3 == requestsSeen && 1 == pair.clientDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS),
            "the third response waiting for the client's pool");

        pair.pumpTicks(5 * TIMEOUT_TICKS);
        assertEquals(1, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "a live client keeps it");
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertTrue(pair.serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND) > 0, "the server probes");
        assertTrue(pair.clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_BUSY) > 0, "the client answers BUSY");
        assertEquals(2, responses);

        pair.isClientAlive = false;
        final long deadAtNs = pair.clock.nanoTime();
        pair.pumpUntil(() -> 0 == pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "the server RPC to end");
        final long ticksToEnd = (pair.clock.nanoTime() - deadAtNs) / DrivenPair.TICK_NS;
        assertTrue(ticksToEnd <= TIMEOUT_TICKS + 2, "ended after " + ticksToEnd + " ticks");
        assertEquals(1, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(1, pair.serverDriver.counter(SystemCounterDescriptor.SERVER_RPC_DISCARDS));
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.NEED_ACK_TIMEOUTS));
    }

    @Test
    void shouldFreeResponseAndItsSendBlockWhenClientDriverClosesMidResponse()
    {
        // Two 1 MB responses fill the server's 2 MiB send region; the client's driver is closed while both are
        // past their unscheduled bytes and waiting for GRANTs that will never come. (The client's Homa, left
        // without a driver, gives up on it after 3 s instead of 10 when the test closes it.)
        pair.clientDriverTimeoutNs = TimeUnit.SECONDS.toNanos(3);
        pair.start(new MediaDriver.Context().socketSendRegionLength(POOL_BYTES).timeoutTicks(TIMEOUT_TICKS),
            new MediaDriver.Context().timeoutTicks(TIMEOUT_TICKS));
        final long rpcsAtStart = pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE);
        response = pattern(MB, 5);
        isTryReply = true;
        for (int i = 0; i < 2; i++)
        {
            pair.client.send(pair.dest(), pattern(100, 2), 0, 100, i);
        }
        // Loopback datagrams carry up to 64 KB, and each pump moves a grant's worth: stop after a few packets.
        pair.pumpUntil(() -> 2 == requestsSeen &&
            pair.clientDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA) >= 4, "both responses under way");
        assertEquals(0, responses, "the client dies in the middle of the responses");
        assertEquals(0, replyRefusals);

        pair.isClientAlive = false;
        pair.clientDriver.close();
        final long deadAtNs = pair.clock.nanoTime();
        pair.pumpUntil(() -> rpcsAtStart == pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE),
            "the server RPCs to end");
        final long ticksToEnd = (pair.clock.nanoTime() - deadAtNs) / DrivenPair.TICK_NS;
        assertTrue(ticksToEnd <= TIMEOUT_TICKS + 2, "ended after " + ticksToEnd + " ticks");
        // Ended by the kernel's ICMP port-unreachable for the closed UDP port (as Linux ends them), or by the timeout
        // where a DATA was on its way before the port closed and no later packet went out.
        assertEquals(2, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS) +
            pair.serverDriver.counter(SystemCounterDescriptor.UNREACHABLE_SERVER_RPCS));
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.SERVER_RESPONSES_DONE));

        // Their send blocks are free again: a local client gets two more 1 MB responses through tryReply.
        final io.homa.client.HomaSocket local = pair.connect(pair.serverDriver).addSocket();
        final int[] localResponses = { 0 };
        final MessageHandler localHandler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                localResponses[0]++;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                clientErrors.add(cookie + ": " + errorCode);
            }
        };
        for (int i = 0; i < 2; i++)
        {
            local.send(pair.dest(), pattern(100, 2), 0, 100, 10 + i);
        }
        TestUtil.await(() -> 2 == localResponses[0], () ->
        {
            pair.pump();
            local.poll(localHandler, 16);
        }, DrivenPair.WAIT_MS, "two local 1 MB responses");
        assertEquals(0, replyRefusals, "the dead client's send blocks were freed");
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());
    }

    @Test
    void shouldKeepRequestWaitingForPoolSpaceWhileClientResendsAndEndItWhenClientDies()
    {
        // The server keeps two 1 MB requests, which fill its 2 MiB pool: the third request waits for pool space.
        pair.start(new MediaDriver.Context().socketPoolLength(POOL_BYTES).timeoutTicks(TIMEOUT_TICKS),
            new MediaDriver.Context().timeoutTicks(TIMEOUT_TICKS));
        serverRetains = 2;
        for (int i = 0; i < 2; i++)
        {
            pair.client.send(pair.dest(), pattern(MB, 4), 0, MB, i);
        }
        pair.pumpUntil(() -> 2 == responses, "two requests kept by the server");
        pair.client.send(pair.dest(), pattern(MB, 4), 0, MB, 2);
        pair.pumpUntil(() -> 1 == pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS), "a pool waiter");

        pair.pumpTicks(5 * TIMEOUT_TICKS);
        assertEquals(1, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS), "a live client keeps it");
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, pair.clientDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());

        pair.isClientAlive = false;
        final long deadAtNs = pair.clock.nanoTime();
        pair.pumpUntil(() -> 0 == pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "the server RPC to end");
        final long ticksToEnd = (pair.clock.nanoTime() - deadAtNs) / DrivenPair.TICK_NS;
        assertTrue(ticksToEnd <= TIMEOUT_TICKS + 2, "ended after " + ticksToEnd + " ticks");
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        assertEquals(1, pair.serverDriver.counter(SystemCounterDescriptor.SERVER_RPC_DISCARDS));
        assertEquals(2, requestsSeen);
    }
}
