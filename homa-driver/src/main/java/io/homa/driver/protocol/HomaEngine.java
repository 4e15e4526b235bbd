package io.homa.driver.protocol;

import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.RpcInfo;
import io.homa.client.control.OnRpcInfoEncoder;
import io.homa.client.control.RpcState;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.PacketWriter;
import io.homa.codecs.RejectReason;
import io.homa.driver.ClientProxy;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.LongArrayQueue;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.File;
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
 * Its one exit for packets is the {@link OutboundPackets} ring to the sender; its exit for applications is each
 * socket's event ring.
 */
public final class HomaEngine implements AutoCloseable
{
    /** Priority of control packets: the highest. */
    static final int CONTROL_PRIORITY = HomaWire.HOMA_MAX_PRIORITIES - 1;
    /** Priority of unscheduled DATA before a peer's cutoffs are known (Linux: num_priorities - 2). */
    static final int DEFAULT_UNSCHED_PRIORITY = HomaWire.HOMA_MAX_PRIORITIES - 2;
    private static final int MAX_PACKETS_PER_CYCLE = 32;
    private static final int CLOSE_SOCKET = -1;

    private final File directory;
    private final Settings settings;
    private final OutboundPackets outbound;
    private final AtomicBuffer outBuffer;
    private final ClientProxy clientProxy;
    private final SystemCounters counters;
    private final PacketWriter writer = new PacketWriter();
    private final int maxDataPerPacket;

    private final Long2ObjectHashMap<DriverSocket> socketsById = new Long2ObjectHashMap<>();
    private final Int2ObjectHashMap<DriverSocket> socketsByPort = new Int2ObjectHashMap<>();
    private final ArrayList<DriverSocket> sockets = new ArrayList<>();
    private final PeerTable peers = new PeerTable();
    private final Long2ObjectHashMap<Rpc> clientRpcs = new Long2ObjectHashMap<>();
    /** Sockets that published events while a client thread slept on them: woken once at the end of a cycle. */
    private final ArrayList<DriverSocket> socketsToWake = new ArrayList<>();
    private final Long2ObjectHashMap<Rpc> serverRpcsByHandle = new Long2ObjectHashMap<>();
    private final ArrayList<Rpc> sending = new ArrayList<>();
    private final ArrayList<Rpc> pendingDeliveries = new ArrayList<>();
    private final ArrayDeque<Rpc> rpcPool = new ArrayDeque<>();
    private final ArrayList<Rpc> scratch = new ArrayList<>();
    private final ArrayDeque<DriverSocket> deferredSockets = new ArrayDeque<>();
    private final IntArrayQueue deferredOffsets = new IntArrayQueue(64, Integer.MIN_VALUE);
    private final LongArrayQueue deferredPositions = new LongArrayQueue(64, Long.MIN_VALUE);
    private final long[] ackIds = new long[HomaWire.HOMA_MAX_ACKS];
    private final int[] ackPorts = new int[HomaWire.HOMA_MAX_ACKS];

    private final AtomicCounter shortPackets;
    private final AtomicCounter unknownTypes;
    private final AtomicCounter packetDiscards;
    private final AtomicCounter unknownRpcs;
    private final AtomicCounter duplicateData;
    private final AtomicCounter droppedNoBufs;
    private final AtomicCounter replyUnknown;
    private final AtomicCounter controlXmitErrors;
    private final AtomicCounter bytesRcvd;
    private final AtomicCounter sentMsgBytes;
    private final AtomicCounter clientRequestsStarted;
    private final AtomicCounter clientResponsesDone;
    private final AtomicCounter serverRequestsDone;
    private final AtomicCounter serverResponsesStarted;
    private final AtomicCounter serverResponsesDone;
    private final AtomicCounter clientRpcsFailed;
    private final AtomicCounter socketsOpen;
    private final AtomicCounter rpcsActive;
    private final AtomicCounter acksPiggybacked;
    private final Priorities priorities;
    private final GrantScheduler grants;
    private final Pacer pacer;
    private final int controlTos;

    // Loss recovery and at-most-once (LossRecovery below).
    private final RecoverySettings recovery;
    private final RpcTimer timer;
    private final RpcTimer.Actions timerActions = new TimerActions();
    private final AtomicCounter resentPackets;
    private final AtomicCounter rpcTimeouts;
    private final AtomicCounter serverRpcDiscards;
    private final AtomicCounter bufferAllocFailures;
    private final AtomicCounter bufferWaitingRpcs;
    private final AtomicCounter rpcRestarts;
    private final AtomicCounter ackedRpcDrops;
    private final AtomicCounter needAckTimeouts;
    private final AtomicCounter peersActive;
    private final AtomicCounter peerEvictions;
    private final AtomicCounter rpcInfoRequests;
    private final AtomicCounter eventLogFreezes;
    private final EventLog events;
    private long nextPeerGcNs;

    private long nextSocketId = 1;
    private int nextClientPort = HomaWire.HOMA_MIN_DEFAULT_PORT;
    private long nextServerHandle = 1;
    private long nextTickNs;
    private long nextTxBirth = 1;

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
     * @param directory   the driver directory (socket files go under it).
     * @param settings    protocol and memory settings.
     * @param outbound    the ring to the sender.
     * @param clientProxy answers to client commands.
     * @param counters    system counters.
     */
    public HomaEngine(
        final File directory,
        final Settings settings,
        final OutboundPackets outbound,
        final ClientProxy clientProxy,
        final SystemCounters counters)
    {
        this(directory, settings, RecoverySettings.defaults(), outbound, clientProxy, counters, EventLog.disabled());
    }

    /**
     * @param directory   the driver directory (socket files go under it).
     * @param settings    protocol and memory settings.
     * @param recovery    loss-recovery, at-most-once and peer-eviction settings.
     * @param outbound    the ring to the sender.
     * @param clientProxy answers to client commands.
     * @param counters    system counters.
     */
    public HomaEngine(
        final File directory,
        final Settings settings,
        final RecoverySettings recovery,
        final OutboundPackets outbound,
        final ClientProxy clientProxy,
        final SystemCounters counters)
    {
        this(directory, settings, recovery, outbound, clientProxy, counters, EventLog.disabled());
    }

    /**
     * @param directory   the driver directory (socket files go under it).
     * @param settings    protocol and memory settings.
     * @param recovery    loss-recovery, at-most-once and peer-eviction settings.
     * @param outbound    the ring to the sender.
     * @param clientProxy answers to client commands.
     * @param counters    system counters.
     * @param events      the event log the engine records protocol events in (this thread is its one writer).
     */
    public HomaEngine(
        final File directory,
        final Settings settings,
        final RecoverySettings recovery,
        final OutboundPackets outbound,
        final ClientProxy clientProxy,
        final SystemCounters counters,
        final EventLog events)
    {
        this.directory = directory;
        this.events = events;
        this.settings = settings;
        this.outbound = outbound;
        this.outBuffer = outbound.buffer();
        this.clientProxy = clientProxy;
        this.counters = counters;
        this.maxDataPerPacket =
            Math.min(settings.maxPacketLength(), outbound.maxPacketLength()) - HomaWire.DATA_HEADER_LENGTH;

        shortPackets = counters.get(SystemCounterDescriptor.SHORT_PACKETS);
        unknownTypes = counters.get(SystemCounterDescriptor.UNKNOWN_PACKET_TYPES);
        packetDiscards = counters.get(SystemCounterDescriptor.PACKET_DISCARDS);
        unknownRpcs = counters.get(SystemCounterDescriptor.UNKNOWN_RPCS);
        duplicateData = counters.get(SystemCounterDescriptor.DUPLICATE_DATA);
        droppedNoBufs = counters.get(SystemCounterDescriptor.DROPPED_DATA_NO_BUFS);
        replyUnknown = counters.get(SystemCounterDescriptor.REPLY_UNKNOWN_RPCS);
        controlXmitErrors = counters.get(SystemCounterDescriptor.CONTROL_XMIT_ERRORS);
        bytesRcvd = counters.get(SystemCounterDescriptor.BYTES_RCVD);
        sentMsgBytes = counters.get(SystemCounterDescriptor.SENT_MSG_BYTES);
        clientRequestsStarted = counters.get(SystemCounterDescriptor.CLIENT_REQUESTS_STARTED);
        clientResponsesDone = counters.get(SystemCounterDescriptor.CLIENT_RESPONSES_DONE);
        serverRequestsDone = counters.get(SystemCounterDescriptor.SERVER_REQUESTS_DONE);
        serverResponsesStarted = counters.get(SystemCounterDescriptor.SERVER_RESPONSES_STARTED);
        serverResponsesDone = counters.get(SystemCounterDescriptor.SERVER_RESPONSES_DONE);
        clientRpcsFailed = counters.get(SystemCounterDescriptor.CLIENT_RPCS_FAILED);
        socketsOpen = counters.get(SystemCounterDescriptor.SOCKETS_OPEN);
        rpcsActive = counters.get(SystemCounterDescriptor.RPCS_ACTIVE);
        acksPiggybacked = counters.get(SystemCounterDescriptor.ACKS_PIGGYBACKED);

        this.recovery = recovery;
        timer = new RpcTimer(recovery.resendTicks(), recovery.resendInterval(), recovery.timeoutTicks(),
            settings.requestAckTicks(), recovery.needAckIntervalTicks());
        resentPackets = counters.get(SystemCounterDescriptor.RESENT_PACKETS);
        rpcTimeouts = counters.get(SystemCounterDescriptor.RPC_TIMEOUTS);
        serverRpcDiscards = counters.get(SystemCounterDescriptor.SERVER_RPC_DISCARDS);
        bufferAllocFailures = counters.get(SystemCounterDescriptor.BUFFER_ALLOC_FAILURES);
        bufferWaitingRpcs = counters.get(SystemCounterDescriptor.BUFFER_WAITING_RPCS);
        rpcRestarts = counters.get(SystemCounterDescriptor.RPC_RESTARTS);
        ackedRpcDrops = counters.get(SystemCounterDescriptor.ACKED_RPC_DROPS);
        needAckTimeouts = counters.get(SystemCounterDescriptor.NEED_ACK_TIMEOUTS);
        peersActive = counters.get(SystemCounterDescriptor.PEERS_ACTIVE);
        peerEvictions = counters.get(SystemCounterDescriptor.PEER_EVICTIONS);
        rpcInfoRequests = counters.get(SystemCounterDescriptor.RPC_INFO_REQUESTS);
        eventLogFreezes = counters.get(SystemCounterDescriptor.EVENT_LOG_FREEZES);
        final SchedulingSettings scheduling = settings.scheduling();
        priorities = new Priorities(scheduling.numPriorities(), scheduling.unschedCutoffs());
        grants = new GrantScheduler(
            scheduling, priorities.maxSchedPriority(), priorities.highPriority(), this::sendGrant, counters, events);
        pacer = new Pacer(scheduling, counters);
        controlTos = priorities.tos(priorities.controlPriority());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Door 1: packets from the transport.
    // ---------------------------------------------------------------------------------------------------------

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
            countReject(type);
            events.record(EventType.PACKET_REJECTED, 0, srcIpv4, srcPort, 0, 0, 0, length, type, 0, 0);
            return;
        }

        counters.received(type).incrementRelease();
        bytesRcvd.getAndAddRelease(length);
        peers.nowNs(nowNs);
        if (events.isRecording())
        {
            recordPacketIn(type, buffer, offset, length, srcIpv4, srcPort);
        }

        switch (type)
        {
            case HomaWire.DATA -> onData(buffer, offset, length, srcIpv4, srcPort, nowNs);
            case HomaWire.GRANT -> onGrant(buffer, offset, srcIpv4, srcPort);
            case HomaWire.CUTOFFS -> onCutoffs(buffer, offset, srcIpv4, srcPort);
            case HomaWire.ACK -> onAck(buffer, offset, srcIpv4, srcPort);
            case HomaWire.NEED_ACK -> onNeedAck(buffer, offset, srcIpv4, srcPort);
            case HomaWire.PORT_UNREACHABLE -> onPortUnreachable(buffer, offset, srcIpv4, srcPort);
            case HomaWire.RESEND -> onResend(buffer, offset, length, srcIpv4, srcPort);
            case HomaWire.BUSY -> onBusy(buffer, offset, srcIpv4, srcPort);
            case HomaWire.RPC_UNKNOWN -> onRpcUnknown(buffer, offset, srcIpv4, srcPort);
            case HomaWire.FREEZE -> onFreeze(buffer, offset, srcIpv4, srcPort);
            default ->
            {
                // Counted above; nothing to do.
            }
        }
    }

    private void recordPacketIn(
        final int type,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int srcIpv4,
        final int srcPort)
    {
        // Ids as this host knows the RPC: the sender's id with bit 0 flipped.
        final long senderId = HomaWire.senderId(buffer, offset);
        final long id = 0 == senderId ? 0 : senderId ^ 1;
        int at = 0;
        int bytes = 0;
        int arg = 0;
        int extra = 0;
        int flags = 0;
        switch (type)
        {
            case HomaWire.DATA ->
            {
                at = (int)HomaWire.dataOffset(buffer, offset);
                bytes = length - HomaWire.DATA_HEADER_LENGTH;
                arg = (int)HomaWire.incoming(buffer, offset);
                extra = (int)HomaWire.messageLength(buffer, offset);
                flags = HomaWire.retransmit(buffer, offset) ? EventType.FLAG_RETRANSMIT : 0;
            }
            case HomaWire.GRANT ->
            {
                at = (int)HomaWire.grantOffset(buffer, offset);
                arg = HomaWire.grantPriority(buffer, offset);
            }
            case HomaWire.RESEND ->
            {
                at = (int)HomaWire.resendOffset(buffer, offset);
                bytes = (int)HomaWire.resendLength(buffer, offset);
                arg = HomaWire.resendPriority(buffer, offset, length);
            }
            case HomaWire.CUTOFFS -> arg = HomaWire.cutoffsVersion(buffer, offset);
            case HomaWire.ACK -> arg = HomaWire.numAcks(buffer, offset);
            default ->
            {
                // The common header is all there is.
            }
        }
        events.record(EventType.PACKET_IN | type, id, srcIpv4, srcPort, HomaWire.dport(buffer, offset),
            HomaWire.sport(buffer, offset), at, bytes, arg, extra, flags);
    }

    /**
     * Linux's FREEZE handling: whatever RPC or socket it names, the first FREEZE puts the live RPCs into the event
     * log and freezes it (then dumped to a text file); later ones change nothing until the log is unfrozen.
     */
    private void onFreeze(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        if (!events.isRecording())
        {
            return;
        }
        int budget = events.capacity() / 4;
        for (final Rpc rpc : clientRpcs.values())
        {
            if (budget-- > 0)
            {
                recordActive(rpc);
            }
        }
        for (final Rpc rpc : serverRpcsByHandle.values())
        {
            if (budget-- > 0)
            {
                recordActive(rpc);
            }
        }
        if (events.freeze(srcIpv4, srcPort, HomaWire.dport(buffer, offset), HomaWire.sport(buffer, offset)))
        {
            eventLogFreezes.incrementRelease();
        }
    }

    private void recordActive(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        final int rxLength = rx.isInitialised() ? rx.length() : rpc.rxDeliveredLength;
        final int rxReceived = rx.isInitialised() ? rx.received() : Math.max(0, rpc.rxDeliveredLength);
        events.record(EventType.RPC_ACTIVE, rpc.id, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort,
            rpc.txNext, rpc.txSendOffset >= 0 ? rpc.txLength : -1, rpc.state, rxReceived, rxLength);
    }

    private void recordRpc(final int type, final Rpc rpc, final int offset, final int length, final int arg)
    {
        final Peer peer = rpc.peer;
        events.record(type, rpc.id, null == peer ? 0 : peer.ipv4, null == peer ? 0 : peer.port,
            null == rpc.socket ? 0 : rpc.socket.port, rpc.peerPort, offset, length, arg, 0, 0);
    }

    private void countReject(final int reason)
    {
        if (RejectReason.TOO_SHORT == reason)
        {
            shortPackets.incrementRelease();
        }
        else if (RejectReason.UNKNOWN_TYPE == reason)
        {
            unknownTypes.incrementRelease();
        }
        else
        {
            packetDiscards.incrementRelease();
        }
    }

    private void onData(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int srcIpv4,
        final int srcPort,
        final long nowNs)
    {
        final Peer peer = peers.lookupOrCreate(srcIpv4, srcPort);
        final long senderId = HomaWire.senderId(buffer, offset);
        final int sport = HomaWire.sport(buffer, offset);
        final int dport = HomaWire.dport(buffer, offset);

        final long ackClientId = HomaWire.ackClientId(buffer, offset);
        if (0 != ackClientId)
        {
            onAcked(peer, ackClientId);
        }

        final int messageLength = (int)HomaWire.messageLength(buffer, offset);
        final int dataOffset = (int)HomaWire.dataOffset(buffer, offset);
        final int payloadLength = length - HomaWire.DATA_HEADER_LENGTH;

        final Rpc rpc;
        if (0 == (senderId & 1))
        {
            rpc = serverRpcFor(peer, senderId, sport, dport, messageLength, srcIpv4, srcPort);
            if (null == rpc)
            {
                return;
            }
            rpc.silentTicks = 0;
            if (Rpc.SERVER_INCOMING != rpc.state)
            {
                duplicateData.incrementRelease();
                return;
            }
        }
        else
        {
            rpc = clientRpcs.get(senderId ^ 1);
            if (null == rpc || rpc.peer != peer || rpc.isDeliveryPending)
            {
                unknownRpcs.incrementRelease();
                return;
            }
            rpc.silentTicks = 0;
            if (Rpc.CLIENT_OUTGOING == rpc.state)
            {
                rpc.state = Rpc.CLIENT_INCOMING;
                stopSending(rpc);
            }
        }

        checkCutoffVersion(HomaWire.cutoffVersion(buffer, offset), rpc, nowNs);
        if (!rpc.rx.isInitialised())
        {
            final int poolOffset = rpc.isWaitingForBuffer ? -1 : rpc.socket.poolAllocator.allocate(messageLength);
            if (poolOffset < 0)
            {
                // Linux (section 2.9): drop it, queue the RPC for space; a RESEND restarts the sender later.
                droppedNoBufs.incrementRelease();
                waitForBuffer(rpc, messageLength, (int)Math.min(HomaWire.incoming(buffer, offset), messageLength));
                return;
            }
            rpc.rx.init(messageLength, poolOffset);
            grants.initMessage(rpc, (int)Math.min(HomaWire.incoming(buffer, offset), messageLength));
        }
        else if (rpc.rx.length() != messageLength)
        {
            packetDiscards.incrementRelease();
            return;
        }

        if (0 == rpc.rx.add(dataOffset, dataOffset + payloadLength))
        {
            duplicateData.incrementRelease();
            return;
        }
        rpc.socket.poolBuffer.putBytes(
            rpc.rx.poolOffset() + dataOffset, buffer, offset + HomaWire.DATA_HEADER_LENGTH, payloadLength);
        grants.onDataReceived(rpc);

        if (rpc.rx.isComplete())
        {
            onMessageComplete(rpc);
        }
    }

    private Rpc serverRpcFor(
        final Peer peer,
        final long senderId,
        final int sport,
        final int dport,
        final int messageLength,
        final int srcIpv4,
        final int srcPort)
    {
        final long id = senderId | 1;
        Rpc rpc = peer.serverRpcs.get(id);
        if (null == rpc)
        {
            final DriverSocket socket = socketsByPort.get(dport);
            if (null == socket || !socket.isServer())
            {
                // Linux answers with ICMP port-unreachable; over UDP we send our own packet type.
                sendControl(HomaWire.PORT_UNREACHABLE, srcIpv4, srcPort, dport, sport, senderId);
                return null;
            }
            if (peer.isRecentlyAcked(id, timer.ticks()))
            {
                // A copy of a request that already ran and was acked (delayed or duplicated in the network):
                // creating the RPC again would run it twice.
                ackedRpcDrops.incrementRelease();
                return null;
            }
            rpc = newRpc();
            rpc.state = Rpc.SERVER_INCOMING;
            rpc.id = id;
            rpc.handle = nextServerHandle;
            nextServerHandle += 2;
            rpc.socket = socket;
            rpc.peer = peer;
            peer.rpcCount++;
            rpc.peerPort = sport;
            peer.serverRpcs.put(id, rpc);
            serverRpcsByHandle.put(rpc.handle, rpc);
            recordRpc(EventType.RPC_CREATED, rpc, 0, messageLength, Rpc.SERVER_INCOMING);
        }
        return rpc;
    }

    private void onMessageComplete(final Rpc rpc)
    {
        recordRpc(EventType.MESSAGE_COMPLETE, rpc, 0, rpc.rx.length(), rpc.state);
        grants.remove(rpc);
        if (Rpc.SERVER_INCOMING == rpc.state)
        {
            rpc.state = Rpc.SERVER_IN_SERVICE;
            serverRequestsDone.incrementRelease();
        }
        else
        {
            clientResponsesDone.incrementRelease();
        }
        deliver(rpc);
    }

    private void deliver(final Rpc rpc)
    {
        final boolean delivered = 0 == rpc.errorCode ? rpc.socket.offerMessage(rpc) : rpc.socket.offerError(rpc);
        if (!delivered)
        {
            if (!rpc.isDeliveryPending)
            {
                rpc.isDeliveryPending = true;
                pendingDeliveries.add(rpc);
            }
            return;
        }

        if (rpc.isDeliveryPending)
        {
            rpc.isDeliveryPending = false;
            pendingDeliveries.remove(rpc);
        }
        if (Rpc.CLIENT_INCOMING == rpc.state || Rpc.CLIENT_OUTGOING == rpc.state)
        {
            if (0 == rpc.errorCode)
            {
                addPendingAck(rpc);
            }
            // The pool block now belongs to the application: forget it before ending the RPC.
            rpc.rx.reset();
            endClientRpc(rpc);
        }
        else
        {
            rpc.rxDeliveredLength = rpc.rx.length();
            rpc.rx.reset();
        }
    }

    private void addPendingAck(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        if (Peer.MAX_PENDING_ACKS == peer.pendingAcks)
        {
            // Linux: a sixth ack flushes the five pending ones in an ACK packet that names this RPC in its header.
            for (int i = 0; i < Peer.MAX_PENDING_ACKS; i++)
            {
                ackIds[i] = peer.ackClientIds[i];
                ackPorts[i] = peer.ackServerPorts[i];
            }
            if (sendAck(peer, rpc.socket.port, rpc.peerPort, rpc.id, Peer.MAX_PENDING_ACKS))
            {
                peer.pendingAcks = 0;
            }
            // Else the five stay pending and this RPC's ack is left to the server's NEED_ACK.
            return;
        }
        peer.ackClientIds[peer.pendingAcks] = rpc.id;
        peer.ackServerPorts[peer.pendingAcks] = rpc.peerPort;
        peer.pendingAcks++;
    }

    private void onAck(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookup(srcIpv4, srcPort);
        if (null == peer)
        {
            unknownRpcs.incrementRelease();
            return;
        }
        onAcked(peer, HomaWire.senderId(buffer, offset));
        final int numAcks = HomaWire.numAcks(buffer, offset);
        for (int i = 0; i < numAcks; i++)
        {
            onAcked(peer, HomaWire.ackClientId(buffer, offset, i));
        }
    }

    private void onAcked(final Peer peer, final long clientId)
    {
        // As Linux does, an ack ends the server RPC whatever its state: the client is done with it.
        final Rpc rpc = peer.serverRpcs.get(clientId | 1);
        if (null != rpc)
        {
            if (Rpc.SERVER_OUTGOING == rpc.state && !rpc.isSending)
            {
                serverResponsesDone.incrementRelease();
            }
            endServerRpc(rpc);
        }
    }

    private void onNeedAck(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final long clientId = HomaWire.senderId(buffer, offset) ^ 1;
        final Rpc rpc = clientRpcs.get(clientId);
        if (null != rpc)
        {
            // The response is not complete here yet: ask for what is missing instead of acking.
            if (rpc.peer == peers.lookup(srcIpv4, srcPort) && !rpc.isDeliveryPending)
            {
                requestRetransmission(rpc);
            }
            return;
        }
        final Peer peer = peers.lookupOrCreate(srcIpv4, srcPort);
        final int count = Math.min(peer.pendingAcks, HomaWire.HOMA_MAX_ACKS);
        for (int i = 0; i < count; i++)
        {
            ackIds[i] = peer.ackClientIds[i];
            ackPorts[i] = peer.ackServerPorts[i];
        }
        if (sendAck(peer, HomaWire.dport(buffer, offset), HomaWire.sport(buffer, offset), clientId, count))
        {
            peer.pendingAcks = 0;
        }
    }

    private void onPortUnreachable(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookup(srcIpv4, srcPort);
        if (null == peer)
        {
            return;
        }
        final int deadPort = HomaWire.sport(buffer, offset);
        failClientRpcs(peer, deadPort, HomaError.ENOTCONN);
    }

    /**
     * The network says a peer (or one Homa port of it) cannot be reached, e.g. an ICMP destination-unreachable
     * over raw IP: fail the matching client RPCs now, as Linux does, instead of letting them time out.
     *
     * @param ipv4      the peer's address.
     * @param port      the peer's transport port (0 over raw IP).
     * @param homaPort  the server port with no socket, or 0 for every RPC to the peer.
     * @param errorCode what the RPCs fail with (ENOTCONN, EHOSTUNREACH, EPROTONOSUPPORT).
     */
    public void onPeerUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        final Peer peer = peers.lookup(ipv4, port);
        if (null != peer)
        {
            failClientRpcs(peer, homaPort, errorCode);
        }
    }

    private void failClientRpcs(final Peer peer, final int serverPort, final int errorCode)
    {
        scratch.clear();
        for (final Rpc rpc : clientRpcs.values())
        {
            if (rpc.peer == peer && (0 == serverPort || rpc.peerPort == serverPort) && !rpc.isDeliveryPending)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            failClientRpc(scratch.get(i), errorCode);
        }
        scratch.clear();
    }

    private void failClientRpc(final Rpc rpc, final int errorCode)
    {
        stopSending(rpc);
        stopWaitingForBuffer(rpc);
        grants.remove(rpc);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
            rpc.rx.reset();
        }
        rpc.errorCode = errorCode;
        clientRpcsFailed.incrementRelease();
        recordRpc(EventType.RPC_FAILED, rpc, 0, 0, errorCode);
        deliver(rpc);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Door 2: client commands.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Opens a socket with an automatic client port.
     *
     * @param correlationId to answer with.
     * @param clientId      owner.
     */
    public void onAddSocket(final long correlationId, final long clientId)
    {
        final int port = allocateClientPort();
        if (port < 0)
        {
            clientProxy.onError(correlationId, HomaError.EADDRINUSE, "no free client port");
            return;
        }

        final long socketId = nextSocketId++;
        final DriverSocket socket;
        try
        {
            socket = new DriverSocket(directory, socketId, clientId, port, settings.eventRingCapacity(),
                settings.poolLength(), settings.sendRegionLength(), settings.minBlockLength(), socketsToWake);
        }
        catch (final RuntimeException ex)
        {
            clientProxy.onError(correlationId, HomaError.ENOMEM, "cannot create socket file: " + ex.getMessage());
            return;
        }
        socketsById.put(socketId, socket);
        socketsByPort.put(port, socket);
        sockets.add(socket);
        socketsOpen.incrementRelease();
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
        final DriverSocket socket = socketsById.get(socketId);
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
        if (socketsByPort.containsKey(port))
        {
            clientProxy.onError(correlationId, HomaError.EADDRINUSE, "port in use: " + port);
            return;
        }
        socketsByPort.remove(socket.port);
        socket.port(port);
        socketsByPort.put(port, socket);
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
        final DriverSocket socket = socketsById.get(socketId);
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
        for (int i = sockets.size() - 1; i >= 0; i--)
        {
            final DriverSocket socket = sockets.get(i);
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
     * @param rpcId       the client id (even).
     * @param cookie      completion cookie.
     * @param sendOffset  where the request is in the send region.
     * @param length      request length.
     * @param flags       send flags.
     * @param destIpv4    peer address.
     * @param destUdpPort peer transport port.
     * @param destPort    server Homa port.
     */
    public void onSendRequest(
        final long socketId,
        final long rpcId,
        final long cookie,
        final int sendOffset,
        final int length,
        final int flags,
        final int destIpv4,
        final int destUdpPort,
        final int destPort)
    {
        final DriverSocket socket = socketsById.get(socketId);
        if (null == socket)
        {
            return;
        }
        if (0 == rpcId || 0 != (rpcId & 1) || clientRpcs.containsKey(rpcId) || length <= 0 ||
            length > HomaWire.HOMA_MAX_MESSAGE_LENGTH)
        {
            releaseSendBlock(socket, sendOffset);
            return;
        }

        final Rpc rpc = newRpc();
        rpc.state = Rpc.CLIENT_OUTGOING;
        rpc.id = rpcId;
        rpc.handle = rpcId;
        rpc.cookie = cookie;
        rpc.flags = flags;
        rpc.socket = socket;
        rpc.peer = peers.lookupOrCreate(destIpv4, destUdpPort);
        rpc.peer.rpcCount++;
        rpc.peerPort = destPort;
        clientRpcs.put(rpcId, rpc);
        clientRequestsStarted.incrementRelease();
        recordRpc(EventType.RPC_CREATED, rpc, 0, length, Rpc.CLIENT_OUTGOING);
        startSending(rpc, sendOffset, length);
    }

    /**
     * Starts the response of a server RPC.
     *
     * @param socketId   the socket.
     * @param handle     the id the application got with the request.
     * @param sendOffset where the response is in the send region.
     * @param length     response length.
     */
    public void onSendReply(final long socketId, final long handle, final int sendOffset, final int length)
    {
        final DriverSocket socket = socketsById.get(socketId);
        if (null == socket)
        {
            return;
        }
        final Rpc rpc = serverRpcsByHandle.get(handle);
        if (null == rpc || rpc.socket != socket || Rpc.SERVER_IN_SERVICE != rpc.state)
        {
            replyUnknown.incrementRelease();
            releaseSendBlock(socket, sendOffset);
            return;
        }
        rpc.state = Rpc.SERVER_OUTGOING;
        serverResponsesStarted.incrementRelease();
        recordRpc(EventType.REPLY_STARTED, rpc, 0, length, 0);
        startSending(rpc, sendOffset, length);
    }

    /**
     * Aborts one client RPC of a socket, or all of them (rpcId 0); each completes with the error.
     *
     * @param socketId  the socket.
     * @param rpcId     the RPC, or 0 for all.
     * @param errorCode what they complete with.
     */
    public void onAbort(final long socketId, final long rpcId, final int errorCode)
    {
        final DriverSocket socket = socketsById.get(socketId);
        if (null == socket)
        {
            return;
        }
        if (0 != rpcId)
        {
            final Rpc rpc = clientRpcs.get(rpcId);
            if (null != rpc && rpc.socket == socket && !rpc.isDeliveryPending)
            {
                failClientRpc(rpc, errorCode);
            }
            return;
        }

        scratch.clear();
        for (final Rpc rpc : clientRpcs.values())
        {
            if (rpc.socket == socket && !rpc.isDeliveryPending)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            failClientRpc(scratch.get(i), errorCode);
        }
        scratch.clear();
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
        rpcInfoRequests.incrementRelease();
        final DriverSocket only = 0 == port ? null : socketsByPort.get(port);
        int total = 0;
        if (0 == port || null != only)
        {
            for (final Rpc rpc : clientRpcs.values())
            {
                total += null == only || rpc.socket == only ? 1 : 0;
            }
            for (final Rpc rpc : serverRpcsByHandle.values())
            {
                total += null == only || rpc.socket == only ? 1 : 0;
            }
        }

        final int count = Math.min(total, clientProxy.maxRpcInfoEntries());
        final OnRpcInfoEncoder.RpcsEncoder entries = clientProxy.rpcInfo(
            correlationId, total, null == only ? -1 : only.poolAllocator.freeBytes(), count);
        int written = 0;
        if (count > 0)
        {
            for (final Rpc rpc : clientRpcs.values())
            {
                if (written < count && (null == only || rpc.socket == only))
                {
                    encodeRpcInfo(entries.next(), rpc);
                    written++;
                }
            }
            for (final Rpc rpc : serverRpcsByHandle.values())
            {
                if (written < count && (null == only || rpc.socket == only))
                {
                    encodeRpcInfo(entries.next(), rpc);
                    written++;
                }
            }
        }
        clientProxy.transmitRpcInfo();
    }

    private static void encodeRpcInfo(final OnRpcInfoEncoder.RpcsEncoder entry, final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        int rxLength = -1;
        int rxRemaining = 0;
        int rxGapBytes = 0;
        int rxGranted = 0;
        if (rx.isInitialised())
        {
            rxLength = rx.length();
            rxRemaining = rx.bytesRemaining();
            for (int i = 0, gaps = rx.gapCount(); i < gaps; i++)
            {
                rxGapBytes += rx.gapEnd(i) - rx.gapStart(i);
            }
            rxGranted = rx.granted;
        }
        else if (rpc.isWaitingForBuffer)
        {
            rxLength = rpc.rxWaitLength;
            rxRemaining = rpc.rxWaitLength;
        }
        else if (rpc.rxDeliveredLength >= 0)
        {
            rxLength = rpc.rxDeliveredLength;
            rxGranted = rpc.rxDeliveredLength;
        }

        int flags = 0;
        if (rpc.isWaitingForBuffer)
        {
            flags |= RpcInfo.FLAG_BUFFER_STALL;
        }
        if (rpc.isClient() && 0 != (rpc.flags & HomaSocket.FLAG_PRIVATE))
        {
            flags |= RpcInfo.FLAG_PRIVATE;
        }
        if (rpc.isDeliveryPending)
        {
            flags |= RpcInfo.FLAG_RX_READY;
        }

        final boolean hasTx = rpc.txSendOffset >= 0;
        entry
            .id(rpc.id)
            .applicationId(rpc.handle)
            .completionCookie(rpc.cookie)
            .localPort(rpc.socket.port)
            .peerAddress(rpc.peer.ipv4)
            .peerUdpPort(rpc.peer.port)
            .peerPort(rpc.peerPort)
            .txLength(hasTx ? rpc.txLength : -1)
            .txSent(hasTx ? rpc.txNext : 0)
            .txGranted(hasTx ? rpc.txGranted : 0)
            .txPriority(rpc.txPriority)
            .rxLength(rxLength)
            .rxRemaining(rxRemaining)
            .rxGaps(rx.isInitialised() ? rx.gapCount() : 0)
            .rxGapBytes(rxGapBytes)
            .rxGranted(rxGranted)
            .silentTicks(rpc.silentTicks)
            .resends(rpc.resends)
            .retransmits(rpc.retransmits)
            .state(rpcState(rpc.state))
            .flags((short)flags);
    }

    private static RpcState rpcState(final int state)
    {
        return switch (state)
        {
            case Rpc.CLIENT_OUTGOING -> RpcState.CLIENT_OUTGOING;
            case Rpc.CLIENT_INCOMING -> RpcState.CLIENT_INCOMING;
            case Rpc.SERVER_INCOMING -> RpcState.SERVER_INCOMING;
            case Rpc.SERVER_IN_SERVICE -> RpcState.SERVER_IN_SERVICE;
            case Rpc.SERVER_OUTGOING -> RpcState.SERVER_OUTGOING;
            default -> RpcState.NULL_VAL;
        };
    }

    // ---------------------------------------------------------------------------------------------------------
    // Door 3: duty cycle.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Transmits what may go, retries deliveries, takes back returned pool blocks, runs the timer tick.
     *
     * @param nowNs current time.
     * @return work done.
     */
    public int doWork(final long nowNs)
    {
        int work = drainDeferred();
        for (int i = 0, size = sockets.size(); i < size; i++)
        {
            final DriverSocket socket = sockets.get(i);
            work += socket.drainReturns();
            work += socket.flushReleases();
            if (!socket.bufferWaiters.isEmpty())
            {
                work += admitBufferWaiters(socket);
            }
        }

        for (int i = pendingDeliveries.size() - 1; i >= 0; i--)
        {
            deliver(pendingDeliveries.get(i));
            work++;
        }

        work += grants.processPending(nowNs);
        work += transmit(nowNs);

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
        wakeSleepingClients();
        return work;
    }

    /**
     * Wakes the client threads that sleep on sockets this cycle published to (one system call per socket).
     */
    public void wakeSleepingClients()
    {
        for (int i = 0, size = socketsToWake.size(); i < size; i++)
        {
            socketsToWake.get(i).wakeWaiters();
        }
        socketsToWake.clear();
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
        return timer.size() > 0 || !pendingDeliveries.isEmpty() || !deferredSockets.isEmpty() ?
            nextTickNs : Long.MAX_VALUE;
    }

    private int transmit(final long nowNs)
    {
        int packets = 0;
        while (packets < MAX_PACKETS_PER_CYCLE)
        {
            // SRPT among messages with granted bytes to send (a share to the oldest); the pacer may hold it back.
            final Rpc best = pacer.pick(sending);
            if (null == best)
            {
                break;
            }
            if (!pacer.mayTransmit(best.txRemaining(), nowNs))
            {
                // Held for the NIC queue estimate to drain within microseconds: keep the duty cycle busy.
                packets++;
                break;
            }
            final int txNextBefore = best.txNext;
            if (!sendNextDataPacket(best, nowNs))
            {
                break;
            }
            pacer.onTransmit(best.txNext - txNextBefore, nowNs);
            packets++;
        }
        return packets;
    }

    private boolean sendNextDataPacket(final Rpc rpc, final long nowNs)
    {
        final int start = rpc.txNext;
        int end = Math.min(start + maxDataPerPacket, rpc.txGranted);
        final int unsched = settings.unschedBytes();
        if (start < unsched && end > unsched)
        {
            end = unsched;
        }
        if (!sendDataPacket(rpc, start, end, unschedLimit(rpc), false, dataTos(rpc, start)))
        {
            return false;
        }
        sentMsgBytes.getAndAddRelease(end - start);

        rpc.txNext = end;
        if (rpc.txNext >= rpc.txLength)
        {
            stopSending(rpc);
            if (Rpc.SERVER_OUTGOING == rpc.state)
            {
                rpc.txDoneTick = timer.ticks();
                rpc.silentTicks = 0;
            }
        }
        return true;
    }

    /**
     * Builds one DATA packet for bytes [start, end) of the RPC's outgoing message: the one place DATA is framed,
     * for first transmissions and retransmissions alike. Piggy-backs a pending ack for the peer if there is one.
     *
     * @return false when the outbound ring is full.
     */
    private boolean sendDataPacket(
        final Rpc rpc, final int start, final int end, final int incoming, final boolean retransmit, final int tos)
    {
        final int payload = end - start;
        final Peer peer = rpc.peer;
        // The header goes into the ring; the payload stays in the send region and the sender gathers both.
        final int index = outbound.claim(
            HomaWire.DATA_HEADER_LENGTH, peer.ipv4, peer.port, tos, HomaWire.DATA,
            rpc.socket.sendRegion.addressOffset() + rpc.txSendOffset + start, payload);
        if (index <= 0)
        {
            return false;
        }

        long ackId = 0;
        int ackPort = 0;
        if (peer.pendingAcks > 0)
        {
            peer.pendingAcks--;
            ackId = peer.ackClientIds[peer.pendingAcks];
            ackPort = peer.ackServerPorts[peer.pendingAcks];
            acksPiggybacked.incrementRelease();
        }

        final int packetOffset = index + OutboundPackets.PREFIX_LENGTH;
        writer.data(outBuffer, packetOffset, rpc.socket.port, rpc.peerPort, rpc.id, rpc.txLength, incoming,
            ackId, ackPort, peer.cutoffVersion, retransmit, start);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.DATA, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, start, payload, HomaWire.priorityFromTos(tos), rpc.txLength,
            retransmit ? EventType.FLAG_RETRANSMIT : 0);
        return true;
    }

    private int onTick(final long nowNs)
    {
        // A NEED_ACK cannot be answered before the response has left: while our own transmit ring is backed up,
        // asking only adds to the queue (and, under load, feeds a storm of NEED_ACKs and ACKs).
        final boolean needAcksAllowed = !isTransmitBacklogged();
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
                peerEvictions.getAndAddRelease(evicted);
                work += evicted;
            }
            peersActive.setRelease(peers.size());
        }
        return work;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Loss recovery (section 2.7), at-most-once (2.8) and receive-pool exhaustion (2.9).
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Told by the receiver after each batch.
     *
     * @param backlogged true if the batch was full (more packets wait in the socket).
     */
    public void inboundBacklogged(final boolean backlogged)
    {
        timer.inboundBacklogged(backlogged);
    }

    private boolean isTransmitBacklogged()
    {
        return outbound.backlogBytes() > outbound.capacity() / 4;
    }

    /**
     * The RPC a control packet names, seen from here: a client's even id names our server RPC (id | 1), a server's
     * odd id names our client RPC (id ^ 1), which must be talking to that peer.
     */
    private Rpc rpcFor(final Peer peer, final long senderId)
    {
        if (null == peer)
        {
            return null;
        }
        if (0 == (senderId & 1))
        {
            return peer.serverRpcs.get(senderId | 1);
        }
        final Rpc rpc = clientRpcs.get(senderId ^ 1);
        return null != rpc && rpc.peer == peer && !rpc.isDeliveryPending ? rpc : null;
    }

    private void onResend(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort)
    {
        final long senderId = HomaWire.senderId(buffer, offset);
        final Rpc rpc = rpcFor(peers.lookup(srcIpv4, srcPort), senderId);
        if (null == rpc)
        {
            unknownRpcs.incrementRelease();
            sendControl(HomaWire.RPC_UNKNOWN, srcIpv4, srcPort, HomaWire.dport(buffer, offset),
                HomaWire.sport(buffer, offset), senderId ^ 1);
            return;
        }

        if (!rpc.isClient())
        {
            if (Rpc.SERVER_OUTGOING != rpc.state)
            {
                sendControl(HomaWire.BUSY, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
                return;
            }
            // The client is alive and still wants the response: no reason to give up on its ack.
            rpc.silentTicks = 0;
        }

        final long start = HomaWire.resendOffset(buffer, offset);
        final long resendLength = HomaWire.resendLength(buffer, offset);
        long end = HomaWire.RESEND_ALL == resendLength ? rpc.txNext : Math.min(start + resendLength, rpc.txLength);
        if (end > rpc.txGranted)
        {
            // Asking beyond what we think was granted means a GRANT was lost.
            rpc.txGranted = (int)end;
            if (!rpc.isSending && rpc.txNext < rpc.txGranted)
            {
                rpc.isSending = true;
                sending.add(rpc);
            }
        }
        if (start >= rpc.txNext || start >= end)
        {
            // Nothing asked for has been sent yet: it is coming.
            sendControl(HomaWire.BUSY, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
            return;
        }
        end = Math.min(end, rpc.txNext);
        if (end - start > maxDataPerPacket && isTransmitBacklogged())
        {
            // Alive but not sending now: retransmitting a large range into a backed-up ring is how loss turns into
            // collapse. BUSY keeps the peer waiting; it asks again after resend_interval.
            sendControl(HomaWire.BUSY, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
            return;
        }
        final int priority = Math.min(HomaWire.resendPriority(buffer, offset, length), CONTROL_PRIORITY);
        retransmit(rpc, (int)start, (int)end, priority);
    }

    /**
     * Sends bytes [start, end) again as DATA with retransmit=1 and incoming=end. What does not fit in the outbound
     * ring is left for the receiver's next RESEND.
     */
    private void retransmit(final Rpc rpc, final int start, final int end, final int priority)
    {
        int next = start;
        while (next < end)
        {
            final int packetEnd = Math.min(next + maxDataPerPacket, end);
            if (!sendDataPacket(rpc, next, packetEnd, end, true, priorities.tos(priority)))
            {
                break;
            }
            resentPackets.incrementRelease();
            rpc.retransmits++;
            next = packetEnd;
        }
    }

    private void onBusy(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Rpc rpc = rpcFor(peers.lookup(srcIpv4, srcPort), HomaWire.senderId(buffer, offset));
        if (null != rpc)
        {
            rpc.silentTicks = 0;
        }
        else
        {
            unknownRpcs.incrementRelease();
        }
    }

    private void onRpcUnknown(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Rpc rpc = rpcFor(peers.lookup(srcIpv4, srcPort), HomaWire.senderId(buffer, offset));
        if (null == rpc)
        {
            unknownRpcs.incrementRelease();
            return;
        }
        if (rpc.isClient())
        {
            if (Rpc.CLIENT_OUTGOING == rpc.state)
            {
                // The server lost the request (or restarted): send again everything sent so far.
                rpcRestarts.incrementRelease();
                retransmit(rpc, 0, rpc.txNext, DEFAULT_UNSCHED_PRIORITY);
            }
            return;
        }
        // The client no longer knows this RPC: nobody wants the response.
        serverRpcDiscards.incrementRelease();
        endServerRpc(rpc);
    }

    /**
     * Asks the peer for what the incoming message lacks: RESEND(0, -1) from a client that has heard nothing of its
     * response, else one RESEND per gap plus one for the tail up to what was granted.
     */
    private void requestRetransmission(final Rpc rpc)
    {
        if (rpc.isWaitingForBuffer)
        {
            return;
        }
        final IncomingMessage rx = rpc.rx;
        if (!rx.isInitialised())
        {
            if (rpc.isClient())
            {
                sendResend(rpc, 0, -1, CONTROL_PRIORITY);
            }
            return;
        }
        for (int i = 0, gaps = rx.gapCount(); i < gaps; i++)
        {
            sendResend(rpc, rx.gapStart(i), rx.gapEnd(i) - rx.gapStart(i), CONTROL_PRIORITY);
        }
        final int granted = RpcTimer.rxGranted(rpc);
        if (rx.recvEnd() < granted)
        {
            sendResend(rpc, rx.recvEnd(), granted - rx.recvEnd(), CONTROL_PRIORITY);
        }
    }

    private boolean sendResend(final Rpc rpc, final int resendOffset, final int resendLength, final int priority)
    {
        final Peer peer = rpc.peer;
        final int index = outbound.claim(
            HomaWire.RESEND_LENGTH, peer.ipv4, peer.port, HomaWire.tos(CONTROL_PRIORITY), HomaWire.RESEND);
        if (index <= 0)
        {
            controlXmitErrors.incrementRelease();
            return false;
        }
        writer.resend(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            resendOffset, resendLength, priority);
        outbound.commit(index);
        rpc.resends++;
        events.record(EventType.PACKET_OUT | HomaWire.RESEND, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, resendOffset, resendLength, priority, 0, 0);
        return true;
    }

    private void onRpcTimeout(final Rpc rpc)
    {
        recordRpc(EventType.RPC_TIMEOUT, rpc, 0, 0, rpc.state);
        if (rpc.isClient())
        {
            rpcTimeouts.incrementRelease();
            failClientRpc(rpc, HomaError.ETIMEDOUT);
        }
        else if (Rpc.SERVER_OUTGOING == rpc.state)
        {
            // Response sent, NEED_ACKs unanswered for timeout_ticks: the client is gone. Its id stays remembered, so
            // a late copy of the request cannot run again.
            needAckTimeouts.incrementRelease();
            endServerRpc(rpc);
        }
        else
        {
            rpcTimeouts.incrementRelease();
            serverRpcDiscards.incrementRelease();
            endServerRpc(rpc);
        }
    }

    private void waitForBuffer(final Rpc rpc, final int messageLength, final int unscheduledBytes)
    {
        if (rpc.isWaitingForBuffer)
        {
            return;
        }
        rpc.isWaitingForBuffer = true;
        rpc.rxWaitLength = messageLength;
        rpc.rxWaitUnscheduled = unscheduledBytes;
        recordRpc(EventType.BUFFER_WAIT, rpc, 0, messageLength, rpc.state);
        final ArrayList<Rpc> waiters = rpc.socket.bufferWaiters;
        int i = waiters.size();
        while (i > 0 && waiters.get(i - 1).rxWaitLength > messageLength)
        {
            i--;
        }
        waiters.add(i, rpc);
        bufferAllocFailures.incrementRelease();
        bufferWaitingRpcs.incrementRelease();
    }

    private void stopWaitingForBuffer(final Rpc rpc)
    {
        if (rpc.isWaitingForBuffer)
        {
            rpc.isWaitingForBuffer = false;
            rpc.socket.bufferWaiters.remove(rpc);
            bufferWaitingRpcs.decrementRelease();
        }
    }

    /**
     * Gives freed pool space to waiting RPCs, shortest first, and restarts each one's sender with RESEND(0, -1) at
     * priority 6 (Linux: num_priorities - 2).
     */
    private int admitBufferWaiters(final DriverSocket socket)
    {
        final long freeBytes = socket.poolAllocator.freeBytes();
        if (freeBytes == socket.poolFreeBytesSeen)
        {
            return 0;
        }
        int admitted = 0;
        final ArrayList<Rpc> waiters = socket.bufferWaiters;
        while (!waiters.isEmpty())
        {
            final Rpc rpc = waiters.get(0);
            final int poolOffset = socket.poolAllocator.allocate(rpc.rxWaitLength);
            if (poolOffset < 0)
            {
                break;
            }
            stopWaitingForBuffer(rpc);
            rpc.rx.init(rpc.rxWaitLength, poolOffset);
            // As if its first packet had just arrived: the scheduler must own it, or nobody ever grants the rest.
            grants.initMessage(rpc, rpc.rxWaitUnscheduled);
            rpc.silentTicks = 0;
            sendResend(rpc, 0, -1, DEFAULT_UNSCHED_PRIORITY);
            admitted++;
        }
        socket.poolFreeBytesSeen = socket.poolAllocator.freeBytes();
        return admitted;
    }

    private final class TimerActions implements RpcTimer.Actions
    {
        public void requestRetransmission(final Rpc rpc)
        {
            HomaEngine.this.requestRetransmission(rpc);
        }

        public void sendNeedAck(final Rpc rpc)
        {
            sendControl(HomaWire.NEED_ACK, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.id);
        }

        public void onTimeout(final Rpc rpc)
        {
            onRpcTimeout(rpc);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scheduling: GRANT and CUTOFFS, priorities of DATA (policy in GrantScheduler, Pacer, Priorities).
    // ---------------------------------------------------------------------------------------------------------

    private int unschedLimit(final Rpc rpc)
    {
        return Math.min(settings.unschedBytes(), rpc.txLength);
    }

    /**
     * TOS of a DATA packet starting at {@code start}: unscheduled bytes at the level the receiver's cutoffs choose
     * for the message's length, scheduled bytes at the level of the latest GRANT.
     */
    private int dataTos(final Rpc rpc, final int start)
    {
        return start < unschedLimit(rpc) ?
            priorities.tos(priorities.unschedPriority(rpc.peer.unschedCutoffs, rpc.txLength)) :
            priorities.tos(rpc.txPriority);
    }

    private void onGrant(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        // The GRANT carries the receiver's id for the RPC; ours differs in bit 0.
        final long id = HomaWire.senderId(buffer, offset) ^ 1;
        final Rpc rpc;
        if (0 == (id & 1))
        {
            rpc = clientRpcs.get(id);
        }
        else
        {
            final Peer peer = peers.lookup(srcIpv4, srcPort);
            rpc = null == peer ? null : peer.serverRpcs.get(id);
        }
        if (null == rpc || rpc.peer.ipv4 != srcIpv4 || rpc.peer.port != srcPort)
        {
            unknownRpcs.incrementRelease();
            return;
        }
        if (Rpc.CLIENT_OUTGOING != rpc.state && Rpc.SERVER_OUTGOING != rpc.state)
        {
            return;
        }
        // Offsets are absolute: a late, duplicate or repeated GRANT changes nothing.
        final long grantOffset = HomaWire.grantOffset(buffer, offset);
        if (grantOffset > rpc.txGranted)
        {
            rpc.txGranted = (int)Math.min(grantOffset, rpc.txLength);
        }
        rpc.txPriority = HomaWire.grantPriority(buffer, offset);
    }

    private void onCutoffs(final DirectBuffer buffer, final int offset, final int srcIpv4, final int srcPort)
    {
        final Peer peer = peers.lookupOrCreate(srcIpv4, srcPort);
        for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
        {
            peer.unschedCutoffs[i] = HomaWire.cutoff(buffer, offset, i);
        }
        peer.cutoffVersion = HomaWire.cutoffsVersion(buffer, offset);
    }

    /**
     * A DATA arrived with the sender's idea of our cutoffs' version: if stale, send ours (once per peer per tick,
     * so a burst of stale DATA costs one CUTOFFS, and a lost one is replaced by the next stale DATA).
     */
    private void checkCutoffVersion(final int version, final Rpc rpc, final long nowNs)
    {
        final Peer peer = rpc.peer;
        if (version == priorities.cutoffVersion() || nowNs - peer.lastCutoffsSentNs < settings.tickNs())
        {
            return;
        }
        final int index = outbound.claim(HomaWire.CUTOFFS_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.CUTOFFS);
        if (index <= 0)
        {
            controlXmitErrors.incrementRelease();
            return;
        }
        writer.cutoffs(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            priorities.receiverCutoffs(), priorities.cutoffVersion());
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.CUTOFFS, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, 0, 0, priorities.cutoffVersion(), 0, 0);
        peer.lastCutoffsSentNs = nowNs;
    }

    private boolean sendGrant(final Rpc rpc, final int grantOffset, final int priority)
    {
        final Peer peer = rpc.peer;
        final int index = outbound.claim(HomaWire.GRANT_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.GRANT);
        if (index <= 0)
        {
            controlXmitErrors.incrementRelease();
            return false;
        }
        writer.grant(outBuffer, index + OutboundPackets.PREFIX_LENGTH, rpc.socket.port, rpc.peerPort, rpc.id,
            grantOffset, priority);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.GRANT, rpc.id, peer.ipv4, peer.port, rpc.socket.port,
            rpc.peerPort, grantOffset, 0, priority, rpc.rx.length(), 0);
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers.
    // ---------------------------------------------------------------------------------------------------------

    private void startSending(final Rpc rpc, final int sendOffset, final int length)
    {
        rpc.txSendOffset = sendOffset;
        rpc.txLength = length;
        rpc.txNext = 0;
        // Only the unscheduled bytes go without permission; GRANTs raise txGranted.
        rpc.txGranted = unschedLimit(rpc);
        rpc.txPriority = 0;
        rpc.txBirth = nextTxBirth++;
        rpc.isSending = true;
        sending.add(rpc);
    }

    private void stopSending(final Rpc rpc)
    {
        if (rpc.isSending)
        {
            rpc.isSending = false;
            sending.remove(rpc);
        }
    }

    private boolean sendControl(
        final int type, final int ipv4, final int port, final int sport, final int dport, final long senderId)
    {
        final int index = outbound.claim(HomaWire.COMMON_HEADER_LENGTH, ipv4, port, controlTos, type);
        if (index <= 0)
        {
            controlXmitErrors.incrementRelease();
            return false;
        }
        final int packetOffset = index + OutboundPackets.PREFIX_LENGTH;
        switch (type)
        {
            case HomaWire.NEED_ACK -> writer.needAck(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.PORT_UNREACHABLE -> writer.portUnreachable(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.BUSY -> writer.busy(outBuffer, packetOffset, sport, dport, senderId);
            case HomaWire.RPC_UNKNOWN -> writer.rpcUnknown(outBuffer, packetOffset, sport, dport, senderId);
            default -> throw new IllegalArgumentException("not a 28-byte control type: " + type);
        }
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | type, senderId, ipv4, port, sport, dport, 0, 0, 0, 0, 0);
        return true;
    }

    private boolean sendAck(final Peer peer, final int sport, final int dport, final long senderId, final int count)
    {
        final int index = outbound.claim(HomaWire.ACK_LENGTH, peer.ipv4, peer.port, controlTos, HomaWire.ACK);
        if (index <= 0)
        {
            controlXmitErrors.incrementRelease();
            return false;
        }
        writer.ack(outBuffer, index + OutboundPackets.PREFIX_LENGTH, sport, dport, senderId, count, ackIds, ackPorts);
        outbound.commit(index);
        events.record(EventType.PACKET_OUT | HomaWire.ACK, senderId, peer.ipv4, peer.port, sport, dport, 0, 0, count,
            0, 0);
        return true;
    }

    private Rpc newRpc()
    {
        final Rpc pooled = rpcPool.pollFirst();
        rpcsActive.incrementRelease();
        final Rpc rpc = null != pooled ? pooled : new Rpc();
        timer.add(rpc);
        return rpc;
    }

    private void recycle(final Rpc rpc)
    {
        recordRpc(EventType.RPC_ENDED, rpc, 0, 0, rpc.state);
        timer.remove(rpc);
        stopWaitingForBuffer(rpc);
        if (null != rpc.peer)
        {
            rpc.peer.rpcCount--;
        }
        grants.remove(rpc);
        rpc.reset();
        rpcPool.addFirst(rpc);
        rpcsActive.decrementRelease();
    }

    private void endClientRpc(final Rpc rpc)
    {
        stopSending(rpc);
        clientRpcs.remove(rpc.id);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
        }
        releaseSendBlock(rpc.socket, rpc.txSendOffset);
        recycle(rpc);
    }

    private void endServerRpc(final Rpc rpc)
    {
        stopSending(rpc);
        if (Rpc.SERVER_IN_SERVICE == rpc.state || Rpc.SERVER_OUTGOING == rpc.state)
        {
            rememberEnded(rpc);
        }
        if (rpc.isDeliveryPending)
        {
            rpc.isDeliveryPending = false;
            pendingDeliveries.remove(rpc);
        }
        rpc.peer.serverRpcs.remove(rpc.id);
        serverRpcsByHandle.remove(rpc.handle);
        if (rpc.rx.isInitialised())
        {
            rpc.socket.poolAllocator.free(rpc.rx.poolOffset());
        }
        releaseSendBlock(rpc.socket, rpc.txSendOffset);
        recycle(rpc);
    }

    /**
     * At-most-once: the request of this server RPC reached the application, so remember its id for a while in case
     * a copy of the request is still in the network.
     */
    private void rememberEnded(final Rpc rpc)
    {
        final Peer peer = rpc.peer;
        if (null == peer.recentAcks)
        {
            peer.recentAcks = new RecentAcks(recovery.recentAcksPerPeer());
        }
        final long tick = timer.ticks();
        peer.recentAcks.expire(tick);
        peer.recentAcks.add(rpc.id, tick + recovery.recentAckTicks());
    }

    private void closeSocket(final DriverSocket socket)
    {
        scratch.clear();
        for (final Rpc rpc : clientRpcs.values())
        {
            if (rpc.socket == socket)
            {
                scratch.add(rpc);
            }
        }
        for (final Rpc rpc : serverRpcsByHandle.values())
        {
            if (rpc.socket == socket)
            {
                scratch.add(rpc);
            }
        }
        for (int i = 0, size = scratch.size(); i < size; i++)
        {
            final Rpc rpc = scratch.get(i);
            if (rpc.isDeliveryPending)
            {
                rpc.isDeliveryPending = false;
                pendingDeliveries.remove(rpc);
            }
            if (0 == (rpc.id & 1))
            {
                stopSending(rpc);
                clientRpcs.remove(rpc.id);
                recycle(rpc);
            }
            else
            {
                stopSending(rpc);
                rpc.peer.serverRpcs.remove(rpc.id);
                serverRpcsByHandle.remove(rpc.handle);
                recycle(rpc);
            }
        }
        scratch.clear();

        socketsById.remove(socket.socketId);
        socketsByPort.remove(socket.port);
        sockets.remove(socket);
        socketsOpen.decrementRelease();
        // Packets still queued for the sender may point into this socket's send region: unmap only after them.
        deferUntilSent(socket, CLOSE_SOCKET);
    }

    /**
     * Gives a send block back to its client once no queued packet points into it any more.
     */
    private void releaseSendBlock(final DriverSocket socket, final int sendOffset)
    {
        if (sendOffset >= 0)
        {
            deferUntilSent(socket, sendOffset);
        }
    }

    private void deferUntilSent(final DriverSocket socket, final int sendOffsetOrClose)
    {
        if (deferredSockets.isEmpty() && outbound.consumerPosition() >= outbound.producerPosition())
        {
            completeDeferred(socket, sendOffsetOrClose);
            return;
        }
        deferredSockets.addLast(socket);
        deferredOffsets.addInt(sendOffsetOrClose);
        deferredPositions.addLong(outbound.producerPosition());
    }

    private int drainDeferred()
    {
        int work = 0;
        final long sentPosition = outbound.consumerPosition();
        while (!deferredSockets.isEmpty() && deferredPositions.peekLong() <= sentPosition)
        {
            deferredPositions.pollLong();
            completeDeferred(deferredSockets.pollFirst(), deferredOffsets.pollInt());
            work++;
        }
        return work;
    }

    private static void completeDeferred(final DriverSocket socket, final int sendOffsetOrClose)
    {
        if (CLOSE_SOCKET == sendOffsetOrClose)
        {
            socket.close();
        }
        else if (!socket.isClosed())
        {
            socket.releaseSendBlock(sendOffsetOrClose);
        }
    }

    private int allocateClientPort()
    {
        for (int i = 0; i < 0x8000; i++)
        {
            final int port = nextClientPort;
            nextClientPort = port >= 0xFFFF ? HomaWire.HOMA_MIN_DEFAULT_PORT : port + 1;
            if (!socketsByPort.containsKey(port))
            {
                return port;
            }
        }
        return -1;
    }

    DriverSocket socketById(final long socketId)
    {
        return socketsById.get(socketId);
    }

    /**
     * @return RPCs alive on both sides.
     */
    public int activeRpcCount()
    {
        return clientRpcs.size() + serverRpcsByHandle.size();
    }

    /**
     * @return sockets open.
     */
    public int socketCount()
    {
        return sockets.size();
    }

    /**
     * Closes every socket.
     */
    public void close()
    {
        for (int i = sockets.size() - 1; i >= 0; i--)
        {
            closeSocket(sockets.get(i));
        }
        // The agents have stopped: nothing will be sent any more.
        while (!deferredSockets.isEmpty())
        {
            deferredPositions.pollLong();
            completeDeferred(deferredSockets.pollFirst(), deferredOffsets.pollInt());
        }
    }
}
