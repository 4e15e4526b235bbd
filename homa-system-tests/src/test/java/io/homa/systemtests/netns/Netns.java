package io.homa.systemtests.netns;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Runs code inside a network namespace on a thread of its own ({@code setns} changes only the calling thread), so
 * a test can open sockets that live in a namespace it made; the sockets keep their namespace afterwards.
 */
@SuppressWarnings("restricted")
public final class Netns
{
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SETNS = LINKER.downcallHandle(LINKER.defaultLookup().find("setns")
        .orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close")
        .orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private Netns()
    {
    }

    /**
     * @param namespace a name made by {@code ip netns add}.
     * @param action    what to run inside it.
     * @param <T>       result type.
     * @return the action's result.
     */
    public static <T> T call(final String namespace, final Supplier<T> action)
    {
        final AtomicReference<T> result = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread = new Thread(() ->
        {
            try (Arena arena = Arena.ofConfined())
            {
                final int fd = (int)OPEN.invokeExact(arena.allocateFrom("/run/netns/" + namespace),
                    O_RDONLY_CLOEXEC);
                if (fd < 0)
                {
                    throw new IllegalStateException("cannot open /run/netns/" + namespace);
                }
                try
                {
                    if ((int)SETNS.invokeExact(fd, CLONE_NEWNET) < 0)
                    {
                        throw new IllegalStateException("setns(" + namespace + ") failed");
                    }
                }
                finally
                {
                    final int ignored = (int)CLOSE.invokeExact(fd);
                }
                // This thread ends after the action: no need to switch back.
                result.set(action.get());
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        }, "netns-" + namespace);
        thread.start();
        try
        {
            thread.join(30_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        if (null != failure.get())
        {
            throw new IllegalStateException("in namespace " + namespace, failure.get());
        }
        return result.get();
    }
}
