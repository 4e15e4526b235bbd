package io.homa.driver;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Creates the driver's directory and files readable and writable by the owner only (or by the owner's group
 * too, by option): the CnC and socket files carry every client's messages. Files are created with their final
 * permissions (no window in which the umask's looser ones apply) and then set explicitly, since the umask can
 * only take bits away. Files take the group bits of their directory, so socket files follow the driver's setting
 * without the engine knowing it. Internal to the driver.
 */
public final class DriverFiles
{
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> GROUP_DIR = PosixFilePermissions.fromString("rwxrwx---");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> GROUP_FILE = PosixFilePermissions.fromString("rw-rw----");

    private DriverFiles()
    {
    }

    /**
     * Creates a directory (its parents as usual) with owner-only or owner-and-group permissions.
     *
     * @param dir         the directory.
     * @param groupAccess let the owner's group in.
     */
    public static void createDirectory(final File dir, final boolean groupAccess)
    {
        final Path path = dir.toPath();
        final Set<PosixFilePermission> permissions = groupAccess ? GROUP_DIR : OWNER_DIR;
        try
        {
            if (null != path.getParent())
            {
                Files.createDirectories(path.getParent());
            }
            if (!Files.isDirectory(path))
            {
                try
                {
                    Files.createDirectory(path, PosixFilePermissions.asFileAttribute(permissions));
                }
                catch (final UnsupportedOperationException ex)
                {
                    Files.createDirectory(path);
                }
            }
            setPermissions(path, permissions);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create directory " + dir, ex);
        }
    }

    /**
     * Creates a new file of the given length (sparse) and maps it read-write; it gets the owner and group
     * read/write bits its directory grants (owner only unless the directory lets the group write).
     *
     * @param file   a file that does not exist yet.
     * @param length its length.
     * @return the mapping.
     */
    public static MappedByteBuffer mapNewFile(final File file, final long length)
    {
        final Path path = file.toPath();
        final Set<PosixFilePermission> permissions = permissionsFor(path.getParent());
        final EnumSet<StandardOpenOption> options =
            EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel channel = null;
        try
        {
            try
            {
                channel = FileChannel.open(path, options, PosixFilePermissions.asFileAttribute(permissions));
            }
            catch (final UnsupportedOperationException ex)
            {
                channel = FileChannel.open(path, options);
            }
            setPermissions(path, permissions);
            // One byte at the end gives the file its length without writing (or touching) the rest.
            channel.write(ByteBuffer.wrap(new byte[1]), length - 1);
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create " + file, ex);
        }
        finally
        {
            if (null != channel)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException ignore)
                {
                    // The mapping stays valid without the channel.
                }
            }
        }
    }

    /**
     * Creates a new empty file with the permissions its directory grants (owner only unless the directory lets
     * the group write), for text the driver writes (event-log dumps).
     *
     * @param file a file that does not exist yet.
     * @throws IOException if it exists or cannot be created.
     */
    public static void createFile(final File file) throws IOException
    {
        final Path path = file.toPath();
        final Set<PosixFilePermission> permissions = permissionsFor(path.getParent());
        try
        {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(permissions));
        }
        catch (final UnsupportedOperationException ex)
        {
            Files.createFile(path);
        }
        // The umask may have taken bits the directory grants: set them exactly.
        setPermissions(path, permissions);
    }

    private static Set<PosixFilePermission> permissionsFor(final Path directory)
    {
        try
        {
            if (null != directory &&
                Files.getPosixFilePermissions(directory).contains(PosixFilePermission.GROUP_WRITE))
            {
                return GROUP_FILE;
            }
        }
        catch (final IOException | UnsupportedOperationException ignore)
        {
            // Owner only, the safe choice.
        }
        return OWNER_FILE;
    }

    private static void setPermissions(final Path path, final Set<PosixFilePermission> permissions)
        throws IOException
    {
        try
        {
            Files.setPosixFilePermissions(path, permissions);
        }
        catch (final UnsupportedOperationException ignore)
        {
            // Not a POSIX file system: nothing to set.
        }
    }
}
