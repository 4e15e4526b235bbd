package io.homa.driver;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.TransportCounterDescriptor;
import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CnC's counters as JMX and Prometheus show them: every allocated counter (system, transport, per client,
 * per socket) with its label, type and value, read under the exports' lock so a read never touches the CnC after
 * the driver unmapped it.
 */
final class CounterSnapshot
{
    private static final Map<String, String> DESCRIPTIONS = new HashMap<>();

    static
    {
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            DESCRIPTIONS.put(descriptor.label(), descriptor.description());
        }
        for (final TransportCounterDescriptor descriptor : TransportCounterDescriptor.values())
        {
            DESCRIPTIONS.put(descriptor.label(), descriptor.description());
        }
        DESCRIPTIONS.put("client_keepalives",
            "ours: keepalives and socket commands from one client (its sends and replies count per socket)");
        DESCRIPTIONS.put("socket_messages_sent", "ours: messages one socket's application handed over to send");
        DESCRIPTIONS.put("socket_bytes_sent", "ours: bytes of those messages");
        DESCRIPTIONS.put("socket_messages_received", "ours: whole messages delivered to one socket's application");
        DESCRIPTIONS.put("socket_bytes_received", "ours: bytes of those messages");
        DESCRIPTIONS.put("socket_rpc_errors", "ours: client RPCs of one socket completed with an error");
    }

    /**
     * One counter.
     *
     * @param id     counter id.
     * @param typeId counter type (0 system, 1 transport, 2 client, 3 socket).
     * @param label  its label.
     * @param value  its value when read.
     */
    record Counter(int id, int typeId, String label, long value)
    {
    }

    private CounterSnapshot()
    {
    }

    /**
     * @param reader the CnC's counters.
     * @return every allocated counter, in id order.
     */
    static List<Counter> read(final CountersReader reader)
    {
        final List<Counter> counters = new ArrayList<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
            counters.add(new Counter(counterId, typeId, label, reader.getCounterValue(counterId))));
        return counters;
    }

    /**
     * @param name a counter's name (a label's first word).
     * @return what it counts, or null.
     */
    static String description(final String name)
    {
        return DESCRIPTIONS.get(name);
    }

    /**
     * @param name a counter's name.
     * @return true for a level (sockets open now, a maximum, a NIC fact) rather than a running count.
     */
    static boolean isGauge(final String name)
    {
        final String description = DESCRIPTIONS.get(name);
        return name.startsWith("nic_") || name.contains("max_") ||
            null != description && (description.contains(" now") || description.contains("highest"));
    }
}
