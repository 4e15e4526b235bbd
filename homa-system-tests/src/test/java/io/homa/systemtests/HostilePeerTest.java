package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.protocol.LimitSettings;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hostile peer or a runaway client can make the driver hold, through the real path (embedded INVOKER drivers
 * on one driven clock, UDP on loopback, forged packets from a plain UDP socket): forged first DATA packets claiming
 * long messages reserve no more than their peer's budget of the receive pool, so other peers' requests keep
 * completing; a peer cannot open more server RPCs, nor packets add more peers, than the limits allow; a client
 * cannot open more sockets than its share. Forged state ends by the RPC timer and the counters say what happened.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostilePeerTest
{
    private static final int SERVER_PORT = 711;
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long PUMP_NS = 20_000;
    private static final long WAIT_MS = 60_000;
    private static final int POOL_BYTES = 8 * 1024 * 1024;
    private static final int CLAIMED_LENGTH = 1_000_000;
    private static final int FORGED_PAYLOAD = 1_000;

    private final ManualNanoClock clock = new ManualNanoClock();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> clientErrors = new ArrayList<>();
    private MediaDriver serverDriver;
    private MediaDriver clientDriver;
    private AgentInvoker serverInvoker;
    private AgentInvoker clientInvoker;
    private HomaSocket server;
    private HomaSocket client;
    private int responses;

    private final MessageHandler serverHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            server.reply(id, buffer, offset, Math.min(length, 100));
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
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            clientErrors.add(cookie + ": " + HomaError.name(errorCode));
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
    void shouldServeOtherPeersWhileOnePeerForgesLongRequests() throws IOException
    {
        // 8 MiB pool: the forging peer may hold 2 MiB unearned, all peers together 4 MiB. Forty 1 MB claims
        // would need 40 MB: without the budget the pool fills and every other request waits for the forgeries.
        start(new MediaDriver.Context().socketPoolLength(POOL_BYTES).timeoutTicks(1_000), new MediaDriver.Context());
        try (DatagramChannel forger = DatagramChannel.open())
        {
            for (int i = 0; i < 40; i++)
            {
                forgeFirstData(forger, 2L * (i + 1), CLAIMED_LENGTH);
            }
        }
        pumpTicks(5);
        assertTrue(serverDriver.counter(SystemCounterDescriptor.UNEARNED_LIMIT_WAITS) >= 38,
            "claims beyond the peer's 2 MiB wait: " + serverDriver.counter(SystemCounterDescriptor.UNEARNED_LIMIT_WAITS));
        assertEquals(40, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));

        // Requests from another peer complete while every forged RPC is still alive. (A request long enough to
        // need grants does not yet: the two admitted forgeries are granted and hold max_incoming until they time
        // out, a grant-selection matter left to the under-load work.)
        client.send(dest(), pattern(100, 1), 0, 100, 1);
        pumpUntil(() -> 1 == responses, "the one-packet response");
        client.send(dest(), pattern(8_000, 2), 0, 8_000, 2);
        pumpUntil(() -> 2 == responses, "both legitimate responses");
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS), "forgeries still alive");
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());

        // The forgeries' sender never answers: each ends at timeout_ticks and nothing stays behind.
        pumpUntil(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "forged RPCs to end");
        assertEquals(40, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        responses = 0;
        client.send(dest(), pattern(100, 3), 0, 100, 3);
        pumpUntil(() -> 1 == responses, "a request after the attack");
    }

    @Test
    void shouldDropRequestsBeyondServerRpcsPerPeer() throws IOException
    {
        start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 10, 1000, 16, 64, 64)), new MediaDriver.Context());
        try (DatagramChannel forger = DatagramChannel.open())
        {
            for (int i = 0; i < 50; i++)
            {
                forgeFirstData(forger, 2L * (i + 1), 10_000);
            }
        }
        pumpTicks(5);
        assertEquals(10, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        assertEquals(40, serverDriver.counter(SystemCounterDescriptor.PEER_RPC_LIMIT_DROPS));

        client.send(dest(), pattern(100, 1), 0, 100, 1);
        pumpUntil(() -> 1 == responses, "another peer's request");
    }

    @Test
    void shouldDropPacketsFromNewPeersBeyondThePeerLimit() throws IOException
    {
        // The server's table holds the legitimate client's peer and two forgers; the other three are dropped.
        start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 100, 3, 16, 64, 64)), new MediaDriver.Context());
        client.send(dest(), pattern(100, 1), 0, 100, 1);
        pumpUntil(() -> 1 == responses, "the legitimate client's request");
        for (int p = 0; p < 5; p++)
        {
            try (DatagramChannel forger = DatagramChannel.open())
            {
                forgeFirstData(forger, 2, 10_000);
            }
        }
        pumpTicks(5);
        assertEquals(3, serverDriver.counter(SystemCounterDescriptor.PEER_LIMIT_DROPS));
        assertEquals(2, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        client.send(dest(), pattern(100, 2), 0, 100, 2);
        pumpUntil(() -> 2 == responses, "a known peer's next request");
    }

    @Test
    void shouldRefuseSocketsBeyondTheClientAndDriverLimits()
    {
        start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 100, 1000, 3, 5, 64)), new MediaDriver.Context());
        // The server's client holds one socket (the server's); it may open two more.
        final Homa first = connect(serverDriver);
        final List<HomaSocket> sockets = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            sockets.add(first.addSocket());
        }
        final HomaException perClient = assertThrows(HomaException.class, first::addSocket);
        assertEquals(HomaError.EMFILE, perClient.errorCode(), perClient.getMessage());
        assertTrue(perClient.getMessage().contains("homa.limit.sockets.per.client"), perClient.getMessage());

        final Homa second = connect(serverDriver);
        sockets.add(second.addSocket());
        final HomaException perDriver = assertThrows(HomaException.class, second::addSocket);
        assertEquals(HomaError.ENFILE, perDriver.errorCode(), perDriver.getMessage());
        assertEquals(2, serverDriver.counter(SystemCounterDescriptor.SOCKET_LIMIT_REFUSALS));

        sockets.get(0).close();
        sockets.add(second.addSocket());
        client.send(dest(), pattern(100, 1), 0, 100, 1);
        pumpUntil(() -> 1 == responses, "the server still serves");
    }

    @Test
    void shouldBackOffNeedAcksToAForgedClient() throws IOException
    {
        // A forged complete request runs and is answered; its "client" never acks. Linux would send a NEED_ACK
        // every tick until the timeout (1,500 here); ours back off to about a dozen, and the RPC still ends.
        start(new MediaDriver.Context().timeoutTicks(1_500), new MediaDriver.Context());
        try (DatagramChannel forger = DatagramChannel.open())
        {
            forgeData(forger, 2, 100, 100);
            pumpUntil(() -> 1 == serverDriver.counter(SystemCounterDescriptor.NEED_ACK_TIMEOUTS), "the RPC to end");
        }
        final long needAcks = serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_NEED_ACK);
        assertTrue(needAcks >= 5 && needAcks <= 12, "NEED_ACKs sent: " + needAcks);
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
    }

    private void forgeFirstData(final DatagramChannel channel, final long clientId, final int messageLength)
        throws IOException
    {
        forgeData(channel, clientId, messageLength, FORGED_PAYLOAD);
    }

    private void forgeData(
        final DatagramChannel channel, final long clientId, final int messageLength, final int payloadLength)
        throws IOException
    {
        final UnsafeBuffer packet =
            new UnsafeBuffer(ByteBuffer.allocateDirect(HomaWire.DATA_HEADER_LENGTH + payloadLength));
        final int unscheduled = Math.min(messageLength, 10_000);
        new PacketWriter().data(packet, 0, 40_000, SERVER_PORT, clientId, messageLength, unscheduled, 0, 0, 0, false, 0);
        channel.send(packet.byteBuffer().duplicate().clear(),
            new InetSocketAddress(HomaAddress.ipv4ToString(serverDriver.udpAddressIpv4()), serverDriver.udpPort()));
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
            .timerTickNs(TICK_NS));
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
        clientInvoker.invoke();
        client.poll(clientHandler, 16);
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
