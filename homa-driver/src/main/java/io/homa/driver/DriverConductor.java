package io.homa.driver;

import io.homa.client.HomaError;
import io.homa.client.internal.control.AbortRpcDecoder;
import io.homa.client.internal.control.AddSocketDecoder;
import io.homa.client.internal.control.BindSocketDecoder;
import io.homa.client.internal.control.ClientCloseDecoder;
import io.homa.client.internal.control.ClientKeepaliveDecoder;
import io.homa.client.internal.control.RemoveSocketDecoder;
import io.homa.client.internal.control.RpcInfoRequestDecoder;
import io.homa.client.internal.control.ResolveAddressDecoder;
import io.homa.client.internal.control.SendReplyDecoder;
import io.homa.client.internal.control.SendRequestDecoder;
import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.driver.transport.PacketTransport;
import org.agrona.BitUtil;
import org.agrona.LangUtil;
import org.agrona.ErrorHandler;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.ringbuffer.RecordDescriptor;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.concurrent.TimeUnit;

/**
 * Runs the protocol engine: decodes client commands from the to-driver ring, drives the engine's duty cycle
 * (transmit, deliver, timer tick) and keeps the driver heartbeat fresh for clients.
 */
final class DriverConductor implements Agent
{
    private static final int COMMAND_LIMIT = 16;
    private static final long HEARTBEAT_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long HEARTBEAT_INTERVAL_MS = 1000;
    private static final long DROPS_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final RingBuffer toDriver;
    private final HomaEngine engine;
    private final PacketTransport transport;
    private final NanoClock nanoClock;
    private final CachedNanoClock cachedNanoClock;
    private final EpochClock epochClock;
    private final ErrorHandler errorHandler;
    private final AtomicCounter commands;
    private final AtomicCounter maxCycleTime;
    private final AtomicCounter udpDrops;
    private final AtomicCounter commandRefusals;
    private final MessageHandler commandHandler = this::onCommand;
    private final ClientLiveness clientLiveness;
    private final ClientProxy clientProxy;

    private final AddSocketDecoder addSocket = new AddSocketDecoder();
    private final RemoveSocketDecoder removeSocket = new RemoveSocketDecoder();
    private final BindSocketDecoder bindSocket = new BindSocketDecoder();
    private final SendRequestDecoder sendRequest = new SendRequestDecoder();
    private final SendReplyDecoder sendReply = new SendReplyDecoder();
    private final AbortRpcDecoder abortRpc = new AbortRpcDecoder();
    private final ClientKeepaliveDecoder keepalive = new ClientKeepaliveDecoder();
    private final ClientCloseDecoder clientClose = new ClientCloseDecoder();
    private final RpcInfoRequestDecoder rpcInfo = new RpcInfoRequestDecoder();
    private final ResolveAddressDecoder resolveAddress = new ResolveAddressDecoder();

    private volatile long stallNs;
    private volatile Throwable injectedFailure;
    private WakeupIdleStrategy.Doorbell senderDoorbell;
    private RingBuffer senderRing;
    private long nextHeartbeatNs;
    private long lastHeartbeatMs;
    private long nextDropsCheckNs;
    private long initialDrops = -1;

    DriverConductor(
        final RingBuffer toDriver,
        final HomaEngine engine,
        final PacketTransport transport,
        final NanoClock nanoClock,
        final CachedNanoClock cachedNanoClock,
        final EpochClock epochClock,
        final ErrorHandler errorHandler,
        final SystemCounters counters,
        final ClientLiveness clientLiveness,
        final ClientProxy clientProxy)
    {
        this.clientLiveness = clientLiveness;
        this.clientProxy = clientProxy;
        this.toDriver = toDriver;
        this.engine = engine;
        this.transport = transport;
        this.nanoClock = nanoClock;
        this.cachedNanoClock = cachedNanoClock;
        this.epochClock = epochClock;
        this.errorHandler = errorHandler;
        this.commands = counters.get(SystemCounterDescriptor.CLIENT_COMMANDS);
        this.maxCycleTime = counters.get(SystemCounterDescriptor.CONDUCTOR_MAX_CYCLE_TIME);
        this.udpDrops = counters.get(SystemCounterDescriptor.UDP_RECEIVE_DROPS);
        this.commandRefusals = counters.get(SystemCounterDescriptor.COMMAND_REFUSALS);
    }

    public String roleName()
    {
        return "homa-conductor";
    }

    public void onStart()
    {
        toDriver.consumerHeartbeatTime(epochClock.time());
    }

    public int doWork()
    {
        if (0 != stallNs)
        {
            stall();
        }
        final Throwable failure = injectedFailure;
        if (null != failure)
        {
            injectedFailure = null;
            LangUtil.rethrowUnchecked(failure);
        }
        final long nowNs = nanoClock.nanoTime();
        cachedNanoClock.update(nowNs);
        int work = 0;

        // Clients judge the heartbeat by wall time, so it is also due by wall time (the agents' clock may be driven).
        final long epochMs = epochClock.time();
        if (nowNs - nextHeartbeatNs >= 0 || epochMs - lastHeartbeatMs >= HEARTBEAT_INTERVAL_MS)
        {
            lastHeartbeatMs = epochMs;
            nextHeartbeatNs = nowNs + HEARTBEAT_INTERVAL_NS;
            toDriver.consumerHeartbeatTime(epochClock.time());
        }
        if (nowNs - nextDropsCheckNs >= 0)
        {
            nextDropsCheckNs = nowNs + DROPS_INTERVAL_NS;
            updateDrops();
        }

        work += readCommands();
        work += clientLiveness.doWork(nowNs);
        work += engine.doWork(nowNs);

        if (null != senderDoorbell && senderRing.size() > 0)
        {
            // Packets queued for a sender thread that may be asleep (also those queued while the inbound adapter
            // handed packets to the engine, before this agent's turn).
            senderDoorbell.ring();
        }

        final long cycleNs = nanoClock.nanoTime() - nowNs;
        if (cycleNs > maxCycleTime.get())
        {
            maxCycleTime.setRelease(cycleNs);
        }
        return work;
    }

    /**
     * Takes commands one at a time, checking the ring before each: the records and positions live in a file every
     * client maps, so a stray write must end in a clear failure, not a command path that silently stops.
     */
    private int readCommands()
    {
        int read = 0;
        while (read < COMMAND_LIMIT)
        {
            checkCommandRing();
            final int taken;
            try
            {
                taken = toDriver.read(commandHandler, 1);
            }
            catch (final RuntimeException ex)
            {
                // The handler catches its own exceptions: this is the ring's (a bounds check on a bad length).
                throw new CommandRingCorruptedError("to-driver ring: " + ex, ex);
            }
            if (0 == taken)
            {
                break;
            }
            read += taken;
        }
        return read;
    }

    private void checkCommandRing()
    {
        final long head = toDriver.consumerPosition();
        final long tail = toDriver.producerPosition();
        if (head == tail)
        {
            return;
        }
        final int capacity = toDriver.capacity();
        final long queued = tail - head;
        if (queued < 0 || queued > capacity ||
            0 != (head & (RecordDescriptor.ALIGNMENT - 1)) || 0 != (tail & (RecordDescriptor.ALIGNMENT - 1)))
        {
            throw new CommandRingCorruptedError(
                "to-driver ring positions impossible: head " + head + ", tail " + tail + ", capacity " + capacity, null);
        }
        final int headIndex = (int)head & (capacity - 1);
        final int length = toDriver.buffer().getIntVolatile(RecordDescriptor.lengthOffset(headIndex));
        // Negative: a producer is writing it (the liveness check unblocks one that died doing so).
        if (length > 0 && (length < RecordDescriptor.HEADER_LENGTH ||
            BitUtil.align(length, RecordDescriptor.ALIGNMENT) > Math.min(queued, capacity - headIndex)))
        {
            throw new CommandRingCorruptedError("to-driver ring record at " + head + " has length " + length +
                " with " + queued + " bytes queued", null);
        }
    }

    /**
     * @param doorbell   rung after a cycle that left packets to send, when the sender's thread may sleep.
     * @param senderRing the engine's outbound ring.
     */
    void senderDoorbell(final WakeupIdleStrategy.Doorbell doorbell, final RingBuffer senderRing)
    {
        this.senderDoorbell = doorbell;
        this.senderRing = senderRing;
    }

    /**
     * Test seam: the conductor's next duty cycle first sleeps this long, as a driver descheduled, paused by a GC
     * or stopped would (in SHARED mode the whole driver thread stops).
     *
     * @param durationNs how long.
     */
    void stallOnce(final long durationNs)
    {
        stallNs = durationNs;
    }

    /**
     * Test seam: the next duty cycle throws this, as a bug or an exhausted heap would.
     */
    void failOnce(final Throwable failure)
    {
        injectedFailure = failure;
    }

    private void stall()
    {
        final long durationNs = stallNs;
        stallNs = 0;
        final long endNs = System.nanoTime() + durationNs;
        long leftNs;
        while ((leftNs = endNs - System.nanoTime()) > 0 && !Thread.currentThread().isInterrupted())
        {
            java.util.concurrent.locks.LockSupport.parkNanos(leftNs);
        }
    }

    /**
     * When the conductor next needs its duty cycle if nothing arrives: the heartbeat, the liveness and drops
     * checks, and the engine's timer while it has RPCs.
     *
     * @return a time on the conductor's clock.
     */
    long nextDeadlineNs()
    {
        long deadlineNs = Math.min(nextHeartbeatNs, nextDropsCheckNs);
        deadlineNs = Math.min(deadlineNs, clientLiveness.nextCheckNs());
        return Math.min(deadlineNs, engine.nextDeadlineNs());
    }

    public void onClose()
    {
        engine.close();
    }

    private void updateDrops()
    {
        final long drops = transport.receiveDrops();
        if (drops >= 0)
        {
            if (initialDrops < 0)
            {
                initialDrops = drops;
            }
            udpDrops.setRelease(drops - initialDrops);
        }
    }

    /**
     * The transport owns IPv6 addresses (its table gives them keys): the engine only ever sees the key.
     */
    private void onResolveAddress(final long correlationId, final long high, final long low)
    {
        final int key = transport.ipv6PeerKey(high, low);
        if (key > 0)
        {
            clientProxy.onPeerAddress(correlationId, key);
            return;
        }
        final String address = io.homa.driver.net.RawIp6Socket.toString(high, low);
        final String message = switch (-key)
        {
            case HomaError.EAFNOSUPPORT -> "IPv6 peer " + address + " needs an IPv6 driver (homa.transport=raw " +
                "with an IPv6 homa.udp.address); this one speaks IPv4";
            case HomaError.ENOMEM -> "no peer key left for " + address + ": the driver's IPv6 address table is full";
            default -> "not an IPv6 peer this driver can name: " + address +
                " (unspecified, multicast and link-local addresses cannot be)";
        };
        clientProxy.onError(correlationId, -key, message);
    }

    /**
     * A command named a socket its client does not own (or one already gone): the engine refused and counted it;
     * the error log says which client, so a stale or buggy client can be found. Only refusals allocate here.
     */
    private void refusedIfNotOwned(final boolean owned, final String command, final long clientId, final long socketId)
    {
        if (!owned)
        {
            errorHandler.onError(new IllegalArgumentException(
                command + " from client " + clientId + " names socket " + socketId + ", which it does not own"));
        }
    }

    /**
     * A command in a client's name without that client's credential: a stale or buggy client (or one that reads
     * another's ring records) must not act for another client. Counted and logged; a command with a correlation id
     * is answered with EPERM, which fails the sender's waiting call (the victim waits on no such id). SendRequest,
     * SendReply and AbortRpc carry none, so only the log and the count say so. Only refusals allocate here.
     */
    private void refuseForged(final String command, final long clientId, final long correlationId)
    {
        commandRefusals.incrementRelease();
        errorHandler.onError(new IllegalArgumentException(
            command + " in the name of client " + clientId + " without its credential, refused"));
        if (0 != correlationId)
        {
            clientProxy.onError(correlationId, HomaError.EPERM, command + " without the client's credential");
        }
    }

    private void onCommand(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        commands.incrementRelease();
        try
        {
            switch (msgTypeId)
            {
                case SendRequestDecoder.TEMPLATE_ID ->
                {
                    sendRequest.wrap(buffer, index, SendRequestDecoder.BLOCK_LENGTH, SendRequestDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(sendRequest.clientId(), sendRequest.credential()))
                    {
                        refuseForged("SendRequest", sendRequest.clientId(), 0);
                        return;
                    }
                    final boolean owned = engine.onSendRequest(
                        sendRequest.socketId(),
                        sendRequest.clientId(),
                        sendRequest.rpcId(),
                        sendRequest.completionCookie(),
                        sendRequest.sendOffset(),
                        sendRequest.length(),
                        sendRequest.flags(),
                        sendRequest.destAddress(),
                        transport.peerPort(sendRequest.destUdpPort()),
                        sendRequest.destPort());
                    refusedIfNotOwned(owned, "SendRequest", sendRequest.clientId(), sendRequest.socketId());
                }
                case SendReplyDecoder.TEMPLATE_ID ->
                {
                    sendReply.wrap(buffer, index, SendReplyDecoder.BLOCK_LENGTH, SendReplyDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(sendReply.clientId(), sendReply.credential()))
                    {
                        refuseForged("SendReply", sendReply.clientId(), 0);
                        return;
                    }
                    refusedIfNotOwned(engine.onSendReply(sendReply.socketId(), sendReply.clientId(), sendReply.rpcId(),
                        sendReply.sendOffset(), sendReply.length()),
                        "SendReply", sendReply.clientId(), sendReply.socketId());
                }
                case AddSocketDecoder.TEMPLATE_ID ->
                {
                    addSocket.wrap(buffer, index, AddSocketDecoder.BLOCK_LENGTH, AddSocketDecoder.SCHEMA_VERSION);
                    if (clientLiveness.onClientActivity(
                        addSocket.clientId(), addSocket.credential(), cachedNanoClock.nanoTime()))
                    {
                        engine.onAddSocket(addSocket.correlationId(), addSocket.clientId());
                    }
                    else
                    {
                        refuseForged("AddSocket", addSocket.clientId(), addSocket.correlationId());
                    }
                }
                case BindSocketDecoder.TEMPLATE_ID ->
                {
                    bindSocket.wrap(buffer, index, BindSocketDecoder.BLOCK_LENGTH, BindSocketDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(bindSocket.clientId(), bindSocket.credential()))
                    {
                        refuseForged("BindSocket", bindSocket.clientId(), bindSocket.correlationId());
                        return;
                    }
                    clientLiveness.onKnownClientActivity(bindSocket.clientId(), cachedNanoClock.nanoTime());
                    engine.onBindSocket(
                        bindSocket.correlationId(), bindSocket.clientId(), bindSocket.socketId(), bindSocket.port());
                }
                case RemoveSocketDecoder.TEMPLATE_ID ->
                {
                    removeSocket.wrap(
                        buffer, index, RemoveSocketDecoder.BLOCK_LENGTH, RemoveSocketDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(removeSocket.clientId(), removeSocket.credential()))
                    {
                        refuseForged("RemoveSocket", removeSocket.clientId(), removeSocket.correlationId());
                    }
                    else
                    {
                        clientLiveness.onKnownClientActivity(removeSocket.clientId(), cachedNanoClock.nanoTime());
                        engine.onRemoveSocket(
                            removeSocket.correlationId(), removeSocket.clientId(), removeSocket.socketId());
                    }
                }
                case AbortRpcDecoder.TEMPLATE_ID ->
                {
                    abortRpc.wrap(buffer, index, AbortRpcDecoder.BLOCK_LENGTH, AbortRpcDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(abortRpc.clientId(), abortRpc.credential()))
                    {
                        refuseForged("AbortRpc", abortRpc.clientId(), 0);
                        return;
                    }
                    refusedIfNotOwned(
                        engine.onAbort(abortRpc.socketId(), abortRpc.clientId(), abortRpc.rpcId(), abortRpc.errorCode()),
                        "AbortRpc", abortRpc.clientId(), abortRpc.socketId());
                }
                case ClientKeepaliveDecoder.TEMPLATE_ID ->
                {
                    keepalive.wrap(
                        buffer, index, ClientKeepaliveDecoder.BLOCK_LENGTH, ClientKeepaliveDecoder.SCHEMA_VERSION);
                    if (!clientLiveness.onClientActivity(
                        keepalive.clientId(), keepalive.credential(), cachedNanoClock.nanoTime()))
                    {
                        refuseForged("ClientKeepalive", keepalive.clientId(), 0);
                    }
                }
                case ClientCloseDecoder.TEMPLATE_ID ->
                {
                    clientClose.wrap(buffer, index, ClientCloseDecoder.BLOCK_LENGTH, ClientCloseDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(clientClose.clientId(), clientClose.credential()))
                    {
                        refuseForged("ClientClose", clientClose.clientId(), 0);
                    }
                    else if (clientLiveness.isKnown(clientClose.clientId()))
                    {
                        clientLiveness.onClientClose(clientClose.clientId());
                        engine.onClientClose(clientClose.clientId());
                    }
                }
                case RpcInfoRequestDecoder.TEMPLATE_ID ->
                {
                    rpcInfo.wrap(
                        buffer, index, RpcInfoRequestDecoder.BLOCK_LENGTH, RpcInfoRequestDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(rpcInfo.clientId(), rpcInfo.credential()))
                    {
                        refuseForged("RpcInfoRequest", rpcInfo.clientId(), rpcInfo.correlationId());
                        return;
                    }
                    clientLiveness.onKnownClientActivity(rpcInfo.clientId(), cachedNanoClock.nanoTime());
                    engine.onRpcInfo(rpcInfo.correlationId(), rpcInfo.port());
                }
                case ResolveAddressDecoder.TEMPLATE_ID ->
                {
                    resolveAddress.wrap(
                        buffer, index, ResolveAddressDecoder.BLOCK_LENGTH, ResolveAddressDecoder.SCHEMA_VERSION);
                    if (clientLiveness.isForged(resolveAddress.clientId(), resolveAddress.credential()))
                    {
                        refuseForged("ResolveAddress", resolveAddress.clientId(), resolveAddress.correlationId());
                        return;
                    }
                    clientLiveness.onKnownClientActivity(resolveAddress.clientId(), cachedNanoClock.nanoTime());
                    onResolveAddress(
                        resolveAddress.correlationId(), resolveAddress.addressHigh(), resolveAddress.addressLow());
                }
                default -> errorHandler.onError(new IllegalArgumentException("unknown command type " + msgTypeId));
            }
        }
        catch (final Exception ex)
        {
            errorHandler.onError(ex);
        }
    }
}
