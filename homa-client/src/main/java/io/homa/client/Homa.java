package io.homa.client;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.internal.DirectDriver;
import io.homa.client.internal.Wakeups;
import io.homa.client.internal.control.OnClientTimeoutDecoder;
import io.homa.client.internal.control.OnErrorDecoder;
import io.homa.client.internal.control.OnOperationSuccessDecoder;
import io.homa.client.internal.control.OnRpcInfoDecoder;
import io.homa.client.internal.control.OnPeerAddressDecoder;
import io.homa.client.internal.control.OnSocketReadyDecoder;
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
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client's connection to a Homa media driver, through the driver directory's CnC file; opens
 * {@link HomaSocket}s.
 * <p>
 * Thread-safe: {@link #addSocket()}, {@link #addSocket(int)} and {@link #close()} may be called from any thread
 * (they are serialised); sockets are thread-safe as described on {@link HomaSocket}.
 * <p>
 * <b>Liveness.</b> A client sends the driver a keepalive every keepalive interval (a fifth of the driver's client
 * liveness timeout, at most 1 s); a driver that hears nothing for its timeout frees the client's sockets,
 * RPCs and memory. By default a small daemon thread sends them; when the context names a driver invoker (an
 * INVOKER-mode driver in this process) or {@link Context#useKeepaliveThread(boolean)} is false, the client's own
 * calls send them instead: every {@link HomaSocket#poll}, {@link HomaSocket#receive} and every wait inside a
 * blocking call, so such an application must call into the client at least once per interval. In the other
 * direction the client checks the driver's heartbeat; once it is older than the driver timeout, calls fail with
 * {@link DriverTimeoutException}; a driver that ended on a fatal error (a corrupt to-driver ring) wrote why into the
 * CnC first, and every later call, wait and connect fails at once with {@link DriverFailedException} (a
 * DriverTimeoutException) carrying that reason. A client the driver timed out (after a long pause) fails its calls with
 * {@link ClientTimeoutException}.
 */
public final class Homa implements AutoCloseable
{
    private final Context ctx;
    private final MappedByteBuffer cncByteBuffer;
    private final UnsafeBuffer cncMetaData;
    private final ManyToOneRingBuffer toDriver;
    private final CopyBroadcastReceiver toClients;
    private final DriverProxy driverProxy;
    private final int wakeFd;
    private final DirectDriver directDriver;
    private final long clientId;
    private final ReentrantLock commandLock = new ReentrantLock();
    private final ReentrantLock invokerLock = new ReentrantLock();
    /**
     * Backs off a command offer that found the to-driver ring full; one for the client, not one per offer (any
     * thread may offer at once: a race only mixes up the backoff, bounded by its longest park), as
     * {@code HomaSocket}'s send waits do.
     */
    private final IdleStrategy commandIdle = new BackoffIdleStrategy(1, 10, 1000, 1_000_000);
    private final List<HomaSocket> sockets = new ArrayList<>();
    private final OnSocketReadyDecoder socketReadyDecoder = new OnSocketReadyDecoder();
    private final OnOperationSuccessDecoder successDecoder = new OnOperationSuccessDecoder();
    private final OnErrorDecoder errorDecoder = new OnErrorDecoder();
    private final OnClientTimeoutDecoder clientTimeoutDecoder = new OnClientTimeoutDecoder();
    private final OnRpcInfoDecoder rpcInfoDecoder = new OnRpcInfoDecoder();
    private final OnPeerAddressDecoder peerAddressDecoder = new OnPeerAddressDecoder();
    private final Map<Inet6Address, Integer> ipv6Keys = new HashMap<>();
    private final Inet6Address driverIpv6;
    private final long driverInstance;
    private final org.agrona.concurrent.MessageHandler responseHandler = this::onResponse;
    private final ReentrantLock keepaliveLock = new ReentrantLock();
    private final long keepaliveIntervalNs;
    private final KeepaliveThread keepaliveThread;
    private volatile long nextKeepaliveNs;
    private volatile String driverTimeoutReason;
    private volatile String driverFailureReason;
    private volatile boolean isTimedOut;
    private volatile boolean isClosed;

    private long awaitedCorrelationId;
    private int awaitedTemplateId;
    private long responseSocketId;
    private int responsePort;
    private int responsePeerAddress;
    private int responseErrorCode;
    private String responseErrorMessage;
    private RpcInfoSnapshot responseRpcInfo;
    private int awaitedRpcInfoPort;

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
            driverIpv6 = driverIpv6(cncMetaData);
            // Keys of IPv6 peers are this driver's: an address names which driver gave it by this.
            driverInstance = cncMetaData.getLong(CncFileDescriptor.START_TIMESTAMP_OFFSET) << 22 ^
                cncMetaData.getLong(CncFileDescriptor.PID_OFFSET);
            clientId = toDriver.nextCorrelationId();
            // Only a threaded driver sleeps; one run by this client's invoker is woken by the invoking itself.
            wakeFd = null == ctx.driverAgentInvoker() ? Wakeups.openFifoForWriting(
                new File(ctx.homaDirectory(), CncFileDescriptor.WAKE_FIFO).getPath()) : -1;
            // A driver in this JVM may let our threads run its cycle while its own thread sleeps.
            directDriver = null == ctx.driverAgentInvoker() ? DirectDriver.Registry.find(ctx.homaDirectory()) : null;
            // Kept only in this process's memory: a command in this client's name from anyone else lacks it.
            driverProxy = new DriverProxy(toDriver, clientId, newCredential(), cncMetaData, wakeFd, directDriver);
            keepaliveIntervalNs = keepaliveIntervalNs(
                cncMetaData.getLong(CncFileDescriptor.CLIENT_LIVENESS_TIMEOUT_OFFSET));
            // The first keepalive makes the driver count this client before it opens any socket.
            offerCommand(driverProxy::keepalive);
            nextKeepaliveNs = System.nanoTime() + keepaliveIntervalNs;
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(cncByteBuffer);
            throw ex;
        }
        final boolean useThread = null != ctx.useKeepaliveThread ?
            ctx.useKeepaliveThread : null == ctx.driverAgentInvoker();
        keepaliveThread = useThread ? new KeepaliveThread(this, keepaliveIntervalNs) : null;
        if (null != keepaliveThread)
        {
            keepaliveThread.start();
        }
    }

    private static Inet6Address driverIpv6(final UnsafeBuffer metaData)
    {
        final byte[] bytes = new byte[CncFileDescriptor.IPV6_ADDRESS_LENGTH];
        metaData.getBytes(CncFileDescriptor.IPV6_ADDRESS_OFFSET, bytes);
        for (final byte b : bytes)
        {
            if (0 != b)
            {
                try
                {
                    return (Inet6Address)InetAddress.getByAddress(bytes);
                }
                catch (final UnknownHostException | ClassCastException ex)
                {
                    throw new HomaException(HomaError.EPROTONOSUPPORT, "bad IPv6 address in the driver's CnC");
                }
            }
        }
        return null;
    }

    private static long newCredential()
    {
        long credential;
        do
        {
            credential = CredentialSource.RANDOM.nextLong();
        }
        while (0 == credential);
        return credential;
    }

    private static final class CredentialSource
    {
        static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    }

    static long keepaliveIntervalNs(final long livenessTimeoutNs)
    {
        final long fifth = livenessTimeoutNs / 5;
        return Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(TimeUnit.SECONDS.toNanos(1), fifth));
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
     * The live RPCs of the driver's sockets, as Linux's {@code HOMAIOCINFO} reports them for a socket: ids, peers,
     * states, bytes sent and granted, bytes received, remaining and missing, silent ticks. Off the fast path: the
     * driver takes the snapshot between two duty cycles and the answer is allocated here.
     *
     * @param port a Homa port to see only that socket's RPCs, or 0 for every socket of every client.
     * @return the snapshot.
     * @throws HomaException EINVAL for a port out of 0..65535.
     */
    public RpcInfoSnapshot rpcInfo(final int port)
    {
        if (port < 0 || port > 0xFFFF)
        {
            throw new HomaException(HomaError.EINVAL, "port out of range 0..65535: " + port);
        }
        commandLock.lock();
        try
        {
            ensureOpen();
            final long correlationId = driverProxy.nextCorrelationId();
            offerCommand(() -> driverProxy.rpcInfo(correlationId, port));
            responseRpcInfo = null;
            awaitedRpcInfoPort = port;
            awaitResponse(correlationId);
            final RpcInfoSnapshot snapshot = responseRpcInfo;
            responseRpcInfo = null;
            return snapshot;
        }
        finally
        {
            commandLock.unlock();
        }
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
        CloseHelper.quietClose(keepaliveThread);
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
            keepaliveLock.lock();
            try
            {
                isClosed = true;
                if (!isTimedOut)
                {
                    driverProxy.clientClose();
                }
                IoUtil.unmap(cncByteBuffer);
                Wakeups.close(wakeFd);
            }
            finally
            {
                keepaliveLock.unlock();
            }
        }
        finally
        {
            commandLock.unlock();
        }
    }

    /**
     * The driver's own endpoint with a Homa port: where sockets of this driver's clients are reached.
     *
     * @param port a Homa port (a server socket's 1..32767).
     * @return the address (IPv6 for an IPv6 driver).
     */
    public HomaAddress driverAddress(final int port)
    {
        ensureOpen();
        final int address = cncMetaData.getInt(CncFileDescriptor.UDP_ADDRESS_OFFSET);
        final int udpPort = cncMetaData.getInt(CncFileDescriptor.UDP_PORT_OFFSET);
        return null != driverIpv6 ? HomaAddress.ofIpv6(address, driverIpv6, udpPort, port, driverInstance) :
            HomaAddress.of(address, udpPort, port);
    }

    /**
     * @return the driver's IPv6 address, or null for an IPv4 driver.
     */
    public Inet6Address driverIpv6Address()
    {
        return driverIpv6;
    }

    /**
     * Names a peer. An IPv4 address is its own name; an IPv6 one the driver names (the first call for an address
     * asks the driver, later ones are answered here), so the address only works with sockets of this driver.
     *
     * @param address the peer driver's address.
     * @param udpPort the peer driver's transport port (0 over raw IP).
     * @param port    the Homa server port (1..65535).
     * @return the address to send to.
     * @throws HomaException EINVAL for a port out of range or an IPv6 address the driver cannot name
     *                       (unspecified, multicast, link-local), EAFNOSUPPORT for an address of the family the
     *                       driver does not speak, ENOMEM when the driver can name no more IPv6 peers.
     */
    public HomaAddress address(final InetAddress address, final int udpPort, final int port)
    {
        if (address instanceof Inet4Address)
        {
            if (null != driverIpv6)
            {
                throw new HomaException(HomaError.EAFNOSUPPORT, "IPv4 peer " + address.getHostAddress() +
                    " but the driver speaks IPv6 (" + HomaAddress.ipv6ToString(driverIpv6.getAddress()) + ")");
            }
            return HomaAddress.of(address, udpPort, port);
        }
        final Inet6Address ipv6 = (Inet6Address)address;
        HomaAddress.of(0, udpPort, port);
        commandLock.lock();
        try
        {
            ensureOpen();
            Integer key = ipv6Keys.get(ipv6);
            if (null == key)
            {
                final ByteBuffer bytes = ByteBuffer.wrap(ipv6.getAddress());
                final long high = bytes.getLong(0);
                final long low = bytes.getLong(8);
                final long correlationId = driverProxy.nextCorrelationId();
                offerCommand(() -> driverProxy.resolveAddress(correlationId, high, low));
                awaitResponse(correlationId);
                key = responsePeerAddress;
                ipv6Keys.put(ipv6, key);
            }
            return HomaAddress.ofIpv6(key, ipv6, udpPort, port, driverInstance);
        }
        finally
        {
            commandLock.unlock();
        }
    }

    /**
     * @return which driver this client talks to (its start time and PID): IPv6 peer keys are only valid there.
     */
    public long driverInstance()
    {
        return driverInstance;
    }

    /**
     * Refuses a destination this driver cannot reach, before anything is written.
     */
    void checkDestination(final HomaAddress dest)
    {
        if (dest.isIpv6())
        {
            if (dest.resolver() != driverInstance)
            {
                throw new HomaException(HomaError.EINVAL, "IPv6 peer " + dest + " was named by another driver; " +
                    "name it with Homa.address of a client of this one");
            }
        }
        else if (null != driverIpv6 && 0 != dest.ipv4() >>> 24)
        {
            throw new HomaException(HomaError.EAFNOSUPPORT, "IPv4 peer " + dest + " but the driver speaks IPv6 " +
                "(" + HomaAddress.ipv6ToString(driverIpv6.getAddress()) + ")");
        }
    }

    /**
     * @return true if the driver timed this client out.
     */
    public boolean isTimedOut()
    {
        return isTimedOut;
    }

    /**
     * Sends a keepalive when one is due, checks the driver's heartbeat and keeps up with the broadcast. Never
     * blocks; safe from any thread.
     *
     * @param nowNs {@link System#nanoTime()}.
     */
    void serviceKeepalive(final long nowNs)
    {
        if (nowNs - nextKeepaliveNs < 0 || !keepaliveLock.tryLock())
        {
            return;
        }
        try
        {
            if (isClosed)
            {
                return;
            }
            nextKeepaliveNs = nowNs + keepaliveIntervalNs;
            if (!isTimedOut)
            {
                // A full ring only delays this keepalive to the next interval.
                driverProxy.keepalive();
            }
            final String failure = CncFileDescriptor.driverFailure(cncMetaData);
            if (null != failure)
            {
                driverFailureReason = failure;
            }
            final long heartbeatMs = toDriver.consumerHeartbeatTime();
            final long ageMs = System.currentTimeMillis() - heartbeatMs;
            if (ageMs > TimeUnit.NANOSECONDS.toMillis(ctx.driverTimeoutNs()))
            {
                driverTimeoutReason = "no driver heartbeat for " + ageMs + " ms in " + ctx.homaDirectoryName();
            }
            if (commandLock.tryLock())
            {
                try
                {
                    drainBroadcast();
                }
                finally
                {
                    commandLock.unlock();
                }
            }
        }
        finally
        {
            keepaliveLock.unlock();
        }
    }

    /**
     * Call-driven liveness (no keepalive thread): a cheap check from the application's own calls.
     */
    /**
     * @return the in-process driver this client may drive itself, or null.
     */
    DirectDriver directDriver()
    {
        return directDriver;
    }

    /**
     * Wakes the driver if it sleeps (e.g. before waiting for it to drain a ring).
     */
    void wakeDriver()
    {
        driverProxy.wakeDriver();
    }

    void onApplicationCall()
    {
        if (null == keepaliveThread)
        {
            serviceKeepalive(System.nanoTime());
        }
    }

    private void drainBroadcast()
    {
        try
        {
            while (toClients.receive(responseHandler) > 0)
            {
                // Responses to commands nobody awaits and other clients' events are dropped here.
            }
        }
        catch (final IllegalStateException ex)
        {
            // Lapped by the driver's broadcast: the receiver has skipped ahead; nothing of ours was pending.
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
            if (isClosed || isTimedOut || null != driverTimeoutReason || null != driverFailureReason)
            {
                // Nothing to tell a dead driver, nor one that already freed this client's sockets.
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

    /**
     * A socket whose driver side is already gone (shut down) is closing: only forget it.
     */
    void forgetSocket(final HomaSocket socket)
    {
        commandLock.lock();
        try
        {
            sockets.remove(socket);
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
     * Writes a command that takes a correlation id and waits for its answer, as this client's own calls do (tests of
     * stale and buggy clients, whose commands come from another proxy).
     *
     * @param command writes the command with the id it is given; false while the ring is full.
     * @throws HomaException if the driver answers with an error.
     */
    void awaitCommand(final java.util.function.LongPredicate command)
    {
        commandLock.lock();
        try
        {
            ensureOpen();
            final long correlationId = driverProxy.nextCorrelationId();
            offerCommand(() -> command.test(correlationId));
            awaitResponse(correlationId);
        }
        finally
        {
            commandLock.unlock();
        }
    }

    /**
     * Takes the next client RPC id: even, unique across every client of the driver (one counter in the CnC).
     */
    long nextRpcId()
    {
        return CncFileDescriptor.nextRpcId(cncMetaData);
    }

    void ensureOpen()
    {
        if (isClosed)
        {
            throw new HomaException(HomaError.ESHUTDOWN, "client is closed");
        }
        checkDriverFailure();
        final String reason = driverTimeoutReason;
        if (null != reason)
        {
            throw new DriverTimeoutException(reason);
        }
        if (isTimedOut)
        {
            throw new ClientTimeoutException("the driver timed out client " + clientId + " and freed its sockets");
        }
    }

    /**
     * Lets a waiting caller make progress: runs the driver's duty cycle in INVOKER mode, else idles.
     */
    void idle(final IdleStrategy idleStrategy)
    {
        onApplicationCall();
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
     * @throws DriverFailedException if the driver recorded in the CnC that it ended on a fatal error.
     */
    void checkDriverFailure()
    {
        String failure = driverFailureReason;
        if (null == failure)
        {
            failure = CncFileDescriptor.driverFailure(cncMetaData);
            if (null == failure)
            {
                return;
            }
            driverFailureReason = failure;
        }
        throw new DriverFailedException(failure, ctx.homaDirectoryName());
    }

    /**
     * @param what what was waited for in vain.
     * @return the exception for a driver that did not answer: {@link DriverFailedException} with the driver's own
     * reason if it recorded one, else a plain {@link DriverTimeoutException}.
     */
    DriverTimeoutException driverTimeout(final String what)
    {
        final String failure = CncFileDescriptor.driverFailure(cncMetaData);
        return null != failure ?
            new DriverFailedException(failure, ctx.homaDirectoryName()) : new DriverTimeoutException(what);
    }

    /**
     * @throws DriverFailedException  if the driver recorded that it ended on a fatal error.
     * @throws DriverTimeoutException if the driver's heartbeat is older than the driver timeout.
     */
    void checkDriverHeartbeat()
    {
        checkDriverFailure();
        final long heartbeatMs = toDriver.consumerHeartbeatTime();
        final long ageMs = System.currentTimeMillis() - heartbeatMs;
        if (0 == heartbeatMs || ageMs > TimeUnit.NANOSECONDS.toMillis(ctx.driverTimeoutNs()))
        {
            final String reason = "no driver heartbeat for " + ageMs + " ms in " + ctx.homaDirectoryName();
            if (0 != heartbeatMs)
            {
                driverTimeoutReason = reason;
            }
            throw new DriverTimeoutException(reason);
        }
        if (isTimedOut)
        {
            throw new ClientTimeoutException("the driver timed out client " + clientId + " and freed its sockets");
        }
    }

    /**
     * Writes a command, waiting while the to-driver ring is full.
     */
    void offerCommand(final java.util.function.BooleanSupplier command)
    {
        if (command.getAsBoolean())
        {
            // The usual case: no wait, so nothing to make for one (this runs once per send and reply).
            return;
        }
        final long deadlineNs = System.nanoTime() + ctx.driverTimeoutNs();
        commandIdle.reset();
        while (!command.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw driverTimeout("to-driver ring stayed full");
            }
            checkDriverHeartbeat();
            idle(commandIdle);
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
            int received = 0;
            try
            {
                received = toClients.receive(responseHandler);
            }
            catch (final IllegalStateException ex)
            {
                // Lapped: the receiver skipped ahead to the newest records; keep waiting for ours.
                received = 1;
            }
            if (0 == received)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw driverTimeout("no answer from the driver to command " + correlationId);
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
            case OnRpcInfoDecoder.TEMPLATE_ID ->
            {
                rpcInfoDecoder.wrap(buffer, index, OnRpcInfoDecoder.BLOCK_LENGTH, OnRpcInfoDecoder.SCHEMA_VERSION);
                if (rpcInfoDecoder.correlationId() == awaitedCorrelationId)
                {
                    responseRpcInfo = decodeRpcInfo(rpcInfoDecoder, awaitedRpcInfoPort);
                    awaitedTemplateId = msgTypeId;
                }
            }
            case OnPeerAddressDecoder.TEMPLATE_ID ->
            {
                peerAddressDecoder.wrap(buffer, index, OnPeerAddressDecoder.BLOCK_LENGTH,
                    OnPeerAddressDecoder.SCHEMA_VERSION);
                if (peerAddressDecoder.correlationId() == awaitedCorrelationId)
                {
                    responsePeerAddress = peerAddressDecoder.peerAddress();
                    awaitedTemplateId = msgTypeId;
                }
            }
            case OnClientTimeoutDecoder.TEMPLATE_ID ->
            {
                clientTimeoutDecoder.wrap(buffer, index, OnClientTimeoutDecoder.BLOCK_LENGTH,
                    OnClientTimeoutDecoder.SCHEMA_VERSION);
                if (clientTimeoutDecoder.clientId() == clientId)
                {
                    isTimedOut = true;
                }
            }
            default ->
            {
                // Responses for other clients and types this version does not know are not ours to handle.
            }
        }
    }

    private static RpcInfoSnapshot decodeRpcInfo(final OnRpcInfoDecoder decoder, final int port)
    {
        final int totalRpcs = decoder.totalRpcs();
        final long poolAvailBytes = decoder.poolAvailBytes();
        final OnRpcInfoDecoder.RpcsDecoder entries = decoder.rpcs();
        final List<RpcInfo> rpcs = new ArrayList<>(entries.count());
        for (final OnRpcInfoDecoder.RpcsDecoder e : entries)
        {
            rpcs.add(new RpcInfo(
                e.id(),
                e.applicationId(),
                e.completionCookie(),
                e.localPort(),
                e.peerAddress(),
                e.peerUdpPort(),
                e.peerPort(),
                state(e.state()),
                e.flags(),
                e.txLength(),
                e.txSent(),
                e.txGranted(),
                e.txPriority(),
                e.rxLength(),
                e.rxRemaining(),
                e.rxGaps(),
                e.rxGapBytes(),
                e.rxGranted(),
                e.silentTicks(),
                e.resends(),
                e.retransmits()));
        }
        return new RpcInfoSnapshot(port, totalRpcs, poolAvailBytes, rpcs);
    }

    private static RpcInfo.State state(final io.homa.client.internal.control.RpcState state)
    {
        return switch (state)
        {
            case CLIENT_OUTGOING -> RpcInfo.State.CLIENT_OUTGOING;
            case CLIENT_INCOMING -> RpcInfo.State.CLIENT_INCOMING;
            case SERVER_INCOMING -> RpcInfo.State.SERVER_INCOMING;
            case SERVER_IN_SERVICE -> RpcInfo.State.SERVER_IN_SERVICE;
            case SERVER_OUTGOING -> RpcInfo.State.SERVER_OUTGOING;
            default -> RpcInfo.State.UNKNOWN;
        };
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
                        final String failure = CncFileDescriptor.driverFailure(meta);
                        if (null != failure)
                        {
                            // The directory of a driver that ended on a fatal error: say why, not "no driver".
                            IoUtil.unmap(cnc);
                            throw new DriverFailedException(failure, cncFile.getParent());
                        }
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
        private Boolean useKeepaliveThread;

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

        /**
         * Whether a daemon thread sends this client's keepalives. Default: yes, unless a driver invoker is set, in
         * which case the client's own calls send them (see {@link Homa}).
         *
         * @param useThread true for a keepalive thread, false for call-driven keepalives.
         * @return this for a fluent API.
         */
        public Context useKeepaliveThread(final boolean useThread)
        {
            this.useKeepaliveThread = useThread;
            return this;
        }
    }
}
