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
import io.homa.driver.protocol.LimitSettings;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.DirectBuffer;
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
    private static final int POOL_BYTES = 8 * 1024 * 1024;
    private static final int CLAIMED_LENGTH = 1_000_000;
    private static final int FORGED_PAYLOAD = 1_000;

    private final List<String> clientErrors = new ArrayList<>();
    private int responses;

    private final MessageHandler serverHandler = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            pair.server.reply(id, buffer, offset, Math.min(length, 100));
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

    private final DrivenPair pair = new DrivenPair(SERVER_PORT, serverHandler, clientHandler);

    /** Open to the end of the test, as a silent hostile peer's: a closed one would earn ICMP that ends its RPCs. */
    private final List<DatagramChannel> forgers = new ArrayList<>();

    private DatagramChannel openForger() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open();
        forgers.add(channel);
        return channel;
    }

    @AfterEach
    void after()
    {
        forgers.forEach(org.agrona.CloseHelper::quietClose);
        pair.close();
    }

    @Test
    void shouldServeOtherPeersWhileOnePeerForgesLongRequests() throws IOException
    {
        // 8 MiB pool: the forging peer may hold 2 MiB unearned, all peers together 4 MiB. Forty 1 MB claims
        // would need 40 MB: without the budget the pool fills and every other request waits for the forgeries.
        pair.start(new MediaDriver.Context().socketPoolLength(POOL_BYTES).timeoutTicks(1_000), new MediaDriver.Context());
        {
            final DatagramChannel forger = openForger();
            for (int i = 0; i < 40; i++)
            {
                forgeFirstData(forger, 2L * (i + 1), CLAIMED_LENGTH);
            }
        }
        pair.pumpTicks(5);
        assertTrue(pair.serverDriver.counter(SystemCounterDescriptor.UNEARNED_LIMIT_WAITS) >= 38,
            "claims beyond the peer's 2 MiB wait: " + pair.serverDriver.counter(SystemCounterDescriptor.UNEARNED_LIMIT_WAITS));
        assertEquals(40, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));

        // Requests from another peer complete while every forged RPC is still alive. (A request long enough to
        // need grants does not yet: the two admitted forgeries are granted and hold max_incoming until they time
        // out, a grant-selection matter left to the under-load work.)
        pair.client.send(pair.dest(), pattern(100, 1), 0, 100, 1);
        pair.pumpUntil(() -> 1 == responses, "the one-packet response");
        pair.client.send(pair.dest(), pattern(8_000, 2), 0, 8_000, 2);
        pair.pumpUntil(() -> 2 == responses, "both legitimate responses");
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS), "forgeries still alive");
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());

        // The forgeries' sender never answers: each ends at timeout_ticks and nothing stays behind.
        pair.pumpUntil(() -> 0 == pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "forged RPCs to end");
        assertEquals(40, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        responses = 0;
        pair.client.send(pair.dest(), pattern(100, 3), 0, 100, 3);
        pair.pumpUntil(() -> 1 == responses, "a request after the attack");
    }

    @Test
    void shouldKeepTheShortestClaimsWhenMoreRequestsWaitThanTheSocketAllows() throws IOException
    {
        // 8 MiB pool, a 2 MiB unearned budget per peer: of 40 forged 1 MB claims two get blocks and the rest must
        // wait; only 10 may, so 28 are dropped outright and nothing else is held for them.
        pair.start(new MediaDriver.Context().socketPoolLength(POOL_BYTES).timeoutTicks(1_000)
            .limits(new LimitSettings(0, 0, 4096, 1000, 16, 64, 64, 10)), new MediaDriver.Context());
        final DatagramChannel forger = openForger();
        for (int i = 0; i < 40; i++)
        {
            forgeFirstData(forger, 2L * (i + 1), CLAIMED_LENGTH);
        }
        pair.pumpTicks(5);
        assertEquals(10, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        assertEquals(12, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        assertEquals(28, pair.serverDriver.counter(SystemCounterDescriptor.WAITING_RPC_LIMIT_DROPS));

        // A shorter claim that must wait too takes the place of a longest one (SRPT); a longer one is dropped.
        forgeFirstData(forger, 1_000, 300_000);
        forgeFirstData(forger, 1_002, CLAIMED_LENGTH);
        pair.pumpTicks(5);
        assertEquals(10, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
        assertEquals(12, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        assertEquals(30, pair.serverDriver.counter(SystemCounterDescriptor.WAITING_RPC_LIMIT_DROPS));

        // Another peer's request is served meanwhile, and every forged RPC ends at the timeout.
        pair.client.send(pair.dest(), pattern(100, 1), 0, 100, 1);
        pair.pumpUntil(() -> 1 == responses, "another peer's request");
        assertTrue(clientErrors.isEmpty(), clientErrors.toString());
        pair.pumpUntil(() -> 0 == pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), "forged RPCs to end");
        assertEquals(12, pair.serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.BUFFER_WAITING_RPCS));
    }

    @Test
    void shouldDropRequestsBeyondServerRpcsPerPeer() throws IOException
    {
        pair.start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 10, 1000, 16, 64, 64, 4096)), new MediaDriver.Context());
        {
            final DatagramChannel forger = openForger();
            for (int i = 0; i < 50; i++)
            {
                forgeFirstData(forger, 2L * (i + 1), 10_000);
            }
        }
        pair.pumpTicks(5);
        assertEquals(10, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        assertEquals(40, pair.serverDriver.counter(SystemCounterDescriptor.PEER_RPC_LIMIT_DROPS));

        pair.client.send(pair.dest(), pattern(100, 1), 0, 100, 1);
        pair.pumpUntil(() -> 1 == responses, "another peer's request");
    }

    @Test
    void shouldDropPacketsFromNewPeersBeyondThePeerLimit() throws IOException
    {
        // The server's table holds the legitimate client's peer and two forgers; the other three are dropped.
        pair.start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 100, 3, 16, 64, 64, 4096)), new MediaDriver.Context());
        pair.client.send(pair.dest(), pattern(100, 1), 0, 100, 1);
        pair.pumpUntil(() -> 1 == responses, "the legitimate client's request");
        for (int p = 0; p < 5; p++)
        {
            {
                forgeFirstData(openForger(), 2, 10_000);
            }
        }
        pair.pumpTicks(5);
        assertEquals(3, pair.serverDriver.counter(SystemCounterDescriptor.PEER_LIMIT_DROPS));
        assertEquals(2, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
        pair.client.send(pair.dest(), pattern(100, 2), 0, 100, 2);
        pair.pumpUntil(() -> 2 == responses, "a known peer's next request");
    }

    @Test
    void shouldRefuseSocketsBeyondTheClientAndDriverLimits()
    {
        pair.start(new MediaDriver.Context().limits(new LimitSettings(0, 0, 100, 1000, 3, 5, 64, 4096)), new MediaDriver.Context());
        // The server's client holds one socket (the server's); it may open two more.
        final Homa first = pair.connect(pair.serverDriver);
        final List<HomaSocket> sockets = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            sockets.add(first.addSocket());
        }
        final HomaException perClient = assertThrows(HomaException.class, first::addSocket);
        assertEquals(HomaError.EMFILE, perClient.errorCode(), perClient.getMessage());
        assertTrue(perClient.getMessage().contains("homa.limit.sockets.per.client"), perClient.getMessage());

        final Homa second = pair.connect(pair.serverDriver);
        sockets.add(second.addSocket());
        final HomaException perDriver = assertThrows(HomaException.class, second::addSocket);
        assertEquals(HomaError.ENFILE, perDriver.errorCode(), perDriver.getMessage());
        assertEquals(2, pair.serverDriver.counter(SystemCounterDescriptor.SOCKET_LIMIT_REFUSALS));

        sockets.get(0).close();
        sockets.add(second.addSocket());
        pair.client.send(pair.dest(), pattern(100, 1), 0, 100, 1);
        pair.pumpUntil(() -> 1 == responses, "the server still serves");
    }

    @Test
    void shouldBackOffNeedAcksToAForgedClient() throws IOException
    {
        // A forged complete request runs and is answered; its "client" never acks. Linux would send a NEED_ACK
        // every tick until the timeout (1,500 here); ours back off to about a dozen, and the RPC still ends.
        pair.start(new MediaDriver.Context().timeoutTicks(1_500), new MediaDriver.Context());
        {
            final DatagramChannel forger = openForger();
            forgeData(forger, 2, 100, 100);
            pair.pumpUntil(() -> 1 == pair.serverDriver.counter(SystemCounterDescriptor.NEED_ACK_TIMEOUTS), "the RPC to end");
        }
        final long needAcks = pair.serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_NEED_ACK);
        assertTrue(needAcks >= 5 && needAcks <= 12, "NEED_ACKs sent: " + needAcks);
        assertEquals(0, pair.serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));
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
            new InetSocketAddress(HomaAddress.ipv4ToString(pair.serverDriver.udpAddressIpv4()), pair.serverDriver.udpPort()));
    }
}
