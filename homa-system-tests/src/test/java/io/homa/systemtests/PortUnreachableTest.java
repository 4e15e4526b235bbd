package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ICMP port-unreachable over the UDP transport, through the kernel (#16, #17): when the process of a client ends,
 * its UDP port closes and the kernel answers our next packet to it with an ICMP port-unreachable. As Linux's
 * homa_abort_rpcs does for a Homa port, the server then ends its RPCs from that client at once (counted in
 * server_rpc_discards and unreachable_server_rpcs) instead of sending NEED_ACK every tick until its timeout, and a
 * client's RPCs to a server whose driver is gone fail with ENOTCONN instead of timing out.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortUnreachableTest
{
    private static final int SERVER_PORT = 99;
    /** 30 s at the default 1 ms tick: far beyond the bounds below, so only the ICMP can end the RPCs in time. */
    private static final int LONG_TIMEOUT_TICKS = 30_000;
    private static final long WITHIN_MS = 5_000;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launch()
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("udp").threadingMode(ThreadingMode.SHARED).timeoutTicks(LONG_TIMEOUT_TICKS));
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
        return homa;
    }

    @Test
    void shouldEndServerRpcWhenItsClientsUdpPortCloses() throws Exception
    {
        final MediaDriver serverDriver = launch();
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);

        // The client: a UDP socket that sends one whole request, as a client driver's socket would.
        final DatagramChannel client = DatagramChannel.open();
        client.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client.configureBlocking(false);
        final int size = 100;
        final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(HomaWire.DATA_HEADER_LENGTH + size));
        new PacketWriter().data(packet, 0, 40_000, SERVER_PORT, 1_000, size, size, 0, 0, 0, false, 0);
        packet.putBytes(HomaWire.DATA_HEADER_LENGTH, pattern(size, 1), 0, size);
        final InetSocketAddress serverAddress =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), serverDriver.udpPort());
        client.send(packet.byteBuffer().duplicate().clear(), serverAddress);

        // The server replies; with no ACK coming it asks for one (NEED_ACK) every tick.
        final ByteBuffer in = ByteBuffer.allocateDirect(2048);
        final int[] seen = new int[256];
        await(() -> seen[HomaWire.NEED_ACK] > 0, () ->
        {
            server.poll(echo, 10);
            try
            {
                in.clear();
                if (null != client.receive(in))
                {
                    seen[HomaWire.type(new UnsafeBuffer(in), 0)]++;
                }
            }
            catch (final java.io.IOException ex)
            {
                throw new java.io.UncheckedIOException(ex);
            }
        }, 10_000, "the response and a NEED_ACK at the client");
        assertEquals(1, echo.requests);
        assertTrue(seen[HomaWire.DATA] >= 1, "the response");
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE));

        // The client process ends: its port closes, the kernel answers the next NEED_ACK with ICMP.
        client.close();
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () -> server.poll(echo, 10),
            WITHIN_MS, "the server RPC ended by ICMP port-unreachable, well before its " + LONG_TIMEOUT_TICKS +
            "-tick timeout");
        assertTrue(serverDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD) >= 1);
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.UNREACHABLE_SERVER_RPCS));
        assertEquals(1, serverDriver.counter(SystemCounterDescriptor.SERVER_RPC_DISCARDS));
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.NEED_ACK_TIMEOUTS));
        assertEquals(0, server.rpcInfo().size(), "nothing left to send NEED_ACK for");

        // And the NEED_ACKs stop: the count holds while the server keeps running for 100 more ticks.
        final long needAcks = serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_NEED_ACK);
        final long untilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        while (System.nanoTime() - untilNs < 0)
        {
            server.poll(echo, 10);
            Thread.onSpinWait();
        }
        assertEquals(needAcks, serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_NEED_ACK));
    }

    @Test
    void shouldFailClientRpcWithEnotconnWhenTheServersDriverIsGone()
    {
        final MediaDriver clientDriver = launch();
        final MediaDriver serverDriver = launch();
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        client.send(dest, pattern(100, 1), 0, 100, 1);
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "a first response");

        // The server's driver ends (its socket first, so the client is not told by PORT_UNREACHABLE).
        final Homa serverHoma = (Homa)closeables.remove(closeables.size() - 1);
        closeables.remove(serverDriver);
        CloseHelper.closeAll(serverHoma, serverDriver);
        final long id = client.send(dest, pattern(100, 2), 0, 100, 2);
        await(() -> 1 == responses.errors, () -> client.poll(responses, 10), WITHIN_MS,
            "the RPC to the dead driver failed, well before its timeout");
        assertEquals(HomaError.ENOTCONN, (int)responses.errorById.getOrDefault(id, 0));
        assertTrue(clientDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD) >= 1);
    }
}
