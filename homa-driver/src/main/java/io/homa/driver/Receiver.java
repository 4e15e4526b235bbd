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
 * the payload's only user-space copy is the engine's copy into the socket's receive pool. When the conductor runs
 * on another thread (DEDICATED, SHARED_NETWORK) the receive call writes into a claimed slot of the
 * {@link InboundPackets} ring instead, and the conductor's {@link InboundAdapter} hands the packet to the engine.
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
    private final InboundPackets inbound;
    private final long inboundAddress;

    Receiver(
        final PacketTransport transport,
        final HomaEngine engine,
        final CachedNanoClock clock,
        final ErrorHandler errorHandler,
        final SystemCounters counters)
    {
        this(transport, engine, clock, errorHandler, counters, null);
    }

    Receiver(
        final PacketTransport transport,
        final HomaEngine engine,
        final CachedNanoClock clock,
        final ErrorHandler errorHandler,
        final SystemCounters counters,
        final InboundPackets inbound)
    {
        this.inbound = inbound;
        this.inboundAddress = null == inbound ? 0 : inbound.buffer().addressOffset();
        this.transport = transport;
        this.engine = engine;
        this.clock = clock;
        this.errorHandler = errorHandler;
        // One byte more than the largest packet, so an oversized datagram shows up as truncated; with a ring the
        // ring's slots are this big instead.
        if (null != inbound)
        {
            buffer = null;
            bufferAddress = 0;
        }
        else
        {
            buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                org.agrona.BitUtil.align(transport.maxPacketLength() + 1, 64), 64));
            bufferAddress = buffer.addressOffset();
        }
        truncated = counters.get(SystemCounterDescriptor.TRUNCATED_PACKETS);
        discards = counters.get(SystemCounterDescriptor.PACKET_DISCARDS);
        maxCycleTime = counters.get(SystemCounterDescriptor.RECEIVER_MAX_CYCLE_TIME);
    }

    public String roleName()
    {
        return "homa-receiver";
    }

    public int doWork()
    {
        if (null != inbound)
        {
            return receiveIntoRing();
        }
        final long startNs = System.nanoTime();
        int work = 0;
        final int capacity = buffer.capacity();
        while (work < RECEIVE_LIMIT)
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

        // Silence from peers does not count while our own socket has a backlog (the RPC timer reads this).
        engine.inboundBacklogged(work >= RECEIVE_LIMIT);
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

    private int receiveIntoRing()
    {
        final long startNs = System.nanoTime();
        final InboundPackets inbound = this.inbound;
        final int capacity = inbound.slotCapacity();
        int work = 0;
        while (work < RECEIVE_LIMIT)
        {
            final int offset = inbound.claim();
            if (offset < 0)
            {
                // The conductor is behind: leave the datagrams in the kernel's buffer until it catches up.
                break;
            }
            final int length = transport.receive(inboundAddress + offset, capacity);
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
                // The slot stays claimed and is reused for the next datagram.
                truncated.incrementRelease();
                continue;
            }
            inbound.commit(length, transport.lastSourceIpv4(), transport.lastSourcePort());
        }

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
