package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import org.agrona.collections.LongHashSet;

import java.util.concurrent.TimeUnit;

/**
 * What a {@link FaultInjectionTransport} does to the packets entering a driver: drop, duplicate, hold back
 * (reorder/delay) or corrupt, with separate rates for DATA and for control packets, plus a fixed set of packet
 * indices per type to drop (the n-th DATA, the first RESEND...), all from one seeded random generator so a run can
 * be repeated. Set from {@code homa.fault.*} properties or fluently in tests; a driver decorates its transport only
 * when {@link #isActive()} at launch. The rates may be changed while the driver runs (a test can cut a link and
 * heal it); the indices and seed may not.
 */
public final class FaultInjection
{
    private long seed = 1;
    private volatile double dataDropRate;
    private volatile double controlDropRate;
    private volatile double dataDuplicateRate;
    private volatile double controlDuplicateRate;
    private volatile double dataReorderRate;
    private volatile double controlReorderRate;
    private volatile double dataCorruptRate;
    private volatile double controlCorruptRate;
    private long reorderDelayNs = TimeUnit.MILLISECONDS.toNanos(1);
    private long duplicateDelayNs;
    private final LongHashSet dropIndices = new LongHashSet();

    /**
     * @return true if any fault is configured.
     */
    public boolean isActive()
    {
        return dataDropRate > 0 || controlDropRate > 0 || dataDuplicateRate > 0 || controlDuplicateRate > 0 ||
            dataReorderRate > 0 || controlReorderRate > 0 || dataCorruptRate > 0 || controlCorruptRate > 0 ||
            !dropIndices.isEmpty();
    }

    /**
     * @param seed seed of the random generator.
     * @return this for a fluent API.
     */
    public FaultInjection seed(final long seed)
    {
        this.seed = seed;
        return this;
    }

    /**
     * @return seed of the random generator.
     */
    public long seed()
    {
        return seed;
    }

    /**
     * @param rate probability that a DATA packet is dropped.
     * @return this for a fluent API.
     */
    public FaultInjection dataDropRate(final double rate)
    {
        this.dataDropRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a DATA packet is dropped.
     */
    public double dataDropRate()
    {
        return dataDropRate;
    }

    /**
     * @param rate probability that a control packet is dropped.
     * @return this for a fluent API.
     */
    public FaultInjection controlDropRate(final double rate)
    {
        this.controlDropRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a control packet is dropped.
     */
    public double controlDropRate()
    {
        return controlDropRate;
    }

    /**
     * @param rate probability that a DATA packet arrives twice.
     * @return this for a fluent API.
     */
    public FaultInjection dataDuplicateRate(final double rate)
    {
        this.dataDuplicateRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a DATA packet arrives twice.
     */
    public double dataDuplicateRate()
    {
        return dataDuplicateRate;
    }

    /**
     * @param rate probability that a control packet arrives twice.
     * @return this for a fluent API.
     */
    public FaultInjection controlDuplicateRate(final double rate)
    {
        this.controlDuplicateRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a control packet arrives twice.
     */
    public double controlDuplicateRate()
    {
        return controlDuplicateRate;
    }

    /**
     * @param rate probability that a DATA packet is held back (and so overtaken by later ones).
     * @return this for a fluent API.
     */
    public FaultInjection dataReorderRate(final double rate)
    {
        this.dataReorderRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a DATA packet is held back.
     */
    public double dataReorderRate()
    {
        return dataReorderRate;
    }

    /**
     * @param rate probability that a control packet is held back.
     * @return this for a fluent API.
     */
    public FaultInjection controlReorderRate(final double rate)
    {
        this.controlReorderRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a control packet is held back.
     */
    public double controlReorderRate()
    {
        return controlReorderRate;
    }

    /**
     * @param rate probability that a DATA packet gets one header bit flipped.
     * @return this for a fluent API.
     */
    public FaultInjection dataCorruptRate(final double rate)
    {
        this.dataCorruptRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a DATA packet gets one header bit flipped.
     */
    public double dataCorruptRate()
    {
        return dataCorruptRate;
    }

    /**
     * @param rate probability that a control packet gets one header bit flipped.
     * @return this for a fluent API.
     */
    public FaultInjection controlCorruptRate(final double rate)
    {
        this.controlCorruptRate = checkRate(rate);
        return this;
    }

    /**
     * @return probability that a control packet gets one header bit flipped.
     */
    public double controlCorruptRate()
    {
        return controlCorruptRate;
    }

    /**
     * @param delayNs a held-back packet is delivered after a uniformly random delay up to this.
     * @return this for a fluent API.
     */
    public FaultInjection reorderDelayNs(final long delayNs)
    {
        if (delayNs < 0)
        {
            throw new IllegalArgumentException("reorder delay must be >= 0: " + delayNs);
        }
        this.reorderDelayNs = delayNs;
        return this;
    }

    /**
     * @return longest delay of a held-back packet.
     */
    public long reorderDelayNs()
    {
        return reorderDelayNs;
    }

    /**
     * @param delayNs a duplicate arrives this long after the original (0: right after it). A long delay models a
     *                copy that lingers in the network, e.g. a request arriving after its RPC completed.
     * @return this for a fluent API.
     */
    public FaultInjection duplicateDelayNs(final long delayNs)
    {
        if (delayNs < 0)
        {
            throw new IllegalArgumentException("duplicate delay must be >= 0: " + delayNs);
        }
        this.duplicateDelayNs = delayNs;
        return this;
    }

    /**
     * @return how long after the original a duplicate arrives.
     */
    public long duplicateDelayNs()
    {
        return duplicateDelayNs;
    }

    /**
     * Drops the packets of a type with these indices (0 = the first packet of that type to arrive).
     *
     * @param type    Homa packet type code, e.g. {@link HomaWire#DATA}.
     * @param indices which ones.
     * @return this for a fluent API.
     */
    public FaultInjection dropIndices(final int type, final long... indices)
    {
        for (final long index : indices)
        {
            if (index < 0)
            {
                throw new IllegalArgumentException("packet index must be >= 0: " + index);
            }
            dropIndices.add(key(type, index));
        }
        return this;
    }

    /**
     * @param type  packet type code.
     * @param index index of the packet among those of its type.
     * @return true if it is to be dropped.
     */
    public boolean isDropIndex(final int type, final long index)
    {
        return !dropIndices.isEmpty() && dropIndices.contains(key(type, index));
    }

    /**
     * Parses drop indices as {@code TYPE:i,j;TYPE:k}, e.g. {@code DATA:0,3;RESEND:0}.
     *
     * @param spec the text; empty or null for none.
     * @return this for a fluent API.
     * @throws IllegalArgumentException for an unknown type or a bad index.
     */
    public FaultInjection dropIndices(final String spec)
    {
        if (null == spec || spec.isBlank())
        {
            return this;
        }
        for (final String part : spec.split(";"))
        {
            if (part.isBlank())
            {
                continue;
            }
            final int colon = part.indexOf(':');
            if (colon < 0)
            {
                throw new IllegalArgumentException("drop indices need TYPE:i,j: " + part);
            }
            final int type = typeCode(part.substring(0, colon).trim());
            for (final String index : part.substring(colon + 1).split(","))
            {
                if (!index.isBlank())
                {
                    dropIndices(type, Long.parseLong(index.trim()));
                }
            }
        }
        return this;
    }

    static int typeCode(final String name)
    {
        for (int type = HomaWire.DATA; type <= HomaWire.ACK; type++)
        {
            if (HomaWire.typeName(type).equalsIgnoreCase(name))
            {
                return type;
            }
        }
        if ("PORT_UNREACHABLE".equalsIgnoreCase(name))
        {
            return HomaWire.PORT_UNREACHABLE;
        }
        throw new IllegalArgumentException("unknown packet type: " + name);
    }

    private static long key(final int type, final long index)
    {
        return ((long)(type & 0xFF) << 48) | index;
    }

    private static double checkRate(final double rate)
    {
        if (!(rate >= 0.0 && rate <= 1.0))
        {
            throw new IllegalArgumentException("rate must be in [0, 1]: " + rate);
        }
        return rate;
    }

    public String toString()
    {
        return "FaultInjection{seed=" + seed +
            ", drop=" + dataDropRate + "/" + controlDropRate +
            ", duplicate=" + dataDuplicateRate + "/" + controlDuplicateRate +
            ", reorder=" + dataReorderRate + "/" + controlReorderRate + " up to " + reorderDelayNs + "ns" +
            ", duplicateDelay=" + duplicateDelayNs + "ns" +
            ", corrupt=" + dataCorruptRate + "/" + controlCorruptRate +
            ", dropIndices=" + dropIndices.size() + "}";
    }
}
