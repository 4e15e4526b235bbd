package io.homa.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Chosen packets lost or copied where they arrive at a host, for tests that need one exact fault rather than a
 * random rate (as the driver's fault-injection transport does on a real socket): the n-th packet of a type to
 * reach a host (counting from 0, retransmissions and copies included), every packet of some types, or a late copy
 * of each packet of a type. Deterministic: it depends only on the order in which packets arrive.
 */
final class DropRules
{
    private static final int TYPES = 256;

    private final List<Rule> rules = new ArrayList<>();
    private long[][] arrivals = new long[0][];
    /** Packets these rules dropped. */
    long dropped;
    /** Late copies these rules made. */
    long copied;

    private record Rule(int host, int type, long[] indices, boolean isEvery, boolean isControl, long copyDelayNs)
    {
    }

    /**
     * Loses the {@code indices}-th packets of {@code type} arriving at {@code host}.
     *
     * @return this.
     */
    DropRules drop(final int host, final int type, final long... indices)
    {
        final long[] sorted = indices.clone();
        Arrays.sort(sorted);
        rules.add(new Rule(host, type, sorted, false, false, 0));
        return this;
    }

    /**
     * Loses every packet of {@code type} arriving at {@code host}.
     *
     * @return this.
     */
    DropRules dropEvery(final int host, final int type)
    {
        rules.add(new Rule(host, type, null, true, false, 0));
        return this;
    }

    /**
     * Loses every packet arriving at {@code host}: a silent (crashed, unplugged) peer.
     *
     * @return this.
     */
    DropRules silence(final int host)
    {
        rules.add(new Rule(host, -1, null, true, false, 0));
        return this;
    }

    /**
     * Loses every control packet (all but DATA) arriving at {@code host}.
     *
     * @return this.
     */
    DropRules dropControl(final int host)
    {
        rules.add(new Rule(host, -1, null, true, true, 0));
        return this;
    }

    /**
     * Every packet of {@code type} arriving at {@code host} arrives a second time {@code delayNs} later.
     *
     * @return this.
     */
    DropRules copyLate(final int host, final int type, final long delayNs)
    {
        rules.add(new Rule(host, type, null, false, false, delayNs));
        return this;
    }

    /**
     * Lifts every rule for a host.
     *
     * @return this.
     */
    DropRules clear(final int host)
    {
        rules.removeIf(rule -> rule.host == host);
        return this;
    }

    boolean isEmpty()
    {
        return rules.isEmpty();
    }

    /**
     * Counts a packet arriving at a host and says what becomes of it.
     *
     * @return -1 to lose it, 0 to deliver it, or a delay after which a copy arrives too.
     */
    long onArrival(final int host, final int type, final boolean isLateCopy)
    {
        if (rules.isEmpty())
        {
            return 0;
        }
        if (host >= arrivals.length)
        {
            final int from = arrivals.length;
            arrivals = Arrays.copyOf(arrivals, host + 1);
            for (int h = from; h <= host; h++)
            {
                arrivals[h] = new long[TYPES];
            }
        }
        final long index = arrivals[host][type & 0xFF]++;
        long copyDelayNs = 0;
        for (final Rule rule : rules)
        {
            if (rule.host != host)
            {
                continue;
            }
            if (rule.copyDelayNs > 0)
            {
                if (rule.type == type && !isLateCopy)
                {
                    copyDelayNs = rule.copyDelayNs;
                }
                continue;
            }
            final boolean matches = rule.isControl ? io.homa.codecs.HomaWire.DATA != type :
                -1 == rule.type || rule.type == type;
            if (matches && (rule.isEvery || Arrays.binarySearch(rule.indices, index) >= 0))
            {
                dropped++;
                return -1;
            }
        }
        if (copyDelayNs > 0)
        {
            copied++;
        }
        return copyDelayNs;
    }

    /**
     * @return packets of a type that have arrived at a host so far.
     */
    long arrivals(final int host, final int type)
    {
        return host < arrivals.length ? arrivals[host][type & 0xFF] : 0;
    }
}
