package io.homa.driver.protocol;

import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;

/**
 * The GrantScheduler as it was before #15 made its queue O(log n) (linear sorted list, scans), kept unchanged as
 * the reference GrantSchedulerEquivalenceTest compares the real one with. Its original description:
 * <p>
 * Receiver side of Homa's scheduling: decides which incoming messages get GRANTs, how far and at which priority,
 * following the policy of Linux's homa_grant.c (the 2025 rewrite), single-threaded:
 * <ul>
 *   <li>a message needs grants when its unscheduled bytes do not cover it; it is ranked by fewest unreceived
 *   bytes (SRPT), ties to the oldest;</li>
 *   <li>at most {@code maxOvercommit} messages are <em>active</em> (may receive grants); the others wait in a
 *   ranked queue. A peer gets a second active slot only when no queued peer is without one;</li>
 *   <li>each active message may have {@code window} bytes granted beyond what arrived: fixed, or
 *   {@code maxIncoming / (active + 1)};</li>
 *   <li>grants stop while {@code totalIncoming} (granted-but-unreceived plus unreceived unscheduled bytes of
 *   managed messages) is at {@code maxIncoming}; an active message denied for lack of room is <em>needy</em> and
 *   is served first, in rank order, when room appears;</li>
 *   <li>a grant's priority is {@code maxSchedPriority - rank}, lowered further while fewer messages are active
 *   than there are scheduled levels (so a newcomer can pre-empt), floor 0;</li>
 *   <li>so the oldest message never starves, every {@code fifoGrantIncrement} bytes' worth of
 *   {@code grantFifoFraction} of the link it gets a FIFO grant of that many bytes at the next-to-highest level.</li>
 * </ul>
 * The engine reports data arrivals ({@link #onDataReceived}), runs {@link #processPending} once per receive batch
 * and {@link #remove}s messages that end. Nothing here allocates after warm-up.
 */
final class LinearGrantSchedulerReference
{
    /** Hard limit on active messages (Linux HOMA_MAX_GRANTS). */
    static final int MAX_ACTIVE = 8;
    /** FIFO grant interval when FIFO grants are off (Linux: one second). */
    static final long FIFO_OFF_INTERVAL_NS = 1_000_000_000L;

    /**
     * Puts a GRANT on the wire.
     */
    @FunctionalInterface
    interface GrantSender
    {
        /**
         * @param rpc      the message's RPC.
         * @param offset   absolute offset the sender may now transmit up to.
         * @param priority level for the scheduled DATA.
         * @return false if the packet could not be queued (the grant is then retried later).
         */
        boolean sendGrant(Rpc rpc, int offset, int priority);
    }

    private final GrantSender sender;
    private final EventLog events;
    private final int maxIncoming;
    private final int maxOvercommit;
    private final int fifoGrantIncrement;
    private final int fifoFraction;
    private final long fifoGrantIntervalNs;
    private final int maxSchedPriority;
    private final int fifoPriority;
    private final int[] windows = new int[MAX_ACTIVE + 1];
    private final Rpc[] active = new Rpc[MAX_ACTIVE];
    /** Managed messages that are not active, best rank first. */
    private final ArrayList<Rpc> queued = new ArrayList<>();
    private final ArrayList<Rpc> pendingChecks = new ArrayList<>();

    private final AtomicCounter grantCheckCalls;
    private final AtomicCounter needyGrants;
    private final AtomicCounter fifoGrantBytes;
    private final AtomicCounter grantableRpcs;
    private final AtomicCounter maxTotalIncoming;

    private int numActive;
    private int window;
    private int totalIncoming;
    private int needyMask;
    private int numGrantable;
    private long nextBirth = 1;
    private Rpc oldest;
    private long fifoGrantTimeNs;
    private boolean isFifoClockStarted;
    private boolean isSendRefused;
    private long nowNs;

    /**
     * @param settings         the scheduling settings.
     * @param maxSchedPriority highest level for scheduled DATA (from this receiver's cutoffs).
     * @param fifoPriority     level of FIFO grants (the next-to-highest level).
     * @param sender           puts GRANTs on the wire.
     * @param counters         where statistics go.
     */
    LinearGrantSchedulerReference(
        final SchedulingSettings settings,
        final int maxSchedPriority,
        final int fifoPriority,
        final GrantSender sender,
        final SystemCounters counters)
    {
        this(settings, maxSchedPriority, fifoPriority, sender, counters, EventLog.disabled());
    }

    /**
     * @param settings         the scheduling settings.
     * @param maxSchedPriority highest level for scheduled DATA (from this receiver's cutoffs).
     * @param fifoPriority     level of FIFO grants (the next-to-highest level).
     * @param sender           puts GRANTs on the wire.
     * @param counters         where statistics go.
     * @param events           where grant decisions other than plain GRANTs are recorded.
     */
    LinearGrantSchedulerReference(
        final SchedulingSettings settings,
        final int maxSchedPriority,
        final int fifoPriority,
        final GrantSender sender,
        final SystemCounters counters,
        final EventLog events)
    {
        this.sender = sender;
        this.events = events;
        this.maxIncoming = settings.maxIncoming();
        this.maxOvercommit = Math.max(1, Math.min(settings.maxOvercommit(), MAX_ACTIVE));
        this.fifoGrantIncrement = settings.fifoGrantIncrement();
        this.fifoFraction = Math.min(settings.grantFifoFraction(), 500);
        this.fifoGrantIntervalNs = fifoGrantIntervalNs(settings.linkMbps(), fifoFraction, fifoGrantIncrement);
        this.maxSchedPriority = maxSchedPriority;
        this.fifoPriority = fifoPriority;
        for (int i = 0; i <= MAX_ACTIVE; i++)
        {
            // Dynamic windows keep as much room free for newcomers as each active message holds (DQT, alpha 1).
            windows[i] = 0 != settings.window() ? settings.window() : maxIncoming / (i + 1);
        }
        window = windows[0];

        grantCheckCalls = counters.get(SystemCounterDescriptor.GRANT_CHECK_CALLS);
        needyGrants = counters.get(SystemCounterDescriptor.NEEDY_GRANTS);
        fifoGrantBytes = counters.get(SystemCounterDescriptor.FIFO_GRANT_BYTES);
        grantableRpcs = counters.get(SystemCounterDescriptor.GRANTABLE_RPCS);
        maxTotalIncoming = counters.get(SystemCounterDescriptor.MAX_TOTAL_INCOMING);
    }

    /**
     * Time between FIFO grants: how long {@code increment} bytes take at {@code fraction}/1000 of the link.
     *
     * @param linkMbps  link speed.
     * @param fraction  thousandths of the link for FIFO grants.
     * @param increment bytes per FIFO grant.
     * @return the interval in ns.
     */
    static long fifoGrantIntervalNs(final int linkMbps, final int fraction, final int increment)
    {
        final long fifoMbps = (long)linkMbps * fraction / 1000;
        if (fifoMbps <= 0 || increment <= 0)
        {
            return FIFO_OFF_INTERVAL_NS;
        }
        return increment * 8_000L / fifoMbps;
    }

    // ---------------------------------------------------------------------------------------------------------
    // What the engine calls.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * A message's first packet arrived and its buffer is allocated: take its unscheduled allowance.
     *
     * @param rpc     the RPC (its {@code rx} initialised).
     * @param unsched the DATA's {@code incoming} field.
     */
    void initMessage(final Rpc rpc, final int unsched)
    {
        final IncomingMessage rx = rpc.rx;
        rx.activeSlot = -1;
        rx.birth = nextBirth++;
        rx.recIncoming = 0;
        rx.isGrantManaged = false;
        rx.isGrantCheckPending = false;
        int granted = Math.max(0, unsched);
        if (granted >= rx.length())
        {
            granted = rx.length();
            rx.isGrantable = false;
        }
        else
        {
            rx.isGrantable = true;
        }
        rx.granted = granted;
    }

    /**
     * Data arrived for a message: decide about it at the end of the receive batch.
     *
     * @param rpc the RPC.
     */
    void onDataReceived(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        if (rx.isGrantable && !rx.isGrantCheckPending)
        {
            rx.isGrantCheckPending = true;
            pendingChecks.add(rpc);
        }
    }

    /**
     * Makes the grant decisions for every message that received data since the last call, then serves needy
     * messages if there is room (this also retries grants the outbound ring refused).
     *
     * @param nowNs current time.
     * @return messages checked.
     */
    int processPending(final long nowNs)
    {
        isSendRefused = false;
        final int count = pendingChecks.size();
        for (int i = 0; i < count; i++)
        {
            final Rpc rpc = pendingChecks.get(i);
            rpc.rx.isGrantCheckPending = false;
            check(rpc, nowNs);
        }
        pendingChecks.clear();
        if (0 != needyMask && totalIncoming < maxIncoming)
        {
            this.nowNs = nowNs;
            checkNeedy();
        }
        return count;
    }

    /**
     * Linux's homa_grant_check_rpc: updates a message's standing after a change and grants what may be granted.
     *
     * @param rpc   the RPC.
     * @param nowNs current time.
     */
    void check(final Rpc rpc, final long nowNs)
    {
        final IncomingMessage rx = rpc.rx;
        if (!rx.isGrantable)
        {
            return;
        }
        this.nowNs = nowNs;
        grantCheckCalls.incrementRelease();

        if (0 == rx.bytesRemaining())
        {
            unmanage(rpc);
        }
        else
        {
            if (!rx.isGrantManaged)
            {
                manage(rpc);
            }
            updateIncoming(rpc);
            if (rx.activeSlot >= 0)
            {
                trySend(rpc, true);
            }
        }

        if (0 != needyMask)
        {
            checkNeedy();
        }
    }

    /**
     * Forgets a message (complete, failed or ended): frees its active slot or queue place and its share of the
     * incoming total. Safe for any RPC, managed or not.
     *
     * @param rpc the RPC.
     */
    void remove(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        if (rx.isGrantCheckPending)
        {
            rx.isGrantCheckPending = false;
            pendingChecks.remove(rpc);
        }
        unmanage(rpc);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The policy.
    // ---------------------------------------------------------------------------------------------------------

    /**
     * True if {@code a} ranks above {@code b}: fewer unreceived bytes, or as many and older.
     */
    static boolean outranks(final Rpc a, final Rpc b)
    {
        final int diff = a.rx.bytesRemaining() - b.rx.bytesRemaining();
        return diff < 0 || (0 == diff && a.rx.birth < b.rx.birth);
    }

    /**
     * Grant priority for a message with {@code rank} active messages above it.
     *
     * @param rank number of active messages that outrank it.
     * @return the level.
     */
    int grantPriority(final int rank)
    {
        int priority = maxSchedPriority - rank;
        final int extraLevels = maxSchedPriority + 1 - numActive;
        if (extraLevels >= 0)
        {
            // Fewer active messages than scheduled levels: use the lowest ones, keep the upper ones for pre-emption.
            priority -= extraLevels;
        }
        return Math.max(priority, 0);
    }

    private void manage(final Rpc rpc)
    {
        final int slot = findVictim(rpc);
        if (slot >= 0)
        {
            final Rpc bumped = active[slot];
            if (null != bumped)
            {
                removeActive(slot);
                insertQueued(bumped);
            }
            addActive(rpc, slot);
        }
        else
        {
            insertQueued(rpc);
        }
        rpc.rx.isGrantManaged = true;
        numGrantable++;
        grantableRpcs.setRelease(numGrantable);
    }

    private void unmanage(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        if (!rx.isGrantable)
        {
            return;
        }
        rx.isGrantable = false;
        if (rx.isGrantManaged)
        {
            rx.isGrantManaged = false;
            if (rx.activeSlot >= 0)
            {
                final int slot = rx.activeSlot;
                removeActive(slot);
                if (!queued.isEmpty())
                {
                    promoteQueued(slot);
                }
            }
            else
            {
                queued.remove(rpc);
            }
            numGrantable--;
            grantableRpcs.setRelease(numGrantable);
        }
        if (rpc == oldest)
        {
            oldest = null;
        }
        if (0 != rx.recIncoming)
        {
            totalIncoming -= rx.recIncoming;
            rx.recIncoming = 0;
        }
    }

    /**
     * Linux's homa_grant_find_victim: a free slot, else the lowest-ranked active message of the peer with the most
     * active messages, if {@code rpc} should displace it; -1 if it should wait.
     */
    private int findVictim(final Rpc rpc)
    {
        int lp = -1;
        int lpPeerActive = 0;
        int lpRemaining = 0;
        for (int i = 0; i < maxOvercommit; i++)
        {
            final Rpc candidate = active[i];
            if (null == candidate)
            {
                return i;
            }
            final int candidateRemaining = candidate.rx.bytesRemaining();
            int candidatePeerActive = candidate.peer.activeGrants;
            if (candidate.peer == rpc.peer)
            {
                // As if rpc were active too.
                candidatePeerActive++;
            }
            if (candidatePeerActive != lpPeerActive)
            {
                if (candidatePeerActive > lpPeerActive)
                {
                    lp = i;
                    lpPeerActive = candidatePeerActive;
                    lpRemaining = candidateRemaining;
                }
                continue;
            }
            if (lpRemaining > candidateRemaining)
            {
                continue;
            }
            if (lpRemaining == candidateRemaining && active[lp].rx.birth > candidate.rx.birth)
            {
                continue;
            }
            lp = i;
            lpPeerActive = candidatePeerActive;
            lpRemaining = candidateRemaining;
        }

        if (lpPeerActive > rpc.peer.activeGrants + 1)
        {
            return lp;
        }
        final int remaining = rpc.rx.bytesRemaining();
        if (lpRemaining > remaining)
        {
            return lp;
        }
        if (lpRemaining < remaining)
        {
            return -1;
        }
        return active[lp].rx.birth > rpc.rx.birth ? lp : -1;
    }

    private void addActive(final Rpc rpc, final int slot)
    {
        if (!rpc.rx.isGrantable)
        {
            return;
        }
        active[slot] = rpc;
        rpc.peer.activeGrants++;
        numActive++;
        window = windows[numActive];
        rpc.rx.activeSlot = slot;
    }

    private void removeActive(final int slot)
    {
        final Rpc rpc = active[slot];
        rpc.rx.activeSlot = -1;
        active[slot] = null;
        rpc.peer.activeGrants--;
        numActive--;
        window = windows[numActive];
        needyMask &= ~(1 << slot);
    }

    private void insertQueued(final Rpc rpc)
    {
        if (!rpc.rx.isGrantable)
        {
            return;
        }
        final int size = queued.size();
        int index = size;
        for (int i = 0; i < size; i++)
        {
            if (outranks(rpc, queued.get(i)))
            {
                index = i;
                break;
            }
        }
        queued.add(index, rpc);
    }

    /**
     * Linux's homa_grant_promote_queued: fills a free slot from the queue, preferring a peer with no active message,
     * then the peer with fewest, then rank. The promoted message is marked needy so it is served soon.
     */
    private void promoteQueued(final int slot)
    {
        int best = -1;
        int bestActive = Integer.MAX_VALUE;
        for (int i = 0, size = queued.size(); i < size; i++)
        {
            final int peerActive = queued.get(i).peer.activeGrants;
            if (peerActive < bestActive)
            {
                best = i;
                bestActive = peerActive;
                if (0 == peerActive)
                {
                    break;
                }
            }
        }
        if (best < 0)
        {
            return;
        }
        final Rpc rpc = queued.remove(best);
        addActive(rpc, slot);
        needyMask |= 1 << slot;
    }

    /**
     * Linux's homa_grant_promote_rpc: a queued message moved up in rank; if it is now its peer's best queued one,
     * it may take an active slot.
     */
    private void promoteRpc(final Rpc rpc)
    {
        final int index = queued.indexOf(rpc);
        if (index < 0)
        {
            return;
        }
        queued.remove(index);
        insertQueued(rpc);

        for (int i = 0, size = queued.size(); i < size; i++)
        {
            final Rpc other = queued.get(i);
            if (other == rpc)
            {
                break;
            }
            if (other.peer == rpc.peer)
            {
                return;
            }
        }

        final int slot = findVictim(rpc);
        if (slot >= 0)
        {
            final Rpc victim = active[slot];
            if (null != victim)
            {
                removeActive(slot);
                insertQueued(victim);
            }
            queued.remove(rpc);
            addActive(rpc, slot);
        }
    }

    /**
     * Linux's homa_grant_update_incoming: brings the message's share of {@code totalIncoming} up to date.
     */
    private void updateIncoming(final Rpc rpc)
    {
        final IncomingMessage rx = rpc.rx;
        final int received = rx.length() - rx.bytesRemaining();
        final int incoming = Math.max(0, rx.granted - received);
        final int delta = incoming - rx.recIncoming;
        if (0 != delta && rx.isGrantable)
        {
            totalIncoming += delta;
            rx.recIncoming = incoming;
            if (rx.activeSlot < 0 && rx.isGrantManaged)
            {
                promoteRpc(rpc);
            }
        }
    }

    /**
     * Linux's homa_grant_try_send: grants an active message up to a window beyond what arrived, within the room
     * left under {@code maxIncoming}; marks it needy when the room ran out.
     */
    private void trySend(final Rpc rpc, final boolean checkNeedy)
    {
        final IncomingMessage rx = rpc.rx;
        if (!rx.isGrantable)
        {
            return;
        }
        final int length = rx.length();
        final int received = length - rx.bytesRemaining();
        int delta = received + window - rx.granted;
        if (delta <= 0)
        {
            return;
        }
        // May become 0 for a fully granted message: Linux then repeats its last grant, which is harmless.
        delta = Math.min(delta, length - rx.granted);

        final int available = maxIncoming - totalIncoming;
        boolean gotWholeWindow = false;
        if (available > 0 && !(checkNeedy && 0 != needyMask))
        {
            if (delta > available)
            {
                delta = available;
            }
            else
            {
                gotWholeWindow = true;
            }
            rx.granted += delta;
            rx.recIncoming += delta;
            totalIncoming += delta;

            if (sender.sendGrant(rpc, rx.granted, grantPriority(rankOf(rpc))))
            {
                if (totalIncoming > maxTotalIncoming.get())
                {
                    maxTotalIncoming.setRelease(totalIncoming);
                }
                checkFifo();
            }
            else
            {
                // The outbound ring is full: take the grant back and retry it as needy next duty cycle.
                isSendRefused = true;
                rx.granted -= delta;
                rx.recIncoming -= delta;
                totalIncoming -= delta;
                gotWholeWindow = false;
            }
        }

        if (!gotWholeWindow && rx.activeSlot >= 0)
        {
            needyMask |= 1 << rx.activeSlot;
            if (events.isRecording())
            {
                recordGrantEvent(EventType.GRANT_NEEDY, rpc, length, totalIncoming);
            }
        }
    }

    private void recordGrantEvent(final int type, final Rpc rpc, final int length, final int arg)
    {
        events.record(type, rpc.id, rpc.peer.ipv4, rpc.peer.port, rpc.socket.port, rpc.peerPort, rpc.rx.granted,
            length, arg, 0, 0);
    }

    private int rankOf(final Rpc rpc)
    {
        int rank = 0;
        for (int i = 0; i < MAX_ACTIVE; i++)
        {
            final Rpc other = active[i];
            if (null != other && other != rpc && outranks(other, rpc))
            {
                rank++;
            }
        }
        return rank;
    }

    /**
     * Linux's homa_grant_check_needy: spends free room on needy messages, best rank first.
     */
    private void checkNeedy()
    {
        for (int guard = 0; guard < 2 * MAX_ACTIVE; guard++)
        {
            if (totalIncoming >= maxIncoming || 0 == needyMask || isSendRefused)
            {
                return;
            }
            int best = -1;
            for (int i = 0; i < MAX_ACTIVE; i++)
            {
                if (0 != (needyMask & (1 << i)) && (best < 0 || outranks(active[i], active[best])))
                {
                    best = i;
                }
            }
            if (best < 0)
            {
                return;
            }
            needyMask &= ~(1 << best);
            needyGrants.incrementRelease();
            trySend(active[best], false);
        }
    }

    /**
     * Linux's homa_grant_check_fifo: when it is time, gives the oldest message that still needs grants (and is
     * using the ones it got) a FIFO grant at the next-to-highest level.
     */
    private void checkFifo()
    {
        if (!isFifoClockStarted)
        {
            // The first FIFO grant comes one interval after the first grant.
            isFifoClockStarted = true;
            fifoGrantTimeNs = nowNs + fifoGrantIntervalNs;
        }
        if (nowNs - fifoGrantTimeNs < 0)
        {
            return;
        }
        fifoGrantTimeNs = nowNs + fifoGrantIntervalNs;
        if (0 == fifoFraction || 0 == fifoGrantIncrement)
        {
            return;
        }

        final int unusedLimit = window + 2 * fifoGrantIncrement;
        Rpc rpc = oldest;
        if (null != rpc && (rpc.rx.recIncoming >= unusedLimit || rpc.rx.granted >= rpc.rx.length()))
        {
            // Not answering its FIFO grants, or needs no more: pick another.
            oldest = null;
            rpc = null;
        }
        if (null == rpc)
        {
            rpc = findOldest(unusedLimit);
            oldest = rpc;
            if (null == rpc)
            {
                return;
            }
        }

        final IncomingMessage rx = rpc.rx;
        final int oldGranted = rx.granted;
        rx.granted = Math.min(rx.granted + fifoGrantIncrement, rx.length());
        updateIncoming(rpc);
        if (events.isRecording())
        {
            recordGrantEvent(EventType.GRANT_FIFO, rpc, rx.length(), fifoPriority);
        }
        if (sender.sendGrant(rpc, rx.granted, fifoPriority))
        {
            fifoGrantBytes.getAndAddRelease(rx.granted - oldGranted);
        }
        else
        {
            rx.granted = oldGranted;
            updateIncoming(rpc);
        }
    }

    private Rpc findOldest(final int unusedLimit)
    {
        Rpc best = null;
        for (int i = 0, size = queued.size(); i < size; i++)
        {
            best = olderCandidate(queued.get(i), best, unusedLimit);
        }
        for (int i = 0; i < MAX_ACTIVE; i++)
        {
            final Rpc rpc = active[i];
            if (null != rpc)
            {
                best = olderCandidate(rpc, best, unusedLimit);
            }
        }
        return best;
    }

    private static Rpc olderCandidate(final Rpc rpc, final Rpc best, final int unusedLimit)
    {
        final IncomingMessage rx = rpc.rx;
        if ((null != best && rx.birth >= best.rx.birth) || rx.recIncoming >= unusedLimit || rx.granted >= rx.length())
        {
            return best;
        }
        return rpc;
    }

    // ---------------------------------------------------------------------------------------------------------
    // State, for the engine's statistics and for tests.
    // ---------------------------------------------------------------------------------------------------------

    int numActive()
    {
        return numActive;
    }

    int numGrantable()
    {
        return numGrantable;
    }

    int window()
    {
        return window;
    }

    int totalIncoming()
    {
        return totalIncoming;
    }

    int needyMask()
    {
        return needyMask;
    }

    long fifoGrantIntervalNs()
    {
        return fifoGrantIntervalNs;
    }

    boolean isActive(final Rpc rpc)
    {
        return rpc.rx.activeSlot >= 0 && active[rpc.rx.activeSlot] == rpc;
    }

    int queuedCount()
    {
        return queued.size();
    }

    int pendingCount()
    {
        return pendingChecks.size();
    }
}
