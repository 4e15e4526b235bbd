package io.homa.driver;

import io.homa.codecs.HomaWire;
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
    private final AtomicCounter receiveErrors;
    private int lastReportedErrno;
    private final InboundPackets inbound;
    private final long inboundAddress;
    private final PacketTransport.UnreachableHandler unreachableHandler;
    private final int batchLimit;
    private final UnsafeBuffer batchView = new UnsafeBuffer(0, 0);
    private WakeupIdleStrategy.Doorbell conductorDoorbell;
    /** Receive in place (see {@code ReceiveHint}): the transport scatters, the engine guesses. */
    private boolean receiveInPlace;
    private final int maxPayloadLength;
    /** Where a scattered non-DATA packet's tail is put back together (rare: control packets are short). */
    private final UnsafeBuffer hintView = new UnsafeBuffer(0, 0);

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
        receiveErrors = counters.get(SystemCounterDescriptor.RECEIVE_ERRORS);
        // With a ring, the report travels through it so the engine stays single-threaded.
        unreachableHandler = null == inbound ? engine::onPeerUnreachable : this::unreachableIntoRing;
        batchLimit = transport.receiveBatchLimit();
        maxPayloadLength = transport.maxPacketLength() - HomaWire.DATA_HEADER_LENGTH;
    }

    /**
     * @param enabled receive DATA payloads straight into the receive pool where the engine expects them, where the
     *                transport can scatter and the engine reads the receive buffer itself (no inbound ring).
     */
    void receiveInPlace(final boolean enabled)
    {
        receiveInPlace = enabled && null == inbound && 0 == batchLimit && transport.canReceiveScattered();
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
                    onReceiveError(-count);
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

    /**
     * @param doorbell rung after packets went into the inbound ring, when the conductor's thread may sleep.
     */
    void conductorDoorbell(final WakeupIdleStrategy.Doorbell doorbell)
    {
        this.conductorDoorbell = doorbell;
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
        if (batchLimit > 0)
        {
            work = receiveBatch();
        }
        while (0 == batchLimit && work < RECEIVE_LIMIT)
        {
            final int hintLength = receiveInPlace ? engine.prepareReceiveHint(maxPayloadLength) : 0;
            final int length = hintLength > 0 ?
                transport.receiveScattered(bufferAddress, HomaWire.DATA_HEADER_LENGTH, engine.receiveHintAddress(),
                    hintLength, bufferAddress + HomaWire.DATA_HEADER_LENGTH,
                    capacity - HomaWire.DATA_HEADER_LENGTH - hintLength) :
                transport.receive(bufferAddress, capacity);
            if (length < 0)
            {
                if (-1 != length)
                {
                    onReceiveError(-length);
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
                final int inHint = Math.min(Math.max(length - HomaWire.DATA_HEADER_LENGTH, 0), hintLength);
                if (0 == inHint)
                {
                    engine.onPacket(
                        buffer, 0, length, transport.lastSourceIpv4(), transport.lastSourcePort(), clock.nanoTime());
                }
                else
                {
                    onScattered(length, hintLength, inHint);
                }
            }
            catch (final Exception ex)
            {
                discards.incrementRelease();
                errorHandler.onError(ex);
            }
        }

        // ICMP destination-unreachable (raw IP) fails RPCs to dead ports or hosts fast.
        work += transport.pollUnreachable(unreachableHandler);

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

    /**
     * A packet received in place: DATA goes to the engine as it lies (its payload partly or wholly in the hinted
     * range); anything else longer than a DATA header is put back together in the buffer first.
     */
    private void onScattered(final int length, final int hintLength, final int inHint)
    {
        final int srcIpv4 = transport.lastSourceIpv4();
        final int srcPort = transport.lastSourcePort();
        if (HomaWire.DATA == HomaWire.type(buffer, 0))
        {
            engine.onScatteredData(buffer, 0, length, inHint, srcIpv4, srcPort, clock.nanoTime());
            return;
        }
        final int header = HomaWire.DATA_HEADER_LENGTH;
        final int spill = length - header - inHint;
        if (spill > 0)
        {
            // The range was filled (inHint == hintLength): the tail moves up behind it (putBytes is a memmove).
            buffer.putBytes(header + inHint, buffer, header, spill);
        }
        hintView.wrap(engine.receiveHintAddress(), inHint);
        buffer.putBytes(header, hintView, 0, inHint);
        engine.onPacket(buffer, 0, length, srcIpv4, srcPort, clock.nanoTime());
    }

    private int receiveIntoRing()
    {
        final long startNs = System.nanoTime();
        final InboundPackets inbound = this.inbound;
        final int capacity = inbound.slotCapacity();
        int work = transport.isBatchReceiveOnly() ? copyBatchIntoRing() : 0;
        while (!transport.isBatchReceiveOnly() && work < RECEIVE_LIMIT)
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
                    onReceiveError(-length);
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
        work += transport.pollUnreachable(unreachableHandler);

        if (work > 0 && null != conductorDoorbell)
        {
            // The conductor's thread may be asleep: it has packets to read now.
            conductorDoorbell.ring();
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

    /**
     * A transport whose packets live in a kernel-shared ring (packet-ring) must free each frame before the
     * conductor reads it, so here the packet is copied once into the inbound ring.
     */
    private int copyBatchIntoRing()
    {
        final InboundPackets inbound = this.inbound;
        final UnsafeBuffer ring = inbound.buffer();
        int work = 0;
        while (work < RECEIVE_LIMIT)
        {
            if (inbound.claim() < 0)
            {
                break;
            }
            final int count = transport.receiveBatch();
            if (count <= 0)
            {
                if (count < 0)
                {
                    onReceiveError(-count);
                }
                break;
            }
            for (int i = 0; i < count; i++)
            {
                final int length = transport.batchLength(i);
                if (transport.batchTruncated(i) || length > transport.maxPacketLength())
                {
                    truncated.incrementRelease();
                    continue;
                }
                int offset = inbound.claim();
                while (offset < 0)
                {
                    // The batch must be consumed now; the conductor drains the ring without waiting for us.
                    Thread.onSpinWait();
                    offset = inbound.claim();
                }
                batchView.wrap(transport.batchAddress(i), length);
                ring.putBytes(offset, batchView, 0, length);
                inbound.commit(length, transport.batchSourceIpv4(i), transport.batchSourcePort(i));
            }
            work += count;
            if (count < transport.receiveBatchLimit())
            {
                break;
            }
        }
        return work;
    }

    private void unreachableIntoRing(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        while (inbound.claim() < 0)
        {
            Thread.onSpinWait();
        }
        inbound.commitUnreachable(ipv4, port, homaPort, errorCode);
    }

    /**
     * A failed receive is counted every time but reported (an exception made, the error log written) only when its
     * errno differs from the last one reported: a socket that keeps failing must not allocate on every cycle.
     */
    private void onReceiveError(final int errno)
    {
        receiveErrors.incrementRelease();
        if (errno != lastReportedErrno)
        {
            lastReportedErrno = errno;
            errorHandler.onError(new IllegalStateException("receive failed: errno " + errno +
                " (reported once until another errno; counted in receive_errors)"));
        }
    }
}
