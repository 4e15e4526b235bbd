package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;

/**
 * Settings of receiver-driven scheduling (grants, priorities, cutoffs) and of the sender's pacer. Defaults are
 * Linux's (HomaModule sysctls of the same names).
 *
 * @param window              fixed grant window in bytes; 0 = dynamic, {@code maxIncoming / (active + 1)}.
 * @param maxIncoming         cap on granted-but-unreceived plus unreceived unscheduled bytes of grantable messages.
 * @param maxOvercommit       messages granted to at once, 1 to 8.
 * @param grantFifoFraction   thousandths of the link given to FIFO grants for the oldest message (0 = none, max 500).
 * @param fifoGrantIncrement  bytes per FIFO grant.
 * @param linkMbps            uplink speed in Mbit/s (pacer, FIFO-grant rate).
 * @param numPriorities       priority levels in use, 1 to 8.
 * @param unschedCutoffs      this receiver's cutoffs: entry i = largest message that uses level i unscheduled.
 * @param maxNicEstBacklogNs  estimated NIC queue beyond which DATA waits in the pacer.
 * @param deferMinBytes       messages with at most this many bytes left are never held back by the pacer.
 * @param pacerFifoFraction   thousandths of transmit picks that go to the oldest message instead of SRPT's pick.
 * @param pacing              whether the pacer holds DATA back when the NIC queue estimate is too long.
 */
public record SchedulingSettings(
    int window,
    int maxIncoming,
    int maxOvercommit,
    int grantFifoFraction,
    int fifoGrantIncrement,
    int linkMbps,
    int numPriorities,
    int[] unschedCutoffs,
    long maxNicEstBacklogNs,
    int deferMinBytes,
    int pacerFifoFraction,
    boolean pacing)
{
    /** Linux's max_incoming. */
    public static final int MAX_INCOMING_DEFAULT = 400_000;
    /** Linux's max_overcommit (also the hard maximum, HOMA_MAX_GRANTS). */
    public static final int MAX_OVERCOMMIT_DEFAULT = 8;
    /** Linux's grant_fifo_fraction. */
    public static final int GRANT_FIFO_FRACTION_DEFAULT = 50;
    /** Linux's fifo_grant_increment. */
    public static final int FIFO_GRANT_INCREMENT_DEFAULT = 50_000;
    /** Linux's link_mbps. */
    public static final int LINK_MBPS_DEFAULT = 25_000;
    /** Linux's max_nic_est_backlog_usecs, in ns. */
    public static final long MAX_NIC_EST_BACKLOG_NS_DEFAULT = 5_000;
    /** Linux's defer_min_bytes. */
    public static final int DEFER_MIN_BYTES_DEFAULT = 1_000;
    /** Linux's pacer_fifo_fraction. */
    public static final int PACER_FIFO_FRACTION_DEFAULT = 50;

    /**
     * Linux's defaults, pacing off.
     *
     * @return the settings.
     */
    public static SchedulingSettings defaults()
    {
        return new SchedulingSettings(
            0,
            MAX_INCOMING_DEFAULT,
            MAX_OVERCOMMIT_DEFAULT,
            GRANT_FIFO_FRACTION_DEFAULT,
            FIFO_GRANT_INCREMENT_DEFAULT,
            LINK_MBPS_DEFAULT,
            HomaWire.HOMA_MAX_PRIORITIES,
            HomaWire.defaultCutoffs(),
            MAX_NIC_EST_BACKLOG_NS_DEFAULT,
            DEFER_MIN_BYTES_DEFAULT,
            PACER_FIFO_FRACTION_DEFAULT,
            false);
    }

    /**
     * Checks ranges.
     *
     * @throws IllegalArgumentException naming the first bad value.
     */
    public void validate()
    {
        require(window >= 0, "window must be >= 0: " + window);
        require(maxIncoming > 0, "max incoming must be > 0: " + maxIncoming);
        require(maxOvercommit >= 1 && maxOvercommit <= GrantScheduler.MAX_ACTIVE,
            "max overcommit must be 1.." + GrantScheduler.MAX_ACTIVE + ": " + maxOvercommit);
        require(grantFifoFraction >= 0 && grantFifoFraction <= 500,
            "grant fifo fraction must be 0..500: " + grantFifoFraction);
        require(fifoGrantIncrement >= 0, "fifo grant increment must be >= 0: " + fifoGrantIncrement);
        require(linkMbps > 0, "link mbps must be > 0: " + linkMbps);
        require(numPriorities >= 1 && numPriorities <= HomaWire.HOMA_MAX_PRIORITIES,
            "num priorities must be 1.." + HomaWire.HOMA_MAX_PRIORITIES + ": " + numPriorities);
        require(null != unschedCutoffs && HomaWire.HOMA_MAX_PRIORITIES == unschedCutoffs.length,
            "unsched cutoffs need " + HomaWire.HOMA_MAX_PRIORITIES + " entries");
        require(maxNicEstBacklogNs >= 0, "max nic est backlog must be >= 0: " + maxNicEstBacklogNs);
        require(deferMinBytes >= 0, "defer min bytes must be >= 0: " + deferMinBytes);
        require(pacerFifoFraction >= 0 && pacerFifoFraction <= 1000,
            "pacer fifo fraction must be 0..1000: " + pacerFifoFraction);
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
