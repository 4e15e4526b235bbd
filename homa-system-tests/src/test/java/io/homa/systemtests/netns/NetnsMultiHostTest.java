package io.homa.systemtests.netns;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Homa between hosts: four network namespaces on a bridge, strict-priority HTB queues on every egress at
 * 1 Gbit/s, one driver JVM per host, over raw IP protocol 146 and over UDP. Skipped, with the reason, where
 * namespaces cannot be made (not root, no iproute2).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NetnsMultiHostTest
{
    private static final int HOSTS = 4;
    private static final int RATE_MBIT = 1_000;
    private static final int SERVER_PORT = 99;
    private static final int BOTTLENECK_MBIT = 200;

    private NetnsTestbed bed;
    private final List<NetnsTestbed.Driver> drivers = new ArrayList<>();

    @BeforeAll
    void buildTestbed()
    {
        final String reason = NetnsTestbed.unavailableReason();
        assumeTrue(null == reason, () -> "network namespaces unavailable: " + reason);
        bed = new NetnsTestbed(HOSTS, 1_500, RATE_MBIT);
    }

    @AfterAll
    void tearDown()
    {
        if (null != bed)
        {
            bed.close();
        }
    }

    @AfterEach
    void stopDrivers()
    {
        drivers.forEach(NetnsTestbed.Driver::close);
        drivers.clear();
        if (null != bed)
        {
            bed.rate(RATE_MBIT);
        }
        if (null != bed && 1_500 != bed.mtu())
        {
            bed.mtu(1_500);
        }
    }

    private NetnsTestbed.Driver startWith(final int host, final Map<String, String> properties)
    {
        final NetnsTestbed.Driver driver = bed.startDriver(host, "udp", properties);
        drivers.add(driver);
        return driver;
    }

    private NetnsTestbed.Driver start(final int host, final String transport)
    {
        assumeTrue(!NetnsTestbed.RAW_IPV6.equals(transport) || NetnsTestbed.hasIpv6(), "this kernel has no IPv6");
        // "packet-ring-v3" is the packet-ring transport with TPACKET_V3 rings.
        final NetnsTestbed.Driver driver = transport.endsWith("-v3") ?
            bed.startDriver(host, "packet-ring", Map.of("homa.packet.ring.version", "3")) :
            bed.startDriver(host, transport, Map.of());
        drivers.add(driver);
        return driver;
    }

    @ParameterizedTest
    @ValueSource(strings = { "raw", "packet-ring", "packet-ring-v3", "udp", "udp-batch", NetnsTestbed.RAW_IPV6 })
    void shouldCarryRpcsOfEverySizeBetweenTwoHosts(final String transport)
    {
        final NetnsTestbed.Driver clientDriver = start(1, transport);
        final NetnsTestbed.Driver serverDriver = start(2, transport);
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final HomaSocket client = clientDriver.homa().addSocket();
        final HomaAddress dest = serverDriver.address(SERVER_PORT, clientDriver.homa());
        final Echo echo = new Echo(server);
        final Responses responses = new Responses();

        final int[] sizes = { 1, 100, 1_424, 1_425, 10_000, 100_000, 500_000, 1_000_000 };
        for (final int size : sizes)
        {
            final int before = responses.matched;
            client.send(dest, pattern(size), 0, size, size);
            await(() -> responses.count > before, () ->
            {
                server.poll(echo, 10);
                client.poll(responses, 10);
            }, 60_000, transport + " response of " + size + " B", clientDriver, serverDriver);
            assertEquals(before + 1, responses.matched, transport + " response bytes of " + size + " B");
        }
        assertEquals(0, responses.errors);

        // NIC discovery inside the namespace: veth tells its speed, rtnetlink the MTU.
        assertEquals(1_500, counter(clientDriver, "nic_mtu"));
        assertEquals(10_000, counter(clientDriver, "nic_link_mbps"));
        assertEquals(1, counter(clientDriver, "nic_link_speed_known"));
        assertTrue(clientDriver.logText().contains("nic eth0"), clientDriver.logText());

        if (transport.startsWith("packet-ring"))
        {
            // Frames went through the rings once the kernel had resolved the peer's MAC (the first packets went
            // through its raw-socket path, which made it resolve it).
            final long data = counter(clientDriver, "packets_sent_DATA");
            assertTrue(counter(clientDriver, "neighbour_misses") < 20, "packets sent before the MAC was known");
            assertTrue(counter(clientDriver, "ring_flushes") < data, "ring flushes for " + data + " packets");
            assertTrue(counter(serverDriver, "receive_syscalls") > 0);
        }

        // Homa's priorities reached the wire (IPv6: in the traffic class): control packets in the top leaf, DATA
        // at 6 before cutoffs.
        final long[] leaves = bed.leafPackets(bed.hostNs(1), "eth0");
        assertTrue(leaves[7] > 0 && leaves[6] > 0, "per-priority packets on h1 eth0: " +
            java.util.Arrays.toString(leaves));
    }

    @Test
    void shouldCompleteIncastFromThreeHostsToOneOverRawIp()
    {
        final NetnsTestbed.Driver serverDriver = start(4, "raw");
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final Echo echo = new Echo(server);
        final List<HomaSocket> clients = new ArrayList<>();
        for (int h = 1; h <= 3; h++)
        {
            clients.add(start(h, "raw").homa().addSocket());
        }
        final HomaAddress dest = HomaAddress.of(serverDriver.ipv4(), 0, SERVER_PORT);
        final Responses responses = new Responses();
        final int perClient = 8;
        for (int i = 0; i < perClient; i++)
        {
            for (final HomaSocket client : clients)
            {
                final int size = 0 == i % 2 ? 200_000 : 1_000;
                client.send(dest, pattern(size), 0, size, size);
            }
        }
        final int expected = perClient * clients.size();
        await(() -> expected == responses.count, () ->
        {
            server.poll(echo, 16);
            for (final HomaSocket client : clients)
            {
                client.poll(responses, 16);
            }
        }, 90_000, expected + " incast responses", serverDriver);
        assertEquals(expected, responses.matched);
        assertEquals(0, responses.errors);
        // The switch port towards the server carried it all: unscheduled bytes at the levels the cutoffs give,
        // the granted rest at the scheduled levels (0-3 with Linux's default cutoffs).
        final long[] leaves = bed.leafPackets(bed.switchNs(), "p4");
        final String seen = java.util.Arrays.toString(leaves);
        assertTrue(java.util.Arrays.stream(leaves).sum() >= 3 * 4 * 200_000 / 1_500, seen);
        assertTrue(leaves[0] + leaves[1] + leaves[2] + leaves[3] > 0, "granted DATA at scheduled levels: " + seen);
        assertTrue(leaves[6] > 0, "unscheduled DATA before the server's cutoffs arrived: " + seen);
    }

    /**
     * Hosts 1 and 2 keep 1 MB requests flowing to host 4, whose switch port (200 Mbit/s here) is the bottleneck, while
     * host 3 sends 100 B RPCs to host 4 one after another. Homa's point: the short ones go at the top priority and
     * the long ones' granted bytes at the low ones, so a short RPC passes the bottleneck's queue instead of waiting
     * behind up to max_incoming of long bytes; and the long transfers still fill the link. The
     * bounds are loose (an order of magnitude) because the 2-core test machine also runs four JVMs.
     */
    @Test
    void shouldKeepShortRpcsFastWhileLongTransfersSaturateTheBottleneck()
    {
        // Slow enough that the link, not the receiving driver's share of 2 cores, is the bottleneck (otherwise the
        // queue builds in host 4's socket buffer, which no priority can jump), fast enough that Linux's default
        // max_incoming (400 KB, sized for 25 Gbit/s) does not make a queue longer than the RPC timeout allows.
        bed.rate(BOTTLENECK_MBIT);
        // Configured for this network, as an operator would: Linux's defaults (unsched 40 KB, max_incoming 400 KB)
        // are sized for 25 Gbit/s and would queue 20 ms at the bottleneck.
        final Map<String, String> network = Map.of(
            "homa.link.mbps", Integer.toString(BOTTLENECK_MBIT), "homa.rtt", "1ms");
        final NetnsTestbed.Driver serverDriver = startWith(4, network);
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final List<HomaSocket> longClients = List.of(
            startWith(1, network).homa().addSocket(), startWith(2, network).homa().addSocket());
        final HomaSocket shortClient = startWith(3, network).homa().addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.ipv4(), serverDriver.transportPort(), SERVER_PORT);
        final UnsafeBuffer ack = new UnsafeBuffer(new byte[8]);
        final MessageHandler replier = new MessageHandler()
        {
            public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
            {
                // Long requests get a short answer: the bottleneck is the way in to host 4.
                if (l > 1_000)
                {
                    server.reply(id, ack, 0, ack.capacity());
                }
                else
                {
                    server.reply(id, b, o, l);
                }
            }

            public void onError(final long id, final long c, final int e)
            {
            }
        };
        final long[] longDone = new long[1];
        final MessageHandler longResponses = new MessageHandler()
        {
            public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
            {
                longDone[0]++;
            }

            public void onError(final long id, final long c, final int e)
            {
                fail("long RPC failed: " + e);
            }
        };
        final Responses shortResponses = new Responses();
        final UnsafeBuffer large = pattern(1_000_000);
        final UnsafeBuffer small = pattern(100);

        final long[] unloaded = shortRoundTrips(server, replier, shortClient, shortResponses, dest, small, 200,
            List.of(), longResponses);

        final long[] leavesBefore = bed.leafPackets(bed.switchNs(), "p4");
        final long outstandingPerClient = 2;
        for (final HomaSocket client : longClients)
        {
            for (int i = 0; i < outstandingPerClient; i++)
            {
                client.send(dest, large, 0, large.capacity(), 8);
            }
        }
        final long startNs = System.nanoTime();
        final long[] loaded = shortRoundTrips(server, replier, shortClient, shortResponses, dest, small, 400,
            longClients, longResponses);
        // On a busy machine 400 short RPCs can be over before the long transfers have done their share: keep short
        // RPCs going (bounded) until they have, so that the two kinds compete for the whole measurement.
        final long longWanted = 2L * longClients.size() * outstandingPerClient;
        final long moreUntilNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int moreShortRpcs = 0;
        while (longDone[0] < longWanted && System.nanoTime() < moreUntilNs)
        {
            shortRoundTrips(server, replier, shortClient, shortResponses, dest, small, 50, longClients, longResponses);
            moreShortRpcs += 50;
        }
        final long elapsedNs = System.nanoTime() - startNs;
        final long longCompleted = longDone[0];
        final double longGbps = longCompleted * 1_000_000 * 8.0 / elapsedNs;

        final long p50Unloaded = unloaded[unloaded.length / 2];
        final long p50Loaded = loaded[loaded.length / 2];
        final String report = String.format(java.util.Locale.ROOT,
            "100 B RTT p50 unloaded %.1f us, loaded %.1f us (p99 %.1f us); long transfers %.2f Gbit/s, %d of 1 MB; " +
            "%d more short RPCs while the long ones caught up",
            p50Unloaded / 1e3, p50Loaded / 1e3, loaded[loaded.length * 99 / 100] / 1e3, longGbps, longCompleted,
            moreShortRpcs);
        System.out.println("netns priorities: " + report);
        assertEquals(0, shortResponses.errors, report);
        // The long transfers' rate is a measurement (printed; 0.07-0.15 Gbit/s of 0.2 depending on how much CPU
        // the five JVMs get): the test asserts only that they ran throughout the short RPCs, so these competed.
        assertTrue(longCompleted >= longWanted,
            "long transfers kept going during the short RPCs: " + report);
        // What the wire shows, independent of how busy the test machine's two cores are: the short requests
        // crossed the bottleneck in the top priority leaf, the long bytes below it (unscheduled at 4, or 6 before
        // the cutoffs arrive; FIFO grants at 6; SRPT grants at 0-3), so a short packet never queued behind a long one.
        final long[] leaves = bed.leafPackets(bed.switchNs(), "p4");
        final String seen = java.util.Arrays.toString(leaves) + " before " + java.util.Arrays.toString(leavesBefore);
        assertTrue(leaves[7] - leavesBefore[7] >= 400, "short requests in the top priority leaf: " + seen);
        long longPackets = 0;
        for (int p = 0; p < 7; p++)
        {
            longPackets += leaves[p] - leavesBefore[p];
        }
        assertTrue(longPackets >= longCompleted * 1_000_000 / 1_500, "long DATA in the lower leaves: " + seen);
        assertTrue(leaves[0] + leaves[1] + leaves[2] + leaves[3] > leavesBefore[0] + leavesBefore[1] +
            leavesBefore[2] + leavesBefore[3], "granted DATA at the scheduled levels: " + seen);
        // The round trip itself is a measurement (printed above; milliseconds at p50 on a 2-core machine running
        // five JVMs): only a collapse fails the test.
        assertTrue(p50Loaded < 100_000_000, "short RPCs did not wait behind the long transfers: " + report);
    }

    /**
     * Sends {@code count} short RPCs one after another while keeping each long client's requests outstanding
     * (every completed long request is replaced at once).
     *
     * @return the round-trip times, sorted.
     */
    private static long[] shortRoundTrips(
        final HomaSocket server,
        final MessageHandler replier,
        final HomaSocket client,
        final Responses responses,
        final HomaAddress dest,
        final UnsafeBuffer small,
        final int count,
        final List<HomaSocket> longClients,
        final MessageHandler longResponses)
    {
        final long[] rtts = new long[count];
        final UnsafeBuffer large = pattern(1_000_000);
        for (int i = 0; i < count; i++)
        {
            final int target = responses.count + 1;
            final long startNs = System.nanoTime();
            client.send(dest, small, 0, 100, 100);
            await(() -> responses.count >= target, () ->
            {
                server.poll(replier, 16);
                client.poll(responses, 16);
                for (final HomaSocket longClient : longClients)
                {
                    // Each answer handled is one long request done: send the next one.
                    final int completed = longClient.poll(longResponses, 16);
                    for (int k = 0; k < completed; k++)
                    {
                        longClient.send(dest, large, 0, large.capacity(), 8);
                    }
                }
            }, 30_000, "short RPC " + i);
            rtts[i] = System.nanoTime() - startNs;
        }
        java.util.Arrays.sort(rtts);
        return rtts;
    }

    @Test
    void shouldDiscoverJumboMtuAndUseItOverRawIp()
    {
        bed.mtu(9_000);
        final NetnsTestbed.Driver clientDriver = start(1, "raw");
        final NetnsTestbed.Driver serverDriver = start(3, "raw");
        assertEquals(9_000, counter(clientDriver, "nic_mtu"));
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final HomaSocket client = clientDriver.homa().addSocket();
        final Echo echo = new Echo(server);
        final Responses responses = new Responses();
        client.send(HomaAddress.of(serverDriver.ipv4(), 0, SERVER_PORT), pattern(1_000_000), 0, 1_000_000,
            1_000_000);
        await(() -> 1 == responses.count, () ->
        {
            server.poll(echo, 10);
            client.poll(responses, 10);
        }, 60_000, "1 MB response at MTU 9000", clientDriver, serverDriver);
        assertEquals(1, responses.matched);
        // 8,924-byte payloads: 1 MB (plus the unsched boundary) takes 114 DATA packets, not 703. Retransmissions
        // (a RESEND after a descheduled receiver, on a busy machine) are not the packet size's doing: left out.
        final long dataSent = counter(clientDriver, "packets_sent_DATA");
        final long resent = counter(clientDriver, "resent_packets");
        assertTrue(dataSent - resent >= 113 && dataSent - resent <= 120,
            "DATA packets for 1 MB at MTU 9000: " + dataSent + ", of which retransmitted " + resent);
    }

    @ParameterizedTest
    @ValueSource(strings = { "raw", "packet-ring" })
    void shouldFailRequestToHostWithoutHomaWithEprotonosupportAndToUnboundPortWithEnotconn(final String transport)
    {
        final NetnsTestbed.Driver clientDriver = start(1, transport);
        start(2, transport);
        final HomaSocket client = clientDriver.homa().addSocket();
        final Responses responses = new Responses();
        // Host 3 runs no Homa: its kernel answers ICMP protocol-unreachable. Host 2 has no socket on port 7.
        final long noHoma = client.send(HomaAddress.of(NetnsTestbed.hostIpv4(3), 0, SERVER_PORT), pattern(10), 0,
            10, 10);
        final long noPort = client.send(HomaAddress.of(NetnsTestbed.hostIpv4(2), 0, 7), pattern(10), 0, 10, 10);
        await(() -> 2 == responses.errors, () -> client.poll(responses, 10), 20_000, "two errors", clientDriver);
        assertEquals(93, responses.errorById.get(noHoma), "EPROTONOSUPPORT");
        assertEquals(107, responses.errorById.get(noPort), "ENOTCONN");
    }

    static long counter(final NetnsTestbed.Driver driver, final String label)
    {
        final File cnc = new File(driver.directory(), CncFileDescriptor.CNC_FILE);
        final MappedByteBuffer buffer = IoUtil.mapExistingFile(cnc, "cnc");
        try
        {
            final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(buffer);
            final CountersReader reader = new CountersReader(
                CncFileDescriptor.countersMetaDataBuffer(buffer, meta),
                CncFileDescriptor.countersValuesBuffer(buffer, meta),
                StandardCharsets.US_ASCII);
            final long[] value = { Long.MIN_VALUE };
            reader.forEach((id, typeId, keyBuffer, counterLabel) ->
            {
                if (label.equals(counterLabel))
                {
                    value[0] = reader.getCounterValue(id);
                }
            });
            if (Long.MIN_VALUE == value[0])
            {
                fail("no counter " + label);
            }
            return value[0];
        }
        finally
        {
            IoUtil.unmap(buffer);
        }
    }

    static UnsafeBuffer pattern(final int size)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Math.max(size, 1)]);
        for (int i = 0; i < size; i++)
        {
            buffer.putByte(i, (byte)(i * 31 + size));
        }
        return buffer;
    }

    static void await(
        final java.util.function.BooleanSupplier done,
        final Runnable step,
        final long timeoutMs,
        final String what,
        final NetnsTestbed.Driver... drivers)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                final StringBuilder logs = new StringBuilder();
                for (final NetnsTestbed.Driver driver : drivers)
                {
                    logs.append("\n--- driver on host ").append(driver.host()).append(":\n")
                        .append(driver.logText());
                }
                fail("timed out waiting for " + what + logs);
            }
            step.run();
        }
    }

    static final class Echo implements MessageHandler
    {
        private final HomaSocket socket;

        Echo(final HomaSocket socket)
        {
            this.socket = socket;
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
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
        final Map<Long, Integer> errorById = new HashMap<>();

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            count++;
            boolean ok = length == cookie;
            for (int i = 0; ok && i < length; i++)
            {
                ok = buffer.getByte(offset + i) == (byte)(i * 31 + length);
            }
            if (ok)
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
