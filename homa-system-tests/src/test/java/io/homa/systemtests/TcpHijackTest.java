package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.transport.RawIpTransport;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TCP hijacking over raw IPv4 ({@code homa.hijack.tcp}), as Linux Homa with {@code hijack_tcp=1}: Homa packets as
 * IP protocol 6 with flags SYN|RST, urgent pointer 0xB97D and a real TCP checksum. Two drivers own addresses of a
 * random 127.x.y.0/24; a third raw TCP socket watches what goes on the wire and checks every hijacked segment's
 * marks and checksum on its own. Real TCP on the same address is left to the kernel. Needs CAP_NET_RAW and no Linux
 * Homa module; skipped with the reason otherwise.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TcpHijackTest
{
    private static final int SERVER_PORT = 99;
    private static final int IPPROTO_TCP = 6;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private int net;
    private RawIpSocket watcher;

    @BeforeEach
    void before()
    {
        assumeTrue(null == RawIpTransport.linuxHomaModule(
            new File("/sys/module/homa").toPath(), new File("/proc/modules").toPath()),
            "the Linux Homa module is loaded: a raw-IP driver must not share the host with it");
        assumeTrue(RawIpTransportTest.canOpenRaw(), "raw IP needs CAP_NET_RAW, which this process lacks");
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        net = 0x7F000000 | (100 + random.nextInt(100)) << 16 | random.nextInt(256) << 8;
        watcher = RawIpSocket.open(IPPROTO_TCP, 0);
        watcher.receiveBufferSize(64 << 20); // it must see every segment of a 1 MB message
        closeables.add(watcher);
    }

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launch(final int ipv4, final boolean hijack)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("raw")
            .udpAddress(UdpSocket.ipv4ToString(ipv4))
            .hijackTcp(hijack));
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
        return homa;
    }

    /** Echoes one message of each size from client to server and back; returns the server driver. */
    private void echo(final MediaDriver clientDriver, final MediaDriver serverDriver, final int... sizes)
    {
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        for (final int size : sizes)
        {
            client.send(dest, pattern(size, size), 0, size, size);
        }
        await(() -> sizes.length == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 30_000, sizes.length + " responses");
        assertEquals(sizes.length, responses.matched, "response bytes");
        assertEquals(0, responses.errors);
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "server RPCs acked");
    }

    /**
     * The server's last packet (an ACK's answer, a late grant) can still be between the two drivers when the RPCs
     * are done, so the receiver's count may trail the sender's by what is in flight: wait, bounded, for it to catch
     * up. A packet really lost still fails the test, after the bound.
     */
    private static void awaitHijackedPacketsCounted(final MediaDriver from, final MediaDriver to)
    {
        await(() -> from.counter(TransportCounterDescriptor.TCP_HIJACK_SENT) ==
            to.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD), () -> {}, 10_000,
            "every hijacked packet sent to be counted as received");
    }

    @Test
    void shouldServeAHijackingClientAndAnswerIt()
    {
        final MediaDriver clientDriver = launch(net | 2, true);
        final MediaDriver serverDriver = launch(net | 3, false);
        echo(clientDriver, serverDriver, 100, 500_000);
        awaitHijackedPacketsCounted(clientDriver, serverDriver);

        // Everything the client sent went as TCP; the server took it from its TCP socket and answered natively.
        final long sent = clientDriver.counter(TransportCounterDescriptor.TCP_HIJACK_SENT);
        assertTrue(sent >= 2 + 500_000 / 65_000, "hijacked packets sent: " + sent);
        assertEquals(sent, serverDriver.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD));
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.TCP_HIJACK_SENT));
        assertEquals(0, clientDriver.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD));
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.RAW_BAD_PACKETS));
        assertEquals(sent, checkWatchedSegments(net | 2, net | 3), "hijacked segments seen on the wire");
    }

    @Test
    void shouldCarryRpcsWhenBothSidesHijack()
    {
        final MediaDriver clientDriver = launch(net | 2, true);
        final MediaDriver serverDriver = launch(net | 3, true);
        echo(clientDriver, serverDriver, 1, 1_400, 100_000, 1_000_000);
        awaitHijackedPacketsCounted(clientDriver, serverDriver);
        awaitHijackedPacketsCounted(serverDriver, clientDriver);
        final long fromServer = serverDriver.counter(TransportCounterDescriptor.TCP_HIJACK_SENT);
        assertTrue(fromServer > 0);
        assertEquals(fromServer, clientDriver.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD));
        assertEquals(clientDriver.counter(TransportCounterDescriptor.TCP_HIJACK_SENT),
            serverDriver.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD));
        assertEquals(fromServer, checkWatchedSegments(net | 3, net | 2));
    }

    @Test
    void shouldLeaveRealTcpOnTheSameAddressToTheKernel() throws Exception
    {
        final MediaDriver serverDriver = launch(net | 3, true);
        final InetAddress address = InetAddress.getByName(UdpSocket.ipv4ToString(net | 3));
        final byte[] message = "plain TCP beside hijacked Homa".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (ServerSocket listener = new ServerSocket(0, 1, address);
            Socket client = new Socket())
        {
            client.connect(new InetSocketAddress(address, listener.getLocalPort()), 5_000);
            client.setSoTimeout(10_000);
            try (Socket accepted = listener.accept())
            {
                accepted.setSoTimeout(10_000);
                final OutputStream out = client.getOutputStream();
                out.write(message);
                out.flush();
                final InputStream in = accepted.getInputStream();
                assertArrayEquals(message, in.readNBytes(message.length), "TCP bytes");
            }
        }
        // The filter kept real TCP out of the driver's socket: nothing taken, nothing counted as foreign.
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.TCP_HIJACK_RCVD));
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.RAW_FOREIGN_PACKETS));
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.RAW_BAD_PACKETS));
    }

    /**
     * Reads what the watcher saw: every segment from {@code source} to {@code destination} must carry the hijack
     * marks and a TCP checksum that verifies; returns how many there were.
     */
    private int checkWatchedSegments(final int source, final int destination)
    {
        final UnsafeBuffer segment = new UnsafeBuffer(BufferUtil.allocateDirectAligned(70_000, 64));
        int seen = 0;
        int length;
        while ((length = watcher.receive(segment.addressOffset(), segment.capacity())) >= 0 ||
            RawIpSocket.RECEIVE_BAD_HEADER == length)
        {
            if (length < 0 || watcher.lastSourceIpv4() != source || watcher.lastDestinationIpv4() != destination)
            {
                continue;
            }
            seen++;
            assertEquals(6, segment.getByte(13) & 0xFF, "flags SYN|RST");
            assertEquals(0xB97D, segment.getShort(18, ByteOrder.BIG_ENDIAN) & 0xFFFF, "urgent pointer");
            assertEquals(0, tcpChecksum(source, destination, segment, length), "TCP checksum of segment " + seen);
        }
        return seen;
    }

    /** RFC 793's checksum over the pseudo-header and the segment: 0 when the segment's own checksum is right. */
    private static int tcpChecksum(final int source, final int destination, final UnsafeBuffer segment,
        final int length)
    {
        long sum = (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) +
            IPPROTO_TCP + length;
        for (int i = 0; i < length; i += 2)
        {
            final int high = segment.getByte(i) & 0xFF;
            final int low = i + 1 < length ? segment.getByte(i + 1) & 0xFF : 0;
            sum += high << 8 | low;
        }
        while (0 != sum >>> 16)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }
}
