package io.homa.driver.status;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.EnumMap;

/**
 * The transport counters, allocated in the CnC next to the system counters.
 */
public final class TransportCounters implements AutoCloseable
{
    private final EnumMap<TransportCounterDescriptor, AtomicCounter> counters =
        new EnumMap<>(TransportCounterDescriptor.class);

    /**
     * @param countersManager where to allocate them.
     */
    public TransportCounters(final CountersManager countersManager)
    {
        for (final TransportCounterDescriptor descriptor : TransportCounterDescriptor.values())
        {
            counters.put(descriptor, countersManager.newCounter(
                descriptor.label(),
                TransportCounterDescriptor.TRANSPORT_COUNTER_TYPE_ID,
                (buffer) -> buffer.putInt(0, descriptor.id())));
        }
    }

    /**
     * @param descriptor which counter.
     * @return the counter.
     */
    public AtomicCounter get(final TransportCounterDescriptor descriptor)
    {
        return counters.get(descriptor);
    }

    /**
     * Frees the counters.
     */
    public void close()
    {
        counters.values().forEach(AtomicCounter::close);
    }
}
