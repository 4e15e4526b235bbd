package io.homa.driver.protocol;

/**
 * Which bytes of an incoming message have arrived, as Linux tracks them: everything below {@code recvEnd} except
 * a list of gaps. Packets may arrive in any order, overlap, or repeat; only new bytes count.
 */
final class IncomingMessage
{
    private int length = -1;
    private int poolOffset = -1;
    private int received;
    private int recvEnd;
    private int gapCount;
    private int[] gapStart = new int[4];
    private int[] gapEnd = new int[4];

    // Grant state, owned by the GrantScheduler (Linux msgin: granted, rec_incoming, birth, active slot, flags).
    /** Offset below which the sender may transmit. */
    int granted;
    /** Granted-but-unreceived bytes as last counted into the scheduler's total. */
    int recIncoming;
    /** Arrival order: smaller is older. */
    long birth;
    /** Slot among the active messages, or -1. */
    int activeSlot = -1;
    /** Needs grants and has not been fully received or ended. */
    boolean isGrantable;
    /** Known to the scheduler: active or queued. */
    boolean isGrantManaged;
    /** Data arrived since the last grant decision. */
    boolean isGrantCheckPending;
    /** While queued for grants ({@link GrantQueue}): its rank key (bytes left when last ranked), its slot in its
     * peer's heap, which FIFO heap it is in and its slot there (-1: none). */
    int queuedRemaining;
    int queueSlot = -1;
    int fifoClass = -1;
    int fifoSlot = -1;
    /** Neighbours on the scheduler's list of messages awaiting a grant decision. */
    Rpc pendingPrev;
    Rpc pendingNext;

    void init(final int length, final int poolOffset)
    {
        this.length = length;
        this.poolOffset = poolOffset;
        received = 0;
        recvEnd = 0;
        gapCount = 0;
    }

    boolean isInitialised()
    {
        return length >= 0;
    }

    int length()
    {
        return length;
    }

    int poolOffset()
    {
        return poolOffset;
    }

    int received()
    {
        return received;
    }

    boolean isComplete()
    {
        return length >= 0 && received == length;
    }

    int gapCount()
    {
        return gapCount;
    }

    int bytesRemaining()
    {
        return length - received;
    }

    void reset()
    {
        length = -1;
        poolOffset = -1;
        received = 0;
        recvEnd = 0;
        gapCount = 0;
        granted = 0;
        recIncoming = 0;
        birth = 0;
        activeSlot = -1;
        isGrantable = false;
        isGrantManaged = false;
        isGrantCheckPending = false;
        queuedRemaining = 0;
        queueSlot = -1;
        fifoClass = -1;
        fifoSlot = -1;
        pendingPrev = null;
        pendingNext = null;
    }

    /**
     * Records that bytes [start, end) arrived.
     *
     * @return how many of them are new.
     */
    int add(final int start, final int end)
    {
        if (end <= start)
        {
            return 0;
        }

        int added = 0;
        if (start >= recvEnd)
        {
            if (start > recvEnd)
            {
                addGap(recvEnd, start);
            }
            added = end - start;
            recvEnd = end;
        }
        else
        {
            if (end > recvEnd)
            {
                added += end - recvEnd;
                recvEnd = end;
            }
            added += fillGaps(start, Math.min(end, recvEnd));
        }

        received += added;
        return added;
    }

    private int fillGaps(final int start, final int end)
    {
        int added = 0;
        int i = 0;
        while (i < gapCount)
        {
            final int gs = gapStart[i];
            final int ge = gapEnd[i];
            if (ge <= start || gs >= end)
            {
                i++;
                continue;
            }

            final int overlapStart = Math.max(gs, start);
            final int overlapEnd = Math.min(ge, end);
            added += overlapEnd - overlapStart;

            if (overlapStart == gs && overlapEnd == ge)
            {
                removeGap(i);
                continue;
            }
            if (overlapStart == gs)
            {
                gapStart[i] = overlapEnd;
            }
            else if (overlapEnd == ge)
            {
                gapEnd[i] = overlapStart;
            }
            else
            {
                gapEnd[i] = overlapStart;
                insertGap(i + 1, overlapEnd, ge);
                i++;
            }
            i++;
        }
        return added;
    }

    private void addGap(final int start, final int end)
    {
        insertGap(gapCount, start, end);
    }

    private void insertGap(final int index, final int start, final int end)
    {
        if (gapCount == gapStart.length)
        {
            gapStart = java.util.Arrays.copyOf(gapStart, gapCount * 2);
            gapEnd = java.util.Arrays.copyOf(gapEnd, gapCount * 2);
        }
        System.arraycopy(gapStart, index, gapStart, index + 1, gapCount - index);
        System.arraycopy(gapEnd, index, gapEnd, index + 1, gapCount - index);
        gapStart[index] = start;
        gapEnd[index] = end;
        gapCount++;
    }

    private void removeGap(final int index)
    {
        System.arraycopy(gapStart, index + 1, gapStart, index, gapCount - index - 1);
        System.arraycopy(gapEnd, index + 1, gapEnd, index, gapCount - index - 1);
        gapCount--;
    }

    /**
     * @return end of the contiguous-or-gapped received range: everything at or beyond it is missing.
     */
    int recvEnd()
    {
        return recvEnd;
    }

    int gapStart(final int index)
    {
        return gapStart[index];
    }

    int gapEnd(final int index)
    {
        return gapEnd[index];
    }
}
