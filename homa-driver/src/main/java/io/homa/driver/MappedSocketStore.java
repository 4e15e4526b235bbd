package io.homa.driver;

import io.homa.client.internal.SocketFileDescriptor;
import io.homa.driver.protocol.SocketStore;
import org.agrona.IoUtil;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * The driver's socket memory: one file per socket under the driver's directory, mapped here and by the client
 * that owns the socket (owner-only unless the directory grants its group access); unmapped and deleted on release.
 */
public final class MappedSocketStore implements SocketStore
{
    private final File directory;

    /**
     * @param directory the driver's directory (socket files go under it).
     */
    public MappedSocketStore(final File directory)
    {
        this.directory = directory;
    }

    /**
     * {@inheritDoc}
     */
    public ByteBuffer create(final long socketId, final long lengthBytes)
    {
        final File file = SocketFileDescriptor.socketFile(directory, socketId);
        IoUtil.ensureDirectoryExists(file.getParentFile(), "sockets");
        return DriverFiles.mapNewFile(file, lengthBytes);
    }

    /**
     * {@inheritDoc}
     */
    public void release(final long socketId, final ByteBuffer memory)
    {
        IoUtil.unmap((MappedByteBuffer)memory);
        IoUtil.delete(SocketFileDescriptor.socketFile(directory, socketId), true);
    }
}
