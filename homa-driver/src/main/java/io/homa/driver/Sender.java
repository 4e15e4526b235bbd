package io.homa.driver;

import io.homa.driver.protocol.OutboundPackets;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.driver.transport.PacketTransport;
import org.agrona.BitUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RecordDescriptor;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Drains finished packets from the engine's outbound ring into the transport, each straight from ring memory.
 * When the kernel would block, the packet stays in the ring for the next cycle.
 */
final class Sender implements Agent
{
    private static final int SEND_LIMIT = 64;

    private final OneToOneRingBuffer ring;
    private final PacketTransport transport;
    private final SystemCounters counters;
    private final AtomicCounter bytesSent;
    private final AtomicCounter dataXmitErrors;
    private final AtomicCounter controlXmitErrors;
    private final AtomicCounter maxCycleTime;
    private final long ringAddress;
    private final ControlledMessageHandler handler = this::onPacket;
    private final boolean isBatching;
    private final int ringCapacity;
    private final AtomicBuffer ringBuffer;
    private int packetsThisRead;
    private volatile long stallNs;
    private volatile Runnable onStall;

    Sender(final OutboundPackets outbound, final PacketTransport transport, final SystemCounters counters)
    {
        this.ring = outbound.ring();
        this.transport = transport;
        this.counters = counters;
        this.ringAddress = ring.buffer().addressOffset();
        bytesSent = counters.get(SystemCounterDescriptor.BYTES_SENT);
        dataXmitErrors = counters.get(SystemCounterDescriptor.DATA_XMIT_ERRORS);
        controlXmitErrors = counters.get(SystemCounterDescriptor.CONTROL_XMIT_ERRORS);
        maxCycleTime = counters.get(SystemCounterDescriptor.SENDER_MAX_CYCLE_TIME);
        isBatching = transport.isBatching();
        ringCapacity = ring.capacity();
        ringBuffer = ring.buffer();
    }

    public String roleName()
    {
        return "homa-sender";
    }

    public int doWork()
    {
        final long startNs = System.nanoTime();
        // A batching transport may hold packets the kernel could not take last time: they go first.
        int work = isBatching ? transport.flush() : 0;
        packetsThisRead = 0;
        work += ring.controlledRead(handler, SEND_LIMIT);
        if (work > 0)
        {
            final long cycleNs = System.nanoTime() - startNs;
            if (cycleNs > maxCycleTime.get())
            {
                maxCycleTime.setRelease(cycleNs);
            }
        }
        return work;
    }

    private ControlledMessageHandler.Action onPacket(
        final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int ipv4 = buffer.getInt(index + OutboundPackets.DEST_IPV4_OFFSET);
        final int port = buffer.getInt(index + OutboundPackets.DEST_PORT_OFFSET);
        final int tos = buffer.getInt(index + OutboundPackets.TOS_OFFSET);
        final int type = buffer.getInt(index + OutboundPackets.TYPE_OFFSET);
        final int headerLength = length - OutboundPackets.PREFIX_LENGTH;
        final int payloadLength = buffer.getInt(index + OutboundPackets.PAYLOAD_LENGTH_OFFSET);
        final int packetLength = headerLength + payloadLength;

        final long headerAddress = ringAddress + index + OutboundPackets.PREFIX_LENGTH;
        if (0 != payloadLength && 0 != stallNs)
        {
            stall();
        }
        final int result = 0 == payloadLength ?
            transport.send(headerAddress, headerLength, ipv4, port, tos) :
            transport.send(headerAddress, headerLength,
                buffer.getLong(index + OutboundPackets.PAYLOAD_ADDRESS_OFFSET), payloadLength, ipv4, port, tos);
        if (0 == result)
        {
            return ControlledMessageHandler.Action.ABORT;
        }
        if (result < 0)
        {
            (io.homa.codecs.HomaWire.DATA == type ? dataXmitErrors : controlXmitErrors).incrementRelease();
        }
        else
        {
            final AtomicCounter sent = counters.sent(type);
            if (null != sent)
            {
                sent.incrementRelease();
            }
            bytesSent.getAndAddRelease(packetLength);
            counters.sentAtPriority(tos, packetLength);
        }
        if (isBatching && isLastOfRead(buffer, index, length))
        {
            // The ring releases this read's records when controlledRead returns: the batch must be out by then.
            transport.flush();
        }
        return ControlledMessageHandler.Action.CONTINUE;
    }

    /**
     * Test seam: the next packet with a payload waits this long on the sender's thread, between being read from the
     * ring (its payload still in a client's send region) and going to the transport, as a descheduled thread would.
     *
     * @param durationNs how long it waits (an interrupt ends the wait early).
     * @param onStalled  run on the sender's thread when the wait starts, or null.
     */
    void stallOnce(final long durationNs, final Runnable onStalled)
    {
        onStall = onStalled;
        stallNs = durationNs;
    }

    private void stall()
    {
        final long durationNs = stallNs;
        stallNs = 0;
        final Runnable hook = onStall;
        onStall = null;
        if (null != hook)
        {
            hook.run();
        }
        final long endNs = System.nanoTime() + durationNs;
        long leftNs;
        while ((leftNs = endNs - System.nanoTime()) > 0 && !Thread.currentThread().isInterrupted())
        {
            java.util.concurrent.locks.LockSupport.parkNanos(leftNs);
        }
    }

    /**
     * Whether controlledRead will stop after this record: the read limit, the end of the ring's contiguous block,
     * padding, or a record not committed yet. A record once seen committed stays so, hence no race.
     */
    private boolean isLastOfRead(final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int next = index - RecordDescriptor.HEADER_LENGTH +
            BitUtil.align(length + RecordDescriptor.HEADER_LENGTH, RecordDescriptor.ALIGNMENT);
        return ++packetsThisRead >= SEND_LIMIT || next >= ringCapacity ||
            ringBuffer.getIntVolatile(RecordDescriptor.lengthOffset(next)) <= 0 ||
            RingBuffer.PADDING_MSG_TYPE_ID == buffer.getInt(RecordDescriptor.typeOffset(next));
    }
}
