package io.homa.sim;

/**
 * An egress port and the link behind it: 8 strict-priority FIFO queues (or one FIFO, as a host NIC's single
 * transmit queue), a finite buffer shared by the queues (a packet that does not fit is dropped and counted), the
 * serialisation of one packet at a time at the link's rate, then the link's latency to the far node. A port
 * with {@link Faults} loses, duplicates or delays packets as they leave.
 */
final class Port implements SimEvent
{
    static final int PRIORITIES = 8;

    final String name;
    final long bitsPerSecond;
    private final long latencyNs;
    private final int bufferBytes;
    private final boolean isStrictPriority;
    private final Network network;
    private final Faults faults;
    private final int ownerId;
    private Node peer;
    private TransmitListener listener;

    private final Packet[] heads = new Packet[PRIORITIES];
    private final Packet[] tails = new Packet[PRIORITIES];
    private final int[] queuedBytes = new int[PRIORITIES];
    private int totalQueuedBytes;
    private Packet onWire;

    // Statistics: bytes and packets sent, drops, and for each priority the integral of its queue over time.
    long txWireBytes;
    long txPackets;
    long busyNs;
    long overflowDrops;
    long overflowDropBytes;
    final long[] queueByteNs = new long[PRIORITIES];
    final long[] maxQueuedBytes = new long[PRIORITIES];
    /** Most bytes queued at once, over all priorities. */
    long maxTotalQueuedBytes;
    private final long[] lastChangeNs = new long[PRIORITIES];

    /**
     * Told when the port has finished sending a packet (the host's NIC tells its engine the queue has drained).
     */
    interface TransmitListener
    {
        /**
         * @param queuedBytes bytes still queued.
         * @param nowNs       virtual time.
         */
        void onTransmitted(int queuedBytes, long nowNs);
    }

    /**
     * @param network          the network (its clock and packet pool).
     * @param ownerId          the node the port belongs to.
     * @param name             for reports.
     * @param bitsPerSecond    link rate.
     * @param latencyNs        propagation plus the far node's switching delay.
     * @param bufferBytes      queue capacity in wire bytes.
     * @param isStrictPriority 8 priority queues (a switch) or one FIFO (a NIC).
     * @param faults           loss, duplication and reordering on this link, or null.
     */
    Port(
        final Network network,
        final int ownerId,
        final String name,
        final long bitsPerSecond,
        final long latencyNs,
        final int bufferBytes,
        final boolean isStrictPriority,
        final Faults faults)
    {
        this.network = network;
        this.ownerId = ownerId;
        this.name = name;
        this.bitsPerSecond = bitsPerSecond;
        this.latencyNs = latencyNs;
        this.bufferBytes = bufferBytes;
        this.isStrictPriority = isStrictPriority;
        this.faults = faults;
    }

    void connect(final Node peer)
    {
        this.peer = peer;
    }

    void listener(final TransmitListener listener)
    {
        this.listener = listener;
    }

    /**
     * @param wireBytes bytes on the wire.
     * @return ns to serialise them, rounded up.
     */
    long serialisationNs(final int wireBytes)
    {
        return Network.serialisationNs(wireBytes, bitsPerSecond);
    }

    long latencyNs()
    {
        return latencyNs;
    }

    int queuedBytes()
    {
        return totalQueuedBytes;
    }

    boolean isIdle()
    {
        return null == onWire;
    }

    /**
     * Queues a packet, or drops it when the buffer is full.
     *
     * @param packet the packet; the port owns it now.
     * @param nowNs  virtual time.
     */
    void enqueue(final Packet packet, final long nowNs)
    {
        if (null == onWire && 0 == totalQueuedBytes)
        {
            startSending(packet, nowNs);
            return;
        }
        if (totalQueuedBytes + packet.wireBytes > bufferBytes)
        {
            overflowDrops++;
            overflowDropBytes += packet.wireBytes;
            network.onDrop(packet);
            return;
        }
        final int queue = isStrictPriority ? packet.priority : 0;
        account(queue, nowNs);
        queuedBytes[queue] += packet.wireBytes;
        totalQueuedBytes += packet.wireBytes;
        maxQueuedBytes[queue] = Math.max(maxQueuedBytes[queue], queuedBytes[queue]);
        maxTotalQueuedBytes = Math.max(maxTotalQueuedBytes, totalQueuedBytes);
        packet.next = null;
        if (null == tails[queue])
        {
            heads[queue] = packet;
        }
        else
        {
            tails[queue].next = packet;
        }
        tails[queue] = packet;
    }

    private void account(final int queue, final long nowNs)
    {
        queueByteNs[queue] += (long)queuedBytes[queue] * (nowNs - lastChangeNs[queue]);
        lastChangeNs[queue] = nowNs;
    }

    /**
     * Brings every queue's integral up to now (before a snapshot).
     */
    void accountAll(final long nowNs)
    {
        for (int i = 0; i < PRIORITIES; i++)
        {
            account(i, nowNs);
        }
    }

    private void startSending(final Packet packet, final long nowNs)
    {
        onWire = packet;
        final long ns = serialisationNs(packet.wireBytes);
        busyNs += ns;
        network.schedule(nowNs + ns, this);
    }

    /**
     * The packet on the wire has been serialised: it travels on, and the next one starts.
     */
    public void onEvent(final long nowNs)
    {
        final Packet sent = onWire;
        onWire = null;
        network.linkTransmissions++;
        txWireBytes += sent.wireBytes;
        txPackets++;
        if (null == faults)
        {
            network.deliver(sent, peer, nowNs + latencyNs);
        }
        else
        {
            faults.apply(network, sent, peer, nowNs + latencyNs);
        }

        for (int queue = PRIORITIES - 1; queue >= 0; queue--)
        {
            final Packet head = heads[queue];
            if (null != head)
            {
                account(queue, nowNs);
                heads[queue] = head.next;
                if (null == head.next)
                {
                    tails[queue] = null;
                }
                head.next = null;
                queuedBytes[queue] -= head.wireBytes;
                totalQueuedBytes -= head.wireBytes;
                startSending(head, nowNs);
                break;
            }
        }
        if (null != listener)
        {
            listener.onTransmitted(totalQueuedBytes, nowNs);
        }
    }

    public int traceKind()
    {
        return 2;
    }

    public void trace(final Trace trace)
    {
        trace.add(((long)ownerId << 32) | (null == peer ? 0 : peer.nodeId()));
    }
}
