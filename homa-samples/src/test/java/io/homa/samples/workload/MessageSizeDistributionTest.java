package io.homa.samples.workload;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageSizeDistributionTest
{
    @ParameterizedTest
    @CsvSource({ "w1, 192.8", "w2, 440.8", "w3, 2567.7", "w4, 61008.1", "w5, 386161.4" })
    void shouldMatchCpNodeEffectiveMeans(final String workload, final double expectedMean)
    {
        // The effective means cp_node's merge and truncation give (protocol notes, section 5.1).
        final MessageSizeDistribution dist = MessageSizeDistribution.workload(workload);
        // Quoted to 0.1 byte; ours agree within 0.15.
        assertEquals(expectedMean, dist.mean(), 0.15, dist.toString());
        assertTrue(dist.length(dist.points() - 1) <= MessageSizeDistribution.MAX_LENGTH);
        assertEquals(1.0, dist.cdf(dist.points() - 1));
    }

    @Test
    void shouldSampleQuantilesOfTheW4Cdf()
    {
        final MessageSizeDistribution dist = MessageSizeDistribution.workload("w4");
        final SplittableRandom random = new SplittableRandom(4);
        final int n = 200_000;
        final int[] samples = new int[n];
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            samples[i] = dist.sample(random);
            sum += samples[i];
        }
        Arrays.sort(samples);

        // For every point of the CDF, the share of samples at or below its length matches its CDF value.
        for (int p = 0; p < dist.points(); p++)
        {
            final int length = dist.length(p);
            final int atOrBelow = upperBound(samples, length);
            assertEquals(dist.cdf(p), (double)atOrBelow / n, 0.005, "CDF at " + length);
        }
        // Quantiles from the notes' W4 table survive the merge (below the 1,000,000 truncation).
        assertEquals(662, samples[n / 2], 662 * 0.25);
        assertEquals(42_493, samples[(int)(n * 0.75)], 42_493 * 0.25);
        assertEquals(MessageSizeDistribution.MAX_LENGTH, samples[(int)(n * 0.995)]);
        assertEquals(dist.mean(), (double)sum / n, dist.mean() * 0.03);
    }

    @Test
    void shouldMergeSmallStepsButKeepSizeJumps()
    {
        final MessageSizeDistribution dist = MessageSizeDistribution.fromWeights("t",
            new long[]{ 100, 101, 102, 500, 2_000_000 }, new double[]{ 0.5, 0.0001, 0.0001, 0.3, 0.1998 },
            1_000_000, 0.0025, 1.2);
        // 101 is merged into 102 (tiny step, small size change); 102 is kept because 500 is > 1.2 x 100.
        assertEquals(4, dist.points());
        assertEquals(100, dist.length(0));
        assertEquals(102, dist.length(1));
        assertEquals(500, dist.length(2));
        assertEquals(1_000_000, dist.length(3));
        assertEquals(100, dist.lengthAt(0.0));
        assertEquals(1_000_000, dist.lengthAt(0.99));
    }

    private static int upperBound(final int[] sorted, final int value)
    {
        int low = 0;
        int high = sorted.length;
        while (low < high)
        {
            final int mid = (low + high) >>> 1;
            if (sorted[mid] <= value)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }
}
