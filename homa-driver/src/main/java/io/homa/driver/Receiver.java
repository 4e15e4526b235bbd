package io.homa.driver;

import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.driver.transport.PacketTransport;
import org.agrona.BufferUtil;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Reads packets from the transport straight into one receive buffer and hands each to the engine in place, so
 * the payload's only user-space copy is the engine's copy into the socket's receive pool.
 */
final class Receiver implements Agent
{
    private static final int RECEIVE_LIMIT = 32;

    private final PacketTransport transport;
    private final HomaEngine engine;
    private final CachedNanoClock clock;
    private final ErrorHandler errorHandler;
    private final UnsafeBuffer buffer;
    private final long bufferAddress;
    private final AtomicCounter truncated;
    private final AtomicCounter discards;
    private final AtomicCounter maxCycleTime;
    private final PacketTransport.UnreachableHandler unreachableHandler;
    private final int batchLimit;
    private final UnsafeBuffer batchView = new UnsafeBuffer(0, 0);

    Receiver(
        final PacketTransport transport,
        final HomaEngine engine,
        final CachedNanoClock clock,
        final ErrorHandler errorHandler,
        final SystemCounters counters)
    {
        this.transport = transport;
        this.engine = engine;
        this.clock = clock;
        this.errorHandler = errorHandler;
        // One byte more than the largest packet, so an oversized datagram shows up as truncated.
        buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            org.agrona.BitUtil.align(transport.maxPacketLength() + 1, 64), 64));
        bufferAddress = buffer.addressOffset();
        truncated = counters.get(SystemCounterDescriptor.TRUNCATED_PACKETS);
        discards = counters.get(SystemCounterDescriptor.PACKET_DISCARDS);
        maxCycleTime = counters.get(SystemCounterDescriptor.RECEIVER_MAX_CYCLE_TIME);
        unreachableHandler = engine::onPeerUnreachable;
        batchLimit = transport.receiveBatchLimit();
    }

    /**
     * A batching transport receives into its own slots; each packet goes to the engine in place.
     */
    private int receiveBatch()
    {
        int work = 0;
        while (work < RECEIVE_LIMIT)
        {
            final int count = transport.receiveBatch();
            if (count <= 0)
            {
                if (count < 0)
                {
                    errorHandler.onError(new IllegalStateException("receive failed: errno " + -count));
                }
                break;
            }
            final long nowNs = clock.nanoTime();
            for (int i = 0; i < count; i++)
            {
                final int length = transport.batchLength(i);
                if (transport.batchTruncated(i) || length > transport.maxPacketLength())
                {
                    truncated.incrementRelease();
                    continue;
                }
                batchView.wrap(transport.batchAddress(i), length);
                try
                {
                    engine.onPacket(
                        batchView, 0, length, transport.batchSourceIpv4(i), transport.batchSourcePort(i), nowNs);
                }
                catch (final Exception ex)
                {
                    discards.incrementRelease();
                    errorHandler.onError(ex);
                }
            }
            work += count;
            if (count < transport.receiveBatchLimit())
            {
                break;
            }
        }
        return work;
    }

    public String roleName()
    {
        return "homa-receiver";
    }

    public int doWork()
    {
        final long startNs = System.nanoTime();
        int work = 0;
        final int capacity = buffer.capacity();
        if (batchLimit > 0)
        {
            work = receiveBatch();
        }
        while (0 == batchLimit && work < RECEIVE_LIMIT)
        {
            final int length = transport.receive(bufferAddress, capacity);
            if (length < 0)
            {
                if (-1 != length)
                {
                    errorHandler.onError(new IllegalStateException("receive failed: errno " + -length));
                }
                break;
            }
            work++;
            if (transport.lastTruncated() || length > transport.maxPacketLength())
            {
                truncated.incrementRelease();
                continue;
            }
            try
            {
                engine.onPacket(
                    buffer, 0, length, transport.lastSourceIpv4(), transport.lastSourcePort(), clock.nanoTime());
            }
            catch (final Exception ex)
            {
                discards.incrementRelease();
                errorHandler.onError(ex);
            }
        }

        // ICMP destination-unreachable (raw IP) fails RPCs to dead ports or hosts fast.
        work += transport.pollUnreachable(unreachableHandler);

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
}
