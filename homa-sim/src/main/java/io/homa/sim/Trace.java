package io.homa.sim;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The run's event trace: for every event, its time, kind and what identifies it (node, packet type, sender, id,
 * offset, length), as a sequence of 64-bit words. The words are folded into a 64-bit hash as they come, so a
 * determinism check costs no memory; if a stream is given they are also written to it, big-endian, and two runs
 * with equal hashes wrote the same bytes (up to a hash collision).
 */
final class Trace
{
    private static final long MULTIPLIER = 0x9E37_79B9_7F4A_7C15L;
    private static final long MIX = 0xBF58_476D_1CE4_E5B9L;

    private long hash = 0x6A09_E667_F3BC_C908L;
    private long words;
    private final DataOutputStream out;

    /**
     * @param stream where to write the trace too, or null for the hash only.
     */
    Trace(final OutputStream stream)
    {
        out = null == stream ? null : new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
    }

    /**
     * @param value the next word of the trace.
     */
    void add(final long value)
    {
        // A multiply-rotate-xor fold (our own): every bit of every word reaches the whole state.
        long h = hash ^ (value * MULTIPLIER);
        h = Long.rotateLeft(h, 29) * MIX;
        hash = h ^ (h >>> 32);
        words++;
        if (null != out)
        {
            try
            {
                out.writeLong(value);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }

    /**
     * @return the hash of every word so far.
     */
    long hash()
    {
        return hash;
    }

    /**
     * @return words so far.
     */
    long words()
    {
        return words;
    }

    void close()
    {
        if (null != out)
        {
            try
            {
                out.close();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }
}
