package io.homa.sim;

import io.homa.client.internal.BuddyAllocator;
import io.homa.client.internal.SocketFileDescriptor;
import io.homa.client.internal.control.OnRpcInfoEncoder;
import io.homa.codecs.HomaWire;
import io.homa.driver.protocol.ClientEvents;
import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.protocol.LimitSettings;
import io.homa.driver.protocol.RecoverySettings;
import io.homa.driver.protocol.SchedulingSettings;
import io.homa.driver.protocol.SocketStore;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.nio.ByteBuffer;

/**
 * One simulated host: a real {@link HomaEngine} with one socket (bound to the server port, and sending requests
 * too), its socket memory on the heap's direct side, a NIC port, and the {@link Application} that uses the socket
 * the way a client library does (event ring, return ring, release ring, its own send-region allocator). The host
 * runs the engine's duty cycle whenever something happens to it: a packet arrives, the NIC drains, the application
 * sends, or the engine's own deadline (timer tick, pacer) comes.
 */
final class SimHost implements Node, Port.TransmitListener, SimEvent
{
    static final long CLIENT_ID = 1;
    static final int SERVER_PORT = 100;
    static final int UDP_PORT = 4_000;
    private static final int EVENT_RING_CAPACITY = 1 << 16;
    private static final int MIN_BLOCK_LENGTH = 1_024;
    private static final int MAX_ROUNDS = 4;

    final int index;
    final Network network;
    final HomaEngine engine;
    private final SimSink sink;
    private final Port nicPort;
    private final long pollNs;
    private final int pacedQueueBytes;
    private final long unschedBytes;
    final Application application;

    private ByteBuffer memory;
    final long socketId;
    final UnsafeBuffer pool;
    final UnsafeBuffer sendRegion;
    private final OneToOneRingBuffer eventRing;
    private final ManyToOneRingBuffer returnRing;
    private final OneToOneRingBuffer releaseRing;
    private final BuddyAllocator sendSpace;
    private final UnsafeBuffer returnRecord = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
    private final SystemCounters counters;
    /** The event log's freezes, formatted in memory; null without an event log. */
    final SimFreezeDumps freezeDumps;
    private long wakeAtNs = Long.MAX_VALUE;
    private boolean isDead;
    private long nowNs;

    SimHost(
        final int index,
        final Network network,
        final Port nic,
        final SystemCounters counters,
        final Application.Shared shared)
    {
        this.index = index;
        this.network = network;
        this.nicPort = nic;
        this.counters = counters;
        final SimSettings s = network.settings;
        final SchedulingSettings scheduling = new SchedulingSettings(
            0,
            SchedulingSettings.MAX_INCOMING_DEFAULT,
            s.maxOvercommit,
            SchedulingSettings.GRANT_FIFO_FRACTION_DEFAULT,
            SchedulingSettings.FIFO_GRANT_INCREMENT_DEFAULT,
            (int)(s.hostLinkBps / 1_000_000),
            s.numPriorities,
            HomaWire.defaultCutoffs(),
            SchedulingSettings.MAX_NIC_EST_BACKLOG_NS_DEFAULT,
            SchedulingSettings.DEFER_MIN_BYTES_DEFAULT,
            SchedulingSettings.PACER_FIFO_FRACTION_DEFAULT,
            s.isPacing);
        final int maxPacket = s.mtu - Packet.IP_UDP_OVERHEAD;
        final HomaEngine.Settings settings = new HomaEngine.Settings(s.unschedBytes, 2, s.tickNs, EVENT_RING_CAPACITY,
            s.poolBytesOf(index), s.sendRegionBytes, MIN_BLOCK_LENGTH, maxPacket, scheduling);
        final RecoverySettings recovery = s.recoveryOf(index);
        sink = new SimSink(this, maxPacket);
        unschedBytes = s.unschedBytes;
        pollNs = Network.serialisationNs(s.mtu + Packet.ETHERNET_OVERHEAD, s.hostLinkBps);
        pacedQueueBytes = (int)(SchedulingSettings.MAX_NIC_EST_BACKLOG_NS_DEFAULT * s.hostLinkBps / 8_000_000_000L);

        final Answers answers = new Answers();
        final SocketStore store = new SocketStore()
        {
            public ByteBuffer create(final long id, final long lengthBytes)
            {
                memory = BufferUtil.allocateDirectAligned((int)lengthBytes, 64);
                return memory;
            }

            public void release(final long id, final ByteBuffer released)
            {
                memory = null;
            }
        };
        final EventLog events;
        if (s.eventLogLength > 0)
        {
            // Virtual time throughout: the records' clock is this host's, the header's start is the run's start.
            freezeDumps = new SimFreezeDumps("simulated host " + index);
            events = EventLog.inMemory(
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                    (int)EventLogDescriptor.fileLength(s.eventLogLength), 64)),
                s.eventLogLength, this::nowNs, () -> 0L, freezeDumps);
        }
        else
        {
            freezeDumps = null;
            events = EventLog.disabled();
        }
        engine = new HomaEngine(store, settings, recovery, LimitSettings.defaults(), sink, answers, counters, events);
        engine.acceptFreeze(s.eventLogLength > 0);
        engine.onAddSocket(1, CLIENT_ID);
        socketId = answers.socketId;
        engine.onBindSocket(2, CLIENT_ID, socketId, SERVER_PORT);

        final UnsafeBuffer meta = SocketFileDescriptor.metaDataBuffer(memory);
        eventRing = new OneToOneRingBuffer(SocketFileDescriptor.eventRingBuffer(memory, meta));
        returnRing = new ManyToOneRingBuffer(SocketFileDescriptor.returnRingBuffer(memory, meta));
        releaseRing = new OneToOneRingBuffer(SocketFileDescriptor.releaseRingBuffer(memory, meta));
        pool = SocketFileDescriptor.poolBuffer(memory, meta);
        sendRegion = SocketFileDescriptor.sendRegionBuffer(memory, meta);
        sendSpace = new BuddyAllocator(s.sendRegionBytes, MIN_BLOCK_LENGTH);
        application = new Application(this, shared);
        nic.listener(this);
    }

    public int nodeId()
    {
        return index;
    }

    long nowNs()
    {
        return nowNs;
    }

    int nicQueuedBytes()
    {
        return nicPort.queuedBytes();
    }

    /**
     * A packet from the engine: counted by kind, then onto the NIC.
     */
    void transmit(final Packet packet)
    {
        final Stats stats = application.shared.stats;
        stats.sentByType[packet.type & 0xFF]++;
        // As the driver's sender counts what it hands the socket (packets_sent_*).
        final org.agrona.concurrent.status.AtomicCounter sent = counters.sent(packet.type);
        if (null != sent)
        {
            sent.incrementPlain();
        }
        if (HomaWire.DATA == packet.type)
        {
            if (packet.isRetransmit)
            {
                stats.resentBytes += packet.payloadLength;
            }
            else if (packet.dataOffset < unschedBytes)
            {
                stats.unschedBytes += packet.payloadLength;
            }
            else
            {
                stats.schedBytes += packet.payloadLength;
            }
        }
        nicPort.enqueue(packet, nowNs);
    }

    public void receive(final Packet packet, final long nowNs)
    {
        if (isDead)
        {
            network.onDrop(packet);
            return;
        }
        final long fate = network.drops.onArrival(index, packet.type, packet.isLateCopy);
        if (fate < 0)
        {
            network.onDrop(packet);
            return;
        }
        if (fate > 0)
        {
            final Packet copy = network.newPacket();
            copy.copyFrom(packet);
            copy.isLateCopy = true;
            network.deliver(copy, this, nowNs + fate);
        }
        this.nowNs = nowNs;
        engine.onPacket(packet.buffer, 0, packet.length, Network.ipv4Of(packet.srcHost), UDP_PORT, nowNs);
        network.release(packet);
        service(nowNs);
    }

    public void onTransmitted(final int queuedBytes, final long nowNs)
    {
        if (isDead)
        {
            return;
        }
        // The pacer lets DATA go once its estimate of the NIC queue is under max_nic_est_backlog: only then can a
        // duty cycle send anything, so a busy NIC does not run the engine at every packet.
        if (queuedBytes <= pacedQueueBytes)
        {
            service(nowNs);
        }
    }

    /**
     * The engine's deadline (timer tick, or a pacer poll) has come.
     */
    public void onEvent(final long nowNs)
    {
        if (nowNs != wakeAtNs || isDead)
        {
            return; // superseded by an earlier wake-up, which has run
        }
        wakeAtNs = Long.MAX_VALUE;
        service(nowNs);
    }

    public int traceKind()
    {
        return 3;
    }

    public void trace(final Trace trace)
    {
        trace.add(index);
    }

    /**
     * One or more duty cycles, with the application answering what they delivered, then the next wake-up.
     */
    void service(final long nowNs)
    {
        if (isDead)
        {
            return;
        }
        this.nowNs = nowNs;
        int work = 0;
        for (int round = 0; round < MAX_ROUNDS; round++)
        {
            work = engine.doWork(nowNs);
            final int actions = eventRing.read(application, Integer.MAX_VALUE) +
                releaseRing.read(application.releaseHandler, Integer.MAX_VALUE) + application.retryPending(nowNs);
            if (0 == actions)
            {
                break;
            }
            work += actions;
        }

        long deadline = engine.nextDeadlineNs();
        if (work > 0 && nicPort.isIdle())
        {
            // Busy with nothing on the wire: the pacer may be holding DATA, or a cycle's packet quota ran out.
            deadline = Math.min(deadline, nowNs + pollNs);
        }
        if (deadline != Long.MAX_VALUE && deadline < wakeAtNs)
        {
            wakeAtNs = Math.max(deadline, nowNs + 1);
            network.schedule(wakeAtNs, this);
        }
    }

    /**
     * The host has crashed: it ignores packets and wake-ups from now on.
     */
    void kill()
    {
        isDead = true;
    }

    int allocateSend(final int length)
    {
        return sendSpace.allocate(length);
    }

    void freeSend(final int offset)
    {
        sendSpace.free(offset);
    }

    void returnPoolBlock(final int poolOffset)
    {
        returnRecord.putInt(0, poolOffset);
        if (!returnRing.write(SocketFileDescriptor.RETURN_POOL_BLOCK_MSG_TYPE_ID, returnRecord, 0, Integer.BYTES))
        {
            throw new IllegalStateException("return ring full on host " + index);
        }
    }

    /**
     * The engine's answers to socket commands: only the socket's id is needed; a refusal is a bug in the setup.
     */
    private static final class Answers implements ClientEvents
    {
        long socketId;

        public void onSocketReady(final long correlationId, final long socketId, final int port)
        {
            this.socketId = socketId;
        }

        public void onOperationSuccess(final long correlationId)
        {
        }

        public void onError(final long correlationId, final int errorCode, final String message)
        {
            throw new IllegalStateException("engine refused socket command " + correlationId + ": " + message);
        }

        public int maxRpcInfoEntries()
        {
            return 0;
        }

        public OnRpcInfoEncoder.RpcsEncoder rpcInfo(
            final long correlationId, final int total, final long poolFreeBytes, final int count)
        {
            throw new UnsupportedOperationException("no rpc-info in the simulator");
        }

        public void transmitRpcInfo()
        {
        }
    }
}
