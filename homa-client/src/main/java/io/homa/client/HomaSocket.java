package io.homa.client;

import io.homa.client.control.MessageEventDecoder;
import io.homa.client.control.RpcErrorEventDecoder;
import io.homa.codecs.HomaWire;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.io.File;
import java.util.ArrayDeque;
import java.nio.MappedByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Homa socket: one port, any number of peers, requests and responses as whole messages.
 * <p>
 * As with Linux Homa, a new socket has an automatic client port (32768 or above); {@link #bind(int)} gives it a
 * server port (1..32767) and only then does it accept requests.
 * <p>
 * <b>Threads.</b> Every method is thread-safe and many threads may share one socket. {@link #send}, {@link #reply}
 * and {@link #abort} never wait on each other beyond a short lock on the send region. {@link #poll} and
 * {@link #receive} serialise on a poll lock and run the handler while holding it: a handler may send, reply,
 * abort and {@link #retain()}, but must not poll or receive on the same socket.
 * <p>
 * <b>Memory.</b> Outgoing messages are copied once into the socket's mapped send region; incoming messages are
 * written once by the driver into the socket's mapped receive pool and read there in place.
 */
public final class HomaSocket implements AutoCloseable
{
    /** Send flag: the response is delivered only to {@link #receive(long, MessageHandler, long)} for that id. */
    public static final int FLAG_PRIVATE = 0x01;

    private final Homa homa;
    private final long socketId;
    private final MappedByteBuffer fileBuffer;
    private final UnsafeBuffer poolBuffer;
    private final UnsafeBuffer sendRegion;
    private final OneToOneRingBuffer eventRing;
    private final ManyToOneRingBuffer returnRing;
    private final OneToOneRingBuffer releaseRing;
    private final BuddyAllocator sendAllocator;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock pollLock = new ReentrantLock();
    private final MessageEventDecoder messageDecoder = new MessageEventDecoder();
    private final RpcErrorEventDecoder errorDecoder = new RpcErrorEventDecoder();
    private final Long2ObjectHashMap<PrivateOutcome> privateOutcomes = new Long2ObjectHashMap<>();
    private final ArrayDeque<PrivateOutcome> deferred = new ArrayDeque<>();
    private final IdleStrategy sendIdle = new BackoffIdleStrategy(1, 10, 1000, 100_000);
    private final org.agrona.concurrent.MessageHandler releaseHandler = this::onRelease;
    private final org.agrona.concurrent.MessageHandler eventHandler = this::onEvent;
    private volatile int port;
    private volatile boolean isClosed;

    private MessageHandler activeHandler;
    private boolean isRetained;
    private int currentPoolOffset = -1;

    HomaSocket(final Homa homa, final long socketId, final int port)
    {
        this.homa = homa;
        this.socketId = socketId;
        this.port = port;

        final File file = SocketFileDescriptor.socketFile(homa.context().homaDirectory(), socketId);
        fileBuffer = IoUtil.mapExistingFile(file, "socket " + socketId);
        final UnsafeBuffer meta = SocketFileDescriptor.metaDataBuffer(fileBuffer);
        if (SocketFileDescriptor.SOCKET_FILE_VERSION != meta.getIntVolatile(SocketFileDescriptor.VERSION_OFFSET))
        {
            IoUtil.unmap(fileBuffer);
            throw new HomaException(HomaError.EPROTONOSUPPORT, "socket file layout not known: " + file);
        }
        poolBuffer = SocketFileDescriptor.poolBuffer(fileBuffer, meta);
        sendRegion = SocketFileDescriptor.sendRegionBuffer(fileBuffer, meta);
        eventRing = new OneToOneRingBuffer(SocketFileDescriptor.eventRingBuffer(fileBuffer, meta));
        returnRing = new ManyToOneRingBuffer(SocketFileDescriptor.returnRingBuffer(fileBuffer, meta));
        releaseRing = new OneToOneRingBuffer(SocketFileDescriptor.releaseRingBuffer(fileBuffer, meta));
        sendAllocator = new BuddyAllocator(
            sendRegion.capacity(), meta.getInt(SocketFileDescriptor.MIN_BLOCK_LENGTH_OFFSET));
    }

    /**
     * @return the driver's id for this socket.
     */
    public long socketId()
    {
        return socketId;
    }

    /**
     * @return the socket's port: automatic (32768 or above) until bound, then the server port.
     */
    public int port()
    {
        return port;
    }

    /**
     * @return true once bound to a server port, so that it accepts requests.
     */
    public boolean isServer()
    {
        return port < HomaWire.HOMA_MIN_DEFAULT_PORT;
    }

    /**
     * Gives the socket a server port; from then on it accepts requests there.
     *
     * @param serverPort 1..32767.
     * @throws HomaException EINVAL for a port out of range, EADDRINUSE if another socket has it.
     */
    public void bind(final int serverPort)
    {
        ensureOpen();
        homa.bind(this, serverPort);
        port = serverPort;
    }

    /**
     * Sends a request.
     *
     * @param dest   the server.
     * @param buffer the request bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @param cookie given back with the response or failure.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for a bad length, ENOMEM if the send region cannot take the message.
     */
    public long send(
        final HomaAddress dest, final DirectBuffer buffer, final int offset, final int length, final long cookie)
    {
        return send(dest, buffer, offset, length, cookie, 0);
    }

    /**
     * Sends a request with flags.
     *
     * @param dest   the server.
     * @param buffer the request bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @param cookie given back with the response or failure.
     * @param flags  0 or {@link #FLAG_PRIVATE}.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for bad arguments, ENOMEM if the send region cannot take the message.
     */
    public long send(
        final HomaAddress dest,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long cookie,
        final int flags)
    {
        ensureOpen();
        validateMessage(buffer, offset, length);
        if (null == dest)
        {
            throw new HomaException(HomaError.EINVAL, "destination is null");
        }
        if (0 != (flags & ~FLAG_PRIVATE))
        {
            throw new HomaException(HomaError.EINVAL, "unknown send flags: 0x" + Integer.toHexString(flags));
        }

        final int sendOffset = copyIntoSendRegion(buffer, offset, length);
        final long rpcId = homa.nextRpcId();
        final DriverProxy proxy = homa.driverProxy();
        while (!proxy.sendRequest(socketId, rpcId, cookie, sendOffset, length, flags, dest))
        {
            awaitCommandSpace(sendOffset);
        }
        return rpcId;
    }

    /**
     * Sends the response of a request this socket received. A reply to an id that no longer exists (aborted,
     * timed out, already answered) is ignored by the driver and counted, as Linux's sendmsg returns 0.
     *
     * @param id     the request's id (odd).
     * @param buffer the response bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @throws HomaException EINVAL for an even id or a bad length, ENOMEM if the send region is full.
     */
    public void reply(final long id, final DirectBuffer buffer, final int offset, final int length)
    {
        ensureOpen();
        if (0 == (id & 1))
        {
            throw new HomaException(HomaError.EINVAL, "reply needs a request id (odd): " + id);
        }
        validateMessage(buffer, offset, length);

        final int sendOffset = copyIntoSendRegion(buffer, offset, length);
        final DriverProxy proxy = homa.driverProxy();
        while (!proxy.sendReply(socketId, id, sendOffset, length))
        {
            awaitCommandSpace(sendOffset);
        }
    }

    /**
     * Aborts a client RPC of this socket: it completes with ECANCELED through the receive path.
     *
     * @param id the RPC id (even).
     * @throws HomaException EINVAL for an odd id.
     */
    public void abort(final long id)
    {
        ensureOpen();
        if (0 == id || 0 != (id & 1))
        {
            throw new HomaException(HomaError.EINVAL, "abort needs a client RPC id (even, non-zero): " + id);
        }
        homa.offerCommand(() -> homa.driverProxy().abortRpc(socketId, id, HomaError.ECANCELED));
    }

    /**
     * Aborts every client RPC of this socket; each completes with ECANCELED.
     */
    public void abortAll()
    {
        ensureOpen();
        homa.offerCommand(() -> homa.driverProxy().abortRpc(socketId, 0, HomaError.ECANCELED));
    }

    /**
     * Delivers up to {@code limit} waiting messages and failures to the handler, without blocking.
     * Responses of private RPCs are held for {@link #receive(long, MessageHandler, long)}.
     *
     * @param handler gets each message or failure.
     * @param limit   most events to deliver.
     * @return events delivered.
     */
    public int poll(final MessageHandler handler, final int limit)
    {
        homa.onApplicationCall();
        ensureOpen();
        if (pollLock.isHeldByCurrentThread())
        {
            throw new IllegalStateException("poll from inside a handler of the same socket");
        }
        pollLock.lock();
        try
        {
            int delivered = 0;
            while (delivered < limit && !deferred.isEmpty())
            {
                deliverPrivate(deferred.poll(), handler);
                delivered++;
            }
            if (delivered >= limit)
            {
                return delivered;
            }
            activeHandler = handler;
            return delivered + eventRing.read(eventHandler, limit - delivered);
        }
        finally
        {
            activeHandler = null;
            pollLock.unlock();
        }
    }

    /**
     * Waits until at least one message or failure is delivered, or the timeout passes.
     *
     * @param handler   gets each message or failure.
     * @param timeoutNs how long to wait.
     * @return events delivered, 0 on timeout.
     */
    public int receive(final MessageHandler handler, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1000, 100_000);
        while (true)
        {
            final int events = poll(handler, Integer.MAX_VALUE);
            if (events > 0)
            {
                return events;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                return 0;
            }
            homa.checkDriverHeartbeat();
            homa.idle(idle);
        }
    }

    /**
     * Waits for the response (or failure) of one private RPC.
     *
     * @param id        the RPC id returned by a send with {@link #FLAG_PRIVATE}.
     * @param handler   gets the response or failure.
     * @param timeoutNs how long to wait.
     * @return true if delivered, false on timeout.
     */
    public boolean receive(final long id, final MessageHandler handler, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1000, 100_000);
        while (true)
        {
            ensureOpen();
            pollLock.lock();
            try
            {
                final PrivateOutcome outcome = privateOutcomes.remove(id);
                if (null != outcome)
                {
                    deliverPrivate(outcome, handler);
                    return true;
                }
                activeHandler = null;
                eventRing.read(eventHandler, Integer.MAX_VALUE);
                final PrivateOutcome arrived = privateOutcomes.remove(id);
                if (null != arrived)
                {
                    deliverPrivate(arrived, handler);
                    return true;
                }
            }
            finally
            {
                pollLock.unlock();
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            homa.checkDriverHeartbeat();
            homa.idle(idle);
        }
    }

    /**
     * Called from inside a handler: keep the current message's bytes after the handler returns.
     *
     * @return a token for {@link #release(long)}.
     * @throws IllegalStateException outside a handler call.
     */
    public long retain()
    {
        if (!pollLock.isHeldByCurrentThread() || currentPoolOffset < 0)
        {
            throw new IllegalStateException("retain() is only valid inside onMessage");
        }
        isRetained = true;
        return currentPoolOffset;
    }

    /**
     * Gives a retained message's bytes back to the receive pool.
     *
     * @param token what {@link #retain()} returned.
     */
    public void release(final long token)
    {
        returnPoolBlock((int)token);
    }

    /**
     * @return the receive pool, for reading a retained message after its handler returned.
     */
    public DirectBuffer receivePool()
    {
        return poolBuffer;
    }

    /**
     * @return true once closed.
     */
    public boolean isClosed()
    {
        return isClosed;
    }

    /**
     * Closes the socket: its RPCs end and the driver frees its port and memory.
     */
    public void close()
    {
        if (isClosed)
        {
            return;
        }
        pollLock.lock();
        sendLock.lock();
        try
        {
            if (isClosed)
            {
                return;
            }
            isClosed = true;
            homa.removeSocket(this);
        }
        finally
        {
            sendLock.unlock();
            pollLock.unlock();
            IoUtil.unmap(fileBuffer);
        }
    }

    private void deliverPrivate(final PrivateOutcome outcome, final MessageHandler handler)
    {
        if (0 != outcome.errorCode)
        {
            handler.onError(outcome.id, outcome.cookie, outcome.errorCode);
            return;
        }
        deliverMessage(handler, outcome.id, outcome.cookie, outcome.poolOffset, outcome.length);
    }

    private void onEvent(final int msgTypeId, final org.agrona.MutableDirectBuffer buffer, final int index, final int length)
    {
        if (MessageEventDecoder.TEMPLATE_ID == msgTypeId)
        {
            messageDecoder.wrap(buffer, index, MessageEventDecoder.BLOCK_LENGTH, MessageEventDecoder.SCHEMA_VERSION);
            final long id = messageDecoder.rpcId();
            final long cookie = messageDecoder.completionCookie();
            final int poolOffset = messageDecoder.poolOffset();
            final int messageLength = messageDecoder.length();
            if (0 != (messageDecoder.flags() & FLAG_PRIVATE))
            {
                privateOutcomes.put(id, new PrivateOutcome(id, cookie, poolOffset, messageLength, 0));
                return;
            }
            if (null == activeHandler)
            {
                deferred.add(new PrivateOutcome(id, cookie, poolOffset, messageLength, 0));
                return;
            }
            deliverMessage(activeHandler, id, cookie, poolOffset, messageLength);
        }
        else if (RpcErrorEventDecoder.TEMPLATE_ID == msgTypeId)
        {
            errorDecoder.wrap(buffer, index, RpcErrorEventDecoder.BLOCK_LENGTH, RpcErrorEventDecoder.SCHEMA_VERSION);
            final long id = errorDecoder.rpcId();
            final long cookie = errorDecoder.completionCookie();
            final int errorCode = errorDecoder.errorCode();
            if (0 != (errorDecoder.flags() & FLAG_PRIVATE))
            {
                privateOutcomes.put(id, new PrivateOutcome(id, cookie, -1, 0, errorCode));
                return;
            }
            if (null == activeHandler)
            {
                deferred.add(new PrivateOutcome(id, cookie, -1, 0, errorCode));
                return;
            }
            activeHandler.onError(id, cookie, errorCode);
        }
    }

    private void deliverMessage(
        final MessageHandler handler, final long id, final long cookie, final int poolOffset, final int length)
    {
        currentPoolOffset = poolOffset;
        isRetained = false;
        try
        {
            handler.onMessage(id, cookie, poolBuffer, poolOffset, length);
        }
        finally
        {
            if (!isRetained)
            {
                returnPoolBlock(poolOffset);
            }
            currentPoolOffset = -1;
            isRetained = false;
        }
    }

    private void returnPoolBlock(final int poolOffset)
    {
        if (!tryReturnPoolBlock(poolOffset))
        {
            awaitReturnPoolBlock(poolOffset);
        }
    }

    private boolean tryReturnPoolBlock(final int poolOffset)
    {
        final int index = returnRing.tryClaim(SocketFileDescriptor.RETURN_POOL_BLOCK_MSG_TYPE_ID, Integer.BYTES);
        if (index > 0)
        {
            returnRing.buffer().putInt(index, poolOffset);
            returnRing.commit(index);
            return true;
        }
        return false;
    }

    private void awaitReturnPoolBlock(final int poolOffset)
    {
        final long deadlineNs = System.nanoTime() + homa.context().driverTimeoutNs();
        final IdleStrategy idle = new BackoffIdleStrategy(1, 10, 1000, 100_000);
        while (!tryReturnPoolBlock(poolOffset))
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new DriverTimeoutException("receive pool return ring stayed full");
            }
            homa.idle(idle);
        }
    }

    private int copyIntoSendRegion(final DirectBuffer buffer, final int offset, final int length)
    {
        sendLock.lock();
        try
        {
            releaseRing.read(releaseHandler, Integer.MAX_VALUE);
            int sendOffset = sendAllocator.allocate(length);
            if (sendOffset < 0)
            {
                releaseRing.read(releaseHandler, Integer.MAX_VALUE);
                sendOffset = sendAllocator.allocate(length);
                if (sendOffset < 0)
                {
                    throw new HomaException(HomaError.ENOMEM,
                        "send region full: " + sendAllocator.freeBytes() + " bytes free, message " + length);
                }
            }
            sendRegion.putBytes(sendOffset, buffer, offset, length);
            return sendOffset;
        }
        finally
        {
            sendLock.unlock();
        }
    }

    private void awaitCommandSpace(final int sendOffset)
    {
        try
        {
            homa.checkDriverHeartbeat();
            homa.idle(sendIdle);
        }
        catch (final RuntimeException ex)
        {
            sendLock.lock();
            try
            {
                sendAllocator.free(sendOffset);
            }
            finally
            {
                sendLock.unlock();
            }
            throw ex;
        }
    }

    private void onRelease(final int msgTypeId, final org.agrona.MutableDirectBuffer buffer, final int index, final int length)
    {
        sendAllocator.free(buffer.getInt(index));
    }

    private void ensureOpen()
    {
        if (isClosed)
        {
            throw new HomaException(HomaError.ESHUTDOWN, "socket is closed");
        }
        homa.ensureOpen();
    }

    private static void validateMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        if (null == buffer)
        {
            throw new HomaException(HomaError.EINVAL, "message buffer is null");
        }
        if (length <= 0 || length > HomaWire.HOMA_MAX_MESSAGE_LENGTH)
        {
            throw new HomaException(HomaError.EINVAL,
                "message length must be in 1.." + HomaWire.HOMA_MAX_MESSAGE_LENGTH + ": " + length);
        }
        if (offset < 0 || (long)offset + length > buffer.capacity())
        {
            throw new HomaException(HomaError.EINVAL,
                "message [" + offset + ", " + ((long)offset + length) + ") outside buffer of " + buffer.capacity());
        }
    }

    private record PrivateOutcome(long id, long cookie, int poolOffset, int length, int errorCode)
    {
    }
}
