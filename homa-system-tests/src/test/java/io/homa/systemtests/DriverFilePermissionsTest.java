package io.homa.systemtests;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.Homa;
import io.homa.client.HomaSocket;
import io.homa.client.internal.SocketFileDescriptor;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The driver's directory and files are the owner's alone unless group access is asked for.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DriverFilePermissionsTest
{
    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void shouldCreateDirectoryAndFilesOwnerOnlyUnlessGroupAccessIsSet(final boolean groupAccess) throws Exception
    {
        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context().dirGroupAccess(groupAccess));
            homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
            final HomaSocket socket = homa.addSocket();
            final File dir = new File(driver.homaDirectoryName());

            final String dirMode = groupAccess ? "rwxrwx---" : "rwx------";
            final String fileMode = groupAccess ? "rw-rw----" : "rw-------";
            assertEquals(dirMode, mode(dir.toPath()));
            assertEquals(dirMode, mode(new File(dir, CncFileDescriptor.SOCKETS_DIR).toPath()));
            assertEquals(fileMode, mode(new File(dir, CncFileDescriptor.CNC_FILE).toPath()));
            assertEquals(fileMode, mode(SocketFileDescriptor.socketFile(dir, socket.socketId()).toPath()));
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }

    private static String mode(final Path path) throws Exception
    {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
