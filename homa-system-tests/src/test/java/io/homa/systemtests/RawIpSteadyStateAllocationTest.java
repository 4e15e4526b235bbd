package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounterDescriptor;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link SteadyStateAllocationTest} over the raw IP transport: a raw driver talking to itself on its own
 * loopback address, every layer on one thread (INVOKER), including the ICMP poll of each receiver cycle.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RawIpSteadyStateAllocationTest
{
    private static final int SERVER_PORT = 601;

    @Test
    void shouldNotAllocatePerRpcInSteadyStateOverRawIp()
    {
        assumeTrue(RawIpTransportTest.canOpenRaw(), "raw IP needs CAP_NET_RAW, which this process lacks");
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final ManualNanoClock clock = new ManualNanoClock();

        final int address = 0x7F000000 | (100 + ThreadLocalRandom.current().nextInt(100)) << 16 |
            ThreadLocalRandom.current().nextInt(256) << 8 | 7;
        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .threadingMode(ThreadingMode.INVOKER)
                .nanoClock(clock)
                .transportName("raw")
                .udpAddress(UdpSocket.ipv4ToString(address)));
            homa = Homa.connect(new Homa.Context()
                .homaDirectoryName(driver.homaDirectoryName())
                .driverAgentInvoker(driver.sharedAgentInvoker()));
            final HomaSocket server = homa.addSocket(SERVER_PORT);
            final HomaSocket client = homa.addSocket();
            final HomaAddress dest = HomaAddress.of(address, 0, SERVER_PORT);
            final SteadyStateAllocationTest.Loop loop =
                new SteadyStateAllocationTest.Loop(driver.sharedAgentInvoker(), clock, server, client, dest);

            SteadyStateAllocationTest.assertNoAllocationInSteadyState(threads, loop);
            assertTrue(driver.counter(TransportCounterDescriptor.SEND_SYSCALLS) > 0);
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }
}
