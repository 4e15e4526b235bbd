package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.TransportCounterDescriptor;
import io.homa.driver.transport.RawIpTransport;
import io.homa.systemtests.netns.Ipv6Link;
import io.homa.systemtests.netns.Netns;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link SteadyStateAllocationTest} over raw IPv6: a driver talking to itself on an address of its own in a
 * namespace made here, every layer on one thread (INVOKER): the address table's key ↔ address mapping on send
 * and receive, and the ICMPv6 poll of each receiver cycle, allocate nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RawIpv6SteadyStateAllocationTest
{
    private static final int SERVER_PORT = 602;
    private static final String ADDRESS = "fd00:146:3::7";

    @Test
    void shouldNotAllocatePerRpcInSteadyStateOverRawIpv6() throws Exception
    {
        final String reason = Ipv6Link.unavailableReason();
        assumeTrue(null == reason, () -> "IPv6 namespaces unavailable: " + reason);
        assumeTrue(null == RawIpTransport.linuxHomaModule(
            new File("/sys/module/homa").toPath(), new File("/proc/modules").toPath()),
            "the Linux Homa module is loaded: a raw-IP driver must not share the host with it");
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final ManualNanoClock clock = new ManualNanoClock();

        final Ipv6Link link = new Ipv6Link(1_500);
        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            link.addAddress(link.a(), ADDRESS + "/64");
            driver = Netns.call(link.a(), () -> MediaDriver.launchEmbedded(new MediaDriver.Context()
                .threadingMode(ThreadingMode.INVOKER)
                .nanoClock(clock)
                .transportName("raw")
                .udpAddress(ADDRESS)));
            homa = Homa.connect(new Homa.Context()
                .homaDirectoryName(driver.homaDirectoryName())
                .driverAgentInvoker(driver.sharedAgentInvoker()));
            final HomaSocket server = homa.addSocket(SERVER_PORT);
            final HomaSocket client = homa.addSocket();
            final SteadyStateAllocationTest.Loop loop = new SteadyStateAllocationTest.Loop(
                driver.sharedAgentInvoker(), clock, server, client, homa.address(InetAddress.getByName(ADDRESS), 0,
                SERVER_PORT));

            SteadyStateAllocationTest.assertNoAllocationInSteadyState(threads, loop);
            assertTrue(driver.counter(TransportCounterDescriptor.SEND_SYSCALLS) > 0);
            assertEquals(1, driver.counter(TransportCounterDescriptor.IPV6_PEERS), "its own address only");
        }
        finally
        {
            // What runs in the namespace ends before the namespace goes.
            CloseHelper.closeAll(homa, driver, link);
        }
    }
}
