package io.homa.driver.protocol;

import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.RpcInfo;
import io.homa.client.internal.control.OnRpcInfoEncoder;
import io.homa.client.internal.control.RpcState;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.PacketWriter;
import io.homa.codecs.RejectReason;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.LongArrayQueue;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * The protocol core: the single owner of every socket, peer and RPC. A plain single-threaded state machine with
 * three doors and no clock or I/O of its own, so tests can drive it:
 * <ul>
 *   <li>{@link #onPacket} — a packet from the transport (classified here; malformed ones are counted, dropped);</li>
 *   <li>{@code onXxx} commands — what clients asked for;</li>
 *   <li>{@link #doWork(long)} — transmit what may go, deliver what is ready, run the timer tick.</li>
 * </ul>
 * It meets the world through ports only: packets leave through a {@link PacketSink} (the {@link OutboundPackets} ring
 * to the driver's sender), socket memory comes from a {@link SocketStore}, answers to commands go to
 * {@link ClientEvents}, and time is what the caller passes in; its exit for applications is each socket's event
 * ring. The work is done by one class per concern, as HomaModule keeps one file per concern:
 * {@link RpcTable} (RPCs and their lifecycle), {@link SocketTable} (sockets, ports, deferred releases),
 * {@link Incoming} (DATA, completion, delivery, pool waiters), {@link Outgoing} (transmit, DATA framing,
 * retransmission), {@link ControlPackets} (control packets in), {@link ControlSender} (control packets out),
 * {@link Diagnostics} (event log, FREEZE, rpc-info) and {@link EngineMetrics}; this class is the three doors and
 * the timer tick.
 */
public final class HomaEngine implements AutoCloseable
{
    /** Priority of control packets: the highest. */
    static final int CONTROL_PRIORITY = HomaWire.HOMA_MAX_PRIORITIES - 1;
    /** Priority of unscheduled DATA before a peer's cutoffs are known (Linux: num_priorities - 2). */
    static final int DEFAULT_UNSCHED_PRIORITY = HomaWire.HOMA_MAX_PRIORITIES - 2;

    private final SocketStore socketStore;
    private final Settings settings;
    private final RecoverySettings recovery;
    private final ClientEvents clientProxy;
    private final SystemCounters counters;
    private final EngineMetrics metrics;
    private final EventLog events;
    private final PeerTable peers = new PeerTable();
    private final RpcTimer timer;
    private final RpcTimer.Actions timerActions = new TimerActions();
    private final GrantScheduler grants;

    private final SocketTable socketTable;
    private final RpcTable rpcs;
    private final Outgoing outgoing;
    private final ControlSender controlSender;
    private final Incoming incoming;
    private final ControlPackets controlPackets;
    private final Diagnostics diagnostics;
    private final IncomingLimits limits;
    private final ArrayList<Rpc> scratch = new ArrayList<>();

    private org.agrona.concurrent.status.CountersManager socketCountersManager;
    private long nextPeerGcNs;
    private long nextTickNs;

    /**
     * Protocol and memory settings the engine needs.
     *
     * @param unschedBytes        bytes sent without grants; DATA packets never straddle this offset.
     * @param requestAckTicks     ticks after a response is fully sent before NEED_ACK.
     * @param tickNs              the Homa timer tick.
     * @param eventRingCapacity   per-socket event ring capacity.
     * @param poolLength          per-socket receive pool length.
     * @param sendRegionLength    per-socket send region length.
     * @param minBlockLength      smallest allocator block.
     * @param maxPacketLength     largest packet the transport carries.
     * @param scheduling          grants, priorities, cutoffs and pacer.
     */
    public record Settings(
        int unschedBytes,
        int requestAckTicks,
        long tickNs,
        int eventRingCapacity,
        int poolLength,
        int sendRegionLength,
        int minBlockLength,
        int maxPacketLength,
        SchedulingSettings scheduling)
    {
        /**
         * Settings with Linux's scheduling defaults.
         */
        public Settings(
            final int unschedBytes,
            final int requestAckTicks,
            final long tickNs,
            final int eventRingCapacity,
            final int poolLength,
            final int sendRegionLength,
            final int minBlockLength,
            final int maxPacketLength)
        {
            this(unschedBytes, requestAckTicks, tickNs, eventRingCapacity, poolLength, sendRegionLength,
                minBlockLength, maxPacketLength, SchedulingSettings.defaults());
        }
    }

    /**
     * @param socketStore where socket memory comes from.
     * @param settings    protocol and memory settings.
     * @param outbound    where packets go (the ring to the sender).
     * @param clientProxy where answers to client commands go.
     * @param counters    system counters.
     */
    public HomaEngine(
        final SocketStore socketStore,
        final Settings settings,
        final PacketSink outbound,
        final ClientEvents clientProxy,
        final SystemCounters counters)
    {
        this(socketStore, settings, RecoverySettings.defaults(), outbound, clientProxy, counters, EventLog.disabled());
    }

    /**
     * @param socketStore where socket memory comes from.
     * @param settings    protocol and memory settings.
     * @param recovery    loss-recovery, at-most-once and peer-eviction settings.
     * @param outbound    where packets go (the ring to the sender).
     * @param clientProxy where answers to client commands go.
     * @param counters    system counters.
     */
    public HomaEngine(
        final SocketStore socketStore,
        final Settings settings,
        final RecoverySettings recovery,
        final PacketSink outbound,
        final ClientEvents clientProxy,
        final SystemCounters counters)
    {
        this(socketStore, settings, recovery, outbound, clientProxy, counters, EventLog.disabled());
    }

    /**
     * @param socketStore where socket memory comes from.
     * @param settings    protocol and memory settings.
     * @param recovery    loss-recovery, at-most-once and peer-eviction settings.
     * @param outbound    where packets go (the ring to the sender).
     * @param clientProxy where answers to client commands go.
     * @param counters    system counters.
     * @param events      the event log the engine records protocol events in (this thread is its one writer).
     */
    public HomaEngine(
        final SocketStore socketStore,
        final Settings settings,
        final RecoverySettings recovery,
        final PacketSink outbound,
        final ClientEvents clientProxy,
        final SystemCounters counters,
        final EventLog events)
    {
        this(socketStore, settings, recovery, LimitSettings.defaults(), outbound, clientProxy, counters, events);
    }

    /**
     * @param socketStore where socket memory comes from.
     * @param settings    protocol and memory settings.
     * @param recovery    loss-recovery, at-most-once and peer-eviction settings.
     * @param limits      bounds on the state peers and clients can make the engine hold.
     * @param outbound    where packets go (the ring to the sender).
     * @param clientProxy where answers to client commands go.
     * @param counters    system counters.
     * @param events      the event log the engine records protocol events in (this thread is its one writer).
     */
    public HomaEngine(
        final SocketStore socketStore,
        final Settings settings,
        final RecoverySettings recovery,
        final LimitSettings limits,
        final PacketSink outbound,
        final ClientEvents clientProxy,
        final SystemCounters counters,
        final EventLog events)
    {
        this.socketStore = socketStore;
        this.events = events;
        this.settings = settings;
        this.recovery = recovery;
        this.clientProxy = clientProxy;
        this.counters = counters;
        metrics = new EngineMetrics(counters);
        this.limits = new IncomingLimits(limits.validate(), metrics);
        peers.maxPeers(limits.maxPeers());
        timer = new RpcTimer(recovery.resendTicks(), recovery.resendInterval(), recovery.timeoutTicks(),
            settings.requestAckTicks(), recovery.needAckIntervalTicks());
        timer.controlLimit(limits.timerControlPerPeerPerTick(), metrics.timerControlLimitSkips);

        final SchedulingSettings scheduling = settings.scheduling();
        final Priorities priorities = new Priorities(scheduling.numPriorities(), scheduling.unschedCutoffs());
        final Pacer pacer = new Pacer(scheduling, counters);
        final PacketWriter writer = new PacketWriter();
        final int controlTos = priorities.tos(priorities.controlPriority());

        // Built in dependency order: each part gets only the parts it calls.
        socketTable = new SocketTable(outbound);
        outgoing = new Outgoing(settings, outbound, writer, priorities, pacer, timer, events, metrics);
        controlSender =
            new ControlSender(settings, outbound, writer, priorities, controlTos, events, metrics);
        grants = new GrantScheduler(scheduling, priorities.maxSchedPriority(), priorities.highPriority(),
            controlSender::sendGrant, counters, events);
        rpcs = new RpcTable(grants, recovery, timer, events, metrics, socketTable, outgoing, this.limits);
        incoming = new Incoming(
            peers, grants, timer, events, metrics, rpcs, socketTable, outgoing, controlSender, this.limits);
        controlPackets = new ControlPackets(peers, metrics, rpcs, outgoing, incoming, controlSender);
        diagnostics = new Diagnostics(clientProxy, events, metrics, rpcs, socketTable);
    }

    /**
     * @param accept let FREEZE packets from the network freeze the event log (off by default: any peer could).
     */
    public void acceptFreeze(final boolean accept)
    {
        diagnostics.acceptFreeze(accept);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Door 1: packets from the transport.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Receive in place, step 1 (see {@link ReceiveHint}): where the next DATA payload probably belongs.
     *
     * @param maxPayloadLength the largest payload a packet can carry.
     * @return bytes at {@link #receiveHintAddress()} the transport may receive the payload into, 0 for none.
     */
    public int prepareReceiveHint(final int maxPayloadLength)
    {
        return incoming.receiveHint.prepare(maxPayloadLength);
    }

    /**
     * @return native address of the range {@link #prepareReceiveHint} offered.
     */
    public long receiveHintAddress()
    {
        return incoming.receiveHint.address();
    }

    /**
     * Receive in place, step 2: handles a DATA packet whose header (and any payload beyond the offered range) is in
     * {@code buffer} while its first {@code inHintLength} payload bytes went to the offered range.
     *
     * @param buffer       holds the header, then what did not fit the range.
     * @param offset       where the header starts.
     * @param length       the whole packet's length.
     * @param inHintLength payload bytes in the offered range.
     * @param srcIpv4      sender's address.
     * @param srcPort      sender's transport port.
     * @param nowNs        current time.
     */
    public void onScatteredData(
        final DirectBuffer buffer, final int offset, final int length, final int inHintLength, final int srcIpv4,
        final int srcPort, final long nowNs)
    {
        incoming.receiveHint.landed(inHintLength);
        try
        {
            onPacket(buffer, offset, length, srcIpv4, srcPort, nowNs);
        }
        finally
        {
            incoming.receiveHint.clear();
        }
    }

    /**
     * Handles one packet. Never throws for any packet content: malformed packets are counted and dropped.
     *
     * @param buffer  holds the packet.
     * @param offset  where it starts.
     * @param length  its length.
     * @param srcIpv4 sender's address.
     * @param srcPort sender's transport port.
     * @param nowNs   current time.
     */
    public void onPacket(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort,
        final long nowNs)
    {
        final int type = PacketClassifier.classify(buffer, offset, length, true);
        if (type < 0)
        {
            diagnostics.countReject(type);
            events.record(EventType.PACKET_REJECTED, 0, srcIpv4, srcPort, 0, 0, 0, length, type, 0, 0);
            return;
        }

        counters.received(type).incrementRelease();
        metrics.bytesRcvd.getAndAddRelease(length);
        peers.nowNs(nowNs);
        if (events.isRecording())
        {
            diagnostics.recordPacketIn(type, buffer, offset, length, srcIpv4, srcPort);
        }

        switch (type)
        {
            case HomaWire.DATA -> incoming.onData(buffer, offset, length, srcIpv4, srcPort, nowNs);
            case HomaWire.GRANT -> controlPackets.onGrant(buffer, offset, srcIpv4, srcPort);
            case HomaWire.CUTOFFS -> controlPackets.onCutoffs(buffer, offset, srcIpv4, srcPort);
            case HomaWire.ACK -> controlPackets.onAck(buffer, offset, srcIpv4, srcPort);
            case HomaWire.NEED_ACK -> controlPackets.onNeedAck(buffer, offset, srcIpv4, srcPort);
            case HomaWire.PORT_UNREACHABLE -> controlPackets.onPortUnreachable(buffer, offset, srcIpv4, srcPort);
            case HomaWire.RESEND -> controlPackets.onResend(buffer, offset, length, srcIpv4, srcPort);
            case HomaWire.BUSY -> controlPackets.onBusy(buffer, offset, srcIpv4, srcPort);
            case HomaWire.RPC_UNKNOWN -> controlPackets.onRpcUnknown(buffer, offset, srcIpv4, srcPort);
            case HomaWire.FREEZE -> diagnostics.onFreeze(buffer, offset, srcIpv4, srcPort);
            default ->
            {
                // Counted above; nothing to do.
            }
        }
    }

    /**
     * The network says a peer (or one Homa port of it) cannot be reached, e.g. an ICMP destination-unreachable
     * over raw IP or UDP: as Linux's homa_abort_rpcs, fail the matching client RPCs now and end the matching server
     * RPCs, instead of letting them time out (a server would send NEED_ACK every tick meanwhile).
     *
     * @param ipv4      the peer's address.
     * @param port      the peer's transport port (0 over raw IP).
     * @param homaPort  the peer's Homa port with no socket, or 0 for every RPC of the peer.
     * @param errorCode what the RPCs fail with (ENOTCONN, EHOSTUNREACH, EPROTONOSUPPORT).
     */
    public void onPeerUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        final Peer peer = peers.lookup(ipv4, port);
        if (null != peer)
        {
            incoming.abortRpcs(peer, homaPort, errorCode);
        }
    }

    /**
     * Opens a socket with an automatic client port.
     *
     * @param correlationId to answer with.
     * @param clientId      owner.
     */
    public void onAddSocket(final long correlationId, final long clientId)
    {
        // Checked before anything is allocated: each socket costs driver heap and a mapped file, so a runaway
        // client is refused here instead of running the driver out of memory.
        final LimitSettings bounds = limits.settings();
        if (socketTable.sockets.size() >= bounds.socketsPerDriver())
        {
            metrics.socketLimitRefusals.incrementRelease();
            clientProxy.onError(correlationId, HomaError.ENFILE,
                "driver holds " + bounds.socketsPerDriver() + " sockets (homa.limit.sockets.per.driver)");
            return;
        }
        if (socketTable.socketCount(clientId) >= bounds.socketsPerClient())
        {
            metrics.socketLimitRefusals.incrementRelease();
            clientProxy.onError(correlationId, HomaError.EMFILE,
                "client holds " + bounds.socketsPerClient() + " sockets (homa.limit.sockets.per.client)");
            return;
        }
        final int port = socketTable.allocateClientPort();
        if (port < 0)
        {
            clientProxy.onError(correlationId, HomaError.EADDRINUSE, "no free client port");
            return;
        }

        final long socketId = socketTable.newSocketId();
        final DriverSocket socket;
        try
        {
            socket = new DriverSocket(socketStore, socketId, clientId, port, settings.eventRingCapacity(),
                settings.poolLength(), settings.sendRegionLength(), settings.minBlockLength(),
                socketTable.socketsToWake);
        }
        catch (final RuntimeException ex)
        {
            clientProxy.onError(correlationId, HomaError.ENOMEM, "cannot create socket file: " + ex.getMessage());
            return;
        }
        socketTable.add(socket);
        socket.counters = newSocketCounters(socketId, clientId, port);
        metrics.socketsOpen.incrementRelease();
        clientProxy.onSocketReady(correlationId, socketId, port);
    }

    /**
     * Binds a socket to a server port.
     *
     * @param correlationId to answer with.
     * @param clientId      owner.
     * @param socketId      the socket.
     * @param port          the server port.
     */
    public void onBindSocket(final long correlationId, final long clientId, final long socketId, final int port)
    {
        final DriverSocket socket = socketTable.socketsById.get(socketId);
        if (null == socket || socket.clientId != clientId)
        {
            clientProxy.onError(correlationId, HomaError.EINVAL, "no such socket: " + socketId);
            return;
        }
        if (port < 1 || port >= HomaWire.HOMA_MIN_DEFAULT_PORT)
        {
            clientProxy.onError(correlationId, HomaError.EINVAL, "server port must be in 1..32767: " + port);
            return;
        }
        if (socket.port == port)
        {
            clientProxy.onOperationSuccess(correlationId);
            return;
        }
        if (socket.isServer())
        {
            clientProxy.onError(correlationId, HomaError.EINVAL, "socket already bound to " + socket.port);
            return;
        }
        if (socketTable.socketsByPort.containsKey(port))
        {
            clientProxy.onError(correlationId, HomaError.EADDRINUSE, "port in use: " + port);
            return;
        }
        socketTable.socketsByPort.remove(socket.port);
        socket.port(port);
        socketTable.socketsByPort.put(port, socket);
        clientProxy.onOperationSuccess(correlationId);
    }

    /**
     * Closes a socket: ends its RPCs and deletes its file.
     *
     * @param correlationId to answer with.
     * @param clientId      owner.
     * @param socketId      the socket.
     */
    public void onRemoveSocket(final long correlationId, final long clientId, final long socketId)
    {
        final DriverSocket socket = socketTable.socketsById.get(socketId);
        if (null == socket || socket.clientId != clientId)
        {
            clientProxy.onError(correlationId, HomaError.EINVAL, "no such socket: " + socketId);
            return;
        }
        closeSocket(socket);
        clientProxy.onOperationSuccess(correlationId);
    }

    /**
     * A client went away: close all its sockets.
     *
     * @param clientId the client.
     */
    public void onClientClose(final long clientId)
    {
        for (int i = socketTable.sockets.size() - 1; i >= 0; i--)
        {
            final DriverSocket socket = socketTable.sockets.get(i);
            if (socket.clientId == clientId)
            {
                closeSocket(socket);
            }
        }
    }

    /**
     * Starts a client RPC; its request already sits in the socket's send region.
     *
     * @param socketId    the socket.
     * @param clientId  the client that sent the command (must own the socket).
     * @param rpcId       the client id (even).
     * @param cookie      completion cookie.
     * @param sendOffset  where the request is in the send region.
     * @param length      request length.
     * @param flags       send flags.
     * @param destIpv4    peer address.
     * @param destUdpPort peer transport port.
     * @param destPort    server Homa port.
     * @return false if the socket is unknown or not that client's (refused, counted).
     */
    public boolean onSendRequest(
        final long socketId,
        final long clientId,
        final long rpcId,
        final long cookie,
        final int sendOffset,
        final int length,
        final int flags,
        final int destIpv4,
        final int destUdpPort,
        final int destPort)
    {
        final DriverSocket socket = ownedSocket(socketId, clientId);
        if (null == socket)
        {
            return false;
        }
        if (0 == rpcId || 0 != (rpcId & 1) || rpcs.clientRpcs.containsKey(rpcId) || length <= 0 ||
            length > HomaWire.HOMA_MAX_MESSAGE_LENGTH)
        {
            socketTable.releaseSendBlock(socket, sendOffset);
            return true;
        }

        final Rpc rpc = rpcs.newRpc();
        rpc.state = Rpc.CLIENT_OUTGOING;
        rpc.id = rpcId;
        rpc.handle = rpcId;
        rpc.cookie = cookie;
        rpc.flags = flags;
        rpc.socket = socket;
        rpc.peer = peers.lookupOrCreate(destIpv4, destUdpPort);
        rpc.peer.rpcCount++;
        rpc.peerPort = destPort;
        rpcs.clientRpcs.put(rpcId, rpc);
        metrics.clientRequestsStarted.incrementRelease();
        socket.countSent(length);
        rpc.record(events, EventType.RPC_CREATED, 0, length, Rpc.CLIENT_OUTGOING.code());
        outgoing.startSending(rpc, sendOffset, length);
        return true;
    }

    /**
     * The socket a command names, if the client that sent it owns it. A stale or buggy client naming another's
     * socket (or one gone) is refused and counted: it must not send, reply or abort in another client's name.
     */
    private DriverSocket ownedSocket(final long socketId, final long clientId)
    {
        final DriverSocket socket = socketTable.socketsById.get(socketId);
        if (null == socket || socket.clientId != clientId)
        {
            metrics.commandRefusals.incrementRelease();
            return null;
        }
        return socket;
    }

    /**
     * Starts the response of a server RPC.
     *
     * @param socketId   the socket.
     * @param clientId  the client that sent the command (must own the socket).
     * @param handle     the id the application got with the request.
     * @param sendOffset where the response is in the send region.
     * @param length     response length.
     * @return false if the socket is unknown or not that client's (refused, counted).
     */
    public boolean onSendReply(
        final long socketId, final long clientId, final long handle, final int sendOffset, final int length)
    {
        final DriverSocket socket = ownedSocket(socketId, clientId);
        if (null == socket)
        {
            return false;
        }
        final Rpc rpc = rpcs.serverRpcsByHandle.get(handle);
        if (null == rpc || rpc.socket != socket || Rpc.SERVER_IN_SERVICE != rpc.state)
        {
            metrics.replyUnknown.incrementRelease();
            socketTable.releaseSendBlock(socket, sendOffset);
            return true;
        }
        rpc.state = Rpc.SERVER_OUTGOING;
        metrics.serverResponsesStarted.incrementRelease();
        socket.countSent(length);
        rpc.record(events, EventType.REPLY_STARTED, 0, length, 0);
        outgoing.startSending(rpc, sendOffset, length);
        return true;
    }

    /**
     * Aborts one client RPC of a socket, or all of them (rpcId 0); each completes with the error.
     *
     * @param socketId  the socket.
     * @param clientId  the client that sent the command (must own the socket).
     * @param rpcId     the RPC, or 0 for all.
     * @param errorCode what they complete with.
     * @return false if the socket is unknown or not that client's (refused, counted).
     */
    public boolean onAbort(final long socketId, final long clientId, final long rpcId, final int errorCode)
    {
        final DriverSocket socket = ownedSocket(socketId, clientId);
        if (null == socket)
        {
            return false;
        }
        if (0 != rpcId)
        {
            final Rpc rpc = rpcs.clientRpcs.get(rpcId);
            if (null != rpc && rpc.socket == socket && !rpc.isDeliveryPending)
            {
                incoming.failClientRpc(rpc, errorCode);
            }
            return true;
        }

        incoming.scratch.clear();
        for (final Rpc rpc : rpcs.clientRpcs.values())
        {
            if (rpc.socket == socket && !rpc.isDeliveryPending)
            {
                incoming.scratch.add(rpc);
            }
        }
        for (int i = 0, size = incoming.scratch.size(); i < size; i++)
        {
            incoming.failClientRpc(incoming.scratch.get(i), errorCode);
        }
        incoming.scratch.clear();        return true;
    }

    /**
     * Transmits what may go, retries deliveries, takes back returned pool blocks, runs the timer tick.
     *
     * @param nowNs current time.
     * @return work done.
     */
    public int doWork(final long nowNs)
    {
        int work = socketTable.drainDeferred();
        for (int i = 0, size = socketTable.sockets.size(); i < size; i++)
        {
            final DriverSocket socket = socketTable.sockets.get(i);
            work += socket.drainReturns();
            work += socket.flushReleases();
            if (!socket.bufferWaiters.isEmpty())
            {
                work += incoming.admitBufferWaiters(socket);
            }
        }

        // At most the RPCs waiting when the cycle began: one added by a retry waits for the next cycle.
        Rpc pending = rpcs.pendingDeliveries.first();
        for (int i = rpcs.pendingDeliveries.size(); i > 0 && null != pending; i--)
        {
            final Rpc rpc = pending;
            pending = PendingDeliveries.next(rpc);
            incoming.deliver(rpc);
            work++;
        }

        work += grants.processPending(nowNs);
        work += outgoing.transmit(nowNs);

        if (nowNs - nextTickNs >= 0)
        {
            // Ticks on a grid, so a wake-up that comes a little late does not stretch every tick; a run that
            // comes a whole tick or more late (the thread was off the CPU, or slept with nothing to time) counts
            // once for live RPCs and restarts the grid.
            final long lateNs = nowNs - nextTickNs;
            timer.skipIdleTicks(lateNs / settings.tickNs());
            nextTickNs = lateNs < settings.tickNs() ? nextTickNs + settings.tickNs() : nowNs + settings.tickNs();
            work += onTick(nowNs);
        }
        socketTable.wakeSleepingClients();
        return work;
    }

    /**
     * When the engine next needs its duty cycle without any packet or command arriving: the timer's next tick
     * while RPCs, deliveries or deferred releases are outstanding; never when it holds nothing, so an idle driver
     * sleeps until something arrives.
     *
     * @return a time on the engine's clock, or {@link Long#MAX_VALUE}.
     */
    public long nextDeadlineNs()
    {
        return timer.size() > 0 || !rpcs.pendingDeliveries.isEmpty() || !socketTable.deferredSockets.isEmpty() ?
            nextTickNs : Long.MAX_VALUE;
    }

    private int onTick(final long nowNs)
    {
        // A NEED_ACK cannot be answered before the response has left: while our own transmit ring is backed up,
        // asking only adds to the queue (and, under load, feeds a storm of NEED_ACKs and ACKs).
        final boolean needAcksAllowed = !outgoing.isTransmitBacklogged();
        int work = timer.onTick(needAcksAllowed, timerActions);
        events.checkUnfreeze();

        if (nowNs - nextPeerGcNs >= 0)
        {
            nextPeerGcNs = nowNs + Math.max(settings.tickNs(),
                Math.min(recovery.peerIdleMinNs(), recovery.peerIdleMaxNs()) / 4);
            peers.nowNs(nowNs);
            final int evicted = peers.evictIdle(timer.ticks(), recovery.peerGcThreshold(),
                recovery.peerIdleMinNs(), recovery.peerIdleMaxNs());
            if (evicted > 0)
            {
                metrics.peerEvictions.getAndAddRelease(evicted);
                work += evicted;
            }
            metrics.peersActive.setRelease(peers.size());
        }
        return work;
    }

    /**
     * Told by the receiver after each batch.
     *
     * @param backlogged true if the batch was full (more packets wait in the socket).
     */
    public void inboundBacklogged(final boolean backlogged)
    {
        timer.inboundBacklogged(backlogged);
    }

    private void onRpcTimeout(final Rpc rpc)
    {
        rpc.record(events, EventType.RPC_TIMEOUT, 0, 0, rpc.state.code());
        if (rpc.isClient())
        {
            metrics.rpcTimeouts.incrementRelease();
            incoming.failClientRpc(rpc, HomaError.ETIMEDOUT);
        }
        else if (Rpc.SERVER_OUTGOING == rpc.state && rpc.txNext >= rpc.txLength)
        {
            // Response sent, NEED_ACKs unanswered for timeout_ticks: the client is gone. Its id stays remembered, so
            // a late copy of the request cannot run again.
            metrics.needAckTimeouts.incrementRelease();
            rpcs.endServerRpc(rpc);
        }
        else
        {
            metrics.rpcTimeouts.incrementRelease();
            metrics.serverRpcDiscards.incrementRelease();
            rpcs.endServerRpc(rpc);
        }
    }

    private final class TimerActions implements RpcTimer.Actions
    {
        public void requestRetransmission(final Rpc rpc)
        {
            controlSender.requestRetransmission(rpc);
        }

        public void sendNeedAck(final Rpc rpc)
        {
            controlSender.sendControl(
                HomaWire.NEED_ACK, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
        }

        public void probePeer(final Rpc rpc)
        {
            // A RESEND for nothing: whoever still has the RPC answers BUSY, which resets its silence here.
            controlSender.sendResend(rpc, 0, 0, CONTROL_PRIORITY);
        }

        public void onTimeout(final Rpc rpc)
        {
            onRpcTimeout(rpc);
        }
    }

    DriverSocket socketById(final long socketId)
    {
        return socketTable.socketsById.get(socketId);
    }

    /**
     * @return sockets open.
     */
    public int socketCount()
    {
        return socketTable.sockets.size();
    }

    /**
     * Closes every socket.
     */
    public void close()
    {
        for (int i = socketTable.sockets.size() - 1; i >= 0; i--)
        {
            closeSocket(socketTable.sockets.get(i));
        }
        // The agents have stopped: nothing will be sent any more.
        socketTable.releaseAllDeferred();
    }

    /**
     * Answers with a snapshot of the live RPCs (Linux's HOMAIOCINFO): off the fast path, it reads RPC state and
     * changes none of it.
     *
     * @param correlationId to answer with.
     * @param port          a socket's port, or 0 for every socket.
     */
    public void onRpcInfo(final long correlationId, final int port)
    {
        diagnostics.onRpcInfo(correlationId, port);
    }

    /**
     * Wakes the client threads that sleep on sockets this cycle published to (one system call per socket).
     */
    public void wakeSleepingClients()
    {
        socketTable.wakeSleepingClients();
    }

    /**
     * @return RPCs alive on both sides.
     */
    public int activeRpcCount()
    {
        return rpcs.activeRpcCount();
    }

    /**
     * Gives every socket opened from now on its own counters in the CnC (see {@code SocketCounters}).
     *
     * @param manager the CnC's counters, or null for none.
     */
    public void socketCounters(final org.agrona.concurrent.status.CountersManager manager)
    {
        this.socketCountersManager = manager;
    }

    private io.homa.driver.status.SocketCounters newSocketCounters(
        final long socketId, final long clientId, final int port)
    {
        if (null == socketCountersManager)
        {
            return null;
        }
        try
        {
            return new io.homa.driver.status.SocketCounters(socketCountersManager, socketId, clientId, port);
        }
        catch (final IllegalStateException ex)
        {
            // The counters section is full (homa.counters.buffer.length): the socket works, uncounted.
            return null;
        }
    }

    private void closeSocket(final DriverSocket socket)
    {
        rpcs.dropRpcsOf(socket);
        socketTable.remove(socket);
        metrics.socketsOpen.decrementRelease();
    }
}
