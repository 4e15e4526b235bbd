package io.homa.samples.tools;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.HomaAddress;
import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * A read-only view of a running (or dead) driver's {@code cnc.dat} for the tools: metadata, heartbeat, counters
 * and error log. Mapping read-only means a tool can never disturb the driver, whatever it does.
 */
public final class CncFileReader implements AutoCloseable
{
    private final File directory;
    private final File cncFile;
    private final MappedByteBuffer cncByteBuffer;
    private final UnsafeBuffer metaData;
    private final ManyToOneRingBuffer toDriver;
    private final CountersReader countersReader;
    private final AtomicBuffer errorLogBuffer;

    private CncFileReader(final File directory, final File cncFile, final MappedByteBuffer cncByteBuffer)
    {
        this.directory = directory;
        this.cncFile = cncFile;
        this.cncByteBuffer = cncByteBuffer;
        metaData = CncFileDescriptor.metaDataBuffer(cncByteBuffer);
        toDriver = new ManyToOneRingBuffer(CncFileDescriptor.toDriverBuffer(cncByteBuffer, metaData));
        countersReader = new CountersReader(
            CncFileDescriptor.countersMetaDataBuffer(cncByteBuffer, metaData),
            CncFileDescriptor.countersValuesBuffer(cncByteBuffer, metaData),
            StandardCharsets.US_ASCII);
        errorLogBuffer = CncFileDescriptor.errorLogBuffer(cncByteBuffer, metaData);
    }

    /**
     * Maps the CnC file of a driver directory read-only.
     *
     * @param directory the driver directory.
     * @return the reader.
     * @throws IllegalStateException if there is no CnC file, the driver has not finished writing it, or its
     *                               layout version is not the one this tool knows.
     */
    public static CncFileReader map(final File directory)
    {
        final File cncFile = new File(directory, CncFileDescriptor.CNC_FILE);
        if (!cncFile.isFile() || cncFile.length() < CncFileDescriptor.META_DATA_LENGTH)
        {
            throw new IllegalStateException("no Homa driver CnC file at " + cncFile +
                " (start a driver, or name its directory with --dir or -Dhoma.dir)");
        }

        final MappedByteBuffer mapped = IoUtil.mapExistingFile(cncFile, FileChannel.MapMode.READ_ONLY, "cnc");
        try
        {
            final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(mapped);
            final int version = meta.getIntVolatile(CncFileDescriptor.VERSION_OFFSET);
            if (0 == version)
            {
                throw new IllegalStateException("driver in " + directory + " has not finished starting (CnC version 0)");
            }
            if (CncFileDescriptor.CNC_VERSION != version)
            {
                throw new IllegalStateException("CnC version " + version + " in " + cncFile + " is not the " +
                    CncFileDescriptor.CNC_VERSION + " this tool reads");
            }
            if (mapped.capacity() < CncFileDescriptor.fileLength(meta))
            {
                throw new IllegalStateException("CnC file " + cncFile + " is shorter than its sections");
            }
            return new CncFileReader(directory, cncFile, mapped);
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(mapped);
            throw ex;
        }
    }

    /**
     * @return the driver directory.
     */
    public File directory()
    {
        return directory;
    }

    /**
     * @return false once the driver (or someone) removed the CnC file; the mapping stays readable.
     */
    public boolean isFilePresent()
    {
        return cncFile.exists();
    }

    /**
     * @return the CnC layout version.
     */
    public int version()
    {
        return metaData.getIntVolatile(CncFileDescriptor.VERSION_OFFSET);
    }

    /**
     * @return the driver's process id.
     */
    public long pid()
    {
        return metaData.getLong(CncFileDescriptor.PID_OFFSET);
    }

    /**
     * @return when the driver started, epoch ms.
     */
    public long startTimestampMs()
    {
        return metaData.getLong(CncFileDescriptor.START_TIMESTAMP_OFFSET);
    }

    /**
     * @return the driver's UDP port.
     */
    public int udpPort()
    {
        return metaData.getInt(CncFileDescriptor.UDP_PORT_OFFSET);
    }

    /**
     * @return the driver's IPv4 address as an int (for an IPv6 driver, the peer key of its own address).
     */
    public int udpAddressIpv4()
    {
        return metaData.getInt(CncFileDescriptor.UDP_ADDRESS_OFFSET);
    }

    /**
     * @return the driver's address: IPv4 dotted, or IPv6 in brackets for an IPv6 driver.
     */
    public String udpAddress()
    {
        final byte[] ipv6 = new byte[CncFileDescriptor.IPV6_ADDRESS_LENGTH];
        metaData.getBytes(CncFileDescriptor.IPV6_ADDRESS_OFFSET, ipv6);
        for (final byte b : ipv6)
        {
            if (0 != b)
            {
                return "[" + HomaAddress.ipv6ToString(ipv6) + "]";
            }
        }
        return HomaAddress.ipv4ToString(udpAddressIpv4());
    }

    /**
     * @return the client liveness timeout the driver runs with, ns.
     */
    public long driverTimeoutNs()
    {
        return metaData.getLong(CncFileDescriptor.CLIENT_LIVENESS_TIMEOUT_OFFSET);
    }

    /**
     * @return the driver heartbeat (the to-driver ring's consumer heartbeat), epoch ms; 0 if never written.
     */
    public long heartbeatMs()
    {
        return toDriver.consumerHeartbeatTime();
    }

    /**
     * @param nowMs the current epoch time.
     * @return ms since the last driver heartbeat.
     */
    public long heartbeatAgeMs(final long nowMs)
    {
        return nowMs - heartbeatMs();
    }

    /**
     * @return the counters (labels and values).
     */
    public CountersReader countersReader()
    {
        return countersReader;
    }

    /**
     * @return the distinct error log section.
     */
    public AtomicBuffer errorLogBuffer()
    {
        return errorLogBuffer;
    }

    /**
     * Unmaps the file.
     */
    public void close()
    {
        IoUtil.unmap(cncByteBuffer);
    }
}
