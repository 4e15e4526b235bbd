package io.homa.client.internal;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.MappedByteBuffer;

/**
 * Layout of {@code cnc.dat}, the command-and-control file a driver creates in its directory:
 * <pre>
 *   metadata (512 bytes) | to-driver ring | to-clients broadcast | counters metadata | counters values | error log
 * </pre>
 * The metadata records each section's length, so a client finds every section by adding the ones before it.
 * The layout version is written last (volatile); a client treats 0 as "driver not ready" and refuses any other
 * version it does not know.
 */
public final class CncFileDescriptor
{
    /** File name inside the driver directory. */
    public static final String CNC_FILE = "cnc.dat";
    /** Sub-directory holding one file per socket. */
    public static final String SOCKETS_DIR = "sockets";
    /**
     * Layout version: bump when any offset or section changes meaning. 2: {@link #UDP_ADDRESS_OFFSET} may hold an
     * IPv6 driver's own peer key, {@link #IPV6_ADDRESS_OFFSET} its address, and peers can be resolved with a
     * command version 1 drivers do not know. 3: {@link #DRIVER_SLEEPING_OFFSET} and the {@link #WAKE_FIFO}: a client
     * that puts a command on the to-driver ring while the driver sleeps wakes it. 4: the commands that register,
     * refresh, close or remove what a client owns (AddSocket, RemoveSocket, ClientKeepalive, ClientClose) carry
     * the client's credential. 5: every command that names a client carries its credential (BindSocket, SendRequest,
     * SendReply, AbortRpc, RpcInfoRequest and ResolveAddress too). 6: the metadata grows from 256 to 512 bytes
     * (every section after it moves 256 bytes on) for the driver-failure field at {@link #DRIVER_FAILURE_OFFSET}: a
     * driver that ends on a fatal error (a corrupt to-driver ring) says why there before it stops.
     */
    public static final int CNC_VERSION = 6;
    /**
     * FIFO inside the driver directory that the driver sleeps on (with its sockets, in {@code epoll}): a client that
     * finds a sleeper counted at {@link #DRIVER_SLEEPING_OFFSET} after writing a command writes one byte here.
     */
    public static final String WAKE_FIFO = "cnc.wake";

    /** Offset of the layout version (int, written last). */
    public static final int VERSION_OFFSET = 0;
    /** Offset of the to-driver ring length (int). */
    public static final int TO_DRIVER_LENGTH_OFFSET = 4;
    /** Offset of the to-clients broadcast length (int). */
    public static final int TO_CLIENTS_LENGTH_OFFSET = 8;
    /** Offset of the counters metadata length (int). */
    public static final int COUNTERS_METADATA_LENGTH_OFFSET = 12;
    /** Offset of the counters values length (int). */
    public static final int COUNTERS_VALUES_LENGTH_OFFSET = 16;
    /** Offset of the error log length (int). */
    public static final int ERROR_LOG_LENGTH_OFFSET = 20;
    /** Offset of the client liveness timeout (long, ns). */
    public static final int CLIENT_LIVENESS_TIMEOUT_OFFSET = 24;
    /** Offset of the driver start time (long, epoch ms). */
    public static final int START_TIMESTAMP_OFFSET = 32;
    /** Offset of the driver process id (long). */
    public static final int PID_OFFSET = 40;
    /** Offset of the driver's UDP port (int), so a tool can tell where the driver listens. */
    public static final int UDP_PORT_OFFSET = 48;
    /**
     * Offset of the driver's own peer address (int): its IPv4 address, or for an IPv6 driver the peer key its
     * address table gave its own address (see {@link #IPV6_ADDRESS_OFFSET}).
     */
    public static final int UDP_ADDRESS_OFFSET = 52;
    /** Offset of the driver's IPv6 address (16 bytes, network order); all zero for an IPv4 driver. */
    public static final int IPV6_ADDRESS_OFFSET = 56;
    /** Length of the IPv6 address field. */
    public static final int IPV6_ADDRESS_LENGTH = 16;
    /**
     * Offset of the host-wide client RPC id counter (long, on its own cache line): clients take ids with an
     * atomic add of 2, so ids stay even and unique across every client of the driver without a round trip.
     */
    public static final int NEXT_RPC_ID_OFFSET = 128;
    /**
     * Offset of the driver's sleeping word (int, own cache line): its low bits ({@link #SLEEPERS_MASK}) count the
     * threads that read the to-driver ring and sleep on {@link #WAKE_FIFO} (the driver's thread, or a client thread
     * of its JVM that drives it); a count, so one sleeper waking never hides another. The client that sets
     * {@link #WAKE_RUNG} rings the FIFO; a sleeper clears it as it wakes, so one ring per sleep.
     */
    public static final int DRIVER_SLEEPING_OFFSET = 192;
    /** Sleeper count in the word at {@link #DRIVER_SLEEPING_OFFSET}. */
    public static final int SLEEPERS_MASK = 0xFFFF;
    /** Set in the word at {@link #DRIVER_SLEEPING_OFFSET} by the client that rang the FIFO for this sleep. */
    public static final int WAKE_RUNG = 0x10000;
    /**
     * Offset of the driver-failure word (int, own cache line): 0 while the driver runs, {@link #DRIVER_FAILED} once
     * it ended on a fatal error; written (volatile) after the reason at {@link #DRIVER_FAILURE_REASON_OFFSET}.
     */
    public static final int DRIVER_FAILURE_OFFSET = 256;
    /** Value of the word at {@link #DRIVER_FAILURE_OFFSET} once the driver has failed. */
    public static final int DRIVER_FAILED = 1;
    /** Offset of the failure reason's length in bytes (int). */
    public static final int DRIVER_FAILURE_REASON_LENGTH_OFFSET = 260;
    /** Offset of the failure reason (ASCII, at most {@link #DRIVER_FAILURE_REASON_MAX_LENGTH} bytes). */
    public static final int DRIVER_FAILURE_REASON_OFFSET = 264;
    /** Longest failure reason: what remains of the metadata. */
    public static final int DRIVER_FAILURE_REASON_MAX_LENGTH = 512 - DRIVER_FAILURE_REASON_OFFSET;
    /** Length of the metadata section. */
    public static final int META_DATA_LENGTH = 512;

    private CncFileDescriptor()
    {
    }

    /**
     * @param metaData the metadata section.
     * @return the file length implied by the section lengths it records.
     */
    public static long fileLength(final AtomicBuffer metaData)
    {
        return META_DATA_LENGTH +
            (long)metaData.getInt(TO_DRIVER_LENGTH_OFFSET) +
            metaData.getInt(TO_CLIENTS_LENGTH_OFFSET) +
            metaData.getInt(COUNTERS_METADATA_LENGTH_OFFSET) +
            metaData.getInt(COUNTERS_VALUES_LENGTH_OFFSET) +
            metaData.getInt(ERROR_LOG_LENGTH_OFFSET);
    }

    /**
     * @param toDriverLength         to-driver ring length including trailer.
     * @param toClientsLength        broadcast length including trailer.
     * @param countersMetadataLength counters metadata length.
     * @param countersValuesLength   counters values length.
     * @param errorLogLength         error log length.
     * @return the file length, rounded up to a page.
     */
    public static long computeFileLength(
        final int toDriverLength,
        final int toClientsLength,
        final int countersMetadataLength,
        final int countersValuesLength,
        final int errorLogLength)
    {
        final long length = META_DATA_LENGTH + (long)toDriverLength + toClientsLength + countersMetadataLength +
            countersValuesLength + errorLogLength;
        return BitUtil.align(length, 4096);
    }

    /**
     * @param cnc the mapped file.
     * @return a view of the metadata section.
     */
    public static UnsafeBuffer metaDataBuffer(final MappedByteBuffer cnc)
    {
        return new UnsafeBuffer(cnc, 0, META_DATA_LENGTH);
    }

    /**
     * @param cnc      the mapped file.
     * @param metaData its metadata.
     * @return the to-driver ring section.
     */
    public static UnsafeBuffer toDriverBuffer(final MappedByteBuffer cnc, final AtomicBuffer metaData)
    {
        return new UnsafeBuffer(cnc, META_DATA_LENGTH, metaData.getInt(TO_DRIVER_LENGTH_OFFSET));
    }

    /**
     * @param cnc      the mapped file.
     * @param metaData its metadata.
     * @return the to-clients broadcast section.
     */
    public static UnsafeBuffer toClientsBuffer(final MappedByteBuffer cnc, final AtomicBuffer metaData)
    {
        final int offset = META_DATA_LENGTH + metaData.getInt(TO_DRIVER_LENGTH_OFFSET);
        return new UnsafeBuffer(cnc, offset, metaData.getInt(TO_CLIENTS_LENGTH_OFFSET));
    }

    /**
     * @param cnc      the mapped file.
     * @param metaData its metadata.
     * @return the counters metadata section.
     */
    public static UnsafeBuffer countersMetaDataBuffer(final MappedByteBuffer cnc, final AtomicBuffer metaData)
    {
        final int offset = META_DATA_LENGTH + metaData.getInt(TO_DRIVER_LENGTH_OFFSET) +
            metaData.getInt(TO_CLIENTS_LENGTH_OFFSET);
        return new UnsafeBuffer(cnc, offset, metaData.getInt(COUNTERS_METADATA_LENGTH_OFFSET));
    }

    /**
     * @param cnc      the mapped file.
     * @param metaData its metadata.
     * @return the counters values section.
     */
    public static UnsafeBuffer countersValuesBuffer(final MappedByteBuffer cnc, final AtomicBuffer metaData)
    {
        final int offset = META_DATA_LENGTH + metaData.getInt(TO_DRIVER_LENGTH_OFFSET) +
            metaData.getInt(TO_CLIENTS_LENGTH_OFFSET) + metaData.getInt(COUNTERS_METADATA_LENGTH_OFFSET);
        return new UnsafeBuffer(cnc, offset, metaData.getInt(COUNTERS_VALUES_LENGTH_OFFSET));
    }

    /**
     * @param cnc      the mapped file.
     * @param metaData its metadata.
     * @return the distinct error log section.
     */
    public static UnsafeBuffer errorLogBuffer(final MappedByteBuffer cnc, final AtomicBuffer metaData)
    {
        final int offset = META_DATA_LENGTH + metaData.getInt(TO_DRIVER_LENGTH_OFFSET) +
            metaData.getInt(TO_CLIENTS_LENGTH_OFFSET) + metaData.getInt(COUNTERS_METADATA_LENGTH_OFFSET) +
            metaData.getInt(COUNTERS_VALUES_LENGTH_OFFSET);
        return new UnsafeBuffer(cnc, offset, metaData.getInt(ERROR_LOG_LENGTH_OFFSET));
    }

    /**
     * Records that the driver ended on a fatal error and why (the driver, once, before it stops). The reason is cut
     * to {@link #DRIVER_FAILURE_REASON_MAX_LENGTH} bytes and anything not printable ASCII becomes '?'.
     *
     * @param metaData the CnC metadata.
     * @param reason   what went wrong, for a person.
     */
    public static void recordDriverFailure(final AtomicBuffer metaData, final String reason)
    {
        final int length = Math.min(reason.length(), DRIVER_FAILURE_REASON_MAX_LENGTH);
        for (int i = 0; i < length; i++)
        {
            final char c = reason.charAt(i);
            metaData.putByte(DRIVER_FAILURE_REASON_OFFSET + i, (byte)(c >= 0x20 && c < 0x7F ? c : '?'));
        }
        metaData.putInt(DRIVER_FAILURE_REASON_LENGTH_OFFSET, length);
        metaData.putIntVolatile(DRIVER_FAILURE_OFFSET, DRIVER_FAILED);
    }

    /**
     * @param metaData the CnC metadata.
     * @return why the driver ended on a fatal error, or null while it has not.
     */
    public static String driverFailure(final AtomicBuffer metaData)
    {
        if (DRIVER_FAILED != metaData.getIntVolatile(DRIVER_FAILURE_OFFSET))
        {
            return null;
        }
        final int length = Math.max(0, Math.min(
            metaData.getInt(DRIVER_FAILURE_REASON_LENGTH_OFFSET), DRIVER_FAILURE_REASON_MAX_LENGTH));
        return metaData.getStringWithoutLengthAscii(DRIVER_FAILURE_REASON_OFFSET, length);
    }

    /**
     * Takes the next client RPC id from the CnC's counter: even, unique across every client of the driver (an
     * atomic add, so any number of threads in any number of processes may take ids at once).
     *
     * @param metaData the CnC metadata.
     * @return the id.
     */
    public static long nextRpcId(final AtomicBuffer metaData)
    {
        return metaData.getAndAddLong(NEXT_RPC_ID_OFFSET, 2);
    }
}
