package io.homa.client;

import io.homa.client.internal.DirectDriver;
import io.homa.client.internal.PollContention;
import io.homa.client.internal.SocketFileDescriptor;
import io.homa.client.internal.Wakeups;
import io.homa.client.internal.control.MessageEventDecoder;
import io.homa.client.internal.control.RpcErrorEventDecoder;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Homa socket: one port, any number of peers, requests and responses as whole messages.
 * <p>
 * As with Linux Homa, a new socket has an automatic client port (32768 or above); {@link #bind(int)} gives it a
 * server port (1..32767) and only then does it accept requests.
 * <p>
 * <b>Threads.</b> Every method is thread-safe and many threads may share one socket. {@link #send}, {@link #reply}
 * and {@link #abort} never wait on each other beyond a short lock on the send region (held while a message is
 * copied in). {@link #poll} and
 * {@link #receive} serialise on a poll lock and run the handler while holding it: a handler may send, reply,
 * abort and {@link #retain()}, but must not poll or receive on the same socket.
 * <p>
 * <b>Memory.</b> Outgoing messages are copied once into the socket's mapped send region (or written there in
 * place after {@link #tryClaim}); incoming messages are written once by the driver into the socket's mapped
 * receive pool and read there in place.
 * <p>
 * <b>Back-pressure.</b> A message holds its block of the send region until the driver is done with it (a request
 * until its response arrives, a response until the client acknowledges it). When the region is full,
 * {@link #trySend} returns {@link #BACK_PRESSURED} and {@link #tryReply} false, while {@link #send} and
 * {@link #reply} wait for room up to a timeout (the driver timeout unless given) and then fail with EAGAIN.
 * {@link #shutdown()} wakes every waiting thread with ESHUTDOWN.
 * <p>
 * <b>Calls.</b> {@link #call(HomaAddress, DirectBuffer, int, int, long)} sends a request and blocks for its
 * response, {@link #callAsync(HomaAddress, DirectBuffer, int, int, long)} returns a {@link CompletableFuture} of
 * it; both throw (or complete with) a {@link HomaException} naming the errno of a failed RPC. They copy the
 * response out of the pool and allocate per call: hot loops use {@link #send} and {@link #poll} or
 * {@link #receive(long, MessageHandler, long)} with a handler made once.
 */
public final class HomaSocket implements AutoCloseable
{
    /** Send flag: the response is delivered only to {@link #receive(long, MessageHandler, long)} for that id. */
    public static final int FLAG_PRIVATE = 0x01;
    /** What {@link #trySend} returns when the send region has no room for the message now: nothing was sent. */
    public static final long BACK_PRESSURED = -1;

    private final Homa homa;
    private final long socketId;
    private final MappedByteBuffer fileBuffer;
    private final UnsafeBuffer poolBuffer;
    private final UnsafeBuffer sendRegion;
    private final OneToOneRingBuffer eventRing;
    private final ManyToOneRingBuffer returnRing;
    private final SendRegion sendSpace;
    private final ReentrantLock pollLock = new ReentrantLock();
    private final MessageEventDecoder messageDecoder = new MessageEventDecoder();
    private final RpcErrorEventDecoder errorDecoder = new RpcErrorEventDecoder();
    private final Long2ObjectHashMap<PrivateOutcome> privateOutcomes = new Long2ObjectHashMap<>();
    private final ArrayDeque<PrivateOutcome> deferred = new ArrayDeque<>();
    /** Holders of consumed outcomes, for reuse (bounded: a burst does not pin its peak forever). */
    private final ArrayDeque<PrivateOutcome> spareOutcomes = new ArrayDeque<>();
    private static final int MAX_SPARE_OUTCOMES = 1024;
    private final IdleStrategy sendIdle = new BackoffIdleStrategy(1, 10, 1000, 100_000);
    /** The abortAll command, made once (a lambda per call would allocate on every abort). */
    private final java.util.function.BooleanSupplier abortAllCommand = this::tryAbortAll;
    private final PollContention pollContention = new PollContention();
    /** Longest single sleep of a waiting thread: heartbeat, shutdown and keepalive checks run at least this often. */
    private static final long MAX_SLEEP_NS = 1_000_000_000L;

    private final UnsafeBuffer meta;
    private final java.util.concurrent.atomic.AtomicInteger sleepers = new java.util.concurrent.atomic.AtomicInteger();
    private final OneToOneRingBuffer releaseRing;
    private final long wakeSequenceAddress;
    private final java.util.function.BooleanSupplier hasEvents = this::hasEvents;
    private final java.util.function.BooleanSupplier hasReleases = this::hasReleases;
    private final org.agrona.concurrent.MessageHandler eventHandler = this::onEvent;
    private volatile int port;
    private volatile boolean isClosed;
    private volatile boolean isShutdown;

    private MessageHandler activeHandler;
    private boolean isRetained;
    private int currentPoolOffset = -1;
    /** Retained blocks: pool offset to the generation its token carries, so a stale or made-up token is refused. */
    private final org.agrona.collections.Int2IntHashMap retainedGenerations =
        new org.agrona.collections.Int2IntHashMap(0);
    private int retainGeneration;
    private long currentToken;
    /** Requests delivered here and not yet answered: a reply must name one of them. */
    private final org.agrona.collections.LongHashSet requestsInService = new org.agrona.collections.LongHashSet();
    /** Client RPCs sent here whose outcome has not come back yet: an abort must name one of them. */
    private final org.agrona.collections.LongHashSet requestsOutstanding = new org.agrona.collections.LongHashSet();
    /** Private RPCs a call gave up on (timed out): their outcomes are dropped, blocks returned. Under pollLock. */
    private final org.agrona.collections.LongHashSet abandoned = new org.agrona.collections.LongHashSet();
    /** Futures of {@link #callAsync} by RPC id; guarded by itself, as is {@link #asyncThread}. */
    private final Long2ObjectHashMap<AsyncCall> asyncCalls = new Long2ObjectHashMap<>();
    /** Futures to complete once the poll lock is free, so that their stages never run under it. */
    private final ConcurrentLinkedQueue<Runnable> completions = new ConcurrentLinkedQueue<>();
    /** Non-zero while futures are pending: the event path looks them up only then. */
    private volatile int asyncCallCount;
    private Thread asyncThread;

    HomaSocket(final Homa homa, final long socketId, final int port)
    {
        this.homa = homa;
        this.socketId = socketId;
        this.port = port;

        final File file = SocketFileDescriptor.socketFile(homa.context().homaDirectory(), socketId);
        fileBuffer = IoUtil.mapExistingFile(file, "socket " + socketId);
        meta = SocketFileDescriptor.metaDataBuffer(fileBuffer);
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
        sendSpace = new SendRegion(sendRegion, meta.getInt(SocketFileDescriptor.MIN_BLOCK_LENGTH_OFFSET), releaseRing);
        wakeSequenceAddress = meta.addressOffset() + SocketFileDescriptor.WAKE_SEQUENCE_OFFSET;
    }

    /**
     * Bytes of the send region free now, after taking back the blocks the driver is done with: what a send could
     * find without waiting (split across blocks, so one message may need less than this to fail).
     *
     * @return free bytes.
     */
    public long sendRegionFreeBytes()
    {
        ensureOpen();
        return sendSpace.freeBytesAfterReturns();
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
     * Sends a request, waiting up to the driver timeout while the send region is full.
     *
     * @param dest   the server.
     * @param buffer the request bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @param cookie given back with the response or failure.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for a bad length, EAGAIN if the send region stayed full, ESHUTDOWN.
     */
    public long send(
        final HomaAddress dest, final DirectBuffer buffer, final int offset, final int length, final long cookie)
    {
        return send(dest, buffer, offset, length, cookie, 0);
    }

    /**
     * Sends a request with flags, waiting up to the driver timeout while the send region is full.
     *
     * @param dest   the server.
     * @param buffer the request bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @param cookie given back with the response or failure.
     * @param flags  0 or {@link #FLAG_PRIVATE}.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for bad arguments, EAGAIN if the send region stayed full, ESHUTDOWN.
     */
    public long send(
        final HomaAddress dest,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long cookie,
        final int flags)
    {
        return send(dest, buffer, offset, length, cookie, flags, homa.context().driverTimeoutNs());
    }

    /**
     * Sends a request; while the send region is full (the messages in it are not yet done with) the caller
     * waits, up to {@code timeoutNs}. The message is copied once, into the region.
     *
     * @param dest      the server.
     * @param buffer    the request bytes.
     * @param offset    where they start.
     * @param length    how many (1..1,000,000).
     * @param cookie    given back with the response or failure.
     * @param flags     0 or {@link #FLAG_PRIVATE}.
     * @param timeoutNs longest wait for room; 0 fails at once.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for bad arguments, EAGAIN if the region stayed full for the timeout,
     *                       ESHUTDOWN if the socket is (or gets) shut down or closed.
     */
    public long send(
        final HomaAddress dest,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long cookie,
        final int flags,
        final long timeoutNs)
    {
        validateRequest(dest, buffer, offset, length, flags);
        return submitRequest(dest, awaitCopy(buffer, offset, length, timeoutNs), length, cookie, flags);
    }

    /**
     * Sends a request if the send region has room for it now; never waits for room.
     *
     * @param dest   the server.
     * @param buffer the request bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @param cookie given back with the response or failure.
     * @param flags  0 or {@link #FLAG_PRIVATE}.
     * @return the RPC id (even), or {@link #BACK_PRESSURED} if the region is full (nothing was sent).
     * @throws HomaException EINVAL for bad arguments, ESHUTDOWN.
     */
    public long trySend(
        final HomaAddress dest,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long cookie,
        final int flags)
    {
        validateRequest(dest, buffer, offset, length, flags);
        final int sendOffset = checkAllocation(sendSpace.tryCopy(buffer, offset, length));
        if (sendOffset < 0)
        {
            return BACK_PRESSURED;
        }
        return submitRequest(dest, sendOffset, length, cookie, flags);
    }

    /**
     * Zero-copy send: claims {@code length} bytes of the send region for the application to write in place, then
     * {@link SendClaim#commitRequest} or {@link SendClaim#commitReply} them (or {@link SendClaim#abort()}). The
     * bytes are not copied on the client side.
     *
     * @param length the message length (1..1,000,000).
     * @param claim  filled in on success.
     * @return false if the send region has no room now (back-pressure: try again later).
     * @throws HomaException EINVAL for a bad length, ESHUTDOWN.
     * @throws IllegalStateException if {@code claim} already holds space.
     */
    public boolean tryClaim(final int length, final SendClaim claim)
    {
        ensureOpen();
        if (length <= 0 || length > HomaWire.HOMA_MAX_MESSAGE_LENGTH)
        {
            throw new HomaException(HomaError.EINVAL,
                "message length must be in 1.." + HomaWire.HOMA_MAX_MESSAGE_LENGTH + ": " + length);
        }
        if (claim.isClaimed())
        {
            throw new IllegalStateException("claim already holds space: commit or abort it first");
        }
        final int sendOffset = checkAllocation(sendSpace.tryAllocate(length));
        if (sendOffset < 0)
        {
            return false;
        }
        claim.claimed(this, sendSpace.buffer(), sendOffset, length);
        return true;
    }

    /**
     * Sends a request and waits for its response: a private RPC ({@link #FLAG_PRIVATE}), so calls from many
     * threads, and the socket's other traffic, do not mix. The response is copied out of the receive pool.
     *
     * @param dest      the server.
     * @param buffer    the request bytes.
     * @param offset    where they start.
     * @param length    how many (1..1,000,000).
     * @param timeoutNs longest wait for the whole call (room in the send region, then the response).
     * @return the response: a buffer of its own whose capacity is the response length.
     * @throws HomaException naming the errno: ETIMEDOUT when no response came within the timeout (the RPC is
     *                       then aborted), the RPC's error when it failed (ENOTCONN: no socket at the server
     *                       port, ETIMEDOUT: the server went silent, ...), EINVAL, EAGAIN or ESHUTDOWN as for
     *                       {@link #send}.
     */
    public DirectBuffer call(
        final HomaAddress dest, final DirectBuffer buffer, final int offset, final int length, final long timeoutNs)
    {
        final UnsafeBuffer[] response = new UnsafeBuffer[1];
        call(dest, buffer, offset, length, timeoutNs,
            (id, cookie, pool, at, responseLength) -> response[0] = copy(pool, at, responseLength));
        return response[0];
    }

    /**
     * Sends a request and waits for its response, which {@code onResponse} reads in place from the receive pool
     * (valid only during that call) in the calling thread.
     *
     * @param dest       the server.
     * @param buffer     the request bytes.
     * @param offset     where they start.
     * @param length     how many (1..1,000,000).
     * @param timeoutNs  longest wait for the whole call (room in the send region, then the response).
     * @param onResponse gets the response.
     * @throws HomaException as {@link #call(HomaAddress, DirectBuffer, int, int, long)} does.
     */
    public void call(
        final HomaAddress dest,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long timeoutNs,
        final MessageListener onResponse)
    {
        Objects.requireNonNull(onResponse, "onResponse");
        final long startNs = System.nanoTime();
        final long id = send(dest, buffer, offset, length, 0, FLAG_PRIVATE, timeoutNs);
        final CallOutcome outcome = new CallOutcome(onResponse);
        if (!receive(id, outcome, Math.max(0, timeoutNs - (System.nanoTime() - startNs))))
        {
            abandon(id);
            throw new HomaException(HomaError.ETIMEDOUT,
                "no response from " + dest + " within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
        }
        if (0 != outcome.errorCode)
        {
            throw new HomaException(outcome.errorCode, "call to " + dest + " failed");
        }
    }

    /**
     * Sends a request and returns at once with the future of its response (a private RPC, as
     * {@link #call(HomaAddress, DirectBuffer, int, int, long)}). A thread of the socket waits for the responses of
     * pending calls (it starts with the first and ends when none is left); the future completes in that thread or
     * in one polling the socket, after the poll lock is released: use the {@code *Async} stage methods to run
     * slow stages elsewhere.
     *
     * @param dest      the server.
     * @param buffer    the request bytes (copied before this returns).
     * @param offset    where they start.
     * @param length    how many (1..1,000,000).
     * @param timeoutNs longest wait for the whole call.
     * @return the response (a buffer of its own), or a {@link HomaException} naming the errno as
     *         {@link #call(HomaAddress, DirectBuffer, int, int, long)} throws it; ESHUTDOWN for calls pending when
     *         the socket shuts down or closes.
     */
    public CompletableFuture<DirectBuffer> callAsync(
        final HomaAddress dest, final DirectBuffer buffer, final int offset, final int length, final long timeoutNs)
    {
        final long startNs = System.nanoTime();
        final long id;
        try
        {
            id = send(dest, buffer, offset, length, 0, FLAG_PRIVATE, timeoutNs);
        }
        catch (final HomaException ex)
        {
            return CompletableFuture.failedFuture(ex);
        }
        final AsyncCall call = new AsyncCall(id, dest, startNs + timeoutNs);
        pollLock.lock();
        try
        {
            // The response may be here already, read by another thread's poll before the call was registered.
            final PrivateOutcome arrived = isClosed ? null : privateOutcomes.remove(id);
            if (null != arrived)
            {
                completePrivate(call, arrived.poolOffset, arrived.length, arrived.errorCode);
                recycle(arrived);
            }
            else if (isClosed || isShutdown)
            {
                completions.add(call.failure(HomaError.ESHUTDOWN));
            }
            else
            {
                synchronized (asyncCalls)
                {
                    asyncCalls.put(id, call);
                    asyncCallCount = asyncCalls.size();
                    if (null == asyncThread)
                    {
                        asyncThread = new Thread(this::runAsyncCalls, "homa-calls-" + socketId);
                        asyncThread.setDaemon(true);
                        asyncThread.start();
                    }
                }
            }
        }
        finally
        {
            pollLock.unlock();
        }
        drainCompletions();
        return call.future;
    }

    /**
     * The socket's call thread: reads the event ring while futures are pending, times them out, then ends.
     */
    private void runAsyncCalls()
    {
        long waitStartNs = System.nanoTime();
        try
        {
            while (true)
            {
                final long nowNs = System.nanoTime();
                long wakeNs = nowNs + MAX_SLEEP_NS;
                List<AsyncCall> expired = null;
                synchronized (asyncCalls)
                {
                    if (asyncCalls.isEmpty() || isClosed || isShutdown)
                    {
                        asyncThread = null;
                        break;
                    }
                    for (final AsyncCall call : asyncCalls.values())
                    {
                        if (nowNs - call.deadlineNs >= 0)
                        {
                            expired = null == expired ? new ArrayList<>() : expired;
                            expired.add(call);
                        }
                        else if (call.deadlineNs - wakeNs < 0)
                        {
                            wakeNs = call.deadlineNs;
                        }
                    }
                    if (null != expired)
                    {
                        expired.forEach((call) -> asyncCalls.remove(call.id));
                        asyncCallCount = asyncCalls.size();
                    }
                }
                if (null != expired)
                {
                    for (final AsyncCall call : expired)
                    {
                        abandon(call.id);
                        call.future.completeExceptionally(new HomaException(HomaError.ETIMEDOUT,
                            "no response from " + call.dest + " within the call's timeout"));
                    }
                    continue;
                }
                int events = 0;
                pollLock.lock();
                try
                {
                    if (!isClosed)
                    {
                        activeHandler = null;
                        events = eventRing.read(eventHandler, Integer.MAX_VALUE);
                    }
                }
                finally
                {
                    pollLock.unlock();
                }
                drainCompletions();
                if (events > 0)
                {
                    waitStartNs = System.nanoTime();
                    continue;
                }
                homa.checkDriverHeartbeat();
                awaitDriver(waitStartNs, wakeNs, hasEvents);
            }
        }
        catch (final RuntimeException ex)
        {
            synchronized (asyncCalls)
            {
                asyncThread = null;
            }
            failAsyncCalls(ex);
        }
        if (isClosed || isShutdown)
        {
            failAsyncCalls(new HomaException(HomaError.ESHUTDOWN, "socket is shut down"));
        }
    }

    private void failAsyncCalls(final RuntimeException failure)
    {
        final List<AsyncCall> pending;
        synchronized (asyncCalls)
        {
            pending = new ArrayList<>(asyncCalls.values());
            asyncCalls.clear();
            asyncCallCount = 0;
        }
        pending.forEach((call) -> call.future.completeExceptionally(failure));
        drainCompletions();
    }

    /**
     * A call gave up on a private RPC: its outcome, here already or still to come, is dropped and the RPC aborted.
     */
    private void abandon(final long id)
    {
        pollLock.lock();
        try
        {
            if (isClosed)
            {
                return;
            }
            final PrivateOutcome arrived = privateOutcomes.remove(id);
            if (null != arrived)
            {
                if (arrived.poolOffset >= 0)
                {
                    returnPoolBlock(arrived.poolOffset);
                }
                recycle(arrived);
                return;
            }
            abandoned.add(id);
        }
        finally
        {
            pollLock.unlock();
        }
        try
        {
            abort(id);
        }
        catch (final HomaException ex)
        {
            // Shut down meanwhile: the driver ends the RPC with the socket.
        }
    }

    /**
     * The event path's look at a private outcome: true if a call abandoned it or a future takes it.
     */
    private boolean claimPrivate(final long id, final int poolOffset, final int length, final int errorCode)
    {
        if (!abandoned.isEmpty() && abandoned.remove(id))
        {
            if (poolOffset >= 0)
            {
                returnPoolBlock(poolOffset);
            }
            return true;
        }
        if (0 == asyncCallCount)
        {
            return false;
        }
        final AsyncCall call;
        synchronized (asyncCalls)
        {
            call = asyncCalls.remove(id);
            asyncCallCount = asyncCalls.size();
        }
        if (null == call)
        {
            return false;
        }
        completePrivate(call, poolOffset, length, errorCode);
        return true;
    }

    /**
     * Copies the response out (returning its block) and queues the future's completion; under the poll lock.
     */
    private void completePrivate(final AsyncCall call, final int poolOffset, final int length, final int errorCode)
    {
        if (0 != errorCode)
        {
            completions.add(call.failure(errorCode));
            return;
        }
        final UnsafeBuffer response = copy(poolBuffer, poolOffset, length);
        returnPoolBlock(poolOffset);
        completions.add(() -> call.future.complete(response));
    }

    private void drainCompletions()
    {
        if (pollLock.isHeldByCurrentThread())
        {
            return;
        }
        Runnable completion;
        while (null != (completion = completions.poll()))
        {
            completion.run();
        }
    }

    private static UnsafeBuffer copy(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new UnsafeBuffer(bytes);
    }

    void checkDestination(final HomaAddress dest)
    {
        homa.checkDestination(dest);
    }

    void ensureOpenOrFree(final int sendOffset)
    {
        try
        {
            ensureOpen();
        }
        catch (final RuntimeException ex)
        {
            freeSendBlock(sendOffset);
            throw ex;
        }
    }

    void freeSendBlock(final int sendOffset)
    {
        if (!isClosed)
        {
            sendSpace.free(sendOffset);
        }
    }

    long submitRequest(final HomaAddress dest, final int sendOffset, final int length, final long cookie,
        final int flags)
    {
        final long rpcId = homa.nextRpcId();
        final DriverProxy proxy = homa.driverProxy();
        // Known before the driver can answer, so a fast outcome never finds it missing.
        synchronized (requestsOutstanding)
        {
            requestsOutstanding.add(rpcId);
        }
        try
        {
            while (!proxy.sendRequest(socketId, rpcId, cookie, sendOffset, length, flags, dest))
            {
                awaitCommandSpace(sendOffset);
            }
        }
        catch (final RuntimeException ex)
        {
            synchronized (requestsOutstanding)
            {
                requestsOutstanding.remove(rpcId);
            }
            throw ex;
        }
        return rpcId;
    }

    void submitReply(final long id, final int sendOffset, final int length)
    {
        synchronized (requestsInService)
        {
            requestsInService.remove(id);
        }
        final DriverProxy proxy = homa.driverProxy();
        while (!proxy.sendReply(socketId, id, sendOffset, length))
        {
            awaitCommandSpace(sendOffset);
        }
    }

    private void validateRequest(
        final HomaAddress dest, final DirectBuffer buffer, final int offset, final int length, final int flags)
    {
        ensureOpen();
        validateMessage(buffer, offset, length);
        if (null == dest)
        {
            throw new HomaException(HomaError.EINVAL, "destination is null");
        }
        homa.checkDestination(dest);
        if (0 != (flags & ~FLAG_PRIVATE))
        {
            throw new HomaException(HomaError.EINVAL, "unknown send flags: 0x" + Integer.toHexString(flags));
        }
    }

    /**
     * Sends the response of a request this socket received, waiting up to the driver timeout while the send
     * region is full. A reply to a request the driver has discarded meanwhile (its client went away) is ignored by
     * the driver and counted, as Linux's sendmsg returns 0; one to an id this socket never received, or answered
     * already, is refused with EINVAL.
     *
     * @param id     the request's id (odd).
     * @param buffer the response bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @throws HomaException EINVAL for an id that names no request in service here, an unbound socket or a bad
     *                       length, EAGAIN if the send region stayed full, ESHUTDOWN.
     */
    public void reply(final long id, final DirectBuffer buffer, final int offset, final int length)
    {
        reply(id, buffer, offset, length, homa.context().driverTimeoutNs());
    }

    /**
     * Sends the response of a request, waiting up to {@code timeoutNs} while the send region is full.
     *
     * @param id        the request's id (odd).
     * @param buffer    the response bytes.
     * @param offset    where they start.
     * @param length    how many (1..1,000,000).
     * @param timeoutNs longest wait for room; 0 fails at once.
     * @throws HomaException EINVAL for an even id or a bad length, EAGAIN if the region stayed full for the
     *                       timeout, ESHUTDOWN.
     */
    public void reply(final long id, final DirectBuffer buffer, final int offset, final int length,
        final long timeoutNs)
    {
        validateReply(id, buffer, offset, length);
        submitReply(id, awaitCopy(buffer, offset, length, timeoutNs), length);
    }

    /**
     * Sends the response of a request if the send region has room for it now; never waits for room.
     *
     * @param id     the request's id (odd).
     * @param buffer the response bytes.
     * @param offset where they start.
     * @param length how many (1..1,000,000).
     * @return false if the region is full (nothing was sent; try again later).
     * @throws HomaException EINVAL for an even id or a bad length, ESHUTDOWN.
     */
    public boolean tryReply(final long id, final DirectBuffer buffer, final int offset, final int length)
    {
        validateReply(id, buffer, offset, length);
        final int sendOffset = checkAllocation(sendSpace.tryCopy(buffer, offset, length));
        if (sendOffset < 0)
        {
            return false;
        }
        submitReply(id, sendOffset, length);
        return true;
    }

    private void validateReply(final long id, final DirectBuffer buffer, final int offset, final int length)
    {
        ensureOpen();
        checkReplyTarget(id);
        validateMessage(buffer, offset, length);
    }

    /**
     * A reply must name a request this socket received and has not answered.
     *
     * @throws HomaException EINVAL otherwise.
     */
    void checkReplyTarget(final long id)
    {
        if (0 == (id & 1))
        {
            throw new HomaException(HomaError.EINVAL, "reply needs a request id (odd): " + id);
        }
        if (!isServer())
        {
            throw new HomaException(HomaError.EINVAL, "reply on a socket not bound to a server port: " + id);
        }
        synchronized (requestsInService)
        {
            if (!requestsInService.contains(id))
            {
                throw new HomaException(HomaError.EINVAL,
                    "reply to " + id + ": no such request received here, or it was answered already");
            }
        }
    }

    /**
     * Shuts the socket down as Linux's {@code shutdown} does a Homa socket: the driver closes its side (its port
     * is freed and its RPCs end), and every thread waiting in this socket's {@code send}, {@code reply} or
     * {@code receive} wakes with HomaException ESHUTDOWN, as does every later call. {@link #close()} still
     * releases the mappings.
     */
    public void shutdown()
    {
        if (isShutdown || isClosed)
        {
            return;
        }
        isShutdown = true;
        wakeWaiters();
        try
        {
            homa.removeSocket(this);
        }
        finally
        {
            failAsyncCalls(new HomaException(HomaError.ESHUTDOWN, "socket is shut down"));
        }
    }

    private boolean hasEvents()
    {
        return eventRing.size() > 0 || isShutdown || isClosed;
    }

    private boolean hasReleases()
    {
        return releaseRing.size() > 0 || isShutdown || isClosed;
    }

    /**
     * Wakes this process's threads asleep on the socket (the driver does the same when it publishes or closes).
     */
    private void wakeWaiters()
    {
        meta.getAndAddInt(SocketFileDescriptor.WAKE_SEQUENCE_OFFSET, 1);
        Wakeups.futexWakeAll(wakeSequenceAddress);
    }

    /**
     * @return true once {@link #shutdown()} or {@link #close()} was called.
     */
    public boolean isShutdown()
    {
        return isShutdown || isClosed;
    }

    /**
     * The live RPCs of this socket as the driver sees them (Linux's {@code HOMAIOCINFO}); see
     * {@link Homa#rpcInfo(int)}.
     *
     * @return the RPCs, at most as many as fit one answer from the driver.
     */
    public java.util.List<RpcInfo> rpcInfo()
    {
        ensureOpen();
        return homa.rpcInfo(port).rpcs();
    }

    /**
     * Aborts a client RPC of this socket: it completes with ECANCELED through the receive path (unless its
     * outcome is already on its way, as Linux's abort of an RPC that completes meanwhile).
     *
     * @param id the RPC id (even).
     * @throws HomaException EINVAL for an odd id, or one that names no RPC sent from this socket whose outcome has
     *                       not been received yet (Linux's HOMAIOCABORT of an unknown id).
     */
    public void abort(final long id)
    {
        ensureOpen();
        if (0 == id || 0 != (id & 1))
        {
            throw new HomaException(HomaError.EINVAL, "abort needs a client RPC id (even, non-zero): " + id);
        }
        synchronized (requestsOutstanding)
        {
            if (!requestsOutstanding.contains(id))
            {
                throw new HomaException(HomaError.EINVAL,
                    "abort of " + id + ": no such RPC sent from this socket, or its outcome has been received");
            }
        }
        // Tried here first: the command for a retry captures the id, made only when the ring is full.
        if (!homa.driverProxy().abortRpc(socketId, id, HomaError.ECANCELED))
        {
            homa.offerCommand(() -> homa.driverProxy().abortRpc(socketId, id, HomaError.ECANCELED));
        }
    }

    /**
     * Aborts every client RPC of this socket; each completes with ECANCELED.
     */
    public void abortAll()
    {
        ensureOpen();
        homa.offerCommand(abortAllCommand);
    }

    private boolean tryAbortAll()
    {
        return homa.driverProxy().abortRpc(socketId, 0, HomaError.ECANCELED);
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
        if (limit < 1)
        {
            throw new HomaException(HomaError.EINVAL, "poll limit must be >= 1: " + limit);
        }
        final int delivered = pollEvents(handler, limit);
        if (0 == delivered)
        {
            // Nothing yet and the driver of this JVM sleeps: run its cycle here, as a Linux recvmsg runs Homa in the
            // caller's context, so what has arrived is found now, not after the driver thread's wake-up.
            final DirectDriver direct = homa.directDriver();
            if (null != direct && direct.isDriverAsleep() && direct.tryDutyCycle() > 0)
            {
                return pollEvents(handler, limit);
            }
        }
        return delivered;
    }

    private int pollEvents(final MessageHandler handler, final int limit)
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
            // Closed while this thread waited for the lock: the mapping is gone.
            ensureOpen();
            int delivered = 0;
            while (delivered < limit && !deferred.isEmpty())
            {
                final PrivateOutcome outcome = deferred.poll();
                deliverPrivate(outcome, handler);
                recycle(outcome);
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
            drainCompletions();
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
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + timeoutNs;
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
            awaitDriver(startNs, deadlineNs, hasEvents);
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
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + timeoutNs;
        while (true)
        {
            ensureOpen();
            pollLock.lock();
            try
            {
                ensureOpen();
                final PrivateOutcome outcome = privateOutcomes.remove(id);
                if (null != outcome)
                {
                    deliverPrivate(outcome, handler);
                    recycle(outcome);
                    return true;
                }
                activeHandler = null;
                eventRing.read(eventHandler, Integer.MAX_VALUE);
                final PrivateOutcome arrived = privateOutcomes.remove(id);
                if (null != arrived)
                {
                    deliverPrivate(arrived, handler);
                    recycle(arrived);
                    return true;
                }
            }
            finally
            {
                pollLock.unlock();
                drainCompletions();
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            homa.checkDriverHeartbeat();
            awaitDriver(startNs, deadlineNs, hasEvents);
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
        if (!isRetained)
        {
            isRetained = true;
            synchronized (retainedGenerations)
            {
                retainGeneration = (retainGeneration + 1) & 0x7FFF_FFFF;
                if (0 == retainGeneration)
                {
                    retainGeneration = 1;
                }
                retainedGenerations.put(currentPoolOffset, retainGeneration);
                currentToken = ((long)retainGeneration << 32) | currentPoolOffset;
            }
        }
        return currentToken;
    }

    /**
     * Gives a retained message's bytes back to the receive pool, once.
     *
     * @param token what {@link #retain()} returned.
     * @throws HomaException EINVAL for a token this socket did not hand out, or one already released (its block may
     *                       by now hold another message, which a second release would give away).
     */
    public void release(final long token)
    {
        final int poolOffset = (int)token;
        final int generation = (int)(token >>> 32);
        synchronized (retainedGenerations)
        {
            if (0 == generation || retainedGenerations.get(poolOffset) != generation)
            {
                throw new HomaException(HomaError.EINVAL,
                    "release of token " + token + ": not a retained message of this socket, or released already");
            }
            retainedGenerations.remove(poolOffset);
        }
        returnPoolBlock(poolOffset);
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
        try
        {
            if (isClosed)
            {
                return;
            }
            isClosed = true;
            sendSpace.close();
            if (isShutdown)
            {
                homa.forgetSocket(this);
            }
            else
            {
                homa.removeSocket(this);
            }
        }
        finally
        {
            pollLock.unlock();
            awaitSleepersGone();
            IoUtil.unmap(fileBuffer);
            failAsyncCalls(new HomaException(HomaError.ESHUTDOWN, "socket is closed"));
        }
    }

    /**
     * Wakes threads asleep on the socket's word and lets them step off the mapping before it goes away.
     */
    private void awaitSleepersGone()
    {
        wakeWaiters();
        final long deadlineNs = System.nanoTime() + MAX_SLEEP_NS;
        while (sleepers.get() > 0 && System.nanoTime() - deadlineNs < 0)
        {
            Thread.yield();
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
            onOutcome(id);
            if (0 != (messageDecoder.flags() & FLAG_PRIVATE))
            {
                if (!claimPrivate(id, poolOffset, messageLength, 0))
                {
                    privateOutcomes.put(id, outcome(id, cookie, poolOffset, messageLength, 0));
                }
                return;
            }
            if (null == activeHandler)
            {
                deferred.add(outcome(id, cookie, poolOffset, messageLength, 0));
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
            onOutcome(id);
            if (0 != (errorDecoder.flags() & FLAG_PRIVATE))
            {
                if (!claimPrivate(id, -1, 0, errorCode))
                {
                    privateOutcomes.put(id, outcome(id, cookie, -1, 0, errorCode));
                }
                return;
            }
            if (null == activeHandler)
            {
                deferred.add(outcome(id, cookie, -1, 0, errorCode));
                return;
            }
            activeHandler.onError(id, cookie, errorCode);
        }
    }

    /**
     * A client RPC's response or failure came back: it can no longer be aborted.
     */
    private void onOutcome(final long id)
    {
        if (0 == (id & 1))
        {
            synchronized (requestsOutstanding)
            {
                requestsOutstanding.remove(id);
            }
        }
    }

    private void deliverMessage(
        final MessageHandler handler, final long id, final long cookie, final int poolOffset, final int length)
    {
        if (0 != (id & 1))
        {
            synchronized (requestsInService)
            {
                requestsInService.add(id);
            }
        }
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
        if (isClosed)
        {
            // The driver frees the whole pool with the socket.
            return true;
        }
        return tryReturnPoolBlock(returnRing, poolOffset);
    }

    /**
     * Hands a receive-pool block back to the driver, whose allocator takes it from the return ring. Any number of
     * application threads may return blocks at once (the ring has many producers).
     *
     * @param returnRing the socket's return ring.
     * @param poolOffset the block.
     * @return false if the ring is full for now.
     */
    static boolean tryReturnPoolBlock(final RingBuffer returnRing, final int poolOffset)
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
                throw homa.driverTimeout("receive pool return ring stayed full");
            }
            // The driver drains this ring in its duty cycle: make sure it is not asleep.
            homa.wakeDriver();
            homa.idle(idle);
        }
    }

    /**
     * One step of a wait for the driver to publish something for this socket (an event, a released send block):
     * spins for the poll budget counted from the start of the wait, then sleeps on the socket's futex word until
     * the driver wakes it, the deadline passes, or at most {@link #MAX_SLEEP_NS} (so heartbeat and shutdown checks
     * still run). Like Linux's homa_wait_for_message: poll briefly, then sleep until a message wakes us. In INVOKER
     * mode the waiting thread runs the driver's agents instead.
     */
    private void awaitDriver(
        final long startNs, final long deadlineNs, final java.util.function.BooleanSupplier hasNews)
    {
        if (null != homa.context().driverAgentInvoker())
        {
            homa.idle(sendIdle);
            return;
        }
        homa.onApplicationCall();
        final long nowNs = System.nanoTime();
        final long sleepNs = Math.min(deadlineNs - nowNs, MAX_SLEEP_NS);
        final DirectDriver direct = homa.directDriver();
        // The in-process driver, run here (it polls, then sleeps on its sockets): what it publishes for us is here
        // when it returns, with no thread between the packet and us. False: another thread drives.
        if (null != direct && sleepNs > 0 && direct.driveUntil(hasNews, nowNs + sleepNs))
        {
            return;
        }
        if (nowNs - startNs < homa.context().pollDurationNs() && !pollContention.isContended())
        {
            // Poll, but let the driver's thread have the core if it shares ours (2 cores, several threads); with
            // the cores contended, sleep at once (see PollContention).
            pollContention.yieldOnce();
            return;
        }
        if (sleepNs <= 0)
        {
            return;
        }
        // Read the word, then count ourselves in, then look again: the driver bumps the word after it publishes
        // and sees the count (see SocketFileDescriptor.WAITERS_OFFSET), so no wake-up is lost between the look and
        // the sleep.
        // close() waits for sleepers to leave before it unmaps the file.
        sleepers.incrementAndGet();
        try
        {
            if (isClosed)
            {
                return;
            }
            final int sequence = meta.getIntVolatile(SocketFileDescriptor.WAKE_SEQUENCE_OFFSET);
            meta.getAndAddInt(SocketFileDescriptor.WAITERS_OFFSET, 1);
            try
            {
                if (!hasNews.getAsBoolean())
                {
                    Wakeups.futexWait(wakeSequenceAddress, sequence, sleepNs);
                }
            }
            finally
            {
                meta.getAndAddInt(SocketFileDescriptor.WAITERS_OFFSET, -1);
            }
        }
        finally
        {
            sleepers.decrementAndGet();
        }
    }

    private int awaitCopy(final DirectBuffer buffer, final int offset, final int length, final long timeoutNs)
    {
        int sendOffset = checkAllocation(sendSpace.tryCopy(buffer, offset, length));
        if (sendOffset >= 0)
        {
            return sendOffset;
        }
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + timeoutNs;
        while (true)
        {
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new HomaException(HomaError.EAGAIN, "send region full for " + timeoutNs + " ns: " +
                    sendSpace.freeBytes() + " bytes free, message " + length);
            }
            homa.checkDriverHeartbeat();
            awaitDriver(startNs, deadlineNs, hasReleases);
            sendOffset = checkAllocation(sendSpace.tryCopy(buffer, offset, length));
            if (sendOffset >= 0)
            {
                return sendOffset;
            }
        }
    }

    /**
     * @return the allocation result, or throws ESHUTDOWN for a socket shut down or closed meanwhile.
     */
    int checkAllocation(final int sendOffset)
    {
        if (SendRegion.CLOSED == sendOffset || isShutdown)
        {
            if (sendOffset >= 0)
            {
                sendSpace.free(sendOffset);
            }
            throw new HomaException(HomaError.ESHUTDOWN, "socket is shut down");
        }
        return sendOffset;
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
            sendSpace.free(sendOffset);
            throw ex;
        }
    }

    void ensureOpen()
    {
        if (isClosed)
        {
            throw new HomaException(HomaError.ESHUTDOWN, "socket is closed");
        }
        if (isShutdown)
        {
            throw new HomaException(HomaError.ESHUTDOWN, "socket is shut down");
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

    /**
     * An outcome read off the event ring before anyone asked for it (a private RPC not being waited for, or an
     * event while no handler is active). Reused through {@link #spareOutcomes}, so the event path allocates
     * nothing once warm.
     */
    private static final class PrivateOutcome
    {
        long id;
        long cookie;
        int poolOffset;
        int length;
        int errorCode;

        PrivateOutcome set(
            final long id, final long cookie, final int poolOffset, final int length, final int errorCode)
        {
            this.id = id;
            this.cookie = cookie;
            this.poolOffset = poolOffset;
            this.length = length;
            this.errorCode = errorCode;
            return this;
        }
    }

    /**
     * @return an outcome holder, a spare one if there is one. Under the poll lock, as every use of them.
     */
    private PrivateOutcome outcome(
        final long id, final long cookie, final int poolOffset, final int length, final int errorCode)
    {
        final PrivateOutcome spare = spareOutcomes.poll();
        return (null == spare ? new PrivateOutcome() : spare).set(id, cookie, poolOffset, length, errorCode);
    }

    /**
     * Keeps a consumed outcome holder for the next one (at most {@link #MAX_SPARE_OUTCOMES}).
     */
    private void recycle(final PrivateOutcome outcome)
    {
        if (spareOutcomes.size() < MAX_SPARE_OUTCOMES)
        {
            spareOutcomes.add(outcome);
        }
    }

    /**
     * One blocking call's view of its response: hands the message on, keeps the errno.
     */
    private static final class CallOutcome implements MessageHandler
    {
        private final MessageListener onResponse;
        private int errorCode;

        CallOutcome(final MessageListener onResponse)
        {
            this.onResponse = onResponse;
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            onResponse.onMessage(id, cookie, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            this.errorCode = errorCode;
        }
    }

    /**
     * A pending {@link #callAsync}.
     */
    private static final class AsyncCall
    {
        final long id;
        final HomaAddress dest;
        final long deadlineNs;
        final CompletableFuture<DirectBuffer> future = new CompletableFuture<>();

        AsyncCall(final long id, final HomaAddress dest, final long deadlineNs)
        {
            this.id = id;
            this.dest = dest;
            this.deadlineNs = deadlineNs;
        }

        Runnable failure(final int errorCode)
        {
            return () -> future.completeExceptionally(new HomaException(errorCode, "call to " + dest + " failed"));
        }
    }
}
