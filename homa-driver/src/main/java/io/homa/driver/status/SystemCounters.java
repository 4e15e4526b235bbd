package io.homa.driver.status;

import io.homa.codecs.HomaWire;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.EnumMap;

/**
 * The system counters, allocated in the CnC so tools read them live.
 */
public final class SystemCounters implements AutoCloseable
{
    private final EnumMap<SystemCounterDescriptor, AtomicCounter> counters =
        new EnumMap<>(SystemCounterDescriptor.class);
    private final AtomicCounter[] sentByType = new AtomicCounter[256];
    private final AtomicCounter[] receivedByType = new AtomicCounter[256];
    private final AtomicCounter[] priorityBytes = new AtomicCounter[HomaWire.HOMA_MAX_PRIORITIES];
    private final AtomicCounter[] priorityPackets = new AtomicCounter[HomaWire.HOMA_MAX_PRIORITIES];

    /**
     * @param countersManager where to allocate them.
     */
    public SystemCounters(final CountersManager countersManager)
    {
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            final AtomicCounter counter = countersManager.newCounter(
                descriptor.label(),
                SystemCounterDescriptor.SYSTEM_COUNTER_TYPE_ID,
                (buffer) -> buffer.putInt(0, descriptor.id()));
            counters.put(descriptor, counter);
        }

        final int[] types = {
            HomaWire.DATA, HomaWire.GRANT, HomaWire.RESEND, HomaWire.RPC_UNKNOWN, HomaWire.BUSY, HomaWire.CUTOFFS,
            HomaWire.FREEZE, HomaWire.NEED_ACK, HomaWire.ACK, HomaWire.PORT_UNREACHABLE };
        final SystemCounterDescriptor[] sent = {
            SystemCounterDescriptor.PACKETS_SENT_DATA, SystemCounterDescriptor.PACKETS_SENT_GRANT,
            SystemCounterDescriptor.PACKETS_SENT_RESEND, SystemCounterDescriptor.PACKETS_SENT_RPC_UNKNOWN,
            SystemCounterDescriptor.PACKETS_SENT_BUSY, SystemCounterDescriptor.PACKETS_SENT_CUTOFFS,
            SystemCounterDescriptor.PACKETS_SENT_FREEZE, SystemCounterDescriptor.PACKETS_SENT_NEED_ACK,
            SystemCounterDescriptor.PACKETS_SENT_ACK, SystemCounterDescriptor.PACKETS_SENT_PORT_UNREACHABLE };
        final SystemCounterDescriptor[] received = {
            SystemCounterDescriptor.PACKETS_RCVD_DATA, SystemCounterDescriptor.PACKETS_RCVD_GRANT,
            SystemCounterDescriptor.PACKETS_RCVD_RESEND, SystemCounterDescriptor.PACKETS_RCVD_RPC_UNKNOWN,
            SystemCounterDescriptor.PACKETS_RCVD_BUSY, SystemCounterDescriptor.PACKETS_RCVD_CUTOFFS,
            SystemCounterDescriptor.PACKETS_RCVD_FREEZE, SystemCounterDescriptor.PACKETS_RCVD_NEED_ACK,
            SystemCounterDescriptor.PACKETS_RCVD_ACK, SystemCounterDescriptor.PACKETS_RCVD_PORT_UNREACHABLE };
        for (int i = 0; i < types.length; i++)
        {
            sentByType[types[i]] = counters.get(sent[i]);
            receivedByType[types[i]] = counters.get(received[i]);
        }
        for (int level = 0; level < HomaWire.HOMA_MAX_PRIORITIES; level++)
        {
            priorityBytes[level] = counters.get(SystemCounterDescriptor.valueOf("PRIORITY" + level + "_BYTES"));
            priorityPackets[level] = counters.get(SystemCounterDescriptor.valueOf("PRIORITY" + level + "_PACKETS"));
        }
    }

    /**
     * @param descriptor which counter.
     * @return the counter.
     */
    public AtomicCounter get(final SystemCounterDescriptor descriptor)
    {
        return counters.get(descriptor);
    }

    /**
     * @param type a packet type code.
     * @return its packets-sent counter.
     */
    public AtomicCounter sent(final int type)
    {
        return sentByType[type & 0xFF];
    }

    /**
     * @param type a packet type code (must be a known type).
     * @return its packets-received counter.
     */
    public AtomicCounter received(final int type)
    {
        return receivedByType[type & 0xFF];
    }

    /**
     * Counts a packet sent at the priority its TOS byte carries.
     *
     * @param tos    the packet's TOS byte.
     * @param length its length.
     */
    public void sentAtPriority(final int tos, final int length)
    {
        final int level = HomaWire.priorityFromTos(tos);
        priorityBytes[level].getAndAddRelease(length);
        priorityPackets[level].incrementRelease();
    }

    /**
     * Frees the counters.
     */
    public void close()
    {
        counters.values().forEach(AtomicCounter::close);
    }
}
