package io.homa.client.internal;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.nio.ByteBuffer;

/**
 * Layout of a socket's file, {@code <dir>/sockets/<socketId>.socket}, created by the driver and mapped by the
 * client that owns the socket:
 * <pre>
 *   metadata (4 KiB) | event ring | return ring | release ring | receive pool | send region
 * </pre>
 * <ul>
 *   <li>event ring (driver to client, one-to-one): whole messages and RPC failures;</li>
 *   <li>return ring (client to driver, many-to-one): receive-pool offsets the application is done with;</li>
 *   <li>release ring (driver to client, one-to-one): send-region offsets the driver no longer needs;</li>
 *   <li>receive pool: the driver allocates a contiguous block per incoming message and copies each packet's
 *       payload straight into it, so the application reads the message in place (the one user-space copy);</li>
 *   <li>send region: the client allocates a block per outgoing message and writes it there; the driver
 *       builds packets from it and keeps it until the message can no longer be retransmitted.</li>
 * </ul>
 */
public final class SocketFileDescriptor
{
    /** Layout version of socket files. */
    public static final int SOCKET_FILE_VERSION = 2;
    /** Length of the metadata section. */
    public static final int META_DATA_LENGTH = 4096;

    /** Offset of the version (int, written last). */
    public static final int VERSION_OFFSET = 0;
    /** Offset of the event ring length (int). */
    public static final int EVENT_RING_LENGTH_OFFSET = 4;
    /** Offset of the return ring length (int). */
    public static final int RETURN_RING_LENGTH_OFFSET = 8;
    /** Offset of the release ring length (int). */
    public static final int RELEASE_RING_LENGTH_OFFSET = 12;
    /** Offset of the receive pool length (int). */
    public static final int POOL_LENGTH_OFFSET = 16;
    /** Offset of the send region length (int). */
    public static final int SEND_REGION_LENGTH_OFFSET = 20;
    /** Offset of the socket id (long). */
    public static final int SOCKET_ID_OFFSET = 24;
    /** Offset of the smallest block either allocator hands out (int). */
    public static final int MIN_BLOCK_LENGTH_OFFSET = 32;
    /** Offset of the socket's port (int), kept current by the driver. */
    public static final int PORT_OFFSET = 36;
    /**
     * Offset of the count of client threads asleep (or about to sleep) on this socket's events (int, own cache
     * line). The driver looks at it after publishing an event and wakes {@link #WAKE_SEQUENCE_OFFSET} only when it is
     * not 0, so the busy path makes no system call.
     */
    public static final int WAITERS_OFFSET = 64;
    /** Offset of the futex word sleeping client threads wait on (int, own cache line); the driver bumps it to wake. */
    public static final int WAKE_SEQUENCE_OFFSET = 128;

    /** Record type of a returned receive-pool block in the return ring. */
    public static final int RETURN_POOL_BLOCK_MSG_TYPE_ID = 1;
    /** Record type of a released send-region block in the release ring. */
    public static final int RELEASE_SEND_BLOCK_MSG_TYPE_ID = 1;

    private SocketFileDescriptor()
    {
    }

    /**
     * @param directory driver directory.
     * @param socketId  socket id.
     * @return the socket's file.
     */
    public static File socketFile(final File directory, final long socketId)
    {
        return new File(new File(directory, CncFileDescriptor.SOCKETS_DIR), socketId + ".socket");
    }

    /**
     * @param eventRingLength   event ring length incl. trailer.
     * @param returnRingLength  return ring length incl. trailer.
     * @param releaseRingLength release ring length incl. trailer.
     * @param poolLength        receive pool length.
     * @param sendRegionLength  send region length.
     * @return the file length.
     */
    public static long computeFileLength(
        final int eventRingLength,
        final int returnRingLength,
        final int releaseRingLength,
        final int poolLength,
        final int sendRegionLength)
    {
        return poolOffset(eventRingLength, returnRingLength, releaseRingLength) + (long)poolLength + sendRegionLength;
    }

    static long poolOffset(final int eventRingLength, final int returnRingLength, final int releaseRingLength)
    {
        return BitUtil.align((long)META_DATA_LENGTH + eventRingLength + returnRingLength + releaseRingLength, 4096);
    }

    /**
     * @param file the mapped file.
     * @return a view of the metadata section.
     */
    public static UnsafeBuffer metaDataBuffer(final ByteBuffer file)
    {
        return new UnsafeBuffer(file, 0, META_DATA_LENGTH);
    }

    /**
     * @param file the mapped file.
     * @param meta its metadata.
     * @return the event ring section.
     */
    public static UnsafeBuffer eventRingBuffer(final ByteBuffer file, final AtomicBuffer meta)
    {
        return new UnsafeBuffer(file, META_DATA_LENGTH, meta.getInt(EVENT_RING_LENGTH_OFFSET));
    }

    /**
     * @param file the mapped file.
     * @param meta its metadata.
     * @return the return ring section.
     */
    public static UnsafeBuffer returnRingBuffer(final ByteBuffer file, final AtomicBuffer meta)
    {
        final int offset = META_DATA_LENGTH + meta.getInt(EVENT_RING_LENGTH_OFFSET);
        return new UnsafeBuffer(file, offset, meta.getInt(RETURN_RING_LENGTH_OFFSET));
    }

    /**
     * @param file the mapped file.
     * @param meta its metadata.
     * @return the release ring section.
     */
    public static UnsafeBuffer releaseRingBuffer(final ByteBuffer file, final AtomicBuffer meta)
    {
        final int offset = META_DATA_LENGTH + meta.getInt(EVENT_RING_LENGTH_OFFSET) +
            meta.getInt(RETURN_RING_LENGTH_OFFSET);
        return new UnsafeBuffer(file, offset, meta.getInt(RELEASE_RING_LENGTH_OFFSET));
    }

    /**
     * @param file the mapped file.
     * @param meta its metadata.
     * @return the receive pool section.
     */
    public static UnsafeBuffer poolBuffer(final ByteBuffer file, final AtomicBuffer meta)
    {
        final long offset = poolOffset(
            meta.getInt(EVENT_RING_LENGTH_OFFSET),
            meta.getInt(RETURN_RING_LENGTH_OFFSET),
            meta.getInt(RELEASE_RING_LENGTH_OFFSET));
        return new UnsafeBuffer(file, (int)offset, meta.getInt(POOL_LENGTH_OFFSET));
    }

    /**
     * @param file the mapped file.
     * @param meta its metadata.
     * @return the send region section.
     */
    public static UnsafeBuffer sendRegionBuffer(final ByteBuffer file, final AtomicBuffer meta)
    {
        final long offset = poolOffset(
            meta.getInt(EVENT_RING_LENGTH_OFFSET),
            meta.getInt(RETURN_RING_LENGTH_OFFSET),
            meta.getInt(RELEASE_RING_LENGTH_OFFSET)) + meta.getInt(POOL_LENGTH_OFFSET);
        return new UnsafeBuffer(file, (int)offset, meta.getInt(SEND_REGION_LENGTH_OFFSET));
    }
}
