package io.homa.systemtests.netns;

import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Measures, per transport, the round trip of 100-byte RPCs and the throughput of 500 KB requests between two
 * hosts in namespaces (MTU 1500, egress trees at 10 Gbit/s so the CPU, not the shaper, is the limit). Prints the
 * numbers; asserts only that every RPC completed. Off by default (it is a measurement, not a check):
 * {@code -Dhoma.netns.bench=true}; {@code -Dhoma.netns.bench.transports=raw,raw-ipv6} measures only those.
 */
class NetnsBenchmarkTest
{
    private static final int SERVER_PORT = 99;
    private NetnsTestbed bed;

    @AfterEach
    void after()
    {
        if (null != bed)
        {
            bed.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "udp-batch", "raw", NetnsTestbed.RAW_IPV6, "packet-ring", "packet-ring-v3" })
    void shouldMeasureRttAndThroughputBetweenNamespaces(final String transport)
    {
        assumeTrue(Boolean.getBoolean("homa.netns.bench"), "a measurement: run with -Dhoma.netns.bench=true");
        final String only = System.getProperty("homa.netns.bench.transports");
        assumeTrue(null == only || java.util.List.of(only.split(",")).contains(transport),
            () -> "not in -Dhoma.netns.bench.transports=" + only);
        final String reason = NetnsTestbed.unavailableReason();
        assumeTrue(null == reason, () -> "network namespaces unavailable: " + reason);
        assumeTrue(!NetnsTestbed.RAW_IPV6.equals(transport) || NetnsTestbed.hasIpv6(), "this kernel has no IPv6");
        bed = new NetnsTestbed(2, 1_500, 10_000);
        final String name = transport.endsWith("-v3") ? "packet-ring" : transport;
        final Map<String, String> extra = new java.util.HashMap<>(extra());
        if (transport.endsWith("-v3"))
        {
            extra.put("homa.packet.ring.version", "3");
        }
        final NetnsTestbed.Driver clientDriver = bed.startDriver(1, name, extra);
        final NetnsTestbed.Driver serverDriver = bed.startDriver(2, name, extra);
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final HomaSocket client = clientDriver.homa().addSocket();
        final HomaAddress dest = serverDriver.address(SERVER_PORT, clientDriver.homa());
        final UnsafeBuffer small = new UnsafeBuffer(new byte[100]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[100]);
        final UnsafeBuffer large = new UnsafeBuffer(new byte[500_000]);
        final MessageHandler pong = new MessageHandler()
        {
            public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
            {
                server.reply(id, reply, 0, 100);
            }

            public void onError(final long id, final long c, final int e)
            {
            }
        };
        final int[] done = new int[1];
        final MessageHandler ping = new MessageHandler()
        {
            public void onMessage(final long id, final long c, final DirectBuffer b, final int o, final int l)
            {
                done[0]++;
            }

            public void onError(final long id, final long c, final int e)
            {
                throw new IllegalStateException("RPC failed: " + e);
            }
        };

        final int rpcs = 5_000;
        final long[] rtts = new long[rpcs];
        for (int i = -1_000; i < rpcs; i++)
        {
            final long startNs = System.nanoTime();
            final int target = done[0] + 1;
            client.send(dest, small, 0, 100, i);
            roundTrip(server, client, pong, ping, done, target);
            if (i >= 0)
            {
                rtts[i] = System.nanoTime() - startNs;
            }
        }
        Arrays.sort(rtts);

        final int transfers = 200;
        for (int i = 0; i < 20; i++)
        {
            final int target = done[0] + 1;
            client.send(dest, large, 0, large.capacity(), i);
            roundTrip(server, client, pong, ping, done, target);
        }
        final long startNs = System.nanoTime();
        for (int i = 0; i < transfers; i++)
        {
            final int target = done[0] + 1;
            client.send(dest, large, 0, large.capacity(), i);
            roundTrip(server, client, pong, ping, done, target);
        }
        final long elapsedNs = System.nanoTime() - startNs;
        assertEquals(1_000 + rpcs + 20 + transfers, done[0]);
        System.out.printf(Locale.ROOT,
            "netns %s: 100 B RTT p50 %.1f us p99 %.1f us; 500 KB requests %.2f Gbit/s (%.0f us each)%n",
            transport, rtts[rpcs / 2] / 1e3, rtts[rpcs * 99 / 100] / 1e3,
            transfers * 500_000 * 8.0 / elapsedNs, elapsedNs / 1e3 / transfers);
        for (final NetnsTestbed.Driver driver : new NetnsTestbed.Driver[]{ clientDriver, serverDriver })
        {
            System.out.printf(Locale.ROOT, "  host %d: DATA sent %d rcvd %d (resent %d), GRANT sent %d, RESEND sent %d, " +
                "send calls %d, ring flushes %d, rcv calls %d%n",
                driver.host(), NetnsMultiHostTest.counter(driver, "packets_sent_DATA"),
                NetnsMultiHostTest.counter(driver, "packets_rcvd_DATA"),
                NetnsMultiHostTest.counter(driver, "resent_packets"),
                NetnsMultiHostTest.counter(driver, "packets_sent_GRANT"),
                NetnsMultiHostTest.counter(driver, "packets_sent_RESEND"),
                NetnsMultiHostTest.counter(driver, "send_syscalls"),
                NetnsMultiHostTest.counter(driver, "ring_flushes"),
                NetnsMultiHostTest.counter(driver, "receive_syscalls"));
        }
    }

    /**
     * Driver settings for the measurement: {@code -Dhoma.netns.bench.idle=spin} etc. sets the drivers' idle strategy,
     * {@code -Dhoma.netns.bench.props=homa.pacing=false,...} any other property.
     */
    private static Map<String, String> extra()
    {
        // -Dhoma.netns.bench.idle=yield, and -Dhoma.netns.bench.props=k=v,k=v for any other driver property.
        final Map<String, String> extra = new java.util.HashMap<>();
        final String idle = System.getProperty("homa.netns.bench.idle");
        if (null != idle)
        {
            extra.put("homa.shared.idle.strategy", idle);
        }
        final String props = System.getProperty("homa.netns.bench.props", "");
        for (final String pair : props.split(","))
        {
            final int eq = pair.indexOf('=');
            if (eq > 0)
            {
                extra.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return extra;
    }

    private static void roundTrip(
        final HomaSocket server,
        final HomaSocket client,
        final MessageHandler pong,
        final MessageHandler ping,
        final int[] done,
        final int target)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (done[0] < target)
        {
            server.poll(pong, 10);
            client.poll(ping, 10);
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("RPC stuck");
            }
        }
    }
}
