package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two drivers on loopback over AF_PACKET TPACKET_V3 rings (protocol 146, each owning an address of a random
 * 127.x.y.0/24): RPCs of every size, ICMP both ways, no allocation per RPC. Needs CAP_NET_RAW.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PacketRingTransportTest
{
    private static final int SERVER_PORT = 99;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private int net;

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launch(final int host, final ThreadingMode mode)
    {
        return launch(host, mode, 3);
    }

    private MediaDriver launch(final int host, final ThreadingMode mode, final int version)
    {
        if (0 == net)
        {
            assumeTrue(RawIpTransportTest.canOpenRaw(), "packet rings need CAP_NET_RAW, which this process lacks");
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            net = 0x7F000000 | (100 + random.nextInt(100)) << 16 | random.nextInt(256) << 8;
        }
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("packet-ring").packetRingVersion(version).threadingMode(mode).udpAddress(UdpSocket.ipv4ToString(net | host)));
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

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> versionsAndSizes()
    {
        return java.util.stream.Stream.of(3, 2).flatMap(version -> java.util.stream.Stream.of(
            1, 100, 1_424, 40_000, 65_536, 500_000, 1_000_000).map(size ->
            org.junit.jupiter.params.provider.Arguments.of(version, size)));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("versionsAndSizes")
    void shouldEchoEachSizeBetweenTwoPacketRingDrivers(final int version, final int size)
    {
        final MediaDriver clientDriver = launch(2, ThreadingMode.SHARED, version);
        final MediaDriver serverDriver = launch(3, ThreadingMode.SHARED, version);
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        client.send(HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT), pattern(size, size), 0, size,
            size);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 30_000, "response of " + size + " bytes");
        assertEquals(1, responses.matched);
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "server RPC acked");
        // Frames went through the rings: one flush covers several frames, receives need no system call.
        assertTrue(clientDriver.counter(TransportCounterDescriptor.RING_FLUSHES) > 0);
        assertTrue(serverDriver.counter(TransportCounterDescriptor.RECEIVE_SYSCALLS) > 0);
        assertEquals(0, serverDriver.counter(TransportCounterDescriptor.RAW_BAD_PACKETS));
    }

    // Threaded modes: the receiver copies each frame out of the kernel's ring into the inbound ring, and ICMP
    // reports travel through it to the engine.
    @ParameterizedTest
    @EnumSource(value = ThreadingMode.class, names = { "SHARED", "DEDICATED", "SHARED_NETWORK" })
    void shouldCarryManyConcurrentRpcs(final ThreadingMode mode)
    {
        final MediaDriver clientDriver = launch(2, mode);
        final MediaDriver serverDriver = launch(3, mode);
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), 0, SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
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
        // Every flush sends at least one frame. How many frames share a flush depends on how busy the machine is
        // (a timing matter, printed here; the batching gain is measured by the benchmarks, not asserted).
        long framesSent = 0;
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            if (descriptor.label().startsWith("packets_sent_"))
            {
                framesSent += clientDriver.counter(descriptor);
            }
        }
        final long flushes = clientDriver.counter(TransportCounterDescriptor.RING_FLUSHES);
        System.out.println(mode + ": " + flushes + " ring flushes for " + framesSent + " frames");
        assertTrue(flushes > 0 && flushes <= framesSent, "flushes " + flushes + " for " + framesSent + " frames");
    }

    // Threaded modes: the receiver copies each frame out of the kernel's ring into the inbound ring, and ICMP
    // reports travel through it to the engine.
    @ParameterizedTest
    @EnumSource(value = ThreadingMode.class, names = { "SHARED", "DEDICATED", "SHARED_NETWORK" })
    void shouldFailRequestToPortWithNoSocketWithEnotconnThroughIcmp(final ThreadingMode mode)
    {
        final MediaDriver clientDriver = launch(2, mode);
        final MediaDriver serverDriver = launch(3, mode);
        final HomaSocket client = connect(clientDriver).addSocket();
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        final long noPort = client.send(HomaAddress.of(serverDriver.udpAddressIpv4(), 0, 4321), pattern(10, 1), 0,
            10, 1);
        // (No protocol-unreachable test here: frames injected on lo with a 127/8 destination are martians to the
        // kernel's IP stack, which drops them unseen; NetnsMultiHostTest checks it on veth.)
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (responses.errors < 1 && System.nanoTime() - deadlineNs < 0)
        {
            client.poll(responses, 10);
        }
        assertEquals(1, responses.errors, "errors " + responses.errorById + ", server ICMP sent " +
            serverDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_SENT) + ", client ICMP rcvd " +
            clientDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_RCVD) + ", ignored " +
            clientDriver.counter(TransportCounterDescriptor.ICMP_IGNORED) + ", server DATA rcvd " +
            serverDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA) + ", neighbour misses " +
            clientDriver.counter(TransportCounterDescriptor.NEIGHBOUR_MISSES));
        assertEquals(HomaError.ENOTCONN, responses.errorById.get(noPort));
        // The server's transport counts its ICMP after sending it, so the client may hear of it first; on a busy
        // machine the client may also resend its DATA before the ICMP comes back, and each such DATA earns one.
        // So wait (bounded) for at least one ICMP, one per DATA to the unbound port.
        TestUtil.await(() ->
        {
            final long sent = serverDriver.counter(TransportCounterDescriptor.ICMP_UNREACH_SENT);
            return sent >= 1 && sent == serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_PORT_UNREACHABLE);
        }, () -> {}, 10_000, "one ICMP per DATA to the unbound port");
    }

    @ParameterizedTest
    @ValueSource(ints = { 3, 2 })
    void shouldNotAllocatePerRpcInSteadyState(final int version)
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final MediaDriver driver = launch(7, ThreadingMode.INVOKER, version);
        final Homa homa = connect(driver);
        final HomaSocket server = homa.addSocket(600 + version);
        final HomaSocket client = homa.addSocket();
        final SteadyStateAllocationTest.Loop loop = new SteadyStateAllocationTest.Loop(driver.sharedAgentInvoker(),
            null, server, client, HomaAddress.of(driver.udpAddressIpv4(), 0, 600 + version));
        // Every window counted: the total over 4 windows of 1,000 RPCs after 5,000 warm-up RPCs.
        SteadyStateAllocationTest.assertNoAllocationInSteadyState(threads, loop, 5_000, 4, 1_000);
    }
}
