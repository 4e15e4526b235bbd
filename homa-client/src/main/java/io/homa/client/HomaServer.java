package io.homa.client;

import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableArrayBuffer;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A request-response server on one Homa port: a thread of its own receives each request, gives it to a
 * {@link RequestHandler} and sends what that wrote as the response. {@link #start} binds the port and starts the
 * thread; {@link #close()} stops it and frees the port, and so does the JVM's shutdown (SIGTERM, SIGINT, the end of
 * {@code main}) unless {@link Context#shutdownHook(boolean)} is false, so the driver learns at once that the port
 * is gone rather than after the client liveness timeout.
 * <pre>{@code
 * try (HomaServer echo = HomaServer.start(homa, 7, (request, offset, length, response) ->
 * {
 *     response.putBytes(0, request, offset, length);
 *     return length;
 * }))
 * {
 *     ...
 * }
 * }</pre>
 * A handler that throws leaves its request unanswered (its client sees no response within its timeout); the
 * exception goes to {@link Context#errorHandler(ErrorHandler)} and the server goes on. The handler runs without
 * allocating: the response buffer is reused, the request is read in place.
 */
public final class HomaServer implements AutoCloseable
{
    private final Context ctx;
    private final HomaSocket socket;
    private final Thread thread;
    private final Thread shutdownHook;
    private final AtomicLong requestsServed = new AtomicLong();
    private final AtomicLong handlerErrors = new AtomicLong();
    private final ExpandableArrayBuffer response = new ExpandableArrayBuffer(4096);
    private final MessageHandler dispatcher = MessageHandler.of(this::onRequest, (id, cookie, errorCode) -> { });
    private volatile boolean isRunning = true;
    private volatile boolean isClosed;

    private HomaServer(final Context ctx)
    {
        this.ctx = ctx;
        socket = ctx.homa.addSocket(ctx.port);
        thread = new Thread(this::run, ctx.threadName + "-" + ctx.port);
        thread.setDaemon(true);
        shutdownHook = ctx.shutdownHook ? new Thread(this::close, ctx.threadName + "-" + ctx.port + "-shutdown") : null;
        thread.start();
        if (null != shutdownHook)
        {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /**
     * Binds {@code port} on {@code homa} and starts serving with the default settings.
     *
     * @param homa    the connection to the driver.
     * @param port    the server port, 1..32767.
     * @param handler answers each request.
     * @return the running server.
     * @throws HomaException EADDRINUSE if another socket has the port, EINVAL for a port out of range.
     */
    public static HomaServer start(final Homa homa, final int port, final RequestHandler handler)
    {
        return start(new Context().homa(homa).port(port).requestHandler(handler));
    }

    /**
     * Binds the context's port and starts serving.
     *
     * @param ctx the settings; {@link Context#homa(Homa)}, {@link Context#port(int)} and
     *            {@link Context#requestHandler(RequestHandler)} are required.
     * @return the running server.
     * @throws HomaException EADDRINUSE if another socket has the port, EINVAL for a port out of range.
     */
    public static HomaServer start(final Context ctx)
    {
        Objects.requireNonNull(ctx.homa, "Context.homa");
        Objects.requireNonNull(ctx.requestHandler, "Context.requestHandler");
        return new HomaServer(ctx);
    }

    /**
     * @return the server port.
     */
    public int port()
    {
        return ctx.port;
    }

    /**
     * @return the server's socket, e.g. for {@link HomaSocket#rpcInfo()}.
     */
    public HomaSocket socket()
    {
        return socket;
    }

    /**
     * @return requests answered so far (counted as their reply is handed to the driver).
     */
    public long requestsServed()
    {
        return requestsServed.get();
    }

    /**
     * @return requests whose handler (or reply) threw.
     */
    public long handlerErrors()
    {
        return handlerErrors.get();
    }

    /**
     * @return true until {@link #close()} or the serving thread stopped (the socket or the connection failed).
     */
    public boolean isRunning()
    {
        return isRunning && thread.isAlive();
    }

    /**
     * Stops serving: the thread ends, the socket closes and the driver frees the port. Idempotent; waits for a
     * request being handled to finish.
     */
    public void close()
    {
        synchronized (this)
        {
            if (isClosed)
            {
                return;
            }
            isClosed = true;
        }
        isRunning = false;
        if (null != shutdownHook && Thread.currentThread() != shutdownHook)
        {
            try
            {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            }
            catch (final IllegalStateException ex)
            {
                // The JVM is shutting down: the hook runs, or ran, this close.
            }
        }
        try
        {
            // Wakes the thread out of receive with ESHUTDOWN.
            socket.shutdown();
        }
        catch (final RuntimeException ex)
        {
            ctx.errorHandler.onError(ex);
        }
        finally
        {
            if (Thread.currentThread() != thread)
            {
                join();
            }
            socket.close();
        }
    }

    private void join()
    {
        try
        {
            thread.join(TimeUnit.NANOSECONDS.toMillis(ctx.homa.context().driverTimeoutNs()) + 1000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void run()
    {
        while (isRunning)
        {
            try
            {
                socket.receive(dispatcher, ctx.pollTimeoutNs);
            }
            catch (final HomaException ex)
            {
                if (HomaError.ESHUTDOWN == ex.errorCode())
                {
                    break;
                }
                ctx.errorHandler.onError(ex);
            }
            catch (final RuntimeException ex)
            {
                if (!isRunning)
                {
                    break;
                }
                if (ex instanceof DriverTimeoutException || ex instanceof ClientTimeoutException)
                {
                    // The driver is gone, or has dropped this client: nothing more will arrive.
                    ctx.errorHandler.onError(ex);
                    break;
                }
                ctx.errorHandler.onError(ex);
            }
        }
        isRunning = false;
    }

    private void onRequest(final long id, final long cookie, final DirectBuffer buffer, final int offset,
        final int length)
    {
        try
        {
            final int responseLength = ctx.requestHandler.onRequest(buffer, offset, length, response);
            // Counted before the reply goes: the client may hold the response before this thread runs again, and
            // whoever saw it must find it counted.
            requestsServed.incrementAndGet();
            try
            {
                socket.reply(id, response, 0, responseLength);
            }
            catch (final RuntimeException ex)
            {
                requestsServed.decrementAndGet();
                throw ex;
            }
        }
        catch (final RuntimeException ex)
        {
            handlerErrors.incrementAndGet();
            ctx.errorHandler.onError(ex);
        }
    }

    /**
     * Settings of a {@link HomaServer}, fluent as Aeron's contexts.
     */
    public static final class Context
    {
        private Homa homa;
        private int port;
        private RequestHandler requestHandler;
        private ErrorHandler errorHandler = (ex) -> ex.printStackTrace(System.err);
        private String threadName = "homa-server";
        private boolean shutdownHook = true;
        private long pollTimeoutNs = TimeUnit.SECONDS.toNanos(1);

        /**
         * @param homa the connection to the driver the server's socket lives in.
         * @return this.
         */
        public Context homa(final Homa homa)
        {
            this.homa = homa;
            return this;
        }

        /**
         * @param port the server port, 1..32767.
         * @return this.
         */
        public Context port(final int port)
        {
            this.port = port;
            return this;
        }

        /**
         * @param handler answers each request.
         * @return this.
         */
        public Context requestHandler(final RequestHandler handler)
        {
            this.requestHandler = handler;
            return this;
        }

        /**
         * @param handler gets what a request handler throws and what makes receiving fail; prints to
         *                {@code System.err} by default.
         * @return this.
         */
        public Context errorHandler(final ErrorHandler handler)
        {
            this.errorHandler = Objects.requireNonNull(handler, "errorHandler");
            return this;
        }

        /**
         * @param name the serving thread's name, before "-port" ({@code homa-server} by default).
         * @return this.
         */
        public Context threadName(final String name)
        {
            this.threadName = Objects.requireNonNull(name, "threadName");
            return this;
        }

        /**
         * @param register true (the default) to close the server when the JVM shuts down.
         * @return this.
         */
        public Context shutdownHook(final boolean register)
        {
            this.shutdownHook = register;
            return this;
        }

        /**
         * @param timeoutNs longest single wait of the serving thread (how often it looks up without traffic).
         * @return this.
         */
        public Context pollTimeoutNs(final long timeoutNs)
        {
            if (timeoutNs <= 0)
            {
                throw new IllegalArgumentException("pollTimeoutNs must be > 0: " + timeoutNs);
            }
            this.pollTimeoutNs = timeoutNs;
            return this;
        }
    }
}
