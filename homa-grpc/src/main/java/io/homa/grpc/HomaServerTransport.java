package io.homa.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import io.grpc.Attributes;
import io.grpc.Decompressor;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.internal.SerializingExecutor;
import io.grpc.internal.ServerStream;
import io.grpc.internal.ServerStreamListener;
import io.grpc.internal.ServerTransport;
import io.grpc.internal.ServerTransportListener;
import io.grpc.internal.StatsTraceContext;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The server's one transport: its bound Homa socket, whose requests come from every client. Streams are told
 * apart by the client key and stream id of their frames; a thread receives the requests.
 */
final class HomaServerTransport implements ServerTransport
{
    private static final Logger LOGGER = Logger.getLogger(HomaServerTransport.class.getName());
    private static final long RECEIVE_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Bytes queued for a stream's client past which the stream reports not ready. */
    private static final int READY_BYTES = 1 << 20;
    /** Received bytes the application has not requested yet past which client RPCs are held unanswered. */
    private static final long INBOX_BYTES = 1 << 20;
    /** How many ended streams are remembered, so that their late frames are answered and dropped. */
    private static final int FINISHED_MEMORY = 65_536;
    /** The sequence number of a cancelled frame for a stream the server does not know: the client takes it at once. */
    static final int UNKNOWN_STREAM = -1;

    private record Key(long clientKey, int streamId)
    {
    }

    private final HomaSocket socket;
    private final Runnable onTerminated;
    private final ScheduledExecutorService timer;
    private final List<? extends ServerStreamTracer.Factory> tracerFactories;
    private final InternalLogId logId;
    private final ConcurrentHashMap<Key, Stream> streams = new ConcurrentHashMap<>();
    /** A stream its client cancelled before its first frame got here: its later frames are answered empty. */
    private static final int CANCELLED_BY_CLIENT = Integer.MIN_VALUE;
    /**
     * Ended streams, each with the sequence number of the first frame the client may not have had: a late frame of
     * the stream is answered with a cancelled frame of that number, which the client orders after whatever came
     * before, so a client still waiting learns that the call is over instead of asking again and again.
     */
    private final Map<Key, Integer> finished = new LinkedHashMap<>(1024, 0.75f, false)
    {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(final Map.Entry<Key, Integer> eldest)
        {
            return size() > FINISHED_MEMORY;
        }
    };
    private final Object lock = new Object();
    private ServerTransportListener listener;
    private Attributes attributes = Attributes.EMPTY;
    private Thread receiver;
    private boolean shutdown;
    private volatile boolean stopping;
    private boolean terminated;

    HomaServerTransport(
        final HomaSocket socket,
        final ScheduledExecutorService timer,
        final List<? extends ServerStreamTracer.Factory> tracerFactories,
        final Runnable onTerminated)
    {
        this.onTerminated = onTerminated;
        this.socket = socket;
        this.timer = timer;
        this.tracerFactories = tracerFactories;
        this.logId = InternalLogId.allocate(getClass(), "port " + socket.port());
    }

    void start(final ServerTransportListener listener)
    {
        this.listener = listener;
        this.attributes = listener.transportReady(Attributes.newBuilder()
            .set(io.grpc.internal.GrpcAttributes.ATTR_SECURITY_LEVEL, io.grpc.SecurityLevel.NONE)
            .build());
        receiver = new Thread(this::receiveLoop, "homa-grpc-server-" + socket.port());
        receiver.setDaemon(true);
        receiver.start();
    }

    private void receiveLoop()
    {
        final List<Runnable> events = new ArrayList<>();
        final MessageHandler handler = MessageHandler.of(
            (id, cookie, buffer, offset, length) ->
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
                events.add(() -> onRequest(id, decoded));
            },
            (id, cookie, errorCode) -> { });
        while (!stopping)
        {
            try
            {
                socket.receive(handler, RECEIVE_TIMEOUT_NS);
            }
            catch (final RuntimeException ex)
            {
                if (!stopping)
                {
                    LOGGER.log(Level.WARNING, "Homa receive failed: the server's streams end", ex);
                    shutdownNow(Wire.statusOf(ex, "Homa receive failed"));
                }
                break;
            }
            for (final Runnable event : events)
            {
                event.run();
            }
            events.clear();
        }
        try
        {
            socket.close();
        }
        catch (final RuntimeException ex)
        {
            LOGGER.log(Level.FINE, "closing the server socket", ex);
        }
        listener.transportTerminated();
        onTerminated.run();
    }

    private void onRequest(final long rpcId, final List<Frame> frames)
    {
        if (null == frames || 1 != frames.size())
        {
            replyEmpty(rpcId);
            return;
        }
        final Frame frame = frames.get(0);
        final Key key = new Key(frame.clientKey, frame.streamId);
        Stream stream = streams.get(key);
        if (null == stream)
        {
            final Integer ended;
            synchronized (finished)
            {
                ended = finished.get(key);
                if (null == ended && frame.has(Frame.FLAG_CANCELLED))
                {
                    // Cancelled before its first frame got here: drop that frame when it comes.
                    finished.put(key, CANCELLED_BY_CLIENT);
                }
            }
            if (null != ended)
            {
                replyEnded(rpcId, key, frame, ended);
                return;
            }
            if (frame.has(Frame.FLAG_CANCELLED))
            {
                replyEmpty(rpcId);
                return;
            }
            if (frame.isPoll())
            {
                // A poll comes only after the server answered: this server does not know the stream (restarted?).
                replyFrames(rpcId, List.of(new Frame(key.streamId(), UNKNOWN_STREAM, Frame.FLAG_CANCELLED,
                    key.clientKey(), null, null, null)));
                return;
            }
            synchronized (lock)
            {
                if (shutdown && frame.has(Frame.FLAG_INIT_MD))
                {
                    replyFrames(rpcId, List.of(new Frame(frame.streamId, 0, Frame.FLAG_TRAIL_MD, frame.clientKey,
                        null, Wire.trailers(Status.UNAVAILABLE.withDescription("server shutting down"), null), null)));
                    return;
                }
                stream = streams.computeIfAbsent(key, Stream::new);
            }
        }
        stream.onRequest(rpcId, frame);
    }

    /**
     * Answers a frame of an ended stream.
     */
    private void replyEnded(final long rpcId, final Key key, final Frame frame, final int firstUnseen)
    {
        if (CANCELLED_BY_CLIENT == firstUnseen || frame.has(Frame.FLAG_CANCELLED))
        {
            replyEmpty(rpcId);
            return;
        }
        replyFrames(rpcId, List.of(new Frame(key.streamId(), firstUnseen, Frame.FLAG_CANCELLED, key.clientKey(),
            null, null, null)));
    }

    private void replyEmpty(final long rpcId)
    {
        replyFrames(rpcId, List.of(new Frame(0, 0, Frame.FLAG_EMPTY_RESPONSE, 0, null, null, null)));
    }

    private void replyFrames(final long rpcId, final List<Frame> frames)
    {
        int length = 0;
        for (final Frame frame : frames)
        {
            length += frame.encodedLength();
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
        int at = 0;
        for (final Frame frame : frames)
        {
            at = frame.encode(buffer, at);
        }
        try
        {
            socket.reply(rpcId, buffer, 0, length);
        }
        catch (final RuntimeException ex)
        {
            LOGGER.log(Level.FINE, "reply to " + rpcId + " failed", ex);
        }
    }

    private void streamEnded(final Stream stream, final int firstUnseen)
    {
        synchronized (finished)
        {
            finished.put(stream.key, firstUnseen);
        }
        final boolean terminate;
        synchronized (lock)
        {
            streams.remove(stream.key);
            terminate = shutdown && streams.isEmpty();
        }
        if (terminate)
        {
            terminate();
        }
    }

    private void terminate()
    {
        synchronized (lock)
        {
            if (terminated)
            {
                return;
            }
            terminated = true;
        }
        stopping = true;
        socket.shutdown();
    }

    @Override
    public void shutdown()
    {
        final boolean terminate;
        synchronized (lock)
        {
            shutdown = true;
            terminate = streams.isEmpty();
        }
        if (terminate)
        {
            terminate();
        }
    }

    @Override
    public void shutdownNow(final Status reason)
    {
        synchronized (lock)
        {
            shutdown = true;
        }
        for (final Stream stream : new ArrayList<>(streams.values()))
        {
            stream.cancel(reason);
        }
        terminate();
    }

    @Override
    public ScheduledExecutorService getScheduledExecutorService()
    {
        return timer;
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

    /**
     * One call at the server. The client's frames come in the requests of several Homa RPCs; they are taken in
     * sequence order. The server's frames go back in the responses of whichever of those RPCs are waiting; a
     * waiting RPC with nothing to carry is answered empty as soon as a newer one arrives, so one stays to answer.
     */
    private final class Stream implements ServerStream
    {
        private final Key key;
        private final SerializingExecutor serial = new SerializingExecutor(MoreExecutors.directExecutor());

        // Guarded by serial.
        private volatile ServerStreamListener listener;
        private StatsTraceContext statsTraceContext = StatsTraceContext.NOOP;
        private boolean started;
        private int nextClientSequence;
        private final TreeMap<Integer, Frame> early = new TreeMap<>();
        private final ArrayDeque<Long> waiting = new ArrayDeque<>();
        private final ArrayDeque<Frame> outbound = new ArrayDeque<>();
        private int outboundBytes;
        private Metadata unsentHeaders;
        private boolean headersSent;
        private final List<byte[]> unsent = new ArrayList<>(1);
        private int nextSequence;
        private int messagesIn;
        private int messagesOut;
        private boolean closedLocally;
        private Status endStatus = Status.OK;
        private boolean ended;
        /** Once ended: the sequence number of the first frame not handed to Homa. */
        private int firstUnseen;
        private final ArrayDeque<byte[]> inbox = new ArrayDeque<>();
        private long inboxBytes;
        private int requested;
        private boolean remoteHalfClosed;
        private boolean halfCloseDelivered;
        private volatile boolean ready = true;

        Stream(final Key key)
        {
            this.key = key;
        }

        void onRequest(final long rpcId, final Frame frame)
        {
            serial.execute(() ->
            {
                if (ended)
                {
                    replyEnded(rpcId, key, frame, firstUnseen);
                    return;
                }
                waiting.add(rpcId);
                if (frame.has(Frame.FLAG_CANCELLED))
                {
                    onClientCancel();
                    return;
                }
                if (!frame.isPoll())
                {
                    early.put(frame.sequence, frame);
                    Frame next;
                    while (!ended && null != (next = early.remove(nextClientSequence)))
                    {
                        nextClientSequence++;
                        onFrame(next);
                    }
                }
                pump();
            });
        }

        private void onFrame(final Frame frame)
        {
            if (frame.has(Frame.FLAG_INIT_MD) && !started)
            {
                started = true;
                final String path = Wire.pseudoHeader(frame.initMd, Wire.PATH);
                final String method = null == path ? "" : path.startsWith("/") ? path.substring(1) : path;
                final Metadata headers = Wire.metadata(Wire.withoutPseudoHeaders(frame.initMd));
                statsTraceContext = StatsTraceContext.newServerContext(tracerFactories, method, headers);
                listener().streamCreated(this, method, headers);
            }
            if (!started)
            {
                return;
            }
            if (frame.has(Frame.FLAG_MESSAGE_COMPLETE))
            {
                inbox.add(frame.message);
                inboxBytes += frame.message.length;
            }
            if (frame.has(Frame.FLAG_TRAIL_MD))
            {
                remoteHalfClosed = true;
            }
            deliver();
        }

        private void deliver()
        {
            final ServerStreamListener listener = this.listener;
            if (null == listener || ended)
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
                listener.messagesAvailable(new HomaClientTransport.Messages(batch));
            }
            if (remoteHalfClosed && inbox.isEmpty() && !halfCloseDelivered && !closedLocally)
            {
                halfCloseDelivered = true;
                listener.halfClosed();
            }
        }

        private void onClientCancel()
        {
            closedLocally = true;
            outbound.clear();
            outboundBytes = 0;
            inbox.clear();
            inboxBytes = 0;
            end(Status.CANCELLED.withDescription("cancelled by the client"));
        }

        /**
         * Answers waiting RPCs with queued frames; when the call is over and everything is handed to Homa, ends
         * the stream.
         */
        private void pump()
        {
            while (!waiting.isEmpty() && !outbound.isEmpty())
            {
                final long rpcId = waiting.poll();
                final List<Frame> frames = new ArrayList<>();
                int length = 0;
                while (!outbound.isEmpty() &&
                    (frames.isEmpty() || length + outbound.peek().encodedLength() <= Frame.MAX_HOMA_MESSAGE))
                {
                    final Frame frame = outbound.poll();
                    length += frame.encodedLength();
                    frames.add(frame);
                }
                outboundBytes -= length;
                replyFrames(rpcId, frames);
            }
            if (closedLocally && outbound.isEmpty())
            {
                end(endStatus);
                return;
            }
            // Client RPCs whose messages the application has not taken yet stay unanswered: the client then has
            // that many outstanding and its stream reports not ready (flow control towards the client).
            while (waiting.size() > 1 && inboxBytes < INBOX_BYTES)
            {
                replyEmpty(waiting.poll());
            }
            if (!ready && outboundBytes < READY_BYTES / 2)
            {
                ready = true;
                final ServerStreamListener listener = this.listener;
                if (null != listener)
                {
                    listener.onReady();
                }
            }
        }

        private void end(final Status status)
        {
            if (ended)
            {
                return;
            }
            ended = true;
            firstUnseen = outbound.isEmpty() ? nextSequence : outbound.peek().sequence;
            while (!waiting.isEmpty())
            {
                replyEmpty(waiting.poll());
            }
            streamEnded(this, firstUnseen);
            statsTraceContext.streamClosed(status);
            final ServerStreamListener listener = this.listener;
            if (started && null != listener)
            {
                listener.closed(status);
            }
        }

        private void queue(final Frame frame)
        {
            outbound.add(frame);
            outboundBytes += frame.encodedLength();
            if (outboundBytes >= READY_BYTES)
            {
                ready = false;
            }
        }

        /**
         * Turns the unsent headers and messages into frames, the trailers with the last if {@code status}.
         *
         * @return false if a frame was over Homa's limit (the call then ends with RESOURCE_EXHAUSTED).
         */
        private boolean frame(final Status status, final Metadata trailers)
        {
            final int count = null == status ? unsent.size() : Math.max(1, unsent.size());
            final List<Frame> frames = new ArrayList<>(count);
            for (int i = 0; i < count; i++)
            {
                int flags = 0;
                byte[][] initMd = null;
                if (!headersSent && null != unsentHeaders)
                {
                    flags |= Frame.FLAG_INIT_MD;
                    initMd = Wire.serialize(unsentHeaders);
                    headersSent = true;
                    unsentHeaders = null;
                }
                final byte[] message = i < unsent.size() ? unsent.get(i) : null;
                if (null != message)
                {
                    flags |= Frame.FLAG_MESSAGE_COMPLETE;
                }
                byte[][] trailMd = null;
                if (null != status && i == count - 1)
                {
                    flags |= Frame.FLAG_TRAIL_MD;
                    trailMd = Wire.trailers(status, trailers);
                }
                final Frame frame =
                    new Frame(key.streamId(), nextSequence++, flags, key.clientKey(), initMd, trailMd, message);
                if (frame.encodedLength() > Frame.MAX_HOMA_MESSAGE)
                {
                    unsent.clear();
                    for (final Frame before : frames)
                    {
                        queue(before);   // their sequence numbers are taken: the client must get them
                    }
                    final Status tooBig = Status.RESOURCE_EXHAUSTED.withDescription("response of " +
                        frame.encodedLength() + " bytes with its framing is over Homa's " + Frame.MAX_HOMA_MESSAGE +
                        "-byte message limit");
                    queue(new Frame(key.streamId(), frame.sequence, Frame.FLAG_TRAIL_MD, key.clientKey(), null,
                        Wire.trailers(tooBig, null), null));
                    closedLocally = true;
                    endStatus = tooBig;
                    statsTraceContext.streamClosed(tooBig);
                    pump();
                    return false;
                }
                if (null != message)
                {
                    statsTraceContext.outboundMessage(messagesOut);
                    statsTraceContext.outboundMessageSent(messagesOut, message.length, message.length);
                    messagesOut++;
                }
                frames.add(frame);
            }
            unsent.clear();
            for (final Frame frame : frames)
            {
                queue(frame);
            }
            return true;
        }

        @Override
        public void writeHeaders(final Metadata headers, final boolean flush)
        {
            serial.execute(() ->
            {
                if (closedLocally || headersSent)
                {
                    return;
                }
                // Messages go as the application serialized them: the client must not think them compressed.
                headers.discardAll(io.grpc.internal.GrpcUtil.MESSAGE_ENCODING_KEY);
                unsentHeaders = headers;
                if (flush)
                {
                    // Headers alone: a frame with no message.
                    final Frame frame = new Frame(key.streamId(), nextSequence++, Frame.FLAG_INIT_MD, key.clientKey(),
                        Wire.serialize(headers), null, null);
                    headersSent = true;
                    unsentHeaders = null;
                    queue(frame);
                    pump();
                }
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
                cancel(Status.INTERNAL.withDescription("reading the response failed").withCause(ex));
                return;
            }
            serial.execute(() ->
            {
                if (!closedLocally)
                {
                    unsent.add(bytes);
                }
            });
        }

        @Override
        public void flush()
        {
            serial.execute(() ->
            {
                if (!closedLocally && !unsent.isEmpty() && frame(null, null))
                {
                    pump();
                }
            });
        }

        @Override
        public void close(final Status status, final Metadata trailers)
        {
            serial.execute(() ->
            {
                if (closedLocally)
                {
                    return;
                }
                if (frame(status, trailers))
                {
                    closedLocally = true;
                    statsTraceContext.streamClosed(status);
                    pump();
                }
            });
        }

        @Override
        public void cancel(final Status status)
        {
            serial.execute(() ->
            {
                if (ended)
                {
                    return;
                }
                // The cancelled frame takes the place of the first frame the client has not had, so it sees no gap.
                final int sequence = outbound.isEmpty() ? nextSequence : outbound.peek().sequence;
                nextSequence = sequence + 1;
                outbound.clear();
                outboundBytes = 0;
                unsent.clear();
                queue(new Frame(key.streamId(), sequence, Frame.FLAG_CANCELLED, key.clientKey(), null, null, null));
                closedLocally = true;
                endStatus = status;
                statsTraceContext.streamClosed(status);
                pump();
                // No client RPC to carry it now: the call is over all the same; a later frame of the client's
                // gets the cancelled frame (replyEnded).
                end(status);
            });
        }

        @Override
        public void request(final int numMessages)
        {
            serial.execute(() ->
            {
                requested += numMessages;
                deliver();
                if (!ended)
                {
                    pump();
                }
            });
        }

        @Override
        public boolean isReady()
        {
            return ready;
        }

        @Override
        public void setListener(final ServerStreamListener listener)
        {
            this.listener = listener;
            serial.execute(() ->
            {
                deliver();
                if (!ended && ready)
                {
                    listener.onReady();
                }
            });
        }

        @Override
        public void setDecompressor(final Decompressor decompressor)
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
        public String getAuthority()
        {
            return null;
        }

        @Override
        public void triggerEvent(final Object event)
        {
        }

        @Override
        public StatsTraceContext statsTraceContext()
        {
            return statsTraceContext;
        }

        @Override
        public int streamId()
        {
            return key.streamId();
        }

        @Override
        public void setOnReadyThreshold(final int numBytes)
        {
        }
    }

    private ServerTransportListener listener()
    {
        return listener;
    }
}
