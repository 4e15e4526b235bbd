package io.homa.driver.protocol;

import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;

/**
 * Drives the package-private scheduling structures for the JMH benchmark in homa-samples
 * ({@code SchedulingBenchmark}): one receive-side grant decision or one transmit pick per call, with a given number
 * of messages waiting, in a steady state that allocates nothing. Not used by the driver itself.
 */
public final class SchedulingBenchDriver
{
    private static final int PACKET = 1_400;
    private static final int UNSCHED = 40_000;
    private static final int MESSAGE = 1_000_000;
    /** 1,400 bytes at 25 Gbit/s: the receive clock moves by one packet time per DATA. */
    private static final long PACKET_NS = 450;
    private static final int TX_RESTART = 1 << 29;

    private final Rpc[] rpcs;
    // Receive side: the messages whose senders hold unused grants, served round robin as senders would.
    private final GrantScheduler scheduler;
    private final Rpc[] granted;
    private final boolean[] isGranted;
    private int grantedHead;
    private int grantedCount;
    private long nowNs;
    // Transmit side.
    private final TransmitQueue ready = new TransmitQueue();
    private final Pacer pacer;
    private int nextWaiting;

    /**
     * @param waiting messages waiting: queued for grants (receive side) or waiting for a GRANT (transmit side),
     *                besides the up to eight active ones.
     */
    public SchedulingBenchDriver(final int waiting)
    {
        final SystemCounters counters = new SystemCounters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(512 * 1024)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024))));
        final SchedulingSettings settings = SchedulingSettings.defaults();
        scheduler = new GrantScheduler(settings, 3, 6, this::onGrant, counters);
        pacer = new Pacer(settings, counters);

        final int count = waiting + GrantScheduler.MAX_ACTIVE;
        rpcs = new Rpc[count];
        granted = new Rpc[count];
        isGranted = new boolean[count];
        final Peer[] peers = new Peer[Math.min(count, 100)];
        for (int i = 0; i < peers.length; i++)
        {
            peers[i] = new Peer(0x0A00_0000 + i, 4000);
        }
        for (int i = 0; i < count; i++)
        {
            final Rpc rpc = new Rpc();
            rpc.id = 2L * i + 2;
            rpc.peer = peers[i % peers.length];
            rpcs[i] = rpc;
            startIncoming(rpc);

            rpc.txLength = Integer.MAX_VALUE;
            rpc.isSending = true;
            rpc.txBirth = i + 1;
            ready.update(rpc);
        }
        scheduler.processPending(nowNs);
        for (int i = 0; i < 100_000; i++)
        {
            dataForGrantedMessage();
        }
        if (Math.abs(waiting - scheduler.queuedCount()) > 1 || GrantScheduler.MAX_ACTIVE != scheduler.numActive())
        {
            throw new IllegalStateException("queued " + scheduler.queuedCount() + ", active " + scheduler.numActive());
        }
    }

    /**
     * One DATA packet arrives for the next message whose sender holds unused grants (an active message, now and
     * then the FIFO one) and the grant decision is made. A message that completes starts again as a newcomer whose
     * unscheduled bytes arrive at once, so the number waiting stays the same.
     *
     * @return the scheduler's unused grants, for the benchmark to consume.
     */
    public int dataForGrantedMessage()
    {
        Rpc delivered = null;
        if (0 != grantedCount)
        {
            final Rpc rpc = granted[grantedHead];
            delivered = rpc;
            final int index = (int)(rpc.id >>> 1) - 1;
            grantedHead = grantedHead + 1 == granted.length ? 0 : grantedHead + 1;
            grantedCount--;
            isGranted[index] = false;

            final IncomingMessage rx = rpc.rx;
            final int start = rx.received();
            final int end = Math.min(start + PACKET, rx.granted);
            rx.add(start, end);
            scheduler.onDataReceived(rpc);
            if (end < rx.granted)
            {
                pushGranted(rpc);
            }
        }
        nowNs += PACKET_NS;
        scheduler.processPending(nowNs);
        if (null != delivered && 0 == delivered.rx.bytesRemaining())
        {
            // Complete (the scheduler let it go): the engine would end it; here it comes back as a newcomer.
            scheduler.remove(delivered);
            startIncoming(delivered);
        }
        return scheduler.totalIncoming();
    }

    /**
     * One GRANT arrives for the next message waiting for one, and the pacer picks and sends one packet.
     *
     * @return the bytes the picked message has left, for the benchmark to consume.
     */
    public int grantForWaitingMessage()
    {
        final Rpc waiting = rpcs[nextWaiting];
        nextWaiting = nextWaiting + 1 == rpcs.length ? 0 : nextWaiting + 1;
        waiting.txGranted += PACKET;
        ready.update(waiting);

        final Rpc pick = pacer.pick(ready);
        pick.txNext = Math.min(pick.txNext + PACKET, pick.txGranted);
        if (pick.txNext >= TX_RESTART)
        {
            // Keep offsets far from overflow: the message starts over, as a fresh one would.
            pick.txNext = 0;
            pick.txGranted = 0;
        }
        ready.update(pick);
        return pick.txRemaining();
    }

    private boolean onGrant(final Rpc rpc, final int offset, final int priority)
    {
        final int index = (int)(rpc.id >>> 1) - 1;
        if (!isGranted[index])
        {
            pushGranted(rpc);
        }
        return true;
    }

    private void pushGranted(final Rpc rpc)
    {
        final int index = (int)(rpc.id >>> 1) - 1;
        int tail = grantedHead + grantedCount;
        if (tail >= granted.length)
        {
            tail -= granted.length;
        }
        granted[tail] = rpc;
        grantedCount++;
        isGranted[index] = true;
    }

    private void startIncoming(final Rpc rpc)
    {
        rpc.rx.reset();
        rpc.rx.init(MESSAGE, 0);
        scheduler.initMessage(rpc, UNSCHED);
        rpc.rx.add(0, UNSCHED);
        scheduler.onDataReceived(rpc);
    }
}
