package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.client.RpcInfo;
import io.homa.client.RpcInfoSnapshot;
import io.homa.codecs.HomaWire;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rpc-stat's data path: {@link Homa#rpcInfo(int)} through the real command ring, engine and broadcast, with one
 * INVOKER-mode driver on a clock that moves only when the test says, so in-flight RPCs hold still while inspected.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RpcInfoTest
{
    private static final int SERVER_PORT = 640;
    /** Three DATA packets on loopback: [0, 40000) up to unsched_bytes, then two more. */
    private static final int THREE_PACKETS = 150_000;

    private final ManualNanoClock clock = new ManualNanoClock();
    private final Requests requests = new Requests();
    private final Responses responses = new Responses();
    private MediaDriver driver;
    private AgentInvoker invoker;
    private Homa homa;
    private HomaSocket server;
    private HomaSocket client;
    private HomaAddress dest;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    private void launch(final Consumer<MediaDriver.Context> config)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context().threadingMode(ThreadingMode.INVOKER).nanoClock(clock);
        config.accept(ctx);
        driver = MediaDriver.launchEmbedded(ctx);
        invoker = driver.sharedAgentInvoker();
        homa = Homa.connect(
            new Homa.Context().homaDirectoryName(driver.homaDirectoryName()).driverAgentInvoker(invoker));
        server = homa.addSocket(SERVER_PORT);
        client = homa.addSocket();
        dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
    }

    private void step()
    {
        invoker.invoke();
        server.poll(requests, 16);
        client.poll(responses, 16);
    }

    @Test
    void shouldShowRequestHeldByServerThenNothingOnceDone()
    {
        launch(ctx -> {});
        final int length = 5_000;
        final long id = client.send(dest, pattern(length, 1), 0, length, 77);
        await(() -> 0 != requests.lastId, this::step, 10_000, "request at the server");

        final RpcInfoSnapshot all = homa.rpcInfo(0);
        assertEquals(2, all.totalRpcs(), all.toString());
        assertEquals(2, all.rpcs().size());
        assertEquals(-1, all.poolAvailBytes());
        assertFalse(all.isTruncated());

        final RpcInfo clientRpc = find(all.rpcs(), id);
        assertTrue(clientRpc.isClient());
        assertEquals(id, clientRpc.applicationId());
        assertEquals(77, clientRpc.completionCookie());
        assertEquals(RpcInfo.State.CLIENT_OUTGOING, clientRpc.state());
        assertEquals(client.port(), clientRpc.localPort());
        assertEquals(dest, clientRpc.peer());
        assertEquals(length, clientRpc.txLength());
        assertEquals(length, clientRpc.txSent());
        assertEquals(length, clientRpc.txGranted());
        assertEquals(-1, clientRpc.rxLength());
        assertEquals(0, clientRpc.rxReceived());
        assertEquals(0, clientRpc.resends());

        final RpcInfo serverRpc = find(all.rpcs(), id | 1);
        assertFalse(serverRpc.isClient());
        assertEquals(requests.lastId, serverRpc.applicationId());
        assertEquals(RpcInfo.State.SERVER_IN_SERVICE, serverRpc.state());
        assertEquals(SERVER_PORT, serverRpc.localPort());
        assertEquals(HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), client.port()), serverRpc.peer());
        assertEquals(length, serverRpc.rxLength());
        assertEquals(0, serverRpc.rxRemaining());
        assertEquals(0, serverRpc.rxGaps());
        assertEquals(-1, serverRpc.txLength());

        // Filters: one port, one socket.
        final RpcInfoSnapshot serverOnly = homa.rpcInfo(SERVER_PORT);
        assertEquals(SERVER_PORT, serverOnly.port());
        assertEquals(1, serverOnly.totalRpcs());
        assertEquals(id | 1, serverOnly.rpcs().get(0).id());
        assertTrue(serverOnly.poolAvailBytes() > 0, serverOnly.toString());
        assertEquals(List.of(id), client.rpcInfo().stream().map(RpcInfo::id).toList());
        final RpcInfoSnapshot nobody = homa.rpcInfo(SERVER_PORT + 1);
        assertEquals(0, nobody.totalRpcs());
        assertEquals(-1, nobody.poolAvailBytes());
        assertThrows(HomaException.class, () -> homa.rpcInfo(70_000));

        // Reply: the client RPC ends with delivery, the server RPC once the client's ack arrives (a NEED_ACK after
        // request_ack_ticks, so the clock must move).
        server.reply(requests.lastId, pattern(100, 2), 0, 100);
        await(() -> 1 == responses.count, this::step, 10_000, "response");
        await(() -> homa.rpcInfo(0).rpcs().isEmpty(),
            () ->
            {
                clock.advanceNs(TimeUnit.MILLISECONDS.toNanos(1));
                step();
            },
            10_000, "no RPCs left");
        assertEquals(0, homa.rpcInfo(0).totalRpcs());
        assertTrue(driver.counter(SystemCounterDescriptor.RPC_INFO_REQUESTS) >= 6);
    }

    @Test
    void shouldShowGapAndRemainingBytesOfAMessageMissingAPacket()
    {
        // The request's second DATA packet is lost where it arrives; the clock stands still, so no RESEND asks for it.
        launch(ctx -> ctx.faultInjection().dropIndices(HomaWire.DATA, 1));
        final long id = client.send(dest, pattern(THREE_PACKETS, 3), 0, THREE_PACKETS, 5);
        await(() -> 2 == driver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA), this::step, 10_000,
            "two of three DATA packets");

        final RpcInfo serverRpc = find(homa.rpcInfo(SERVER_PORT).rpcs(), id | 1);
        assertEquals(RpcInfo.State.SERVER_INCOMING, serverRpc.state());
        assertEquals(THREE_PACKETS, serverRpc.rxLength());
        assertEquals(1, serverRpc.rxGaps());
        assertTrue(serverRpc.rxGapBytes() > 0);
        assertEquals(serverRpc.rxGapBytes(), serverRpc.rxRemaining());
        assertEquals(THREE_PACKETS - serverRpc.rxGapBytes(), serverRpc.rxReceived());
        assertTrue(serverRpc.rxGranted() >= 40_000, serverRpc.toString());
        assertEquals(0, serverRpc.resends());

        final RpcInfo clientRpc = find(client.rpcInfo(), id);
        assertEquals(RpcInfo.State.CLIENT_OUTGOING, clientRpc.state());
        assertEquals(THREE_PACKETS, clientRpc.txLength());
        assertEquals(THREE_PACKETS, clientRpc.txSent());
        assertEquals(0, clientRpc.retransmits());

        // Time moves: the server's RESEND brings the packet back and the request completes.
        await(() -> 0 != requests.lastId,
            () ->
            {
                clock.advanceNs(TimeUnit.MILLISECONDS.toNanos(1));
                step();
            },
            10_000, "request after a RESEND");
        final RpcInfo held = find(homa.rpcInfo(SERVER_PORT).rpcs(), id | 1);
        assertEquals(RpcInfo.State.SERVER_IN_SERVICE, held.state());
        assertTrue(held.resends() >= 1, held.toString());
        assertEquals(0, held.rxRemaining());
        assertTrue(find(client.rpcInfo(), id).retransmits() >= 1);
    }

    private static RpcInfo find(final List<RpcInfo> rpcs, final long id)
    {
        return rpcs.stream().filter((rpc) -> rpc.id() == id).findFirst()
            .orElseThrow(() -> new AssertionError("no RPC " + id + " in " + rpcs));
    }

    private static final class Requests implements MessageHandler
    {
        long lastId;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            lastId = id;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new AssertionError("server error " + errorCode);
        }
    }

    private static final class Responses implements MessageHandler
    {
        int count;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new AssertionError("client error " + errorCode);
        }
    }
}
