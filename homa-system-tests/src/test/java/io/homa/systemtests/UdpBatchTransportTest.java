package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.transport.UdpBatchTransport;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two drivers on loopback over the batching UDP transport (sendmmsg, recvmmsg, GSO): RPCs of every size at the
 * loopback MTU and at Ethernet's 1500 (where GSO runs carry up to 44 packets per system call).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UdpBatchTransportTest
{
    private static final int SERVER_PORT = 99;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launch(final int mtu, final ThreadingMode mode)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .transportName("udp-batch").mtuLength(mtu).threadingMode(mode));
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

    static Stream<Arguments> mtusAndSizes()
    {
        return Stream.of(0, 1_500).flatMap(mtu ->
            Stream.of(1, 1_400, 40_000, 65_536, 500_000, 1_000_000).map(size -> Arguments.of(mtu, size)));
    }

    @ParameterizedTest
    @MethodSource("mtusAndSizes")
    void shouldEchoEachSizeBetweenTwoDrivers(final int mtu, final int size)
    {
        final MediaDriver clientDriver = launch(mtu, ThreadingMode.SHARED);
        final MediaDriver serverDriver = launch(mtu, ThreadingMode.SHARED);
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        client.send(dest, pattern(size, size), 0, size, size);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 60_000, "response of " + size + " bytes");
        assertEquals(1, responses.matched);
        await(() -> 0 == serverDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE), () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 10_000, "server RPC acked");

        // Every packet the client sent (DATA, and GRANTs, CUTOFFS, ACKs, RESENDs...) needs at most one call.
        long packets = 0;
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            if (descriptor.name().startsWith("PACKETS_SENT_"))
            {
                packets += clientDriver.counter(descriptor);
            }
        }
        final long syscalls = clientDriver.counter(TransportCounterDescriptor.SEND_SYSCALLS);
        assertTrue(syscalls > 0 && syscalls <= packets, syscalls + " send calls for " + packets + " packets");
        assertEquals(0, clientDriver.counter(TransportCounterDescriptor.BATCH_SEND_ERRORS));
        if (1_500 == mtu && size >= 500_000)
        {
            // Hundreds of MTU-sized packets: GSO runs and batches make it far fewer calls than packets.
            assertTrue(((UdpBatchTransport)clientDriver.context().transport()).isGso());
            assertTrue(clientDriver.counter(TransportCounterDescriptor.GSO_SENDS) > 0);
            assertTrue(syscalls * 10 < packets, syscalls + " send calls for " + packets + " packets");
            // And where the kernel coalesces on receive, the server takes those runs in whole too.
            if (((UdpBatchTransport)serverDriver.context().transport()).isGro())
            {
                assertTrue(serverDriver.counter(TransportCounterDescriptor.GRO_RECEIVES) > 0);
                assertTrue(serverDriver.counter(TransportCounterDescriptor.RECEIVE_SYSCALLS) * 10 <
                    serverDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA));
            }
        }
    }

    // In the threaded modes the receiver takes one packet at a time into the inbound ring: coalesced datagrams
    // must still reach the engine as separate packets.
    @ParameterizedTest
    @EnumSource(value = ThreadingMode.class, names = { "DEDICATED", "SHARED_NETWORK" })
    void shouldCutCoalescedDatagramsIntoPacketsInThreadedModes(final ThreadingMode mode)
    {
        final MediaDriver clientDriver = launch(1_500, mode);
        final MediaDriver serverDriver = launch(1_500, mode);
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        final int rpcs = 6;
        for (int i = 0; i < rpcs; i++)
        {
            client.send(dest, pattern(300_000 + i, 300_000 + i), 0, 300_000 + i, 300_000 + i);
        }
        await(() -> rpcs == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 60_000, rpcs + " responses");
        assertEquals(rpcs, responses.matched);
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.PACKET_DISCARDS));
    }

    @Test
    void shouldCarryManyConcurrentRpcsAtEthernetMtu()
    {
        final MediaDriver clientDriver = launch(1_500, ThreadingMode.SHARED);
        final MediaDriver serverDriver = launch(1_500, ThreadingMode.SHARED);
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        final RawIpTransportTest.Echo echo = new RawIpTransportTest.Echo(server);
        final RawIpTransportTest.Responses responses = new RawIpTransportTest.Responses();
        final int rpcs = 40;
        for (int i = 0; i < rpcs; i++)
        {
            final int size = 1 + (i * 37_813) % 120_000;
            client.send(dest, pattern(size, size), 0, size, size);
        }
        await(() -> rpcs == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 60_000, rpcs + " responses");
        assertEquals(rpcs, responses.matched);
        assertTrue(clientDriver.counter(TransportCounterDescriptor.RECEIVE_SYSCALLS) > 0);
    }

    @Test
    void shouldNotAllocatePerRpcInSteadyState()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final MediaDriver driver = launch(1_500, ThreadingMode.INVOKER);
        final Homa homa = connect(driver);
        final HomaSocket server = homa.addSocket(602);
        final HomaSocket client = homa.addSocket();
        final SteadyStateAllocationTest.Loop loop = new SteadyStateAllocationTest.Loop(driver.sharedAgentInvoker(),
            null, server, client, HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), 602));
        // Every window counted: the total over 4 windows of 3,000 RPCs after 10,000 warm-up RPCs.
        SteadyStateAllocationTest.assertNoAllocationInSteadyState(threads, loop, 10_000, 4, 3_000);
    }
}
