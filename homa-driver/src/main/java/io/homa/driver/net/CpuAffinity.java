package io.homa.driver.net;

import org.agrona.LangUtil;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CPU affinity of the calling thread ({@code sched_setaffinity} / {@code sched_getaffinity} through FFM), for
 * {@code homa.driver.cpus}: on a small machine the scheduler may keep a driver thread and the application's thread
 * on one CPU while the other idles, and pinning the driver thread apart is the one lever a user has.
 */
public final class CpuAffinity
{
    /** CPUs a mask here can name (a {@code cpu_set_t} of glibc's default size). */
    public static final int MAX_CPUS = 1024;
    private static final long MASK_BYTES = MAX_CPUS / 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SET = LINKER.downcallHandle(
        LINKER.defaultLookup().find("sched_setaffinity").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle GET = LINKER.downcallHandle(
        LINKER.defaultLookup().find("sched_getaffinity").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));

    private CpuAffinity()
    {
    }

    /**
     * Parses a CPU list as {@code taskset -c} takes it: {@code 1}, {@code 0,2} or {@code 2-3}.
     *
     * @param list the list.
     * @return the CPUs.
     * @throws IllegalArgumentException if the list is malformed, empty or names a CPU beyond {@link #MAX_CPUS}.
     */
    public static BitSet parse(final String list)
    {
        final BitSet cpus = new BitSet();
        for (final String part : list.split(",", -1))
        {
            final String item = part.trim();
            final int dash = item.indexOf('-');
            try
            {
                final int first = Integer.parseInt(dash < 0 ? item : item.substring(0, dash).trim());
                final int last = dash < 0 ? first : Integer.parseInt(item.substring(dash + 1).trim());
                if (first < 0 || last < first || last >= MAX_CPUS)
                {
                    throw new IllegalArgumentException("not a CPU range: " + item);
                }
                cpus.set(first, last + 1);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("not a CPU list: " + list);
            }
        }
        if (cpus.isEmpty())
        {
            throw new IllegalArgumentException("no CPU in " + list);
        }
        return cpus;
    }

    /**
     * @return the CPUs the calling thread may run on now.
     */
    public static BitSet allowed()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            final int result = (int)GET.invokeExact(0, MASK_BYTES, mask);
            if (result < 0)
            {
                throw new IllegalStateException("sched_getaffinity failed");
            }
            return BitSet.valueOf(mask.toArray(JAVA_LONG));
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return null;
        }
    }

    /**
     * Restricts the calling thread to the given CPUs.
     *
     * @param cpus the CPUs.
     * @throws IllegalStateException if the kernel refuses (e.g. none of them is allowed to this process).
     */
    public static void pinCurrentThread(final BitSet cpus)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            final long[] words = cpus.toLongArray();
            for (int i = 0; i < words.length; i++)
            {
                mask.setAtIndex(JAVA_LONG, i, words[i]);
            }
            final int result = (int)SET.invokeExact(0, MASK_BYTES, mask);
            if (result < 0)
            {
                throw new IllegalStateException("sched_setaffinity(" + cpus + ") failed");
            }
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }
}
