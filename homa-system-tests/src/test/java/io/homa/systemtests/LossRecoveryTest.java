package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
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
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.homa.driver.status.SystemCounterDescriptor.ACKED_RPC_DROPS;
import static io.homa.driver.status.SystemCounterDescriptor.BUFFER_WAITING_RPCS;
import static io.homa.driver.status.SystemCounterDescriptor.FAULT_DROPPED;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_BUSY;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_NEED_ACK;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_RESEND;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_RPC_UNKNOWN;
import static io.homa.driver.status.SystemCounterDescriptor.PEERS_ACTIVE;
import static io.homa.driver.status.SystemCounterDescriptor.PEER_EVICTIONS;
import static io.homa.driver.status.SystemCounterDescriptor.RESENT_PACKETS;
import static io.homa.driver.status.SystemCounterDescriptor.RPCS_ACTIVE;
import static io.homa.driver.status.SystemCounterDescriptor.RPC_RESTARTS;
import static io.homa.driver.status.SystemCounterDescriptor.RPC_TIMEOUTS;
import static io.homa.driver.status.SystemCounterDescriptor.SERVER_RESPONSES_DONE;
import static io.homa.driver.status.SystemCounterDescriptor.SERVER_RPC_DISCARDS;
import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each loss-recovery path of section 2.7-2.9, driven deterministically: two drivers over UDP on loopback, the fault
 * injection transport dropping chosen packets (by type and index) where they arrive, a 1 ms tick. Both drivers run
 * in INVOKER mode on the test thread and share a clock that moves {@link #PUMP_NS} per pump, so RESENDs, BUSYs,
 * timeouts and held-back copies come after a set amount of work, not of wall-clock time: a descheduled test thread
 * neither triggers a retransmission nor lets a deadline pass.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LossRecoveryTest
{
    private static final int SERVER_PORT = 700;
    /** Three DATA packets on loopback: [0, 40000) (unsched_bytes boundary), then two more. */
    private static final int THREE_PACKETS = 150_000;
    /** Two DATA packets on loopback. */
    private static final int TWO_PACKETS = 100_000;
    /** Driver time per pump: 1 us, so a 1 ms tick is a thousand pumps. */
    private static final long PUMP_NS = 1_000;

    private final ManualNanoClock clock = new ManualNanoClock();

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MediaDriver clientDriver;
    private MediaDriver serverDriver;
    private HomaSocket client;
    private HomaSocket server;
    private HomaAddress dest;
    private final Server echo = new Server();
    private final Client responses = new Client();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private void launch(final Consumer<MediaDriver.Context> clientConfig, final Consumer<MediaDriver.Context> serverConfig)
    {
        clientDriver = launchDriver(clientConfig);
        client = connect(clientDriver).addSocket();
        serverDriver = launchDriver(serverConfig);
        server = connect(serverDriver).addSocket(SERVER_PORT);
        dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        echo.socket = server;
    }

    private MediaDriver launchDriver(final Consumer<MediaDriver.Context> config)
    {
        // Whole messages unscheduled, so "first, middle, last packet" are packets of one unscheduled burst and each
        // loss is repaired by a RESEND for that gap; loss together with grants is exercised by LossSoakTest.
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(clock)
            .unschedBytes(1_000_000);
        config.accept(ctx);
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx);
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
        closeables.add(homa);
        return homa;
    }

    private static Consumer<MediaDriver.Context> none()
    {
        return ctx -> {};
    }

    /**
     * Linux's timeout (100 ticks), so a test that waits for one needs 100,000 pumps, not 1.5 M.
     */
    private static Consumer<MediaDriver.Context> shortTimeout()
    {
        return ctx -> ctx.timeoutTicks(100);
    }

    private static Consumer<MediaDriver.Context> drop(final int type, final long... indices)
    {
        return ctx -> ctx.faultInjection().dropIndices(type, indices);
    }

    private void runOneRpc(final int size)
    {
        final long id = client.send(dest, pattern(size, size), 0, size, 42);
        await(() -> responses.count + responses.errors > 0, this::pollBoth, 10_000, "response");
        assertEquals(0, responses.errors, "error " + responses.lastError);
        assertEquals(1, responses.count);
        assertEquals(1, responses.matched, "response bytes");
        assertEquals(id, responses.lastId);
        assertEquals(1, echo.executions.size());
        awaitNoRpcState();
    }

    private void pollBoth()
    {
        pump(echo);
    }

    /**
     * One duty cycle of both drivers and both sockets, then the clock moves on by {@link #PUMP_NS}.
     */
    private void pump(final MessageHandler serverHandler)
    {
        clientDriver.sharedAgentInvoker().invoke();
        serverDriver.sharedAgentInvoker().invoke();
        server.poll(serverHandler, 16);
        client.poll(responses, 16);
        clock.advanceNs(PUMP_NS);
    }

    private void awaitNoRpcState()
    {
        await(() -> 0 == serverDriver.counter(RPCS_ACTIVE) && 0 == clientDriver.counter(RPCS_ACTIVE), this::pollBoth,
            10_000, "no RPC state left (server " + serverDriver.counter(RPCS_ACTIVE) + ")");
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 2 })
    void shouldRecoverLostFirstMiddleOrLastDataPacketOfRequest(final int lostIndex)
    {
        launch(none(), drop(HomaWire.DATA, lostIndex));
        runOneRpc(THREE_PACKETS);
        assertEquals(1, serverDriver.counter(FAULT_DROPPED));
        assertTrue(serverDriver.counter(PACKETS_SENT_RESEND) >= 1);
        assertTrue(clientDriver.counter(RESENT_PACKETS) >= 1);
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 2 })
    void shouldRecoverLostFirstMiddleOrLastDataPacketOfResponse(final int lostIndex)
    {
        launch(drop(HomaWire.DATA, lostIndex), none());
        runOneRpc(THREE_PACKETS);
        assertEquals(1, clientDriver.counter(FAULT_DROPPED));
        assertTrue(clientDriver.counter(PACKETS_SENT_RESEND) >= 1);
        assertTrue(serverDriver.counter(RESENT_PACKETS) >= 1);
    }

    @Test
    void shouldRestartRequestWhoseEveryPacketWasLost()
    {
        // The server never hears of the RPC: the client's RESEND(0, -1) gets RPC_UNKNOWN and it sends again.
        launch(none(), drop(HomaWire.DATA, 0, 1));
        runOneRpc(TWO_PACKETS);
        assertEquals(2, serverDriver.counter(FAULT_DROPPED));
        assertTrue(serverDriver.counter(PACKETS_SENT_RPC_UNKNOWN) >= 1);
        assertTrue(clientDriver.counter(RPC_RESTARTS) >= 1);
    }

    @Test
    void shouldRecoverResponseWhoseEveryPacketWasLost()
    {
        launch(drop(HomaWire.DATA, 0, 1), none());
        runOneRpc(TWO_PACKETS);
        assertEquals(2, clientDriver.counter(FAULT_DROPPED));
        assertTrue(clientDriver.counter(PACKETS_SENT_RESEND) >= 1);
        assertTrue(serverDriver.counter(RESENT_PACKETS) >= 2);
    }

    @Test
    void shouldKeepServerStateUntilAckArrivesAfterLostAck()
    {
        launch(none(), drop(HomaWire.ACK, 0));
        runOneRpc(100);
        // The first ACK was lost; the server asked again and the second freed the RPC.
        assertEquals(1, serverDriver.counter(FAULT_DROPPED));
        assertTrue(serverDriver.counter(PACKETS_SENT_NEED_ACK) >= 2);
        assertEquals(1, serverDriver.counter(SERVER_RESPONSES_DONE));
    }

    @Test
    void shouldRecoverLostResend()
    {
        launch(drop(HomaWire.RESEND, 0), drop(HomaWire.DATA, 2));
        runOneRpc(THREE_PACKETS);
        assertEquals(1, clientDriver.counter(FAULT_DROPPED));
        assertTrue(serverDriver.counter(PACKETS_SENT_RESEND) >= 2, "a second RESEND after the lost one");
    }

    @Test
    void shouldKeepWaitingForSlowServerAfterLostBusy()
    {
        launch(drop(HomaWire.BUSY, 0), none());
        echo.holdRequests = true;
        client.send(dest, pattern(100, 100), 0, 100, 1);
        // The server application sits on the request; the client asks (RESEND), the server says BUSY, the first
        // BUSY is lost, the client asks again.
        await(() -> serverDriver.counter(PACKETS_SENT_BUSY) >= 2 && 1 == echo.held.size(), this::pollBoth, 10_000,
            "two BUSYs");
        echo.replyToHeld();
        await(() -> 1 == responses.count, this::pollBoth, 10_000, "response");
        assertEquals(1, responses.matched);
        assertEquals(0, responses.errors);
        assertEquals(1, clientDriver.counter(FAULT_DROPPED));
        assertEquals(0, clientDriver.counter(RPC_TIMEOUTS));
        awaitNoRpcState();
    }

    @Test
    void shouldRestartRequestWhenServerRestarts()
    {
        launch(none(), none());
        echo.holdRequests = true;
        final int size = 3_000;
        client.send(dest, pattern(size, size), 0, size, 9);
        await(() -> 1 == echo.held.size(), this::pollBoth, 10_000, "request at the first server");

        // The server driver dies with the RPC in service; a new one takes its UDP port and Homa port.
        final int udpPort = serverDriver.udpPort();
        CloseHelper.closeAll(closeables.remove(closeables.size() - 1), closeables.remove(closeables.size() - 1));
        // Cut off until its server socket is bound, so the restarted request does not meet an unbound port.
        serverDriver = launchDriver(ctx -> ctx.udpPort(udpPort).faultInjection().dataDropRate(1).controlDropRate(1));
        server = connect(serverDriver).addSocket(SERVER_PORT);
        serverDriver.context().faultInjection().dataDropRate(0).controlDropRate(0);
        final Server fresh = new Server();
        fresh.socket = server;

        await(() -> 1 == responses.count, () -> pump(fresh), 10_000, "response from the restarted server: client " + counters(clientDriver) + " server " +
            counters(serverDriver));
        assertEquals(1, responses.matched);
        assertEquals(1, fresh.executions.size());
        assertTrue(serverDriver.counter(PACKETS_SENT_RPC_UNKNOWN) >= 1);
        assertTrue(clientDriver.counter(RPC_RESTARTS) >= 1);
    }

    @Test
    void shouldTimeOutRpcToSilentServerWithEtimedout() throws Exception
    {
        // Linux's 100-tick timeout instead of our 1,500: at 1 µs of protocol time per pump the default needs 1.5 M
        // pumps, more than a loaded machine ran within the wall-clock bound (seen under bin/stress-suite).
        launch(shortTimeout(), none());
        try (DatagramChannel blackHole = DatagramChannel.open())
        {
            blackHole.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            final HomaAddress silent = HomaAddress.of(clientDriver.udpAddressIpv4(),
                ((InetSocketAddress)blackHole.getLocalAddress()).getPort(), SERVER_PORT);
            final long id = client.send(silent, pattern(100, 1), 0, 100, 77);
            await(() -> 1 == responses.errors, this::pollBoth, 10_000, "ETIMEDOUT");
            assertEquals(HomaError.ETIMEDOUT, responses.lastError);
            assertEquals(id, responses.lastErrorId);
            assertEquals(77, responses.lastErrorCookie);
        }
        assertEquals(1, clientDriver.counter(RPC_TIMEOUTS));
        // RESEND(0, -1) at 5, 10, ... 95 silent ticks, ETIMEDOUT at 100.
        assertTrue(clientDriver.counter(PACKETS_SENT_RESEND) >= 2);
        assertEquals(0, clientDriver.counter(RPCS_ACTIVE));
    }

    @Test
    void shouldDiscardServerRpcWhenClientAnswersRpcUnknown()
    {
        // The request's middle packet is lost and the client abandons the RPC: the server's RESEND gets RPC_UNKNOWN.
        // A long resend delay at the server, so the abort below surely comes before its first RESEND.
        launch(none(), drop(HomaWire.DATA, 1).andThen(ctx -> ctx.resendTicks(50)));
        final long id = client.send(dest, pattern(THREE_PACKETS, 3), 0, THREE_PACKETS, 3);
        await(() -> 2 == serverDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA), this::pollBoth, 10_000,
            "two of three request packets at the server");
        client.abort(id);
        await(() -> 1 == responses.errors, this::pollBoth, 10_000, "ECANCELED");
        assertEquals(HomaError.ECANCELED, responses.lastError);
        await(() -> 1 == serverDriver.counter(SERVER_RPC_DISCARDS), this::pollBoth, 10_000, "server discard");
        awaitNoRpcState();
        assertEquals(0, echo.executions.size());
        assertTrue(clientDriver.counter(PACKETS_SENT_RPC_UNKNOWN) >= 1);
    }

    @Test
    void shouldTimeOutBothSidesWhenControlPacketsNeverReachClient()
    {
        // Every control packet to the client is lost, and the request's last packet: the server's RESENDs go
        // unanswered until it discards the RPC; the client hears no BUSY and times out.
        // Short timeouts on both sides, for the reason given in shouldTimeOutRpcToSilentServerWithEtimedout.
        launch(shortTimeout().andThen(ctx -> ctx.faultInjection().controlDropRate(1.0)),
            shortTimeout().andThen(drop(HomaWire.DATA, 2, 3, 4, 5, 6, 7, 8, 9)));
        client.send(dest, pattern(THREE_PACKETS, 5), 0, THREE_PACKETS, 5);
        await(() -> 1 == responses.errors && 1 == serverDriver.counter(SERVER_RPC_DISCARDS), this::pollBoth, 10_000,
            "timeouts on both sides");
        assertEquals(HomaError.ETIMEDOUT, responses.lastError);
        assertEquals(1, serverDriver.counter(RPC_TIMEOUTS));
        assertEquals(1, clientDriver.counter(RPC_TIMEOUTS));
        assertEquals(0, echo.executions.size());
        awaitNoRpcState();
    }

    @Test
    void shouldNotRunRequestTwiceWhenCopyArrivesAfterRpcWasAcked()
    {
        // Every DATA reaching the server arrives again 50 ms later, long after the RPC completed and was acked.
        launch(none(), ctx -> ctx.faultInjection().dataDuplicateRate(1.0)
            .duplicateDelayNs(TimeUnit.MILLISECONDS.toNanos(50)));
        runOneRpc(500);
        assertEquals(1, serverDriver.counter(SERVER_RESPONSES_DONE));
        await(() -> 1 == serverDriver.counter(ACKED_RPC_DROPS), this::pollBoth, 10_000, "late copy dropped");
        for (int i = 0; i < 20; i++)
        {
            pollBoth();
        }
        assertEquals(1, echo.executions.size(), "handler ran once");
        assertEquals(0, serverDriver.counter(RPCS_ACTIVE));
    }

    @Test
    void shouldRunLateCopyAgainWithoutRecentAcksWhichShowsTheHoleIsReal()
    {
        // Control for the test above: remembering acked ids for one tick only re-opens Linux's at-most-once hole.
        launch(none(), ctx -> ctx.recentAcksTicks(1).faultInjection().dataDuplicateRate(1.0)
            .duplicateDelayNs(TimeUnit.MILLISECONDS.toNanos(50)));
        client.send(dest, pattern(500, 500), 0, 500, 1);
        await(() -> 2 == echo.executions.getOrDefault(echo.lastPeerId, 0) || echo.executions.size() > 1,
            this::pollBoth, 10_000, "the late copy to run again");
        assertEquals(0, serverDriver.counter(ACKED_RPC_DROPS));
    }

    @Test
    void shouldEvictIdlePeers() throws Exception
    {
        launch(none(), ctx -> ctx.peerGcThreshold(0).peerIdleMinNs(TimeUnit.MILLISECONDS.toNanos(20))
            .peerIdleMaxNs(TimeUnit.MILLISECONDS.toNanos(20)));
        runOneRpc(100);

        // Many short-lived peers: each sends one NEED_ACK (the server answers with an ACK) and goes away.
        final int peers = 50;
        final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(HomaWire.NEED_ACK_LENGTH));
        new PacketWriter().needAck(packet, 0, SERVER_PORT, 40_000, 1001);
        final InetSocketAddress serverUdp =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), serverDriver.udpPort());
        // All channels stay open until every one has sent, so each has its own ephemeral port (a peer of its own).
        final java.util.List<DatagramChannel> channels = new java.util.ArrayList<>();
        try
        {
            for (int i = 0; i < peers; i++)
            {
                final DatagramChannel channel = DatagramChannel.open();
                channels.add(channel);
                channel.send(packet.byteBuffer().duplicate().clear(), serverUdp);
            }
        }
        finally
        {
            for (final DatagramChannel channel : channels)
            {
                channel.close();
            }
        }
        // No RPC is live: protocol time may move 1 ms a pump, so the 20 ms idle time passes in a few dozen pumps
        // however slowly a loaded machine runs them (at 1 µs a pump it took 25,000; seen failing under stress-suite).
        await(() -> serverDriver.counter(PEER_EVICTIONS) >= peers + 1 && 0 == serverDriver.counter(PEERS_ACTIVE),
            () ->
            {
                pollBoth();
                clock.advanceNs(TimeUnit.MILLISECONDS.toNanos(1) - PUMP_NS);
            }, 10_000, "idle peers evicted");
        // The client's peer comes back when it is needed again.
        responses.count = 0;
        responses.matched = 0;
        echo.executions.clear();
        runOneRpc(100);
    }

    @Test
    void shouldCompleteEverythingInSrptOrderWhenReceivePoolIsFarTooSmall()
    {
        // A 2 MiB pool holds two of these messages (each takes a 1 MiB block); ten arrive at once.
        launch(none(), ctx -> ctx.socketPoolLength(2 * 1024 * 1024));
        echo.holdRequests = true;
        echo.retainHeld = true;
        final int count = 10;
        final int[] sizes = { 900_000, 600_000, 999_000, 530_000, 700_000, 850_000, 560_000, 780_000, 640_000,
            950_000 };
        for (int i = 0; i < count; i++)
        {
            client.send(dest, pattern(sizes[i], sizes[i]), 0, sizes[i], sizes[i]);
        }
        await(() -> 2 == echo.held.size() && count - 2 == serverDriver.counter(BUFFER_WAITING_RPCS), this::pollBoth,
            20_000, "pool full, the rest waiting (" + serverDriver.counter(BUFFER_WAITING_RPCS) + ")");

        // Free one block at a time: each admits exactly one waiting message, which must be the shortest.
        for (int k = 0; k < count; k++)
        {
            final int before = echo.deliveredLengths.size();
            echo.replyToHeld();
            if (before < count)
            {
                await(() -> echo.deliveredLengths.size() > before, this::pollBoth, 20_000, "next admitted message");
            }
        }
        await(() -> responses.count == count, this::pollBoth, 20_000, "all responses");
        final List<Integer> admittedOrder = new ArrayList<>(echo.deliveredLengths.subList(2, count));
        final List<Integer> sorted = new ArrayList<>(admittedOrder);
        sorted.sort(null);
        assertEquals(sorted, admittedOrder, "waiting messages admitted shortest first");
        assertEquals(count - 2, admittedOrder.size());
        assertEquals(count, responses.matched);
        assertEquals(count, echo.matched, "every request arrived intact");
        assertEquals(0, responses.errors);
        awaitNoRpcState();
    }

    private static String counters(final MediaDriver driver)
    {
        final StringBuilder sb = new StringBuilder("{");
        for (final SystemCounterDescriptor d : SystemCounterDescriptor.values())
        {
            final long value = driver.counter(d);
            if (0 != value && !d.label().endsWith("_ns"))
            {
                sb.append(d.label()).append('=').append(value).append(' ');
            }
        }
        for (final java.util.Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet())
        {
            if (e.getKey().getName().startsWith("homa"))
            {
                sb.append("\n").append(e.getKey().getName()).append(' ').append(e.getKey().getState());
                for (final StackTraceElement frame : e.getValue())
                {
                    sb.append("\n    ").append(frame);
                }
            }
        }
        return sb.append('}').toString();
    }

    /**
     * Echoes each request (or holds it), counting executions per request id and checking request bytes.
     */
    static final class Server implements MessageHandler
    {
        HomaSocket socket;
        boolean holdRequests;
        boolean retainHeld;
        final java.util.HashMap<Long, Integer> executions = new java.util.HashMap<>();
        final List<long[]> held = new ArrayList<>();
        final List<Integer> deliveredLengths = new ArrayList<>();
        long lastPeerId;
        int matched;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            lastPeerId = id;
            executions.merge(id, 1, Integer::sum);
            deliveredLengths.add(length);
            if (matchesPattern(buffer, offset, length, length))
            {
                matched++;
            }
            if (holdRequests)
            {
                held.add(new long[]{ id, length, retainHeld ? socket.retain() : -1 });
                return;
            }
            socket.reply(id, buffer, offset, length);
        }

        void replyToHeld()
        {
            final long[] request = held.remove(0);
            final int length = (int)request[1];
            if (request[2] >= 0)
            {
                socket.release(request[2]);
            }
            // Small answer for retained (large) requests, an echo of the pattern otherwise.
            final int replyLength = request[2] >= 0 ? 8 : length;
            final UnsafeBuffer reply = pattern(replyLength, replyLength);
            socket.reply(request[0], reply, 0, replyLength);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("server error " + errorCode);
        }
    }

    static final class Client implements MessageHandler
    {
        int count;
        int matched;
        int errors;
        long lastId;
        int lastError;
        long lastErrorId;
        long lastErrorCookie;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
            lastId = id;
            if (matchesPattern(buffer, offset, length, length))
            {
                matched++;
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
            lastError = errorCode;
            lastErrorId = id;
            lastErrorCookie = cookie;
        }
    }
}
