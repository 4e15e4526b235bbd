package io.homa.driver.protocol;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;

/**
 * Homa's timer (Linux homa_timer / homa_check_rpc), run once per tick by the engine on the conductor's clock: it
 * scans every live RPC, counts the ticks in which nothing was heard for it, asks for retransmission after
 * {@code resendTicks} silent ticks and every {@code resendInterval} ticks after that, gives up after
 * {@code timeoutTicks}, and has servers ask for acks {@code requestAckTicks} after a response has left.
 * <p>
 * Silence does not count, as in Linux, while the application has the request (IN_SERVICE), once a server has its
 * whole request, while a message has received every granted byte or waits for receive-pool space, and while granted
 * bytes remain to be transmitted. A server whose response has left counts the ticks its NEED_ACKs go unanswered and
 * gives up after {@code timeoutTicks} (ours: Linux asks forever, which leaves state behind when a client vanishes).
 * <p>
 * A per-tick scan (as Linux does) rather than a timer wheel: every live RPC needs its silence counted each tick
 * anyway, the list is an array, and adding or removing an RPC is O(1) through its index, so nothing allocates.
 */
final class RpcTimer
{
    /**
     * Silent ticks after which a peer is taken to be stalled (off the CPU, paused, stopped) rather than missing a
     * packet: Linux's whole timeout. From here on RESENDs and NEED_ACKs go only every {@link #PATIENT_INTERVAL_TICKS},
     * so a peer that comes back after a second finds a few dozen requests queued, not hundreds, each of which it
     * would answer with a retransmission.
     */
    static final int PATIENT_AFTER_TICKS = 100;
    /** Ticks between RESENDs or NEED_ACKs once a peer has been silent for {@link #PATIENT_AFTER_TICKS}. */
    static final int PATIENT_INTERVAL_TICKS = 50;
    /**
     * Longest gap between NEED_ACKs to a client that does not answer: they go after 1, 2, 4, ... silent ticks (times
     * the NEED_ACK interval), then every this many. An ack frees state but no one waits for it, so a forged or
     * vanished client draws about a dozen NEED_ACKs over a 1,500-tick timeout instead of one per tick.
     */
    static final int NEED_ACK_MAX_GAP_TICKS = 512;

    /**
     * What the timer asks the engine to do.
     */
    interface Actions
    {
        /**
         * Send RESENDs for what the RPC's incoming message lacks.
         *
         * @param rpc the RPC.
         */
        void requestRetransmission(Rpc rpc);

        /**
         * Ask the client to ack a completed server RPC.
         *
         * @param rpc the server RPC.
         */
        void sendNeedAck(Rpc rpc);

        /**
         * Ask the peer of a server RPC that waits on it (for GRANTs, or for its own RESEND after pool space) whether
         * it is alive: a live peer answers with BUSY (this driver answers a RESEND for nothing with BUSY; Linux
         * answers any RESEND for a message it is receiving with BUSY).
         *
         * @param rpc the server RPC.
         */
        void probePeer(Rpc rpc);

        /**
         * The RPC stayed silent for {@code timeoutTicks}.
         *
         * @param rpc the RPC.
         */
        void onTimeout(Rpc rpc);
    }

    private final int resendTicks;
    private final int resendInterval;
    private final int timeoutTicks;
    private final int requestAckTicks;
    private int needAckIntervalTicks = 1;
    private final ArrayList<Rpc> rpcs = new ArrayList<>();
    private final ArrayList<Rpc> expired = new ArrayList<>();
    private long ticks;
    private boolean isInboundBacklogged;
    private int controlPerPeerPerTick = Integer.MAX_VALUE;
    private AtomicCounter controlLimitSkips;

    /**
     * Caps the RESENDs, probes and NEED_ACKs the timer sends one peer in one tick: a flood of forged RPCs naming one
     * (spoofed) source must not make this host a reflector. A request over the cap is skipped, as if sent.
     *
     * @param perPeerPerTick most timer packets per peer per tick.
     * @param skips          counts the ones skipped.
     */
    void controlLimit(final int perPeerPerTick, final AtomicCounter skips)
    {
        controlPerPeerPerTick = perPeerPerTick;
        controlLimitSkips = skips;
    }

    /**
     * @param backlogged true when the last receive batch was full: packets wait in our own socket, so silence
     *                   from peers is ours, not theirs, and is not counted.
     */
    void inboundBacklogged(final boolean backlogged)
    {
        isInboundBacklogged = backlogged;
    }

    RpcTimer(final int resendTicks, final int resendInterval, final int timeoutTicks, final int requestAckTicks)
    {
        this(resendTicks, resendInterval, timeoutTicks, requestAckTicks, 1);
    }

    RpcTimer(
        final int resendTicks,
        final int resendInterval,
        final int timeoutTicks,
        final int requestAckTicks,
        final int needAckIntervalTicks)
    {
        this.needAckIntervalTicks = Math.max(1, needAckIntervalTicks);
        this.resendTicks = resendTicks;
        this.resendInterval = Math.max(1, resendInterval);
        this.timeoutTicks = timeoutTicks;
        this.requestAckTicks = requestAckTicks;
    }

    /**
     * @return ticks run so far.
     */
    long ticks()
    {
        return ticks;
    }

    int size()
    {
        return rpcs.size();
    }

    void add(final Rpc rpc)
    {
        if (rpc.timerIndex < 0)
        {
            rpc.timerIndex = rpcs.size();
            rpcs.add(rpc);
        }
    }

    void remove(final Rpc rpc)
    {
        final int index = rpc.timerIndex;
        if (index >= 0)
        {
            final int lastIndex = rpcs.size() - 1;
            final Rpc last = rpcs.get(lastIndex);
            rpcs.set(index, last);
            last.timerIndex = index;
            rpcs.remove(lastIndex);
            rpc.timerIndex = -1;
        }
    }

    /**
     * An idle driver sleeps through ticks it does not need: count them when no RPC is live, so that what is kept
     * for a number of ticks (recent acks) still expires on time. With RPCs live nothing is skipped, so one late
     * timer run never charges an RPC more than one silent tick.
     *
     * @param skipped ticks that passed without a timer run.
     */
    void skipIdleTicks(final long skipped)
    {
        if (rpcs.isEmpty() && skipped > 0)
        {
            ticks += skipped;
        }
    }

    /**
     * Runs one tick.
     *
     * @param needAcksAllowed false while the outbound path is backed up: silence is not counted this tick.
     * @param actions         what the engine does for each decision.
     * @return RPCs that needed an action.
     */
    int onTick(final boolean needAcksAllowed, final Actions actions)
    {
        ticks++;
        if (!needAcksAllowed || isInboundBacklogged)
        {
            // Our own transmit path is backed up: we are the bottleneck, so a peer's silence proves nothing, and
            // RESENDs or NEED_ACKs would only queue behind the backlog (and, answered, feed it).
            return 0;
        }
        int work = 0;
        for (int i = 0, size = rpcs.size(); i < size; i++)
        {
            work += check(rpcs.get(i), needAcksAllowed, actions);
        }
        for (int i = 0, size = expired.size(); i < size; i++)
        {
            actions.onTimeout(expired.get(i));
            work++;
        }
        expired.clear();
        return work;
    }

    private int check(final Rpc rpc, final boolean needAcksAllowed, final Actions actions)
    {
        if (rpc.isDeliveryPending)
        {
            return 0;
        }
        switch (rpc.state)
        {
            case SERVER_IN_SERVICE ->
            {
                rpc.silentTicks = 0;
                return 0;
            }
            case SERVER_OUTGOING ->
            {
                return checkAwaitingAck(rpc, needAcksAllowed, actions);
            }
            case SERVER_INCOMING, CLIENT_OUTGOING, CLIENT_INCOMING ->
            {
                return checkReceiving(rpc, actions);
            }
            default ->
            {
                return 0;
            }
        }
    }

    private int checkAwaitingAck(final Rpc rpc, final boolean needAcksAllowed, final Actions actions)
    {
        if (rpc.txNext < rpc.txLength)
        {
            if (rpc.txNext < rpc.txGranted)
            {
                // Granted bytes still to send: the ball is in our court.
                rpc.silentTicks = 0;
                return 0;
            }
            // Waiting for the client's GRANTs (Linux's rule: only sent < granted stops the count): a live client
            // grants or answers the probe with BUSY; a dead one must not hold the RPC and its send block forever.
            return countSilence(rpc, actions, false);
        }
        if (!needAcksAllowed || ticks - rpc.txDoneTick < requestAckTicks)
        {
            return 0;
        }
        if (++rpc.silentTicks >= timeoutTicks)
        {
            expired.add(rpc);
            return 0;
        }
        // Linux repeats NEED_ACK every tick; ours back off (isNeedAckDue), so a client that never answers (forged,
        // or gone) draws about a dozen, and a longer interval keeps a busy host with hundreds of RPCs awaiting acks
        // from filling its queues with NEED_ACKs and ACKs. No NEED_ACK goes out at all while our own transmit or
        // receive path is backlogged (needAcksAllowed above).
        if (isNeedAckDue(rpc.silentTicks, needAckIntervalTicks) && allowsControl(rpc.peer))
        {
            actions.sendNeedAck(rpc);
            return 1;
        }
        return 0;
    }

    private int checkReceiving(final Rpc rpc, final Actions actions)
    {
        if (rpc.isWaitingForBuffer && !rpc.isClient())
        {
            // A claimed length is all such an RPC has: its client keeps it alive with RESENDs (answered with BUSY)
            // or the probe's BUSY; one that went silent (or a forged first packet) times out instead of waiting
            // for pool space forever.
            return countSilence(rpc, actions, false);
        }
        if (rpc.isWaitingForBuffer ||
            (Rpc.CLIENT_OUTGOING == rpc.state && rpc.txNext < rpc.txGranted) ||
            (rpc.rx.isInitialised() && rpc.rx.received() >= rxGranted(rpc)))
        {
            // Waiting for pool space, still sending what was granted, or everything granted is here: the ball is
            // in our court, so the peer's silence means nothing.
            rpc.silentTicks = 0;
            return 0;
        }
        return countSilence(rpc, actions, true);
    }

    /**
     * One more silent tick: time out at {@code timeoutTicks}; from {@code resendTicks} on, every
     * {@code resendInterval} (more patiently after {@link #PATIENT_AFTER_TICKS}), ask for what is missing (the
     * incoming message's RESENDs) or probe the peer.
     */
    private int countSilence(final Rpc rpc, final Actions actions, final boolean requestsData)
    {
        final int silent = ++rpc.silentTicks;
        if (silent >= timeoutTicks)
        {
            expired.add(rpc);
            return 0;
        }
        if (silent < resendTicks)
        {
            return 0;
        }
        if (silent > PATIENT_AFTER_TICKS ?
            0 != silent % Math.max(resendInterval, PATIENT_INTERVAL_TICKS) :
            0 != (silent - resendTicks) % resendInterval)
        {
            return 0;
        }
        if (!allowsControl(rpc.peer))
        {
            return 0;
        }
        if (requestsData)
        {
            actions.requestRetransmission(rpc);
        }
        else
        {
            actions.probePeer(rpc);
        }
        return 1;
    }

    /**
     * NEED_ACK backoff: due after {@code interval} x 1, 2, 4, ... silent ticks, then every
     * {@link #NEED_ACK_MAX_GAP_TICKS} (at least {@code interval}).
     *
     * @param silentTicks ticks the NEED_ACKs have gone unanswered, from 1.
     * @param interval    the configured NEED_ACK interval, the first gap.
     * @return true if a NEED_ACK goes this tick.
     */
    static boolean isNeedAckDue(final int silentTicks, final int interval)
    {
        if (silentTicks <= 0 || 0 != silentTicks % interval)
        {
            return false;
        }
        final int maxGap = Math.max(interval, NEED_ACK_MAX_GAP_TICKS);
        if (silentTicks < maxGap)
        {
            final int steps = silentTicks / interval;
            return 0 == (steps & (steps - 1));
        }
        return 0 == silentTicks % maxGap;
    }

    private boolean allowsControl(final Peer peer)
    {
        if (null == peer || Integer.MAX_VALUE == controlPerPeerPerTick)
        {
            return true;
        }
        if (peer.timerControlTick != ticks)
        {
            peer.timerControlTick = ticks;
            peer.timerControlSent = 0;
        }
        if (peer.timerControlSent < controlPerPeerPerTick)
        {
            peer.timerControlSent++;
            return true;
        }
        if (null != controlLimitSkips)
        {
            controlLimitSkips.incrementRelease();
        }
        return false;
    }

    /**
     * Bytes of the incoming message the sender may send: the unscheduled bytes plus what the grant scheduler
     * granted (Linux's msgin.granted). Bytes not yet granted are not missing: the sender is waiting for us, so
     * their absence is neither silence nor a reason to RESEND (which the sender would take as a lost GRANT).
     */
    static int rxGranted(final Rpc rpc)
    {
        return rpc.rx.granted;
    }
}
