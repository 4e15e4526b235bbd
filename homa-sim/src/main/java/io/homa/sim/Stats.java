package io.homa.sim;

/**
 * What the run counts beyond the ports' own statistics: packets by type as the engines sent them, DATA payload by
 * kind (unscheduled, scheduled, retransmitted), and application messages that could not be sent at once because
 * the send region was full.
 */
final class Stats
{
    final long[] sentByType = new long[256];
    long unschedBytes;
    long schedBytes;
    long resentBytes;
    long sendRegionWaits;
    long deliveredBytes;
}
