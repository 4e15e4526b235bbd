package io.homa.systemtests;

import io.homa.client.internal.CncFileDescriptor;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a driver's counters from its CnC file, as a stat tool in another process would.
 */
final class DriverCounters implements AutoCloseable
{
    private final MappedByteBuffer cnc;
    private final CountersReader reader;
    private final Map<String, Integer> idByLabel = new HashMap<>();

    DriverCounters(final File directory)
    {
        cnc = IoUtil.mapExistingFile(new File(directory, CncFileDescriptor.CNC_FILE), "cnc");
        final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(cnc);
        reader = new CountersReader(
            CncFileDescriptor.countersMetaDataBuffer(cnc, meta), CncFileDescriptor.countersValuesBuffer(cnc, meta));
        reader.forEach((counterId, typeId, keyBuffer, label) -> idByLabel.put(label, counterId));
    }

    long get(final String label)
    {
        final Integer id = idByLabel.get(label);
        if (null == id)
        {
            throw new IllegalArgumentException("no counter " + label + " in " + idByLabel.keySet());
        }
        return reader.getCounterValue(id);
    }

    /**
     * @return every counter allocated now (also those of clients and sockets), by label, in id order.
     */
    java.util.LinkedHashMap<String, Long> snapshot()
    {
        final java.util.LinkedHashMap<String, Long> values = new java.util.LinkedHashMap<>();
        reader.forEach((counterId, typeId, keyBuffer, label) -> values.put(label, reader.getCounterValue(counterId)));
        return values;
    }

    String all()
    {
        final StringBuilder sb = new StringBuilder();
        idByLabel.forEach((label, id) -> sb.append(label).append('=').append(reader.getCounterValue(id)).append(' '));
        return sb.toString();
    }

    public void close()
    {
        IoUtil.unmap(cnc);
    }
}
