package io.homa.driver.protocol;

import io.homa.client.internal.BuddyAllocator;
import io.homa.client.internal.SocketFileDescriptor;
import io.homa.client.internal.control.MessageEventEncoder;
import io.homa.client.internal.control.RpcErrorEventEncoder;
import org.agrona.collections.IntArrayList;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;

/**
 * The driver's side of a Homa socket: its port, its memory from the {@link SocketStore} (event ring, return ring,
 * release ring, receive pool, send region; a file its client maps, in the driver) and the receive-pool allocator,
 * which only the driver uses.
 */
final class DriverSocket
{
    final long socketId;
    final long clientId;
    int port;
    private final SocketStore store;
    private final ByteBuffer mapped;
    final UnsafeBuffer poolBuffer;
    final UnsafeBuffer sendRegion;
    private final UnsafeBuffer metaData;
    private final OneToOneRingBuffer eventRing;
    private final ManyToOneRingBuffer returnRing;
    private final OneToOneRingBuffer releaseRing;
    final BuddyAllocator poolAllocator;
    private final IntArrayList pendingReleases = new IntArrayList();
    private final MessageEventEncoder messageEncoder = new MessageEventEncoder();
    private final RpcErrorEventEncoder errorEncoder = new RpcErrorEventEncoder();
    private final MessageHandler returnHandler;
    private boolean isClosed;
    /** Sockets with sleeping client threads to wake at the end of the duty cycle (shared with the engine). */
    private final java.util.List<DriverSocket> toWake;
    private boolean isWakePending;
    private long wakeSequenceAddress;
    /** RPCs whose incoming message found no pool space, for admission shortest first (SRPT). */
    final BufferWaiters bufferWaiters = new BufferWaiters();
    /** Pool free bytes when the waiters last tried: they try again only after space was freed. */
    long poolFreeBytesSeen = -1;
    /** Pool bytes requests reserve that nothing has earned yet ({@link IncomingLimits}). */
    long unearnedBytes;
    /** This socket's counters in the CnC; null when the counters section had no room left (or none is kept). */
    io.homa.driver.status.SocketCounters counters;

    DriverSocket(
        final SocketStore store,
        final long socketId,
        final long clientId,
        final int port,
        final int eventRingCapacity,
        final int poolLength,
        final int sendRegionLength,
        final int minBlockLength,
        final java.util.List<DriverSocket> toWake)
    {
        this.toWake = toWake;
        this.socketId = socketId;
        this.clientId = clientId;
        this.port = port;

        final int eventLength = eventRingCapacity + RingBufferDescriptor.TRAILER_LENGTH;
        final int returnLength = ringCapacityFor(poolLength / minBlockLength) + RingBufferDescriptor.TRAILER_LENGTH;
        final int releaseLength = ringCapacityFor(sendRegionLength / minBlockLength) +
            RingBufferDescriptor.TRAILER_LENGTH;
        final long fileLength = SocketFileDescriptor.computeFileLength(
            eventLength, returnLength, releaseLength, poolLength, sendRegionLength);
        this.store = store;
        mapped = store.create(socketId, fileLength);

        metaData = SocketFileDescriptor.metaDataBuffer(mapped);
        metaData.putInt(SocketFileDescriptor.EVENT_RING_LENGTH_OFFSET, eventLength);
        metaData.putInt(SocketFileDescriptor.RETURN_RING_LENGTH_OFFSET, returnLength);
        metaData.putInt(SocketFileDescriptor.RELEASE_RING_LENGTH_OFFSET, releaseLength);
        metaData.putInt(SocketFileDescriptor.POOL_LENGTH_OFFSET, poolLength);
        metaData.putInt(SocketFileDescriptor.SEND_REGION_LENGTH_OFFSET, sendRegionLength);
        metaData.putLong(SocketFileDescriptor.SOCKET_ID_OFFSET, socketId);
        metaData.putInt(SocketFileDescriptor.MIN_BLOCK_LENGTH_OFFSET, minBlockLength);
        metaData.putInt(SocketFileDescriptor.PORT_OFFSET, port);

        eventRing = new OneToOneRingBuffer(SocketFileDescriptor.eventRingBuffer(mapped, metaData));
        returnRing = new ManyToOneRingBuffer(SocketFileDescriptor.returnRingBuffer(mapped, metaData));
        releaseRing = new OneToOneRingBuffer(SocketFileDescriptor.releaseRingBuffer(mapped, metaData));
        poolBuffer = SocketFileDescriptor.poolBuffer(mapped, metaData);
        sendRegion = SocketFileDescriptor.sendRegionBuffer(mapped, metaData);
        poolAllocator = new BuddyAllocator(poolLength, minBlockLength);
        returnHandler = (msgTypeId, buffer, index, length) -> poolAllocator.free(buffer.getInt(index));

        wakeSequenceAddress = metaData.addressOffset() + SocketFileDescriptor.WAKE_SEQUENCE_OFFSET;
        metaData.putIntVolatile(SocketFileDescriptor.VERSION_OFFSET, SocketFileDescriptor.SOCKET_FILE_VERSION);
    }

    /**
     * After publishing an event or a released block: if a client thread sleeps on this socket, queue one wake-up
     * for the end of the duty cycle. The fence orders the ring's release store before the read of the count (the
     * client counts itself in, then looks at its rings); the busy path pays the fence and a read, no system call.
     */
    private void onPublished()
    {
        if (isWakePending)
        {
            return;
        }
        java.lang.invoke.VarHandle.fullFence();
        if (metaData.getIntVolatile(SocketFileDescriptor.WAITERS_OFFSET) > 0)
        {
            isWakePending = true;
            toWake.add(this);
        }
    }

    /**
     * Wakes the client threads asleep on this socket: bump the word they wait on, then futex-wake them.
     */
    void wakeWaiters()
    {
        isWakePending = false;
        if (!isClosed)
        {
            metaData.getAndAddInt(SocketFileDescriptor.WAKE_SEQUENCE_OFFSET, 1);
            io.homa.client.internal.Wakeups.futexWakeAll(wakeSequenceAddress);
        }
    }

    /**
     * A ring that can hold one int record for every block of a region (8-byte header + 4 bytes, aligned to 8).
     */
    private static int ringCapacityFor(final int blocks)
    {
        final long needed = (long)blocks * 16;
        return org.agrona.BitUtil.findNextPositivePowerOfTwo((int)Math.min(needed, 1 << 26));
    }

    boolean isServer()
    {
        return port < io.homa.codecs.HomaWire.HOMA_MIN_DEFAULT_PORT;
    }

    void port(final int port)
    {
        this.port = port;
        metaData.putIntVolatile(SocketFileDescriptor.PORT_OFFSET, port);
        if (null != counters)
        {
            counters.port(port);
        }
    }

    /**
     * Takes back receive-pool blocks the application is done with.
     *
     * @return blocks taken back.
     */
    int drainReturns()
    {
        return returnRing.read(returnHandler, Integer.MAX_VALUE);
    }

    /**
     * Counts a message this socket's application handed over to send.
     */
    void countSent(final int length)
    {
        if (null != counters)
        {
            counters.messagesSent.incrementRelease();
            counters.bytesSent.getAndAddRelease(length);
        }
    }

    boolean offerMessage(final Rpc rpc)
    {
        final int index = eventRing.tryClaim(MessageEventEncoder.TEMPLATE_ID, MessageEventEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        messageEncoder.wrap(eventRing.buffer(), index)
            .rpcId(rpc.handle)
            .completionCookie(rpc.cookie)
            .poolOffset(rpc.rx.poolOffset())
            .length(rpc.rx.length())
            .flags(rpc.flags)
            .peerAddress(rpc.peer.ipv4)
            .peerUdpPort(rpc.peer.port)
            .peerPort(rpc.peerPort);
        eventRing.commit(index);
        onPublished();
        if (null != counters)
        {
            counters.messagesReceived.incrementRelease();
            counters.bytesReceived.getAndAddRelease(rpc.rx.length());
        }
        return true;
    }

    boolean offerError(final Rpc rpc)
    {
        final int index = eventRing.tryClaim(RpcErrorEventEncoder.TEMPLATE_ID, RpcErrorEventEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        errorEncoder.wrap(eventRing.buffer(), index)
            .rpcId(rpc.handle)
            .completionCookie(rpc.cookie)
            .errorCode(rpc.errorCode)
            .flags(rpc.flags);
        eventRing.commit(index);
        onPublished();
        if (null != counters)
        {
            counters.rpcErrors.incrementRelease();
        }
        return true;
    }

    /**
     * Hands a send-region block back to the client; keeps it for later if the release ring is full.
     */
    void releaseSendBlock(final int sendOffset)
    {
        if (sendOffset < 0)
        {
            return;
        }
        if (!pendingReleases.isEmpty() || !tryRelease(sendOffset))
        {
            pendingReleases.addInt(sendOffset);
        }
    }

    int flushReleases()
    {
        int flushed = 0;
        while (!pendingReleases.isEmpty() && tryRelease(pendingReleases.getInt(0)))
        {
            pendingReleases.removeAt(0);
            flushed++;
        }
        return flushed;
    }

    private boolean tryRelease(final int sendOffset)
    {
        final int index = releaseRing.tryClaim(SocketFileDescriptor.RELEASE_SEND_BLOCK_MSG_TYPE_ID, Integer.BYTES);
        if (index <= 0)
        {
            return false;
        }
        releaseRing.buffer().putInt(index, sendOffset);
        releaseRing.commit(index);
        onPublished();
        return true;
    }

    boolean isClosed()
    {
        return isClosed;
    }

    void close()
    {
        if (!isClosed)
        {
            // Threads asleep on the socket wake now (and find it closed), not at their sleep's end.
            wakeWaiters();
            isClosed = true;
            store.release(socketId, mapped);
            if (null != counters)
            {
                counters.close();
                counters = null;
            }
        }
    }
}
