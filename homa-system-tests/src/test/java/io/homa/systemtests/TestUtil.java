package io.homa.systemtests;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

final class TestUtil
{
    private TestUtil()
    {
    }

    static UnsafeBuffer pattern(final int size, final long seed)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Math.max(size, 1)]);
        for (int i = 0; i < size; i++)
        {
            buffer.putByte(i, (byte)(i * 31 + seed));
        }
        return buffer;
    }

    static boolean matchesPattern(final DirectBuffer buffer, final int offset, final int length, final long seed)
    {
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != (byte)(i * 31 + seed))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Bounded wait: runs {@code step} until {@code done} holds or the timeout passes.
     */
    static void await(final BooleanSupplier done, final Runnable step, final long timeoutMs, final String what)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("timed out waiting for " + what);
            }
            step.run();
            Thread.onSpinWait();
        }
    }
}
