package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;

import java.util.Arrays;

/**
 * Priority levels as a receiver publishes them (its unscheduled cutoffs and {@code cutoff_version}) and as a
 * sender uses a peer's published cutoffs. Level 0 is the lowest, {@code numPriorities - 1} the highest and belongs
 * to control packets.
 */
final class Priorities
{
    /** Version of a receiver's cutoffs: Linux installs its defaults as version 1, as they are (entry 0 = 0). */
    static final int INITIAL_CUTOFF_VERSION = 1;

    /** Version after any other configuration: Linux's first sysctl change normalises the table and bumps it. */
    static final int CHANGED_CUTOFF_VERSION = 2;

    private final int numPriorities;
    private final int[] receiverCutoffs;
    private final int[] wireCutoffs;
    private final int maxSchedPriority;
    private final int cutoffVersion;

    /**
     * @param numPriorities levels in use, 1 to 8.
     * @param cutoffs       configured cutoffs, 8 entries (entry i = largest message that uses level i unscheduled).
     */
    Priorities(final int numPriorities, final int[] cutoffs)
    {
        if (numPriorities < 1 || numPriorities > HomaWire.HOMA_MAX_PRIORITIES)
        {
            throw new IllegalArgumentException("num priorities must be 1.." + HomaWire.HOMA_MAX_PRIORITIES + ": " +
                numPriorities);
        }
        if (HomaWire.HOMA_MAX_PRIORITIES != cutoffs.length)
        {
            throw new IllegalArgumentException("unsched cutoffs need " + HomaWire.HOMA_MAX_PRIORITIES + " entries: " +
                cutoffs.length);
        }
        this.numPriorities = numPriorities;
        this.receiverCutoffs = Arrays.copyOf(cutoffs, cutoffs.length);

        // As Linux normalises them: unused levels get 0, level 0 takes anything, and the highest level whose cutoff
        // covers the largest message is the lowest unscheduled one; everything below it is for grants.
        int maxSched = 0;
        for (int i = HomaWire.HOMA_MAX_PRIORITIES - 1; i >= 0; i--)
        {
            if (i >= numPriorities)
            {
                receiverCutoffs[i] = 0;
                continue;
            }
            if (0 == i)
            {
                receiverCutoffs[0] = Integer.MAX_VALUE;
                maxSched = 0;
                break;
            }
            if (receiverCutoffs[i] >= HomaWire.HOMA_MAX_MESSAGE_LENGTH)
            {
                maxSched = i - 1;
                break;
            }
        }
        receiverCutoffs[0] = Integer.MAX_VALUE;
        this.maxSchedPriority = maxSched;

        // On the wire as a Linux receiver sends them: its untouched defaults (entry 0 = 0) as version 1, a table
        // it was told to use normalised (entry 0 = INT_MAX) as version 2. Entry 0 means the same either way.
        final boolean linuxDefaults = HomaWire.HOMA_MAX_PRIORITIES == numPriorities &&
            Arrays.equals(cutoffs, HomaWire.defaultCutoffs());
        this.wireCutoffs = linuxDefaults ? HomaWire.defaultCutoffs() : receiverCutoffs;
        this.cutoffVersion = linuxDefaults ? INITIAL_CUTOFF_VERSION : CHANGED_CUTOFF_VERSION;
    }

    /**
     * The table a sender uses for a peer before that peer's CUTOFFS arrives: everything unscheduled goes at level 6
     * (Linux: [7] = 0, [6] = INT_MAX).
     *
     * @param peerCutoffs the peer's table, 8 entries, overwritten.
     */
    static void initPeerCutoffs(final int[] peerCutoffs)
    {
        Arrays.fill(peerCutoffs, 0);
        peerCutoffs[HomaWire.HOMA_MAX_PRIORITIES - 1] = 0;
        peerCutoffs[HomaWire.HOMA_MAX_PRIORITIES - 2] = Integer.MAX_VALUE;
    }

    /**
     * Level for the unscheduled bytes of a message: the highest level whose peer cutoff covers the whole message.
     *
     * @param peerCutoffs the receiver's cutoffs as this sender knows them.
     * @param length      message length.
     * @return a level, 0 to numPriorities - 1.
     */
    int unschedPriority(final int[] peerCutoffs, final int length)
    {
        for (int i = numPriorities - 1; i > 0; i--)
        {
            if (peerCutoffs[i] >= length)
            {
                return i;
            }
        }
        return 0;
    }

    /**
     * @return levels in use.
     */
    int numPriorities()
    {
        return numPriorities;
    }

    /**
     * @return level of control packets: the highest.
     */
    int controlPriority()
    {
        return numPriorities - 1;
    }

    /**
     * @return the next-to-highest level (FIFO grants use it), as Linux's homa_high_priority.
     */
    int highPriority()
    {
        return numPriorities <= 2 ? 0 : numPriorities - 2;
    }

    /**
     * @return highest level used for scheduled DATA.
     */
    int maxSchedPriority()
    {
        return maxSchedPriority;
    }

    /**
     * @return this receiver's cutoffs as senders use them (entry 0 is INT_MAX). Callers must not modify them.
     */
    int[] receiverCutoffs()
    {
        return receiverCutoffs;
    }

    /**
     * @return this receiver's cutoffs as sent in CUTOFFS (Linux's form, see the constructor). Callers must not
     * modify them.
     */
    int[] wireCutoffs()
    {
        return wireCutoffs;
    }

    /**
     * @return version of this receiver's cutoffs.
     */
    int cutoffVersion()
    {
        return cutoffVersion;
    }

    /**
     * Turns a level (possibly a peer's, from a GRANT or RESEND) into a TOS byte, clamped to the levels in use.
     *
     * @param priority a level.
     * @return the TOS byte.
     */
    int tos(final int priority)
    {
        return HomaWire.tos(Math.max(0, Math.min(priority, numPriorities - 1)));
    }
}
