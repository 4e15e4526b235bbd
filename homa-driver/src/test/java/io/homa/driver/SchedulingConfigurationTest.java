package io.homa.driver;

import io.homa.driver.protocol.SchedulingSettings;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulingConfigurationTest
{
    @Test
    void shouldParseLinuxDefaultCutoffs()
    {
        assertArrayEquals(new int[]{ 0, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 },
            Configuration.parseCutoffs(Configuration.UNSCHED_CUTOFFS_DEFAULT));
        assertArrayEquals(new int[]{ 1, 2, 3, 4, 5, 6, 7, Integer.MAX_VALUE },
            Configuration.parseCutoffs(" 1, 2,3 ,4,5,6,7, 99999999999"));
        assertThrows(IllegalArgumentException.class, () -> Configuration.parseCutoffs("1,2,3"));
        assertThrows(IllegalArgumentException.class, () -> Configuration.parseCutoffs("0,0,0,0,0,0,0,-1"));
    }

    @Test
    void shouldPaceOnlyWhereThereIsAKnownLinkAndANicQueueUnlessForced()
    {
        assertFalse(Configuration.pacing("auto", false, false), "link speed unknown");
        assertFalse(Configuration.pacing("auto", true, true), "loopback: no NIC queue");
        assertTrue(Configuration.pacing("auto", true, false));
        assertTrue(Configuration.pacing("true", false, true));
        assertFalse(Configuration.pacing("false", true, false));
        assertThrows(IllegalArgumentException.class, () -> Configuration.pacing("sometimes", true, false));
    }

    @Test
    void shouldDeriveUnscheduledBytesFromRoundTripOfLinkTime()
    {
        assertEquals(40_625, Configuration.unschedBytesForNetwork(13_000, 25_000));
        assertEquals(3_750, Configuration.unschedBytesForNetwork(100_000, 300));
        assertEquals(Configuration.MIN_DERIVED_UNSCHED_BYTES, Configuration.unschedBytesForNetwork(1_000, 100));
        assertEquals(1_000_000, Configuration.unschedBytesForNetwork(10_000_000, 100_000));
        assertEquals(400_000, Configuration.maxIncomingForNetwork(40_000));
    }

    @Test
    void shouldRejectOutOfRangeSchedulingSettings()
    {
        SchedulingSettings.defaults().validate();
        final SchedulingSettings d = SchedulingSettings.defaults();
        assertThrows(IllegalArgumentException.class, () -> new SchedulingSettings(d.window(), d.maxIncoming(), 9,
            d.grantFifoFraction(), d.fifoGrantIncrement(), d.linkMbps(), d.numPriorities(), d.unschedCutoffs(),
            d.maxNicEstBacklogNs(), d.deferMinBytes(), d.pacerFifoFraction(), d.pacing()).validate());
        assertThrows(IllegalArgumentException.class, () -> new SchedulingSettings(d.window(), d.maxIncoming(),
            d.maxOvercommit(), 501, d.fifoGrantIncrement(), d.linkMbps(), d.numPriorities(), d.unschedCutoffs(),
            d.maxNicEstBacklogNs(), d.deferMinBytes(), d.pacerFifoFraction(), d.pacing()).validate());
        assertThrows(IllegalArgumentException.class, () -> new SchedulingSettings(d.window(), d.maxIncoming(),
            d.maxOvercommit(), d.grantFifoFraction(), d.fifoGrantIncrement(), d.linkMbps(), 0, d.unschedCutoffs(),
            d.maxNicEstBacklogNs(), d.deferMinBytes(), d.pacerFifoFraction(), d.pacing()).validate());
        assertThrows(IllegalArgumentException.class,
            () -> MediaDriver.launchEmbedded(new MediaDriver.Context().maxOvercommit(0)));
    }
}
