package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.MediaDriver;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.transport.RawIpTransport;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two drivers on one host speaking Homa over raw IPv4 protocol 146, each owning a loopback address of a random
 * 127.x.y.0/24 (as two hosts would own theirs): RPCs through the real path, ICMP both ways, what is not ours
 * dropped and counted. Needs CAP_NET_RAW and no Linux Homa module; skipped with the reason otherwise.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RawIpTransportTest
{
    private static final int SERVER_PORT = 99;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private int net;
    private MediaDriver clientDriver;
    private MediaDriver serverDriver;
    private Homa clientHoma;
    private Homa serverHoma;

    @BeforeEach
    void before()
    {
        assumeTrue(null == RawIpTransport.linuxHomaModule(
            new File("/sys/module/homa").toPath(), new File("/proc/modules").toPath()),
            "the Linux Homa module is loaded: a raw-IP driver must not share the host with it");
        assumeTrue(canOpenRaw(), "raw IP needs CAP_NET_RAW, which this process lacks");
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        net = 0x7F000000 | (100 + random.nextInt(100)) << 16 | random.nextInt(256) << 8;
        clientDriver = launchRaw(net | 2);
        serverDriver = launchRaw(net | 3);
        clientHoma = connect(clientDriver);
        serverHoma = connect(serverDriver);
    }

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    static boolean canOpenRaw()
    {
        try (RawIpSocket ignored = RawIpSocket.open(RawIpTransport.IPPROTO_HOMA, 0x7F000001))
        {
            return true;
        }
        catch (final UncheckedIOException ex)
        {
            return false;
        }
    }

    private MediaDriver launchRaw(final int ipv4)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("raw")
            .udpAddress(UdpSocket.ipv4ToString(ipv4)));
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
        return homa;
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 100, 1_424, 40_000, 65_536, 500_000, 1_000_000 })
    void shouldEchoEachSizeBetweenTwoRawIpDrivers(final int size)
    {
        assertEquals(0, serverDriver.udpPort(), "a raw-IP peer has no transport port");
        assertEquals(net | 3, serverDriver.udpAddressIpv4());
        final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT);

        final long id = client.send(dest, pattern(size, size), 0, size, size);
        assertEquals(0, id & 1);
        final Echo echo = new Echo(server);
        final Responses responses = new Responses();
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 30_000, "response of " + size + " bytes");
        assertEquals(1, responses.matched, "response bytes");
        assertEquals(id, responses.lastId);
        assertEquals(1, echo.requests);
        assertEquals(1, echo.lastId & 1, "server ids are odd");

        // The client acks the response; the server's RPC ends.
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "server RPC acked");
        final int maxPayload = 65_535 - 20 - HomaWire.DATA_HEADER_LENGTH;
        assertTrue(clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_DATA) >= (size + maxPayload - 1) /
            maxPayload);
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.RAW_BAD_PACKETS));
    }

    @Test
    void shouldCarryManyConcurrentRpcsOfMixedSizes()
    {
        final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT);
        final Echo echo = new Echo(server);
        final Responses responses = new Responses();
        final int rpcs = 40;
        for (int i = 0; i < rpcs; i++)
        {
            final int size = 1 + (i * 37_813) % 200_000;
            client.send(dest, pattern(size, size), 0, size, size);
        }
        await(() -> rpcs == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 30_000, rpcs + " responses");
        assertEquals(rpcs, responses.matched);
        assertEquals(0, responses.errors);
    }

    @Test
    void shouldAnswerPacketToPortWithNoSocketWithIcmpAndFailClientWithEnotconn()
    {
        // A second ICMP socket on the client's address sees what the server's ICMP looks like on the wire.
        final RawIpSocket watcher = RawIpSocket.open(1, clientDriver.udpAddressIpv4());
        closeables.add(watcher);
        watcher.icmpFilter(~(1 << 3));
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress unbound = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, 4321);
        // One DATA of 56 + 1,000 bytes: more than an ICMP error of 576 bytes can quote.
        final int size = 1_000;
        final long id = client.send(unbound, pattern(size, 1), 0, size, 1);

        final Responses responses = new Responses();
        await(() -> 1 == responses.errors, () -> client.poll(responses, 10), 10_000, "ENOTCONN");
        assertEquals(HomaError.ENOTCONN, responses.errorById.get(id));
        // Each DATA for the unbound port earns one ICMP, and on a busy machine the client may resend its DATA before
        // the first ICMP comes back; the server's transport counts an ICMP after sending it, so the client may count
        // one first. So wait (bounded) until the counts settle where they must: at least one ICMP, one per such
        // packet, and the client never counting more than were sent.
        await(() ->
        {
            final long sent = serverDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_SENT);
            final long received = clientDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD);
            return sent >= 1 && received >= 1 && received <= sent &&
                sent == serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_PORT_UNREACHABLE);
        }, () -> {}, 10_000, "one ICMP per DATA to the unbound port, none counted twice");

        // As Linux sends it (#17): TOS 0, DF clear; it quotes the offending packet's IPv4 header and as much of the
        // packet as fits in 576 bytes (RFC 1812): 576 - 20 - 8 - 20 = 528 of its 1,056 bytes.
        final UnsafeBuffer icmp = new UnsafeBuffer(ByteBuffer.allocateDirect(1_024));
        final int[] length = { -1 };
        await(() ->
        {
            length[0] = watcher.receive(icmp.addressOffset(), icmp.capacity());
            return length[0] > 0 && watcher.lastSourceIpv4() == serverDriver.udpAddressIpv4() &&
                3 == icmp.getByte(0) && 3 == icmp.getByte(1);
        }, () -> {}, 10_000, "the server's ICMP port-unreachable on the wire");
        assertEquals(0, watcher.lastTos(), "TOS of the ICMP");
        assertTrue(!watcher.lastDontFragment(), "DF of the ICMP");
        assertEquals(0x45, icmp.getByte(8) & 0xFF);
        assertEquals(RawIpTransport.IPPROTO_HOMA, icmp.getByte(17) & 0xFF);
        assertEquals(clientDriver.udpAddressIpv4(), icmp.getInt(20, ByteOrder.BIG_ENDIAN));
        assertEquals(serverDriver.udpAddressIpv4(), icmp.getInt(24, ByteOrder.BIG_ENDIAN));
        assertEquals(client.port(), icmp.getShort(28, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        assertEquals(4321, icmp.getShort(30, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        assertEquals(576 - 20, length[0], "ICMP message length: a whole 576-byte IPv4 datagram");
        assertEquals(RawIpTransport.ICMP_QUOTE_MAX, length[0] - 8 - 20);
        assertEquals(20 + HomaWire.DATA_HEADER_LENGTH + size, icmp.getShort(10, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            "the quoted IPv4 header gives the offending packet's whole length");
        assertEquals(HomaWire.DATA, HomaWire.type(icmp, 28), "the offending DATA itself");
        assertEquals(size, HomaWire.messageLength(icmp, 28));
        final UnsafeBuffer request = pattern(size, 1);
        for (int i = 28 + HomaWire.DATA_HEADER_LENGTH; i < length[0]; i++)
        {
            assertEquals(request.getByte(i - 28 - HomaWire.DATA_HEADER_LENGTH), icmp.getByte(i), "quoted byte " + i);
        }
    }

    @Test
    void shouldFailRequestToAddressWithoutHomaWithEprotonosupport()
    {
        // Nothing owns .9: the kernel there has no protocol 146 and answers ICMP protocol-unreachable.
        final HomaSocket client = clientHoma.addSocket();
        final long id = client.send(HomaAddress.of(net | 9, 0, SERVER_PORT), pattern(10, 1), 0, 10, 1);
        final Responses responses = new Responses();
        await(() -> 1 == responses.errors, () -> client.poll(responses, 10), 10_000, "EPROTONOSUPPORT");
        assertEquals(HomaError.EPROTONOSUPPORT, responses.errorById.get(id));
    }

    @Test
    void shouldFailRpcsInFlightWhenIcmpSaysHostUnreachable()
    {
        // The server takes the request but never answers; then a router-style ICMP host-unreachable arrives
        // quoting one of the client's packets.
        serverHoma.addSocket(SERVER_PORT);
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT);
        final long first = client.send(dest, pattern(10, 1), 0, 10, 1);
        final long second = client.send(dest, pattern(20, 2), 0, 20, 2);
        await(() -> 2 == serverDriver.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE), () -> { }, 10_000,
            "requests at the server");

        final UnsafeBuffer icmp = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        icmp.putByte(0, (byte)3);
        icmp.putByte(1, (byte)1);
        icmp.putByte(8, (byte)0x45);
        icmp.putShort(10, (short)48, ByteOrder.BIG_ENDIAN);
        icmp.putByte(16, (byte)64);
        icmp.putByte(17, (byte)RawIpTransport.IPPROTO_HOMA);
        icmp.putInt(20, clientDriver.udpAddressIpv4(), ByteOrder.BIG_ENDIAN);
        icmp.putInt(24, serverDriver.udpAddressIpv4(), ByteOrder.BIG_ENDIAN);
        icmp.putShort(28, (short)client.port(), ByteOrder.BIG_ENDIAN);
        icmp.putShort(30, (short)SERVER_PORT, ByteOrder.BIG_ENDIAN);
        icmp.putShort(2, (short)RawIpSocket.internetChecksum(icmp, 0, 36), ByteOrder.BIG_ENDIAN);
        try (RawIpSocket router = RawIpSocket.open(1, net | 20))
        {
            assertEquals(36, router.send(icmp.addressOffset(), 36, 0, 0, clientDriver.udpAddressIpv4(), 0xC0));
        }

        final Responses responses = new Responses();
        await(() -> 2 == responses.errors, () -> client.poll(responses, 10), 10_000, "EHOSTUNREACH");
        assertEquals(HomaError.EHOSTUNREACH, responses.errorById.get(first));
        assertEquals(HomaError.EHOSTUNREACH, responses.errorById.get(second));
    }

    @Test
    void shouldCountAndDropUdpOnlyTypeAndShortPacketsOverRawIp()
    {
        final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        new PacketWriter().portUnreachable(packet, 0, SERVER_PORT, 0x8000, 2);
        try (RawIpSocket stranger = RawIpSocket.open(RawIpTransport.IPPROTO_HOMA, net | 21))
        {
            assertEquals(28, stranger.send(packet.addressOffset(), 28, 0, 0, clientDriver.udpAddressIpv4(), 0));
            assertEquals(10, stranger.send(packet.addressOffset(), 10, 0, 0, clientDriver.udpAddressIpv4(), 0));
        }
        await(() -> 1 == clientDriver.counter(TransportCounterDescriptor.RAW_BAD_PACKETS) &&
            1 == clientDriver.counter(SystemCounterDescriptor.SHORT_PACKETS), () -> { }, 10_000, "drops counted");
        assertEquals(0, clientDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_PORT_UNREACHABLE));

        // And the driver still serves.
        final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
        final HomaSocket client = clientHoma.addSocket();
        client.send(HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT), pattern(5, 5), 0, 5, 5);
        final Echo echo = new Echo(server);
        final Responses responses = new Responses();
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "response");
    }

    @Test
    void shouldPublishNicFactsAsCounters()
    {
        // Loopback: MTU 65536 from rtnetlink, no ethtool speed, so the documented fallback.
        assertEquals(65_536, clientDriver.counter(TransportCounterDescriptor.NIC_MTU));
        assertEquals(25_000, clientDriver.counter(TransportCounterDescriptor.NIC_LINK_MBPS));
        assertEquals(0, clientDriver.counter(TransportCounterDescriptor.NIC_LINK_SPEED_KNOWN));
        assertEquals(65_535 - 20, clientDriver.context().transport().maxPacketLength());
        assertTrue(clientDriver.context().nicDescription().contains("fallback"),
            clientDriver.context().nicDescription());
    }

    @Test
    void shouldRefuseToStartWithoutCapNetRawWithClearMessage() throws Exception
    {
        final File setpriv = new File("/usr/bin/setpriv");
        assumeTrue(setpriv.canExecute(), "needs setpriv to drop CAP_NET_RAW for a child JVM");
        final List<String> command = new ArrayList<>(List.of(setpriv.getPath(), "--bounding-set=-net_raw",
            "--inh-caps=-net_raw", ProcessHandle.current().info().command().orElse("java"),
            "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"),
            "-Dhoma.transport=raw", "-Dhoma.udp.address=" + UdpSocket.ipv4ToString(net | 30),
            "-Dhoma.dir=" + new File(System.getProperty("java.io.tmpdir"), "homa-nocap-" + ProcessHandle.current()
            .pid()), "-Dhoma.dir.delete.on.shutdown=true", "io.homa.driver.MediaDriver"));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        closeables.add(process::destroyForcibly);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child driver did not exit");
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, process.exitValue(), output);
        assertTrue(output.contains("CAP_NET_RAW"), output);
    }

    static final class Echo implements MessageHandler
    {
        private final HomaSocket socket;
        int requests;
        long lastId;

        Echo(final HomaSocket socket)
        {
            this.socket = socket;
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            requests++;
            lastId = id;
            socket.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    static final class Responses implements MessageHandler
    {
        int count;
        int matched;
        int errors;
        long lastId;
        final Map<Long, Integer> errorById = new HashMap<>();

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            count++;
            lastId = id;
            if (length == cookie && matchesPattern(buffer, offset, length, cookie))
            {
                matched++;
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
            errorById.put(id, errorCode);
        }
    }
}
