package io.homa.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientStreamTracer;
import io.grpc.Deadline;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.internal.ClientStream;
import io.grpc.internal.ClientStreamListener;
import io.grpc.internal.ClientStreamListener.RpcProgress;
import io.grpc.internal.ConnectionClientTransport;
import io.grpc.internal.FailingClientStream;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.InsightBuilder;
import io.grpc.internal.SerializingExecutor;
import io.grpc.internal.SimpleDisconnectError;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.StreamListener;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client side of one channel's Homa "connection": a client socket of its own (Homa is connectionless, so the
 * transport is ready at once) and a thread that receives the responses of its streams' RPCs.
 */
final class HomaClientTransport implements ConnectionClientTransport
{
    private static final Logger LOGGER = Logger.getLogger(HomaClientTransport.class.getName());
    /** Outstanding Homa RPCs per stream past which the stream reports not ready (back-pressure to the writer). */
    private static final int READY_LIMIT = 32;
    /** Received bytes not yet requested by the application past which the stream stops asking the server. */
    private static final long INBOX_BYTES = 1 << 20;
    private static final long RECEIVE_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(200);
    /**
     * Most caller-received calls at once (each has a socket); more concurrent blocking calls use the receiver
     * thread, which takes many responses per wake-up where many callers would each need their own (16 blocking
     * callers measured slower with one socket each).
     */
    private static final int MAX_CALLER_SOCKETS = 2;
    /** grpc-stub's executor of blocking calls, whose thread waits in it for the call's events. */
    private static final String THREADLESS_EXECUTOR = "io.grpc.stub.ClientCalls$ThreadlessExecutor";

    private final Supplier<Homa> homa;
    private final HomaAddress server;
    private final String authority;
    private final InternalLogId logId;
    private final long clientKey;
    private final ConcurrentHashMap<Integer, Stream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextStreamId = new AtomicInteger(1);
    private final Object lock = new Object();
    private final Attributes attributes;
    private final boolean callerReceives;
    /** Sockets for blocking unary calls whose caller thread receives the response itself (none polls them else). */
    private final ConcurrentLinkedQueue<HomaSocket> idleCallerSockets = new ConcurrentLinkedQueue<>();
    private final AtomicInteger callerSockets = new AtomicInteger();
    private volatile HomaSocket socket;
    private Listener listener;
    private Thread receiver;
    private Status shutdownStatus;
    private boolean terminated;
    private boolean inUse;

    HomaClientTransport(
        final Supplier<Homa> homa, final HomaSocketAddress address, final String authority, final boolean callerReceives)
    {
        this.callerReceives = callerReceives;
        this.homa = homa;
        this.server = address.homaAddress();
        this.authority = authority;
        this.logId = InternalLogId.allocate(getClass(), address.toString());
        long key;
        do
        {
            key = ThreadLocalRandom.current().nextLong();
        }
        while (0 == key);
        this.clientKey = key;
        this.attributes = Attributes.newBuilder()
            .set(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR, address)
            .set(io.grpc.internal.GrpcAttributes.ATTR_SECURITY_LEVEL, io.grpc.SecurityLevel.NONE)
            .build();
    }

    @Override
    public Runnable start(final Listener listener)
    {
        this.listener = listener;
        try
        {
            socket = homa.get().addSocket();
        }
        catch (final RuntimeException ex)
        {
            final Status status = Wire.statusOf(ex, "no Homa client socket");
            synchronized (lock)
            {
                shutdownStatus = status;
                terminated = true;
            }
            return () ->
            {
                listener.transportShutdown(status, SimpleDisconnectError.SOCKET_ERROR);
                listener.transportTerminated();
            };
        }
        receiver = new Thread(this::receiveLoop, "homa-grpc-client-" + socket.port());
        receiver.setDaemon(true);
        receiver.start();
        return listener::transportReady;
    }

    private void receiveLoop()
    {
        final HomaSocket socket = this.socket;
        final List<Runnable> events = new ArrayList<>();
        final MessageHandler handler = MessageHandler.of(
            (id, cookie, buffer, offset, length) ->
            {
                final Stream stream = streams.get((int)cookie);
                if (null != stream)
                {
                    List<Frame> frames;
                    try
                    {
                        frames = Frame.decodeAll(buffer, offset, length);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        frames = null;
                    }
                    final List<Frame> decoded = frames;
                    events.add(() -> stream.onResponse(id, decoded));
                }
            },
            (id, cookie, errorCode) ->
            {
                final Stream stream = streams.get((int)cookie);
                if (null != stream)
                {
                    events.add(() -> stream.onRpcError(id, errorCode));
                }
            });
        while (true)
        {
            try
            {
                socket.receive(handler, RECEIVE_TIMEOUT_NS);
            }
            catch (final RuntimeException ex)
            {
                if (!isShutdown())
                {
                    // The driver went away (or timed this client out): every stream fails, the channel may retry
                    // with a new transport later.
                    shutdownNow(Wire.statusOf(ex, "Homa receive failed"));
                }
                break;
            }
            for (final Runnable event : events)
            {
                event.run();
            }
            events.clear();
            if (isShutdown() && streams.isEmpty())
            {
                break;
            }
        }
        closeQuietly(socket);
        HomaSocket idle;
        while (null != (idle = idleCallerSockets.poll()))
        {
            closeQuietly(idle);
        }
        final Listener toTell;
        synchronized (lock)
        {
            toTell = terminated ? null : listener;
            terminated = true;
        }
        if (null != toTell)
        {
            toTell.transportTerminated();
        }
    }

    private static void closeQuietly(final HomaSocket socket)
    {
        try
        {
            socket.close();
        }
        catch (final RuntimeException ex)
        {
            LOGGER.log(Level.FINE, "closing a client socket", ex);
        }
    }

    /**
     * @return a socket for one caller-received call, or null (too many at once, or shutting down).
     */
    private HomaSocket borrowCallerSocket()
    {
        final HomaSocket idle = idleCallerSockets.poll();
        if (null != idle)
        {
            return idle;
        }
        if (isShutdown() || callerSockets.incrementAndGet() > MAX_CALLER_SOCKETS)
        {
            callerSockets.decrementAndGet();
            return null;
        }
        try
        {
            return homa.get().addSocket();
        }
        catch (final RuntimeException ex)
        {
            callerSockets.decrementAndGet();
            return null;
        }
    }

    private void returnCallerSocket(final HomaSocket callerSocket, final boolean reusable)
    {
        if (reusable && !isShutdown())
        {
            idleCallerSockets.add(callerSocket);
            if (!isShutdown() || !idleCallerSockets.remove(callerSocket))
            {
                return;
            }
        }
        callerSockets.decrementAndGet();
        closeQuietly(callerSocket);
    }

    private boolean isShutdown()
    {
        synchronized (lock)
        {
            return null != shutdownStatus;
        }
    }

    @Override
    public ClientStream newStream(
        final MethodDescriptor<?, ?> method,
        final Metadata headers,
        final CallOptions callOptions,
        final ClientStreamTracer[] tracers)
    {
        synchronized (lock)
        {
            if (null != shutdownStatus)
            {
                return new FailingClientStream(shutdownStatus, tracers);
            }
        }
        final StatsTraceContext statsTraceContext = StatsTraceContext.newClientContext(tracers, attributes, headers);
        final Executor executor = callOptions.getExecutor();
        // Only a call alone on the transport: with others in flight the receiver thread is awake anyway and takes
        // many responses per wake-up (16 blocking callers measured slower with callers receiving).
        final Executor callerExecutor = callerReceives && MethodDescriptor.MethodType.UNARY == method.getType() &&
            null != executor && THREADLESS_EXECUTOR.equals(executor.getClass().getName()) && streams.isEmpty() ?
            executor : null;
        return new Stream(nextStreamId.getAndIncrement() & 0x7FFF_FFFF, method, headers, statsTraceContext,
            callerExecutor);
    }

    private void streamStarted(final Stream stream)
    {
        final boolean first;
        synchronized (lock)
        {
            streams.put(stream.streamId, stream);
            first = !inUse;
            inUse = true;
        }
        if (first)
        {
            listener.transportInUse(true);
        }
    }

    private void streamEnded(final Stream stream)
    {
        final boolean idle;
        final boolean terminate;
        synchronized (lock)
        {
            streams.remove(stream.streamId);
            idle = inUse && streams.isEmpty();
            if (idle)
            {
                inUse = false;
            }
            terminate = null != shutdownStatus && streams.isEmpty();
        }
        if (idle)
        {
            listener.transportInUse(false);
        }
        if (terminate)
        {
            wakeReceiver();
        }
    }

    private void wakeReceiver()
    {
        final HomaSocket socket = this.socket;
        if (null != socket)
        {
            socket.shutdown();
        }
    }

    @Override
    public void ping(final PingCallback callback, final Executor executor)
    {
        executor.execute(() -> callback.onFailure(Status.UNIMPLEMENTED.withDescription("no ping over Homa")));
    }

    @Override
    public void shutdown(final Status reason)
    {
        final boolean empty;
        synchronized (lock)
        {
            if (null != shutdownStatus)
            {
                return;
            }
            shutdownStatus = reason;
            empty = streams.isEmpty();
        }
        if (null != listener)
        {
            listener.transportShutdown(reason, SimpleDisconnectError.SUBCHANNEL_SHUTDOWN);
        }
        if (empty)
        {
            wakeReceiver();
        }
    }

    @Override
    public void shutdownNow(final Status reason)
    {
        shutdown(reason);
        for (final Stream stream : new ArrayList<>(streams.values()))
        {
            stream.cancel(reason);
        }
        wakeReceiver();
    }

    @Override
    public Attributes getAttributes()
    {
        return attributes;
    }

    @Override
    public InternalLogId getLogId()
    {
        return logId;
    }

    @Override
    public ListenableFuture<SocketStats> getStats()
    {
        final SettableFuture<SocketStats> stats = SettableFuture.create();
        stats.set(null);
        return stats;
    }

    @Override
    public String toString()
    {
        return logId + "(" + server + ")";
    }

    /**
     * One call. Every state change runs in the stream's serializing executor (the calling thread, one at a
     * time), so the application's calls and the receiver's events never race and the listener sees one event
     * at a time.
     */
    private final class Stream implements ClientStream
    {
        private final int streamId;
        private final MethodDescriptor<?, ?> method;
        private final Metadata headers;
        private final StatsTraceContext statsTraceContext;
        private final boolean oneRequestMessage;
        /** Non-null for a blocking unary call: its thread, waiting in this executor, receives the response. */
        private final Executor callerExecutor;
        /** The socket of the caller-received RPC, while it is outstanding. */
        private HomaSocket callerSocket;
        private final SerializingExecutor serial = new SerializingExecutor(MoreExecutors.directExecutor());

        // Guarded by serial.
        private ClientStreamListener listener;
        private Deadline deadline;
        private boolean headersSent;
        private boolean halfClosed;
        private boolean closed;
        private int nextSequence;
        private final List<byte[]> unsent = new ArrayList<>(1);
        private final LongHashSet outstanding = new LongHashSet();
        private final TreeMap<Integer, Frame> early = new TreeMap<>();
        private int nextServerSequence;
        private int messagesIn;
        private int messagesOut;
        private final ArrayDeque<byte[]> inbox = new ArrayDeque<>();
        private long inboxBytes;
        private int requested;
        private Status finalStatus;
        private Metadata finalTrailers;
        private int maxInbound = Integer.MAX_VALUE;
        private int maxOutbound = Integer.MAX_VALUE;
        private volatile boolean ready;

        Stream(
            final int streamId,
            final MethodDescriptor<?, ?> method,
            final Metadata headers,
            final StatsTraceContext statsTraceContext,
            final Executor callerExecutor)
        {
            this.callerExecutor = callerExecutor;
            this.streamId = streamId;
            this.method = method;
            this.headers = headers;
            this.statsTraceContext = statsTraceContext;
            this.oneRequestMessage = method.getType().clientSendsOneMessage();
        }

        @Override
        public void start(final ClientStreamListener listener)
        {
            serial.execute(() ->
            {
                this.listener = listener;
                if (closed)
                {
                    return;
                }
                streamStarted(this);
                if (!oneRequestMessage)
                {
                    // A streaming client may wait for the server before sending: the server must hear of the call.
                    send(List.of(), false);
                }
                ready = true;
                listener.onReady();
            });
        }

        @Override
        public void request(final int numMessages)
        {
            serial.execute(() ->
            {
                requested += numMessages;
                deliver();
                maybePoll();
            });
        }

        @Override
        public void writeMessage(final InputStream message)
        {
            final byte[] bytes;
            try
            {
                bytes = message.readAllBytes();
                message.close();
            }
            catch (final IOException ex)
            {
                cancel(Status.INTERNAL.withDescription("reading the message failed").withCause(ex));
                return;
            }
            serial.execute(() ->
            {
                if (closed)
                {
                    return;
                }
                if (bytes.length > maxOutbound)
                {
                    fail(Status.RESOURCE_EXHAUSTED.withDescription(
                        "message of " + bytes.length + " bytes over the limit of " + maxOutbound), true);
                    return;
                }
                unsent.add(bytes);
            });
        }

        @Override
        public void flush()
        {
            serial.execute(() ->
            {
                if (!closed && !unsent.isEmpty())
                {
                    final List<byte[]> messages = new ArrayList<>(unsent);
                    unsent.clear();
                    send(messages, false);
                }
            });
        }

        @Override
        public void halfClose()
        {
            serial.execute(() ->
            {
                if (closed || halfClosed)
                {
                    return;
                }
                halfClosed = true;
                final List<byte[]> messages = new ArrayList<>(unsent);
                unsent.clear();
                send(messages, true);
            });
        }

        @Override
        public void cancel(final Status reason)
        {
            serial.execute(() -> fail(reason, true));
        }

        /**
         * Sends the messages, one frame (one Homa request) each, the headers with the first frame if not sent
         * yet and the half-close with the last; with no message, one frame of what remains.
         */
        private void send(final List<byte[]> messages, final boolean withHalfClose)
        {
            final int count = Math.max(1, messages.size());
            for (int i = 0; i < count && !closed; i++)
            {
                int flags = Frame.FLAG_REQUEST;
                byte[][] initMd = null;
                if (!headersSent)
                {
                    flags |= Frame.FLAG_INIT_MD;
                    initMd = requestHeaders();
                    headersSent = true;
                    statsTraceContext.clientOutboundHeaders();
                }
                final byte[] message = i < messages.size() ? messages.get(i) : null;
                if (null != message)
                {
                    flags |= Frame.FLAG_MESSAGE_COMPLETE;
                }
                byte[][] trailMd = null;
                if (withHalfClose && i == count - 1)
                {
                    flags |= Frame.FLAG_TRAIL_MD;
                    trailMd = new byte[0][];
                }
                final int sequence = nextSequence++;
                final Frame frame = new Frame(streamId, sequence, flags, clientKey, initMd, trailMd, message);
                final int length = frame.encodedLength();
                if (length > Frame.MAX_HOMA_MESSAGE)
                {
                    fail(Status.RESOURCE_EXHAUSTED.withDescription("request of " + length + " bytes with its " +
                        "framing is over Homa's " + Frame.MAX_HOMA_MESSAGE + "-byte message limit"), sequence > 0);
                    return;
                }
                if (null != message)
                {
                    statsTraceContext.outboundMessage(messagesOut);
                    statsTraceContext.outboundMessageSent(messagesOut, message.length, message.length);
                    messagesOut++;
                }
                if (null == callerExecutor || !sendForCaller(frame, length))
                {
                    sendFrame(frame, length, true);
                }
            }
        }

        /**
         * Sends a blocking unary call's one request as a private RPC on a socket of its own, and hands the wait
         * for its response to the caller's thread (it waits in {@link #callerExecutor} anyway): the response then
         * wakes that thread directly, not the receiver thread and then the caller.
         *
         * @return false if no socket was free (the call then goes the ordinary way).
         */
        private boolean sendForCaller(final Frame frame, final int length)
        {
            final HomaSocket rpcSocket = borrowCallerSocket();
            if (null == rpcSocket)
            {
                return false;
            }
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
            frame.encode(buffer, 0);
            final long id;
            try
            {
                id = rpcSocket.send(server, buffer, 0, length, streamId, HomaSocket.FLAG_PRIVATE);
            }
            catch (final RuntimeException ex)
            {
                returnCallerSocket(rpcSocket, false);
                fail(Wire.statusOf(ex, "Homa send to " + server + " failed"), false);
                return true;
            }
            callerSocket = rpcSocket;
            outstanding.add(id);
            callerExecutor.execute(() -> awaitInCaller(rpcSocket, id));
            return true;
        }

        /**
         * Runs in the caller's thread, outside the serializing executor (a cancel or the deadline's abort must get
         * through meanwhile): waits for the private RPC's outcome, then feeds it to the stream.
         */
        private void awaitInCaller(final HomaSocket rpcSocket, final long id)
        {
            final List<List<Frame>> response = new ArrayList<>(1);
            final int[] error = {0};
            final MessageHandler handler = MessageHandler.of(
                (rpcId, cookie, buffer, offset, length) ->
                {
                    List<Frame> frames;
                    try
                    {
                        frames = Frame.decodeAll(buffer, offset, length);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        frames = null;
                    }
                    response.add(frames);
                },
                (rpcId, cookie, errorCode) -> error[0] = errorCode);
            boolean received = false;
            try
            {
                while (!received)
                {
                    received = rpcSocket.receive(id, handler, RECEIVE_TIMEOUT_NS);
                }
            }
            catch (final RuntimeException ex)
            {
                returnCallerSocket(rpcSocket, false);
                serial.execute(() ->
                {
                    callerSocket = null;
                    outstanding.remove(id);
                    fail(Wire.statusOf(ex, "Homa receive failed"), false);
                });
                return;
            }
            serial.execute(() -> callerSocket = null);
            returnCallerSocket(rpcSocket, true);
            if (0 != error[0])
            {
                onRpcError(id, error[0]);
            }
            else
            {
                onResponse(id, response.isEmpty() ? null : response.get(0));
            }
        }

        private void sendFrame(final Frame frame, final int length, final boolean track)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
            frame.encode(buffer, 0);
            try
            {
                final long id = socket.send(server, buffer, 0, length, track ? streamId : 0, 0);
                if (track)
                {
                    outstanding.add(id);
                    if (outstanding.size() >= READY_LIMIT)
                    {
                        ready = false;
                    }
                }
            }
            catch (final RuntimeException ex)
            {
                if (track)
                {
                    fail(Wire.statusOf(ex, "Homa send to " + server + " failed"), false);
                }
            }
        }

        private byte[][] requestHeaders()
        {
            // Messages go as the application serialized them: no peer may think them compressed.
            headers.discardAll(GrpcUtil.MESSAGE_ENCODING_KEY);
            if (null != deadline)
            {
                headers.discardAll(GrpcUtil.TIMEOUT_KEY);
                headers.put(GrpcUtil.TIMEOUT_KEY, Math.max(1, deadline.timeRemaining(TimeUnit.NANOSECONDS)));
            }
            return Wire.serialize(headers, Wire.PATH,
                ("/" + method.getFullMethodName()).getBytes(StandardCharsets.US_ASCII));
        }

        void onResponse(final long rpcId, final List<Frame> frames)
        {
            serial.execute(() ->
            {
                outstanding.remove(rpcId);
                if (closed)
                {
                    return;
                }
                if (null == frames)
                {
                    fail(Status.INTERNAL.withDescription("malformed response from " + server), true);
                    return;
                }
                for (final Frame frame : frames)
                {
                    if (frame.has(Frame.FLAG_CANCELLED) && HomaServerTransport.UNKNOWN_STREAM == frame.sequence)
                    {
                        fail(Status.UNAVAILABLE.withDescription("the server at " + server +
                            " does not know this call (restarted?)"), false);
                        return;
                    }
                    if (!frame.has(Frame.FLAG_EMPTY_RESPONSE) && frame.streamId == streamId)
                    {
                        early.put(frame.sequence, frame);
                    }
                }
                Frame next;
                while (!closed && null != (next = early.remove(nextServerSequence)))
                {
                    nextServerSequence++;
                    onFrame(next);
                }
                if (closed)
                {
                    return;
                }
                if (!ready && outstanding.size() < READY_LIMIT / 2)
                {
                    ready = true;
                    listener.onReady();
                }
                maybePoll();
            });
        }

        /**
         * Keeps one RPC at the server for it to answer with its next frames (it cannot call us), unless the
         * application has not taken what came already: that is the flow control towards the server, whose
         * stream then reports not ready.
         */
        private void maybePoll()
        {
            if (!closed && null == finalStatus && outstanding.isEmpty() && headersSent && inboxBytes < INBOX_BYTES)
            {
                sendFrame(new Frame(streamId, 0, Frame.FLAG_REQUEST, clientKey, null, null, null),
                    Frame.HEADER_LENGTH, true);
            }
        }

        private void onFrame(final Frame frame)
        {
            if (frame.has(Frame.FLAG_CANCELLED))
            {
                // The server cancels when the deadline it was sent expires: the call's own deadline then says so.
                fail(null != deadline && deadline.isExpired() ?
                    Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded (cancelled by the server)") :
                    Status.CANCELLED.withDescription("cancelled by the server"), false);
                return;
            }
            if (frame.has(Frame.FLAG_INIT_MD))
            {
                final Metadata responseHeaders = Wire.metadata(frame.initMd);
                statsTraceContext.clientInboundHeaders(responseHeaders);
                listener.headersRead(responseHeaders);
            }
            if (frame.has(Frame.FLAG_MESSAGE_COMPLETE))
            {
                if (frame.message.length > maxInbound)
                {
                    fail(Status.RESOURCE_EXHAUSTED.withDescription("response message of " + frame.message.length +
                        " bytes over the limit of " + maxInbound), true);
                    return;
                }
                inbox.add(frame.message);
                inboxBytes += frame.message.length;
            }
            if (frame.has(Frame.FLAG_TRAIL_MD))
            {
                final Metadata trailers = Wire.metadata(frame.trailMd);
                statsTraceContext.clientInboundTrailers(trailers);
                finalStatus = Wire.statusOf(trailers);
                finalTrailers = trailers;
                if (!finalStatus.isOk())
                {
                    inbox.clear();
                    inboxBytes = 0;
                }
            }
            deliver();
        }

        private void deliver()
        {
            if (closed || null == listener)
            {
                return;
            }
            if (requested > 0 && !inbox.isEmpty())
            {
                final ArrayDeque<byte[]> batch = new ArrayDeque<>();
                while (requested > 0 && !inbox.isEmpty())
                {
                    final byte[] message = inbox.poll();
                    inboxBytes -= message.length;
                    statsTraceContext.inboundMessage(messagesIn);
                    statsTraceContext.inboundMessageRead(messagesIn, message.length, message.length);
                    messagesIn++;
                    batch.add(message);
                    requested--;
                }
                listener.messagesAvailable(new Messages(batch));
            }
            if (null != finalStatus && inbox.isEmpty())
            {
                closed = true;
                abortOutstanding();
                streamEnded(this);
                statsTraceContext.streamClosed(finalStatus);
                listener.closed(finalStatus, RpcProgress.PROCESSED, finalTrailers);
            }
        }

        void onRpcError(final long rpcId, final int errorCode)
        {
            serial.execute(() ->
            {
                outstanding.remove(rpcId);
                if (!closed)
                {
                    fail(Wire.statusOfErrno(errorCode, "Homa RPC to " + server + " failed"),
                        HomaError.ECANCELED == errorCode);
                }
            });
        }

        /**
         * Ends the call with {@code status}: outstanding Homa RPCs are aborted and, if the server knows of the
         * call and {@code tellServer}, a cancelled frame goes to it.
         */
        private void fail(final Status status, final boolean tellServer)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            inbox.clear();
            inboxBytes = 0;
            abortOutstanding();
            if (tellServer && headersSent)
            {
                sendFrame(new Frame(streamId, nextSequence++, Frame.FLAG_REQUEST | Frame.FLAG_CANCELLED, clientKey,
                    null, null, null), Frame.HEADER_LENGTH, false);
            }
            if (null != listener)
            {
                streamEnded(this);
                statsTraceContext.streamClosed(status);
                listener.closed(status, RpcProgress.PROCESSED, new Metadata());
            }
        }

        private void abortOutstanding()
        {
            final LongHashSet.LongIterator ids = outstanding.iterator();
            while (ids.hasNext())
            {
                final long id = ids.nextValue();
                try
                {
                    (null != callerSocket ? callerSocket : socket).abort(id);
                }
                catch (final HomaException ex)
                {
                    // Its outcome is on its way already.
                }
                catch (final RuntimeException ex)
                {
                    break;
                }
            }
            outstanding.clear();
        }

        @Override
        public boolean isReady()
        {
            return ready;
        }

        @Override
        public void setDeadline(final Deadline deadline)
        {
            serial.execute(() -> this.deadline = deadline);
        }

        @Override
        public void setMaxInboundMessageSize(final int maxSize)
        {
            serial.execute(() -> maxInbound = maxSize);
        }

        @Override
        public void setMaxOutboundMessageSize(final int maxSize)
        {
            serial.execute(() -> maxOutbound = maxSize);
        }

        @Override
        public void setAuthority(final String authority)
        {
        }

        @Override
        public void setFullStreamDecompression(final boolean fullStreamDecompression)
        {
        }

        @Override
        public void setDecompressorRegistry(final io.grpc.DecompressorRegistry registry)
        {
        }

        @Override
        public void setCompressor(final io.grpc.Compressor compressor)
        {
        }

        @Override
        public void setMessageCompression(final boolean enable)
        {
        }

        @Override
        public void optimizeForDirectExecutor()
        {
        }

        @Override
        public Attributes getAttributes()
        {
            return attributes;
        }

        @Override
        public void appendTimeoutInsight(final InsightBuilder insight)
        {
            insight.appendKeyValue("homa", server + " stream " + streamId);
        }
    }

    /**
     * Hands received messages to the listener one at a time.
     */
    static final class Messages implements StreamListener.MessageProducer
    {
        private final ArrayDeque<byte[]> messages;

        Messages(final ArrayDeque<byte[]> messages)
        {
            this.messages = messages;
        }

        @Override
        public InputStream next()
        {
            final byte[] message = messages.poll();
            return null == message ? null : new ByteArrayInputStream(message);
        }
    }

    String authority()
    {
        return authority;
    }
}
