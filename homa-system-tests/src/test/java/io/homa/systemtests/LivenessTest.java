package io.homa.systemtests;

import io.homa.client.ClientTimeoutException;
import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.DriverTimeoutException;
import io.homa.client.Homa;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Liveness both ways, in one process: the driver times out silent clients, clients detect a dead driver, and a
 * client refuses a CnC it does not understand.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LivenessTest
{
    private static final long LIVENESS_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final MessageHandler IGNORE = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private MediaDriver launch()
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .clientLivenessTimeoutNs(LIVENESS_TIMEOUT_NS));
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver, final boolean keepaliveThread)
    {
        final Homa homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .useKeepaliveThread(keepaliveThread));
        closeables.add(homa);
        return homa;
    }

    @Test
    void shouldTimeOutSilentClientFreeItsSocketsAndTellIt()
    {
        final MediaDriver driver = launch();
        final Homa silent = connect(driver, false);
        final HomaSocket socket = silent.addSocket(40);
        silent.addSocket();
        assertEquals(1, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE));
        assertEquals(2, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN));
        final File socketsDir = new File(driver.homaDirectoryName(), CncFileDescriptor.SOCKETS_DIR);
        assertEquals(2, socketsDir.list().length);

        // No keepalive thread and no calls: the driver hears nothing.
        await(() -> 1 == driver.counter(SystemCounterDescriptor.CLIENT_TIMEOUTS), () -> sleepMs(5), 10_000,
            "client timeout");
        assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE));
        assertEquals(0, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN));
        assertEquals(0, socketsDir.list().length, "socket files (pool and send region) deleted");

        // The client learns it on its next call, and its port is free for others.
        assertThrows(ClientTimeoutException.class, () -> socket.poll(IGNORE, 1));
        assertTrue(silent.isTimedOut());
        final Homa other = connect(driver, true);
        assertEquals(40, other.addSocket(40).port());
    }

    @Test
    void shouldKeepIdleClientAliveWithKeepaliveThread()
    {
        final MediaDriver driver = launch();
        final Homa homa = connect(driver, true);
        homa.addSocket(41);
        final long untilNs = System.nanoTime() + 3 * LIVENESS_TIMEOUT_NS;
        while (System.nanoTime() - untilNs < 0)
        {
            sleepMs(20);
        }
        assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENT_TIMEOUTS));
        assertEquals(1, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE));
        assertEquals(1, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN));
        assertTrue(homa.addSocket().port() >= 0x8000);
    }

    @Test
    void shouldKeepClientAliveThroughItsOwnPollsWithoutThread()
    {
        final MediaDriver driver = launch();
        final Homa homa = connect(driver, false);
        final HomaSocket socket = homa.addSocket(42);
        final long untilNs = System.nanoTime() + 3 * LIVENESS_TIMEOUT_NS;
        while (System.nanoTime() - untilNs < 0)
        {
            socket.poll(IGNORE, 1);
            sleepMs(5);
        }
        assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENT_TIMEOUTS));
        assertEquals(1, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN));
    }

    @Test
    void shouldFailCallsWithDriverTimeoutWhenDriverDies()
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED));
        final Homa homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverTimeoutNs(TimeUnit.MILLISECONDS.toNanos(300)));
        closeables.add(homa);
        final HomaSocket socket = homa.addSocket();
        final HomaSocket server = homa.addSocket(43);
        final UnsafeBuffer request = TestUtil.pattern(100, 1);

        driver.close();

        final long startNs = System.nanoTime();
        final DriverTimeoutException ex = assertThrows(DriverTimeoutException.class,
            () -> server.receive(IGNORE, TimeUnit.SECONDS.toNanos(30)));
        assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(30), "the wait ended early");
        assertEquals(HomaError.ETIMEDOUT, ex.errorCode());
        // Non-blocking calls fail too, once the client knows.
        assertThrows(DriverTimeoutException.class, () -> socket.send(homa.driverAddress(43), request, 0, 100, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, CncFileDescriptor.CNC_VERSION + 41 })
    void shouldRefuseCncOfUnknownVersion(final int version) throws Exception
    {
        // 1: the layout before IPv6, whose address field always held an IPv4 address.
        final File dir = Files.createTempDirectory("homa-version").toFile();
        try
        {
            final File cnc = new File(dir, CncFileDescriptor.CNC_FILE);
            final MappedByteBuffer mapped = IoUtil.mapNewFile(cnc, 64 * 1024);
            final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(mapped);
            meta.putIntVolatile(CncFileDescriptor.VERSION_OFFSET, version);
            IoUtil.unmap(mapped);

            final HomaException ex = assertThrows(HomaException.class, () -> Homa.connect(new Homa.Context()
                .homaDirectoryName(dir.getPath()).driverTimeoutNs(TimeUnit.SECONDS.toNanos(5))));
            assertEquals(HomaError.EPROTONOSUPPORT, ex.errorCode(), ex.getMessage());
            assertTrue(ex.getMessage().contains("version " + version), ex.getMessage());
        }
        finally
        {
            IoUtil.delete(dir, true);
        }
    }

    @Test
    void shouldSkipCommandRecordOfClientThatDiedMidClaim()
    {
        final MediaDriver driver = launch();
        final File cncFile = new File(driver.homaDirectoryName(), CncFileDescriptor.CNC_FILE);
        final MappedByteBuffer cnc = IoUtil.mapExistingFile(cncFile, "cnc");
        try
        {
            // A "client" claims a command record and dies before committing it.
            final ManyToOneRingBuffer toDriver = new ManyToOneRingBuffer(
                CncFileDescriptor.toDriverBuffer(cnc, CncFileDescriptor.metaDataBuffer(cnc)));
            assertTrue(toDriver.tryClaim(1, 64) > 0);

            // Commands behind it wait, then go through once the driver skips the dead record.
            final Homa homa = connect(driver, true);
            final HomaSocket socket = homa.addSocket(44);
            assertEquals(44, socket.port());
            assertEquals(1, driver.counter(SystemCounterDescriptor.COMMAND_RING_UNBLOCKS));
            assertFalse(homa.isTimedOut());
        }
        finally
        {
            IoUtil.unmap(cnc);
        }
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
