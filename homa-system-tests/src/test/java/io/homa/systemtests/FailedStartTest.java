package io.homa.systemtests;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.CommonContext;
import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.driver.ActiveDriverException;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A start that fails removes what it created (its directory and {@code cnc.dat}), but never the directory of the
 * live driver it was refused because of; an embedded driver's directory goes when its JVM is stopped by SIGTERM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailedStartTest
{
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<File> dirs = new ArrayList<>();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        dirs.forEach(dir -> IoUtil.delete(dir, true));
    }

    private File newDir()
    {
        final File dir = new File(CommonContext.generateRandomDirName());
        dirs.add(dir);
        return dir;
    }

    private static MediaDriver.Context context(final File dir)
    {
        return new MediaDriver.Context()
            .homaDirectoryName(dir.getPath())
            .socketPoolLength(4 * 1024 * 1024)
            .socketSendRegionLength(4 * 1024 * 1024);
    }

    @Test
    void shouldDeleteTheDirectoryAndCncFileItCreatedWhenTheUdpPortIsTaken() throws Exception
    {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        {
            final File dir = newDir();
            // A standalone driver's settings: the directory is kept on close, but not after a failed start.
            final MediaDriver.Context ctx = context(dir).udpAddress("127.0.0.1").udpPort(taken.getLocalPort())
                .dirDeleteOnShutdown(false);
            final RuntimeException ex = assertThrows(RuntimeException.class, () -> MediaDriver.launch(ctx).close());
            assertFalse(ex instanceof ActiveDriverException, ex.toString());
            assertFalse(new File(dir, CncFileDescriptor.CNC_FILE).exists(), "cnc.dat left behind");
            assertFalse(dir.exists(), "directory left behind: " + ex);
        }
    }

    @Test
    void shouldDeleteTheDirectoryOfADeadDriverItTookOverWhenItsStartFails() throws Exception
    {
        final File dir = newDir();
        // A dead driver's directory: a cnc.dat too short to be live.
        assertTrue(new File(dir, CncFileDescriptor.SOCKETS_DIR).mkdirs());
        assertTrue(new File(dir, CncFileDescriptor.CNC_FILE).createNewFile());
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        {
            assertThrows(RuntimeException.class, () -> MediaDriver.launch(
                context(dir).udpAddress("127.0.0.1").udpPort(taken.getLocalPort())).close());
        }
        assertFalse(dir.exists(), "directory left behind");
    }

    @Test
    void shouldLeaveNoDirectoryWhenASettingMadeInCodeIsRefused()
    {
        final File dir = newDir();
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> MediaDriver.launch(context(dir).udpPort(0).transportName("tcp").dirDeleteOnShutdown(true)).close());
        assertTrue(ex.getMessage().startsWith("homa.transport=tcp is refused: one of udp, udp-batch, raw, packet-ring"),
            ex.getMessage());
        assertFalse(dir.exists());
    }

    @Test
    void shouldNotDeleteALiveDriversDirectoryWhenRefusingASecondDriverOnIt()
    {
        final File dir = newDir();
        final MediaDriver live = MediaDriver.launch(context(dir).udpPort(0).dirDeleteOnShutdown(true));
        closeables.add(live);

        // Refused as a live driver's directory, with every deleting option the second driver could have.
        final ActiveDriverException refused = assertThrows(ActiveDriverException.class,
            () -> MediaDriver.launch(context(dir).udpPort(0).dirDeleteOnShutdown(true)).close());
        assertTrue(refused.getMessage().contains("active Homa driver in " + dir), refused.getMessage());
        // Refused for a bad setting before it looked at the directory.
        assertThrows(IllegalArgumentException.class,
            () -> MediaDriver.launch(context(dir).udpPort(0).transportName("tcp").dirDeleteOnShutdown(true)).close());

        assertTrue(new File(dir, CncFileDescriptor.CNC_FILE).exists(), "the live driver's cnc.dat was deleted");
        // The live driver still serves: a client connects and opens a socket.
        try (Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(dir.getPath())))
        {
            final HomaSocket socket = homa.addSocket(100);
            assertEquals(100, socket.port());
        }
        live.close();
        assertFalse(dir.exists(), "the live driver deletes its own directory on close");
    }

    @Test
    void shouldDeleteAnEmbeddedDriversDirectoryWhenItsJvmGetsSigterm()
    {
        final JvmProcess process = JvmProcess.start("embedded", EmbeddedDriver.class, List.of(
            "-Dhoma.socket.pool.length=4m", "-Dhoma.socket.send.region.length=4m"));
        closeables.add(process);
        final String line = process.awaitLineStartingWith("embedded dir=", 30_000);
        final File dir = new File(line.substring("embedded dir=".length()));
        dirs.add(dir);
        assertTrue(new File(dir, CncFileDescriptor.CNC_FILE).exists(), process::output);

        process.signal("TERM");
        process.awaitExit(20_000);
        assertFalse(dir.exists(), "embedded driver's directory left after SIGTERM: " + dir);
    }

    @Test
    void shouldRemoveTheShutdownHookOnClose() throws Exception
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(context(newDir()).udpPort(0));
        final java.lang.reflect.Field field = MediaDriver.class.getDeclaredField("shutdownHook");
        field.setAccessible(true);
        final Thread hook = (Thread)field.get(driver);
        assertTrue(null != hook, "an embedded driver has a shutdown hook");
        driver.close();
        assertFalse(Runtime.getRuntime().removeShutdownHook(hook), "close leaves its shutdown hook registered");
    }

    /**
     * An application with an embedded driver that never closes it: it runs until its input ends or a signal.
     */
    public static final class EmbeddedDriver
    {
        /**
         * @param args none.
         * @throws Exception never expected.
         */
        public static void main(final String[] args) throws Exception
        {
            final MediaDriver driver = MediaDriver.launchEmbedded();
            System.out.println("embedded dir=" + driver.homaDirectoryName());
            System.out.flush();
            while (System.in.read() >= 0)
            {
                // Only end of input matters.
            }
        }
    }
}
