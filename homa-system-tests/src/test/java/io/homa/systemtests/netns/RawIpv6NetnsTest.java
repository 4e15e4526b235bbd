package io.homa.systemtests.netns;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.codecs.HomaWire;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.net.RawIp6Socket;
import io.homa.driver.net.RawIpSocket;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.transport.RawIpTransport;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.netns.NetnsMultiHostTest.await;
import static io.homa.systemtests.netns.NetnsMultiHostTest.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Homa over raw IPv6 (next header 146) between two hosts: two network namespaces on a veth cable with IPv6
 * addresses, a raw-IPv6 driver in each (embedded in this JVM, launched inside its namespace), clients of both
 * here. RPCs of every size with their bytes checked, ICMPv6 errors both ways, the wire bytes against IPv4's, many
 * RPCs at once, and how clients name IPv6 peers. Skipped, with the reason, without root, iproute2 or IPv6.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawIpv6NetnsTest
{
    private static final int MTU = 1_500;
    private static final int SERVER_PORT = 99;
    private static final String A = "fd00:146:1::1";
    private static final String B = "fd00:146:1::2";
    /** On host b, owned by no driver: the kernel there answers with "unrecognised next header". */
    private static final String B_WITHOUT_HOMA = "fd00:146:1::99";

    private Ipv6Link link;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MediaDriver driverA;
    private MediaDriver driverB;
    private Homa homaA;
    private Homa homaB;

    @BeforeAll
    void before()
    {
        final String reason = Ipv6Link.unavailableReason();
        assumeTrue(null == reason, () -> "IPv6 namespaces unavailable: " + reason);
        assumeTrue(null == RawIpTransport.linuxHomaModule(
            new File("/sys/module/homa").toPath(), new File("/proc/modules").toPath()),
            "the Linux Homa module is loaded: a raw-IP driver must not share the host with it");
        link = new Ipv6Link(MTU);
        link.addAddress(link.a(), A + "/64");
        link.addAddress(link.b(), B + "/64");
        link.addAddress(link.b(), B_WITHOUT_HOMA + "/64");
        // A shares one thread for everything (batch receive); B has a thread per agent (single receives).
        driverA = launch(link.a(), A, ThreadingMode.SHARED);
        driverB = launch(link.b(), B, ThreadingMode.DEDICATED);
        homaA = connect(driverA);
        homaB = connect(driverB);
    }

    @AfterAll
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        CloseHelper.quietClose(link);
    }

    private MediaDriver launch(final String ns, final String address, final ThreadingMode mode)
    {
        final MediaDriver driver = Netns.call(ns, () -> MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("raw")
            .udpAddress(address)
            .threadingMode(mode)));
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
        return homa;
    }

    private static InetAddress ip(final String address)
    {
        try
        {
            return InetAddress.getByName(address);
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void shouldEchoRpcsOfEverySizeBetweenTwoIpv6Hosts()
    {
        final HomaSocket server = homaB.addSocket(SERVER_PORT);
        final HomaSocket client = homaA.addSocket();
        final HomaAddress dest = homaA.address(ip(B), 0, SERVER_PORT);
        final NetnsMultiHostTest.Echo echo = new NetnsMultiHostTest.Echo(server);
        final NetnsMultiHostTest.Responses responses = new NetnsMultiHostTest.Responses();
        final long dataBefore = driverA.counter(SystemCounterDescriptor.PACKETS_SENT_DATA);
        try
        {
            for (final int size : new int[]{ 1, 1_400, 100_000, 1_000_000 })
            {
                final int before = responses.count;
                client.send(dest, pattern(size), 0, size, size);
                await(() -> responses.count > before, () ->
                {
                    server.poll(echo, 16);
                    client.poll(responses, 16);
                }, 30_000, "IPv6 response of " + size + " B");
                assertEquals(before + 1, responses.matched, "response bytes of " + size + " B");
            }
            assertEquals(0, responses.errors);
        }
        finally
        {
            server.close();
            client.close();
        }

        // MTU - 40 (IPv6 header) - 56 (DATA header) = 1,404 bytes a packet: 1,400 B is one, 1 MB at least 713.
        assertEquals(MTU - 40, driverA.context().transport().maxPacketLength());
        assertEquals(MTU, driverA.counter(TransportCounterDescriptor.NIC_MTU));
        assertTrue(driverA.context().nicDescription().contains("nic eth0"), driverA.context().nicDescription());
        final long data = driverA.counter(SystemCounterDescriptor.PACKETS_SENT_DATA) - dataBefore;
        assertTrue(data >= 1 + 1 + (100_000 + 1_403) / 1_404 + (1_000_000 + 1_403) / 1_404, "DATA packets " + data);
        assertTrue(driverA.counter(TransportCounterDescriptor.IPV6_PEERS) >= 2, "own address and B");
        assertEquals(0, driverB.counter(TransportCounterDescriptor.RAW_BAD_PACKETS));
    }

    @Test
    void shouldCarryManyConcurrentRpcsBothWays()
    {
        final HomaSocket serverB = homaB.addSocket(SERVER_PORT + 1);
        final HomaSocket serverA = homaA.addSocket(SERVER_PORT + 1);
        final HomaSocket clientA = homaA.addSocket();
        final HomaSocket clientB = homaB.addSocket();
        try
        {
            final HomaAddress toB = homaA.address(ip(B), 0, SERVER_PORT + 1);
            final HomaAddress toA = homaB.address(ip(A), 0, SERVER_PORT + 1);
            final NetnsMultiHostTest.Echo echoB = new NetnsMultiHostTest.Echo(serverB);
            final NetnsMultiHostTest.Echo echoA = new NetnsMultiHostTest.Echo(serverA);
            final NetnsMultiHostTest.Responses responsesA = new NetnsMultiHostTest.Responses();
            final NetnsMultiHostTest.Responses responsesB = new NetnsMultiHostTest.Responses();
            final int rpcs = 32;
            for (int i = 0; i < rpcs; i++)
            {
                final int size = 1 + (i * 37_813) % 150_000;
                clientA.send(toB, pattern(size), 0, size, size);
                clientB.send(toA, pattern(size + 7), 0, size + 7, size + 7);
            }
            await(() -> rpcs == responsesA.count && rpcs == responsesB.count, () ->
            {
                serverB.poll(echoB, 16);
                serverA.poll(echoA, 16);
                clientA.poll(responsesA, 16);
                clientB.poll(responsesB, 16);
            }, 45_000, 2 * rpcs + " concurrent IPv6 responses");
            assertEquals(rpcs, responsesA.matched);
            assertEquals(rpcs, responsesB.matched);
            assertEquals(0, responsesA.errors + responsesB.errors);
        }
        finally
        {
            CloseHelper.closeAll(serverA, serverB, clientA, clientB);
        }
    }

    @Test
    void shouldFailRpcToPortWithNoSocketWithEnotconnThroughIcmpv6()
    {
        final HomaSocket client = homaA.addSocket();
        // A second ICMPv6 socket on A's address sees B's error as it is on the wire.
        final byte[] a = ip(A).getAddress();
        final RawIp6Socket watcher = Netns.call(link.a(), () ->
        {
            final RawIp6Socket socket = RawIp6Socket.open(58, RawIp6Socket.high(a), RawIp6Socket.low(a));
            socket.receiveTrafficClass(true);
            socket.icmp6Pass(1);
            return socket;
        });
        try
        {
            final long sentBefore = driverB.counter(TransportCounterDescriptor.ICMP_UNREACH_SENT);
            final long rcvdBefore = driverA.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD);
            // 2,000 bytes: a first DATA longer than an ICMPv6 error can quote.
            final long id = client.send(homaA.address(ip(B), 0, 4321), pattern(2_000), 0, 2_000, 2_000);
            final NetnsMultiHostTest.Responses responses = new NetnsMultiHostTest.Responses();
            await(() -> 1 == responses.errors, () -> client.poll(responses, 10), 20_000, "ENOTCONN");
            assertEquals(HomaError.ENOTCONN, responses.errorById.get(id));
            // Through ICMPv6 port-unreachable, not a timeout: B sent one, A took it. B's transport counts its ICMPv6
            // after sending it, so A may deliver the error first, and on a busy machine A may resend its DATA before
            // the first ICMPv6 comes back (each DATA earns one): wait (bounded) until both ends counted at least one
            // and A no more than B sent.
            await(() ->
            {
                final long sent = driverB.counter(TransportCounterDescriptor.ICMP_UNREACH_SENT) - sentBefore;
                final long received = driverA.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD) - rcvdBefore;
                return sent >= 1 && received >= 1 && received <= sent;
            }, () -> {}, 10_000, "the ICMPv6 counted at both ends, none twice");
            assertEquals(0, driverA.counter(SystemCounterDescriptor.RPC_TIMEOUTS));

            // As Linux sends it (#17): traffic class 0, quoting the request's IPv6 header and Homa ports.
            final UnsafeBuffer icmp = new UnsafeBuffer(ByteBuffer.allocateDirect(1_500));
            final int[] length = { -1 };
            await(() -> (length[0] = watcher.receive(icmp.addressOffset(), icmp.capacity())) > 0 &&
                1 == icmp.getByte(0) && 4 == icmp.getByte(1), () -> {}, 10_000, "B's ICMPv6 port-unreachable on the wire");
            assertEquals(0, watcher.lastTrafficClass(), "traffic class of the ICMPv6");
            assertEquals(HomaWire.IPPROTO_HOMA, icmp.getByte(14) & 0xFF);
            assertEquals(client.port(), icmp.getShort(48, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF);
            assertEquals(4321, icmp.getShort(50, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF);
            // As much of the packet as fits in 1,280 bytes (RFC 4443): 1,280 - 40 - 8 - 40 = 1,192 Homa bytes.
            assertEquals(1_280 - 40, length[0], "ICMPv6 message length: a whole 1,280-byte IPv6 packet");
            assertEquals(io.homa.driver.transport.RawIpv6Transport.ICMP_QUOTE_MAX, length[0] - 8 - 40);
            assertTrue((icmp.getShort(12, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF) > length[0] - 8 - 40,
                "the quoted IPv6 header gives the offending packet's whole payload length");
            assertEquals(HomaWire.DATA, HomaWire.type(icmp, 48));
            assertEquals(2_000, HomaWire.messageLength(icmp, 48));
        }
        finally
        {
            CloseHelper.closeAll(watcher, client);
        }
    }

    @Test
    void shouldFailRpcToAddressWithoutHomaWithEprotonosupport()
    {
        final HomaSocket client = homaA.addSocket();
        try
        {
            final long id = client.send(homaA.address(ip(B_WITHOUT_HOMA), 0, SERVER_PORT), pattern(10), 0, 10, 10);
            final NetnsMultiHostTest.Responses responses = new NetnsMultiHostTest.Responses();
            await(() -> 1 == responses.errors, () -> client.poll(responses, 10), 20_000, "EPROTONOSUPPORT");
            assertEquals(HomaError.EPROTONOSUPPORT, responses.errorById.get(id));
        }
        finally
        {
            client.close();
        }
    }

    @Test
    void shouldFailRpcsInFlightWhenIcmpv6SaysAddressUnreachableAndIgnoreOtherCodes()
    {
        // The server takes the requests but never answers; then router-style ICMPv6 errors arrive quoting one of
        // the client's packets: "no route" (code 0, which Linux ignores), then "address unreachable" (code 3).
        final HomaSocket server = homaB.addSocket(SERVER_PORT + 2);
        final HomaSocket client = homaA.addSocket();
        final RawIp6Socket router = Netns.call(link.b(), () -> RawIp6Socket.open(58,
            RawIp6Socket.high(ip(B_WITHOUT_HOMA).getAddress()), RawIp6Socket.low(ip(B_WITHOUT_HOMA).getAddress())));
        try
        {
            final HomaAddress dest = homaA.address(ip(B), 0, SERVER_PORT + 2);
            final long requestsBefore = driverB.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE);
            final long first = client.send(dest, pattern(10), 0, 10, 10);
            final long second = client.send(dest, pattern(20), 0, 20, 20);
            await(() -> requestsBefore + 2 == driverB.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE),
                () -> { }, 10_000, "requests at the server");

            final long ignoredBefore = driverA.counter(TransportCounterDescriptor.ICMP_IGNORED);
            sendIcmpv6(router, client.port(), SERVER_PORT + 2, 0);
            await(() -> ignoredBefore + 1 == driverA.counter(TransportCounterDescriptor.ICMP_IGNORED), () -> { },
                10_000, "no-route ignored");
            sendIcmpv6(router, client.port(), SERVER_PORT + 2, 3);
            final NetnsMultiHostTest.Responses responses = new NetnsMultiHostTest.Responses();
            await(() -> 2 == responses.errors, () -> client.poll(responses, 10), 10_000, "EHOSTUNREACH");
            assertEquals(HomaError.EHOSTUNREACH, responses.errorById.get(first));
            assertEquals(HomaError.EHOSTUNREACH, responses.errorById.get(second));
        }
        finally
        {
            CloseHelper.closeAll(router, client, server);
        }
    }

    /**
     * ICMPv6 destination unreachable to A quoting a Homa packet A sent to B; the kernel fills in the checksum.
     */
    private static void sendIcmpv6(final RawIp6Socket router, final int sport, final int dport, final int code)
    {
        final UnsafeBuffer icmp = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
        icmp.putByte(0, (byte)1);
        icmp.putByte(1, (byte)code);
        icmp.putInt(8, 0x6000_0000, java.nio.ByteOrder.BIG_ENDIAN);
        icmp.putShort(12, (short)28, java.nio.ByteOrder.BIG_ENDIAN);
        icmp.putByte(14, (byte)HomaWire.IPPROTO_HOMA);
        icmp.putByte(15, (byte)64);
        icmp.putBytes(16, ip(A).getAddress());
        icmp.putBytes(32, ip(B).getAddress());
        icmp.putShort(48, (short)sport, java.nio.ByteOrder.BIG_ENDIAN);
        icmp.putShort(50, (short)dport, java.nio.ByteOrder.BIG_ENDIAN);
        final byte[] a = ip(A).getAddress();
        assertEquals(76, router.send(icmp.addressOffset(), 76, 0, 0, RawIp6Socket.high(a), RawIp6Socket.low(a),
            0xC0));
    }

    @Test
    void shouldNameIpv6PeersThroughTheDriver() throws Exception
    {
        final HomaAddress first = homaA.address(ip(B), 0, SERVER_PORT);
        final HomaAddress again = homaA.address(ip(B), 0, SERVER_PORT);
        assertEquals(first, again);
        assertTrue(first.isIpv6());
        assertEquals(0, first.ipv4() >>> 24, "keys live in 0.0.0.0/8");
        assertEquals("[" + B + "]:0/" + SERVER_PORT, first.toString());
        assertEquals(ip(B), first.inetAddress());

        // Another client of the same driver gets the same key; the driver publishes its own address.
        try (Homa other = Homa.connect(new Homa.Context().homaDirectoryName(driverA.homaDirectoryName())))
        {
            assertEquals(first, other.address(ip(B), 0, SERVER_PORT));
            assertEquals(ip(A), other.driverIpv6Address());
            assertEquals("[" + A + "]:0/7", other.driverAddress(7).toString());
            assertEquals(driverA.udpAddressIpv4(), other.driverAddress(7).ipv4());
        }
        // And the stat tools show it.
        try (io.homa.samples.tools.CncFileReader cnc =
            io.homa.samples.tools.CncFileReader.map(new File(driverA.homaDirectoryName())))
        {
            assertEquals("[" + A + "]", cnc.udpAddress());
        }

        final IllegalArgumentException direct = assertThrows(IllegalArgumentException.class,
            () -> HomaAddress.of(ip(B), 0, SERVER_PORT));
        assertTrue(direct.getMessage().contains("Homa.address(InetAddress, udpPort, port)"), direct.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HomaAddress.of(B, 0, SERVER_PORT));

        final HomaException ipv4Name = assertThrows(HomaException.class, () -> homaA.address(ip("10.0.0.2"), 0, 1));
        assertEquals(HomaError.EAFNOSUPPORT, ipv4Name.errorCode());
        for (final String unnamable : new String[]{ "fe80::1", "ff02::1", "::" })
        {
            final HomaException refused = assertThrows(HomaException.class,
                () -> homaA.address(ip(unnamable), 0, SERVER_PORT), unnamable);
            assertEquals(HomaError.EINVAL, refused.errorCode(), unnamable);
        }

        final HomaSocket client = homaA.addSocket();
        try
        {
            // An IPv4 peer cannot be reached from an IPv6 driver; a key of driver B means nothing at driver A.
            final HomaException ipv4 = assertThrows(HomaException.class,
                () -> client.send(HomaAddress.of(0x0A000002, 0, SERVER_PORT), pattern(1), 0, 1, 1));
            assertEquals(HomaError.EAFNOSUPPORT, ipv4.errorCode());
            final HomaException foreign = assertThrows(HomaException.class,
                () -> client.send(homaB.address(ip(A), 0, SERVER_PORT), pattern(1), 0, 1, 1));
            assertEquals(HomaError.EINVAL, foreign.errorCode());
            assertTrue(foreign.getMessage().contains("another driver"), foreign.getMessage());
        }
        finally
        {
            client.close();
        }
        assertTrue(ip(B) instanceof Inet6Address);
    }

    @Test
    void shouldPutTheSameHomaBytesOnTheWireAsIpv4WithThePriorityInTheTrafficClass()
    {
        // Fresh pairs of drivers, one over IPv4 and one over IPv6, each sending its first request: the Homa bytes
        // a raw socket on the receiving host catches must be the same but for the RPC id.
        final String a6 = "fd00:146:1::11";
        final String b6 = "fd00:146:1::12";
        link.addAddress(link.a(), a6 + "/64");
        link.addAddress(link.b(), b6 + "/64");
        link.addAddress(link.a(), "10.146.0.1/24");
        link.addAddress(link.b(), "10.146.0.2/24");
        final byte[][] ipv6 = firstRequestOnTheWire(a6, b6, true);
        final byte[][] ipv4 = firstRequestOnTheWire("10.146.0.1", "10.146.0.2", false);

        final byte[] header6 = ipv6[0];
        final byte[] header4 = ipv4[0];
        assertEquals(HomaWire.DATA, header6[11] & 0xFF);
        assertEquals(HomaWire.DATA_HEADER_LENGTH + 100, header6.length);
        assertEquals(SERVER_PORT, ByteBuffer.wrap(header6).getShort(2) & 0xFFFF, "dport");
        assertEquals(100, ByteBuffer.wrap(header6).getInt(28), "message_length");
        for (int i = 0; i < 100; i++)
        {
            assertEquals((byte)(i * 31 + 100), header6[HomaWire.DATA_HEADER_LENGTH + i], "payload byte " + i);
        }
        // sender_id (bytes 20..27) differs between drivers; every other byte is the same.
        assertNotEquals(0, ByteBuffer.wrap(header6).getLong(20));
        System.arraycopy(header4, 20, header6, 20, 8);
        assertArrayEquals(header4, header6, "Homa bytes over IPv6 and IPv4");

        // Priority 6 (Linux's unscheduled level before a peer's cutoffs are known) << 5 in both.
        assertEquals(6 << 5, ipv6[1][0] & 0xFF, "IPv6 traffic class");
        assertEquals(ipv4[1][0] & 0xFF, ipv6[1][0] & 0xFF, "IPv4 TOS");
    }

    /**
     * @return {Homa bytes of the first packet b's address got, {traffic class or TOS}}.
     */
    private byte[][] firstRequestOnTheWire(final String from, final String to, final boolean isIpv6)
    {
        final MediaDriver client = launch(link.a(), from, ThreadingMode.SHARED);
        final MediaDriver server = launch(link.b(), to, ThreadingMode.SHARED);
        final UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(2_048));
        final long toHigh = isIpv6 ? RawIp6Socket.high(ip(to).getAddress()) : 0;
        final long toLow = isIpv6 ? RawIp6Socket.low(ip(to).getAddress()) : 0;
        // A second raw socket on b's address gets a copy of every Homa packet the driver there gets.
        final AutoCloseable capture = Netns.call(link.b(), () ->
        {
            if (!isIpv6)
            {
                return RawIpSocket.open(HomaWire.IPPROTO_HOMA, io.homa.driver.net.UdpSocket.ipv4ToInt(ip(to)));
            }
            final RawIp6Socket socket = RawIp6Socket.open(HomaWire.IPPROTO_HOMA, toHigh, toLow);
            socket.receiveTrafficClass(true);
            return socket;
        });
        try (Homa clientHoma = connect(client); Homa serverHoma = connect(server))
        {
            serverHoma.addSocket(SERVER_PORT);
            final HomaSocket socket = clientHoma.addSocket();
            socket.send(clientHoma.address(ip(to), 0, SERVER_PORT), pattern(100), 0, 100, 100);
            final int[] length = { -1 };
            await(() -> length[0] >= 0, () -> length[0] = isIpv6 ?
                ((RawIp6Socket)capture).receive(in.addressOffset(), in.capacity()) :
                ((RawIpSocket)capture).receive(in.addressOffset(), in.capacity()), 10_000, "a captured packet");
            final byte[] bytes = new byte[length[0]];
            in.getBytes(0, bytes);
            final int trafficClass = isIpv6 ? ((RawIp6Socket)capture).lastTrafficClass() :
                ((RawIpSocket)capture).lastTos();
            return new byte[][]{ bytes, { (byte)trafficClass } };
        }
        finally
        {
            CloseHelper.quietClose(capture);
            CloseHelper.quietCloseAll(client, server);
        }
    }

    @Test
    void shouldRefuseToStartWhereIpv6IsDisabled()
    {
        final String ns = link.addExtraNamespace("off");
        link.exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> Netns.call(ns, () -> MediaDriver.launchEmbedded(new MediaDriver.Context()
                .transportName("raw").udpAddress("fd00:146:2::1"))));
        final String message = String.valueOf(refused.getCause().getMessage());
        assertTrue(message.contains("IPv6 is disabled"), message);
    }
}
