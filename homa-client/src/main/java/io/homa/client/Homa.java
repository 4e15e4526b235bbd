package io.homa.client;

import io.homa.client.control.OnErrorDecoder;
import io.homa.client.control.OnOperationSuccessDecoder;
import io.homa.client.control.OnSocketReadyDecoder;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastReceiver;
import org.agrona.concurrent.broadcast.CopyBroadcastReceiver;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client's connection to a Homa media driver, through the driver directory's CnC file; opens
 * {@link HomaSocket}s.
 * <p>
 * Thread-safe: {@link #addSocket()}, {@link #addSocket(int)} and {@link #close()} may be called from any thread
 * (they are serialised); sockets are thread-safe as described on {@link HomaSocket}.
 */
public final class Homa implements AutoCloseable
{
    private final Context ctx;
    private final MappedByteBuffer cncByteBuffer;
    private final UnsafeBuffer cncMetaData;
    private final ManyToOneRingBuffer toDriver;
    private final CopyBroadcastReceiver toClients;
    private final DriverProxy driverProxy;
    private final long clientId;
    private final ReentrantLock commandLock = new ReentrantLock();
    private final ReentrantLock invokerLock = new ReentrantLock();
    private final List<HomaSocket> sockets = new ArrayList<>();
    private final OnSocketReadyDecoder socketReadyDecoder = new OnSocketReadyDecoder();
    private final OnOperationSuccessDecoder successDecoder = new OnOperationSuccessDecoder();
    private final OnErrorDecoder errorDecoder = new OnErrorDecoder();
    private volatile boolean isClosed;

    private long awaitedCorrelationId;
    private int awaitedTemplateId;
    private long responseSocketId;
    private int responsePort;
    private int responseErrorCode;
    private String responseErrorMessage;

    private Homa(final Context ctx)
    {
        this.ctx = ctx;
        final File cncFile = new File(ctx.homaDirectory(), CncFileDescriptor.CNC_FILE);
        cncByteBuffer = awaitCnc(cncFile, ctx.driverTimeoutNs());
        try
        {
            cncMetaData = CncFileDescriptor.metaDataBuffer(cncByteBuffer);
            toDriver = new ManyToOneRingBuffer(CncFileDescriptor.toDriverBuffer(cncByteBuffer, cncMetaData));
            toClients = new CopyBroadcastReceiver(
                new BroadcastReceiver(CncFileDescriptor.toClientsBuffer(cncByteBuffer, cncMetaData)));
            checkDriverHeartbeat();
            clientId = toDriver.nextCorrelationId();
            driverProxy = new DriverProxy(toDriver, clientId);
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(cncByteBuffer);
            throw ex;
        }
    }

    /**
     * Connects to the driver whose directory the context names.
     *
     * @param ctx settings.
     * @return the connection.
     * @throws DriverTimeoutException if no live driver shows up within the driver timeout.
     * @throws HomaException          EPROTONOSUPPORT if the driver's CnC layout version is not one this client knows.
     */
    public static Homa connect(final Context ctx)
    {
        return new Homa(ctx);
    }

    /**
     * Connects with settings from system properties.
     *
     * @return the connection.
     */
    public static Homa connect()
    {
        return connect(new Context());
    }

    /**
     * Opens a client socket with an automatic port (32768 or above).
     *
     * @return the socket.
     */
    public HomaSocket addSocket()
    {
        commandLock.lock();
        try
        {
            ensureOpen();
            final long correlationId = driverProxy.nextCorrelationId();
            offerCommand(() -> driverProxy.addSocket(correlationId));
            awaitResponse(correlationId);
            final HomaSocket socket = new HomaSocket(this, responseSocketId, responsePort);
            sockets.add(socket);
            return socket;
        }
        finally
        {
            commandLock.unlock();
        }
    }

    /**
     * Opens a server socket bound to a port; only bound sockets accept requests.
     *
     * @param port 1..32767.
     * @return the socket.
     * @throws HomaException EINVAL for a port out of range, EADDRINUSE if another socket has it.
     */
    public HomaSocket addSocket(final int port)
    {
        validateServerPort(port);
        final HomaSocket socket = addSocket();
        try
        {
            socket.bind(port);
        }
        catch (final RuntimeException ex)
        {
            socket.close();
            throw ex;
        }
        return socket;
    }

    /**
     * @return this client's id, unique among the driver's clients.
     */
    public long clientId()
    {
        return clientId;
    }

    /**
     * @return the settings this client was made with.
     */
    public Context context()
    {
        return ctx;
    }

    /**
     * @return true once closed.
     */
    public boolean isClosed()
    {
        return isClosed;
    }

    /**
     * Closes every socket of this client and tells the driver.
     */
    public void close()
    {
        commandLock.lock();
        try
        {
            if (isClosed)
            {
                return;
            }
            for (final HomaSocket socket : new ArrayList<>(sockets))
            {
                CloseHelper.quietClose(socket);
            }
            isClosed = true;
            driverProxy.clientClose();
            IoUtil.unmap(cncByteBuffer);
        }
        finally
        {
            commandLock.unlock();
        }
    }

    void bind(final HomaSocket socket, final int port)
    {
        validateServerPort(port);
        commandLock.lock();
        try
        {
            ensureOpen();
            final long correlationId = driverProxy.nextCorrelationId();
            offerCommand(() -> driverProxy.bindSocket(correlationId, socket.socketId(), port));
            awaitResponse(correlationId);
        }
        finally
        {
            commandLock.unlock();
        }
    }

    void removeSocket(final HomaSocket socket)
    {
        commandLock.lock();
        try
        {
            sockets.remove(socket);
            if (isClosed)
            {
                return;
            }
            final long correlationId = driverProxy.nextCorrelationId();
            offerCommand(() -> driverProxy.removeSocket(correlationId, socket.socketId()));
            awaitResponse(correlationId);
        }
        finally
        {
            commandLock.unlock();
        }
    }

    DriverProxy driverProxy()
    {
        return driverProxy;
    }

    /**
     * Takes the next client RPC id: even, unique across every client of the driver (one counter in the CnC).
     */
    long nextRpcId()
    {
        return cncMetaData.getAndAddLong(CncFileDescriptor.NEXT_RPC_ID_OFFSET, 2);
    }

    void ensureOpen()
    {
        if (isClosed)
        {
            throw new HomaException(HomaError.ESHUTDOWN, "client is closed");
        }
    }

    /**
     * Lets a waiting caller make progress: runs the driver's duty cycle in INVOKER mode, else idles.
     */
    void idle(final IdleStrategy idleStrategy)
    {
        final AgentInvoker invoker = ctx.driverAgentInvoker();
        if (null != invoker)
        {
            if (invokerLock.tryLock())
            {
                try
                {
                    invoker.invoke();
                }
                finally
                {
                    invokerLock.unlock();
                }
            }
        }
        else
        {
            idleStrategy.idle();
        }
    }

    /**
     * @throws DriverTimeoutException if the driver's heartbeat is older than the driver timeout.
     */
    void checkDriverHeartbeat()
    {
        final long heartbeatMs = toDriver.consumerHeartbeatTime();
        final long ageMs = System.currentTimeMillis() - heartbeatMs;
        if (0 == heartbeatMs || ageMs > TimeUnit.NANOSECONDS.toMillis(ctx.driverTimeoutNs()))
        {
            throw new DriverTimeoutException("no driver heartbeat for " + ageMs + " ms in " + ctx.homaDirectoryName());
        }
    }

    /**
     * Writes a command, waiting while the to-driver ring is full.
     */
    void offerCommand(final java.util.function.BooleanSupplier command)
    {
        final long deadlineNs = System.nanoTime() + ctx.driverTimeoutNs();
        final IdleStrategy idleStrategy = new BackoffIdleStrategy(1, 10, 1000, 1_000_000);
        while (!command.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new DriverTimeoutException("to-driver ring stayed full");
            }
            checkDriverHeartbeat();
            idle(idleStrategy);
        }
    }

    private void awaitResponse(final long correlationId)
    {
        awaitedCorrelationId = correlationId;
        awaitedTemplateId = 0;
        final long deadlineNs = System.nanoTime() + ctx.driverTimeoutNs();
        final IdleStrategy idleStrategy = new BackoffIdleStrategy(1, 10, 1000, 1_000_000);
        while (0 == awaitedTemplateId)
        {
            if (0 == toClients.receive(this::onResponse))
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new DriverTimeoutException("no answer from the driver to command " + correlationId);
                }
                checkDriverHeartbeat();
                idle(idleStrategy);
            }
        }

        if (OnErrorDecoder.TEMPLATE_ID == awaitedTemplateId)
        {
            throw new HomaException(responseErrorCode, responseErrorMessage);
        }
    }

    private void onResponse(final int msgTypeId, final DirectBuffer buffer, final int index, final int length)
    {
        switch (msgTypeId)
        {
            case OnSocketReadyDecoder.TEMPLATE_ID ->
            {
                socketReadyDecoder.wrap(buffer, index, OnSocketReadyDecoder.BLOCK_LENGTH,
                    OnSocketReadyDecoder.SCHEMA_VERSION);
                if (socketReadyDecoder.correlationId() == awaitedCorrelationId)
                {
                    responseSocketId = socketReadyDecoder.socketId();
                    responsePort = socketReadyDecoder.port();
                    awaitedTemplateId = msgTypeId;
                }
            }
            case OnOperationSuccessDecoder.TEMPLATE_ID ->
            {
                successDecoder.wrap(buffer, index, OnOperationSuccessDecoder.BLOCK_LENGTH,
                    OnOperationSuccessDecoder.SCHEMA_VERSION);
                if (successDecoder.correlationId() == awaitedCorrelationId)
                {
                    awaitedTemplateId = msgTypeId;
                }
            }
            case OnErrorDecoder.TEMPLATE_ID ->
            {
                errorDecoder.wrap(buffer, index, OnErrorDecoder.BLOCK_LENGTH, OnErrorDecoder.SCHEMA_VERSION);
                if (errorDecoder.correlationId() == awaitedCorrelationId)
                {
                    responseErrorCode = errorDecoder.errorCode();
                    responseErrorMessage = errorDecoder.errorMessage();
                    awaitedTemplateId = msgTypeId;
                }
            }
            default ->
            {
                // Responses for other clients and types this version does not know are not ours to handle.
            }
        }
    }

    private static void validateServerPort(final int port)
    {
        if (port < 1 || port >= 0x8000)
        {
            throw new HomaException(HomaError.EINVAL, "server port must be in 1..32767: " + port);
        }
    }

    private static MappedByteBuffer awaitCnc(final File cncFile, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (true)
        {
            if (cncFile.exists() && cncFile.length() >= CncFileDescriptor.META_DATA_LENGTH)
            {
                final MappedByteBuffer cnc = IoUtil.mapExistingFile(cncFile, CncFileDescriptor.CNC_FILE);
                final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(cnc);
                final int version = meta.getIntVolatile(CncFileDescriptor.VERSION_OFFSET);
                if (0 != version)
                {
                    if (CncFileDescriptor.CNC_VERSION != version)
                    {
                        IoUtil.unmap(cnc);
                        throw new HomaException(HomaError.EPROTONOSUPPORT,
                            "driver CnC layout version " + version + " is not the one this client knows (" +
                            CncFileDescriptor.CNC_VERSION + "): " + cncFile);
                    }
                    if (cnc.capacity() >= CncFileDescriptor.fileLength(meta))
                    {
                        return cnc;
                    }
                }
                IoUtil.unmap(cnc);
            }

            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new DriverTimeoutException("no driver CnC ready at " + cncFile);
            }
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new HomaException(HomaError.EAGAIN, "interrupted while waiting for the driver");
            }
        }
    }

    /**
     * Client settings, fluent like Aeron's: accessors without get/set.
     */
    public static final class Context extends CommonContext
    {
        private AgentInvoker driverAgentInvoker;

        /**
         * {@inheritDoc}
         */
        @Override
        public Context homaDirectoryName(final String dirName)
        {
            super.homaDirectoryName(dirName);
            return this;
        }

        /**
         * {@inheritDoc}
         */
        @Override
        public Context driverTimeoutNs(final long timeoutNs)
        {
            super.driverTimeoutNs(timeoutNs);
            return this;
        }

        /**
         * @return the invoker of an INVOKER-mode driver in this process, or null.
         */
        public AgentInvoker driverAgentInvoker()
        {
            return driverAgentInvoker;
        }

        /**
         * When the driver runs in INVOKER mode inside this process, blocking client calls drive it through this
         * invoker so they make progress.
         *
         * @param invoker the driver's invoker.
         * @return this for a fluent API.
         */
        public Context driverAgentInvoker(final AgentInvoker invoker)
        {
            this.driverAgentInvoker = invoker;
            return this;
        }
    }
}
