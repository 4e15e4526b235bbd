package io.homa.client.internal;

import org.agrona.LangUtil;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few system calls that let a waiting thread sleep in the kernel and be woken by another process: a futex on
 * a word of a shared mapped file (client threads waiting for their socket's events), and a FIFO in the driver's
 * directory that clients write a byte to when the driver sleeps with commands waiting (the driver sleeps in
 * {@code epoll}, which can watch a FIFO but not a futex). Internal: used by the client and the driver.
 * <p>
 * Futexes here are shared (not {@code FUTEX_PRIVATE_FLAG}): the word lives in a {@code MAP_SHARED} file that the
 * driver and the client map separately, possibly in different processes.
 */
@SuppressWarnings("restricted")
public final class Wakeups
{
    private static final long FUTEX_WAIT = 0;
    private static final long FUTEX_WAKE = 1;
    private static final int O_WRONLY = 1;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final long SYS_FUTEX = switch (System.getProperty("os.arch"))
    {
        case "aarch64", "arm64" -> 98;
        default -> 202;
    };

    private static final Linker LINKER = Linker.nativeLinker();
    // futex(uaddr, op, val, timeout, uaddr2, val3) through syscall(2), which is variadic after the number.
    private static final MethodHandle SYSCALL_FUTEX = LINKER.downcallHandle(
        LINKER.defaultLookup().find("syscall").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG),
        Linker.Option.firstVariadicArg(1));
    private static final MethodHandle OPEN = LINKER.downcallHandle(
        LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        Linker.Option.firstVariadicArg(2));
    private static final MethodHandle WRITE = LINKER.downcallHandle(
        LINKER.defaultLookup().find("write").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
        LINKER.defaultLookup().find("close").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MemorySegment ONE_BYTE = Arena.global().allocate(1);

    /** Timespecs of waiting threads: one per thread, allocated once. */
    private static final ThreadLocal<MemorySegment> TIMESPEC =
        ThreadLocal.withInitial(() -> Arena.global().allocate(16, 8));

    private Wakeups()
    {
    }

    /**
     * Sleeps while the int at {@code address} still holds {@code expected}, at most {@code timeoutNs}.
     *
     * @param address   native address of a 4-byte aligned int in a shared mapping.
     * @param expected  the value seen before deciding to sleep.
     * @param timeoutNs longest sleep (positive).
     */
    public static void futexWait(final long address, final int expected, final long timeoutNs)
    {
        final MemorySegment timespec = TIMESPEC.get();
        timespec.set(JAVA_LONG, 0, timeoutNs / 1_000_000_000L);
        timespec.set(JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
        try
        {
            final long ignore = (long)SYSCALL_FUTEX.invokeExact(
                SYS_FUTEX, address, FUTEX_WAIT, (long)expected, timespec, MemorySegment.NULL, 0L);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * Wakes every thread sleeping on the int at {@code address}, in any process.
     *
     * @param address native address of the word.
     */
    public static void futexWakeAll(final long address)
    {
        try
        {
            final long ignore = (long)SYSCALL_FUTEX.invokeExact(
                SYS_FUTEX, address, FUTEX_WAKE, (long)Integer.MAX_VALUE, MemorySegment.NULL, MemorySegment.NULL, 0L);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * Opens a FIFO for writing without blocking.
     *
     * @param path the FIFO.
     * @return its file descriptor, or -1 if it cannot be opened (no FIFO, or no reader: no live driver).
     */
    public static int openFifoForWriting(final String path)
    {
        try (Arena arena = Arena.ofConfined())
        {
            return (int)OPEN.invokeExact(arena.allocateFrom(path), O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * Writes one byte to a descriptor (a FIFO opened non-blocking, or an eventfd takes 8: see the driver). A full
     * FIFO is fine: its reader has a wake-up pending already.
     *
     * @param fd the descriptor.
     */
    public static void writeByte(final int fd)
    {
        try
        {
            final long ignore = (long)WRITE.invokeExact(fd, ONE_BYTE, 1L);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * @param fd a descriptor to close; negative ones are ignored.
     */
    public static void close(final int fd)
    {
        if (fd < 0)
        {
            return;
        }
        try
        {
            final int ignore = (int)CLOSE.invokeExact(fd);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }
}
