package io.homa.samples.workload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Message sizes drawn from one of the Homa paper's workloads (W1-W5, the {@code homa-workloads/wN.csv} tables of
 * length and weight), prepared the way HomaModule's cp_node prepares them so our numbers compare with Linux's:
 * the weights become a CDF; neighbouring points are merged unless the CDF has risen by at least
 * {@code minBucketFrac} since the last point kept, or the next length is more than {@code maxSizeRatio} times the
 * last length kept; every length at or above {@code maxLength} becomes {@code maxLength} and ends the CDF. A sample
 * is the first point whose CDF exceeds a uniform draw in [0, 1). Immutable; sampling allocates nothing.
 */
public final class MessageSizeDistribution
{
    /** cp_node's truncation: Homa's largest message. */
    public static final int MAX_LENGTH = 1_000_000;
    /** cp_node's default: points closer than this in the CDF are merged. */
    public static final double MIN_BUCKET_FRAC = 0.0025;
    /** cp_node's default: ... unless the size grows by more than this factor. */
    public static final double MAX_SIZE_RATIO = 1.2;
    /** System property naming the shared directory that holds {@code homa-workloads/}. */
    public static final String SHARED_DIR_PROP_NAME = "homa.shared.dir";

    private final String name;
    private final int[] lengths;
    private final double[] fractions;
    private final double mean;

    private MessageSizeDistribution(final String name, final int[] lengths, final double[] fractions)
    {
        this.name = name;
        this.lengths = lengths;
        this.fractions = fractions;
        double sum = 0;
        double previous = 0;
        for (int i = 0; i < lengths.length; i++)
        {
            sum += lengths[i] * (fractions[i] - previous);
            previous = fractions[i];
        }
        this.mean = sum;
    }

    /**
     * A workload from the shared tables with cp_node's defaults (truncate at 1,000,000, merge 0.0025 / 1.2).
     *
     * @param workload "w1" .. "w5" (or any table name in {@code homa-workloads/}).
     * @return the distribution.
     */
    public static MessageSizeDistribution workload(final String workload)
    {
        return load(workloadFile(workload), MAX_LENGTH, MIN_BUCKET_FRAC, MAX_SIZE_RATIO);
    }

    /**
     * @param workload a table name such as "w4".
     * @return its file: {@code ${homa.shared.dir}/homa-workloads/<name>.csv}, else {@code ../shared/...} from the
     * working directory or its parent.
     */
    public static Path workloadFile(final String workload)
    {
        final String file = "homa-workloads/" + workload + ".csv";
        final String shared = System.getProperty(SHARED_DIR_PROP_NAME);
        if (null != shared)
        {
            return Path.of(shared, file);
        }
        final Path beside = Path.of("..", "shared", file);
        return Files.exists(beside) ? beside : Path.of("..", "..", "shared", file);
    }

    /**
     * Loads a table of {@code length,weight[,...]} lines (a header line is skipped).
     *
     * @param csv           the file.
     * @param maxLength     lengths at or above this become this and end the CDF.
     * @param minBucketFrac smallest CDF step between kept points (0: keep all).
     * @param maxSizeRatio  a point is kept anyway when the next length exceeds this times the last kept length.
     * @return the distribution.
     */
    public static MessageSizeDistribution load(
        final Path csv, final int maxLength, final double minBucketFrac, final double maxSizeRatio)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(csv);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read workload " + csv, ex);
        }
        final List<long[]> rawLengths = new ArrayList<>();
        final List<Double> weights = new ArrayList<>();
        for (final String line : lines)
        {
            final String[] fields = line.trim().split(",");
            if (fields.length < 2 || fields[0].isEmpty() || !Character.isDigit(fields[0].charAt(0)))
            {
                continue;
            }
            rawLengths.add(new long[]{ Long.parseLong(fields[0].trim()) });
            weights.add(Double.parseDouble(fields[1].trim()));
        }
        final long[] length = new long[rawLengths.size()];
        final double[] weight = new double[length.length];
        for (int i = 0; i < length.length; i++)
        {
            length[i] = rawLengths.get(i)[0];
            weight[i] = weights.get(i);
        }
        final String fileName = csv.getFileName().toString();
        return fromWeights(fileName.endsWith(".csv") ? fileName.substring(0, fileName.length() - 4) : fileName,
            length, weight, maxLength, minBucketFrac, maxSizeRatio);
    }

    /**
     * Builds a distribution from (length, weight) points in increasing order of length.
     *
     * @param name          for printing.
     * @param length        message lengths.
     * @param weight        relative frequencies.
     * @param maxLength     lengths at or above this become this and end the CDF.
     * @param minBucketFrac smallest CDF step between kept points.
     * @param maxSizeRatio  a point is kept anyway when the next length exceeds this times the last kept length.
     * @return the distribution.
     */
    public static MessageSizeDistribution fromWeights(
        final String name,
        final long[] length,
        final double[] weight,
        final int maxLength,
        final double minBucketFrac,
        final double maxSizeRatio)
    {
        if (0 == length.length || length.length != weight.length)
        {
            throw new IllegalArgumentException("need as many weights as lengths, at least one");
        }
        double total = 0;
        for (final double w : weight)
        {
            if (!(w >= 0))
            {
                throw new IllegalArgumentException("negative weight: " + w);
            }
            total += w;
        }

        final int[] keptLength = new int[length.length];
        final double[] keptFraction = new double[length.length];
        int kept = 0;
        double cumulative = 0;
        double lastKeptFraction = 0;
        long lastKeptLength = 0;
        for (int i = 0; i < length.length; i++)
        {
            cumulative += weight[i];
            final boolean isLast = i == length.length - 1;
            if (length[i] >= maxLength || isLast)
            {
                keptLength[kept] = (int)Math.min(length[i], maxLength);
                keptFraction[kept++] = 1.0;
                break;
            }
            final double fraction = cumulative / total;
            final long next = length[i + 1];
            if (fraction - lastKeptFraction >= minBucketFrac ||
                (lastKeptLength > 0 && next > maxSizeRatio * lastKeptLength))
            {
                keptLength[kept] = (int)length[i];
                keptFraction[kept++] = fraction;
                lastKeptFraction = fraction;
                lastKeptLength = length[i];
            }
        }
        return new MessageSizeDistribution(
            name, java.util.Arrays.copyOf(keptLength, kept), java.util.Arrays.copyOf(keptFraction, kept));
    }

    /**
     * @param random source of uniform draws.
     * @return a message length.
     */
    public int sample(final RandomGenerator random)
    {
        return lengthAt(random.nextDouble());
    }

    /**
     * @param uniform a draw in [0, 1).
     * @return the length of the first point whose CDF exceeds it.
     */
    public int lengthAt(final double uniform)
    {
        int low = 0;
        int high = fractions.length - 1;
        while (low < high)
        {
            final int mid = (low + high) >>> 1;
            if (fractions[mid] > uniform)
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }
        return lengths[low];
    }

    /**
     * @return the mean message length.
     */
    public double mean()
    {
        return mean;
    }

    /**
     * @return points kept after merging.
     */
    public int points()
    {
        return lengths.length;
    }

    /**
     * @param index a point.
     * @return its length.
     */
    public int length(final int index)
    {
        return lengths[index];
    }

    /**
     * @param index a point.
     * @return the fraction of messages of its length or shorter.
     */
    public double cdf(final int index)
    {
        return fractions[index];
    }

    /**
     * @return the workload's name.
     */
    public String name()
    {
        return name;
    }

    public String toString()
    {
        return "MessageSizeDistribution{" + name + ", points=" + lengths.length + ", mean=" + mean + "}";
    }
}
