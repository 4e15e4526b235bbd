package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A DEDICATED driver closes as Aeron's does, receiver, then sender, then conductor, so the conductor's close (which
 * unmaps every socket's send region) runs only once the sender, which reads payloads straight from those regions,
 * has stopped (#16).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseOrderTest
{
    private static final int SERVER_PORT = 99;
    private static final int REQUEST_LENGTH = 200_000;
    private static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(500);

    private MediaDriver serverDriver;
    private MediaDriver clientDriver;
    private Homa serverHoma;
    private Homa clientHoma;
    private File clientDir;

    @AfterEach
    void after()
    {
        CloseHelper.quietCloseAll(clientHoma, serverHoma, clientDriver, serverDriver);
        if (null != clientDir)
        {
            IoUtil.delete(clientDir.getParentFile(), true);
        }
    }

    @Test
    void shouldSendThePacketTheSenderHoldsAtCloseFromAStillMappedSendRegion() throws Exception
    {
        serverDriver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
        serverHoma.addSocket(SERVER_PORT);
        final HomaAddress server =
            HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        // The CnC stays behind after close so the client driver's last counter values can be read.
        clientDir = new File(Files.createTempDirectory("homa-close-order").toFile(), "driver");
        clientDriver = MediaDriver.launch(new MediaDriver.Context()
            .homaDirectoryName(clientDir.getPath())
            .threadingMode(ThreadingMode.DEDICATED)
            .udpPort(0)
            .dirDeleteOnShutdown(false));
        // A short driver timeout: the client closes after its driver, whose answers it then waits out.
        clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDir.getPath())
            .driverTimeoutNs(TimeUnit.SECONDS.toNanos(2)));
        final HomaSocket client = clientHoma.addSocket();

        // The first DATA packet of a 200 KB request waits on the sender's thread, its payload in the send region,
        // while the driver closes.
        final CountDownLatch stalled = new CountDownLatch(1);
        clientDriver.stallSenderOnce(STALL_NS, stalled::countDown);
        client.send(server, new UnsafeBuffer(new byte[REQUEST_LENGTH]), 0, REQUEST_LENGTH, 1);
        assertTrue(stalled.await(10, TimeUnit.SECONDS), "the sender holds the request's first DATA packet");
        final long dataBefore = serverDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA);
        clientDriver.close();

        try (DriverCounters counters = new DriverCounters(clientDir))
        {
            // A region unmapped under the sender makes the kernel refuse the datagram (EFAULT).
            assertEquals(0, counters.get("batch_send_errors"), counters::all);
            assertEquals(0, counters.get("data_xmit_errors"), counters::all);
            assertTrue(counters.get("packets_sent_DATA") >= 1, counters::all);
        }
        // And it reached the other driver whole (a datagram the kernel refused never would).
        TestUtil.await(() -> serverDriver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA) > dataBefore,
            Thread::yield, 10_000, "the held DATA packet at the server");
    }
}
