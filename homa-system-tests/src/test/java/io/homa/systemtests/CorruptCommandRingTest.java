package io.homa.systemtests;

import io.homa.client.DriverFailedException;
import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.DriverTimeoutException;
import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rogue writer to the CnC file breaks the to-driver ring: the driver finds it on its next duty cycle, records why
 * and ends (its directory goes, its termination hook runs; standalone, it exits 1), and its clients fail with
 * {@link DriverFailedException} (a {@link DriverTimeoutException}) carrying the reason the driver wrote into the CnC,
 * at their next check rather than after the driver timeout — never a fresh heartbeat over a command path that
 * serves nobody (before: every new client timed out and nothing said why) (#16).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CorruptCommandRingTest
{
    /** Far beyond the waits below: a client that only sees the heartbeat stop would not know in time. */
    private static final long DRIVER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(40);

    private MediaDriver driver;
    private Homa homa;
    private MappedByteBuffer cnc;
    private CompletableFuture<Throwable> receiveOutcome;

    @AfterEach
    void after()
    {
        CloseHelper.quietCloseAll(homa, driver);
        if (null != cnc)
        {
            IoUtil.unmap(cnc);
        }
    }

    @Test
    void shouldEndTheDriverWhenSixteenBytesLandInTheRingTrailer() throws Exception
    {
        final CountDownLatch terminated = launch();
        final UnsafeBuffer ring = toDriverRing();
        final byte[] stray = new byte[16];
        Arrays.fill(stray, (byte)'A');
        ring.putBytes(ring.capacity() - RingBufferDescriptor.TRAILER_LENGTH + RingBufferDescriptor.TAIL_POSITION_OFFSET,
            stray);

        assertEnded(terminated, "to-driver ring positions impossible");
    }

    @Test
    void shouldEndTheDriverOnARecordHeaderThatCannotBe() throws Exception
    {
        final CountDownLatch terminated = launch();
        final UnsafeBuffer ring = toDriverRing();
        final int capacity = ring.capacity() - RingBufferDescriptor.TRAILER_LENGTH;
        final int tailIndex = capacity + RingBufferDescriptor.TAIL_POSITION_OFFSET;
        final long tail = ring.getLongVolatile(tailIndex);
        final int index = (int)tail & (capacity - 1);
        ring.putInt(index + 4, 1);
        ring.putIntOrdered(index, 0x1000_0000);
        ring.putLongOrdered(tailIndex, tail + 64);

        assertEnded(terminated, "has length " + 0x1000_0000);
    }

    private CountDownLatch launch()
    {
        final CountDownLatch terminated = new CountDownLatch(1);
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .terminationHook(terminated::countDown));
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverTimeoutNs(DRIVER_TIMEOUT_NS));
        assertTrue(homa.addSocket().port() > 0);
        final HomaSocket waiting = homa.addSocket();
        // A legitimate client blocked in a receive wait when the driver fails.
        receiveOutcome = new CompletableFuture<>();
        final Thread receiver = new Thread(() ->
        {
            try
            {
                waiting.receive(MessageHandler.of((id, cookie, b, o, l) -> { }, (id, cookie, code) -> { }), DRIVER_TIMEOUT_NS);
                receiveOutcome.complete(null);
            }
            catch (final Throwable ex)
            {
                receiveOutcome.complete(ex);
            }
        }, "receiver");
        receiver.setDaemon(true);
        receiver.start();
        cnc = IoUtil.mapExistingFile(new File(driver.homaDirectoryName(), CncFileDescriptor.CNC_FILE), "cnc");
        return terminated;
    }

    private UnsafeBuffer toDriverRing()
    {
        return CncFileDescriptor.toDriverBuffer(cnc, CncFileDescriptor.metaDataBuffer(cnc));
    }

    private void assertEnded(final CountDownLatch terminated, final String reason) throws Exception
    {
        assertTrue(terminated.await(30, TimeUnit.SECONDS), "the driver ended");
        assertTrue(driver.hasFailed());
        assertFalse(new File(driver.homaDirectoryName()).exists(), "its directory is gone");
        final StringBuilder errors = new StringBuilder();
        ErrorLogReader.read(CncFileDescriptor.errorLogBuffer(cnc, CncFileDescriptor.metaDataBuffer(cnc)),
            (count, firstMs, lastMs, encodedException) -> errors.append(encodedException));
        assertTrue(errors.toString().contains("CommandRingCorruptedError") && errors.toString().contains(reason),
            errors.toString());
        final DriverFailedException onCommand =
            assertThrows(DriverFailedException.class, homa::addSocket, "the client is told the driver failed");
        assertTrue(onCommand.reason().contains(reason), onCommand.reason());
        assertTrue(onCommand.getMessage().contains(reason), onCommand.getMessage());
        assertEquals("ETIMEDOUT", onCommand.errorName(), "still a driver timeout to code that catches those");

        // Well inside the driver timeout: the waiting receive read the reason, not a stale heartbeat.
        final Throwable onReceive = receiveOutcome.get(DRIVER_TIMEOUT_NS / 4, TimeUnit.NANOSECONDS);
        assertTrue(onReceive instanceof DriverFailedException, String.valueOf(onReceive));
        assertTrue(onReceive.getMessage().contains(reason), onReceive.getMessage());
    }
}
