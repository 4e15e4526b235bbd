package io.homa.driver.net;

import org.agrona.LangUtil;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One {@code epoll} set an idle driver thread sleeps on: its transport's sockets, the CnC's wake-up FIFO and the
 * eventfd other driver threads ring. Level-triggered {@code EPOLLIN} only, so a socket that still holds packets
 * wakes the thread at once. Wake-up descriptors (FIFO, eventfd) are drained when they fire; sockets are left to
 * the receiver. Allocates nothing per call.
 */
@SuppressWarnings("restricted")
public final class Epoll implements AutoCloseable
{
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLLIN = 0x1;
    private static final int EFD_NONBLOCK = 0x800;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final int EEXIST = 17;
    private static final int ENOSYS = 38;
    private static final int MAX_EVENTS = 16;
    private static final int MAX_WAKE_FDS = 4;
    /** {@code struct epoll_event} is packed on x86-64 (12 bytes: u32 events, u64 data) and 16 bytes elsewhere. */
    private static final int EVENT_LENGTH = "amd64".equals(System.getProperty("os.arch")) ? 12 : 16;
    private static final int EVENT_DATA_OFFSET = "amd64".equals(System.getProperty("os.arch")) ? 4 : 8;
    /** epoll_event's data field is only 4-byte aligned on x86-64 (the struct is packed); made once, not per read. */
    private static final ValueLayout.OfLong EVENT_DATA = JAVA_LONG.withByteAlignment(4);

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle EPOLL_CREATE1 = handle("epoll_create1",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = handle("epoll_ctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    /** glibc 2.35+; without it (or on kernels before 5.11) epoll_wait's milliseconds serve. */
    private static final MethodHandle EPOLL_PWAIT2 = LINKER.defaultLookup().find("epoll_pwait2")
        .map(symbol -> LINKER.downcallHandle(symbol,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS)))
        .orElse(null);
    private static final MethodHandle EPOLL_WAIT = handle("epoll_wait",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = handle("eventfd",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = handle("read",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = handle("write",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = handle("close",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MKFIFO = handle("mkfifo",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle OPEN = LINKER.downcallHandle(
        LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        Linker.Option.firstVariadicArg(2));

    /** The eventfd increment, written from any thread (read-only after this). */
    private static final MemorySegment ONE = Arena.global().allocate(JAVA_LONG);

    static
    {
        ONE.set(JAVA_LONG, 0, 1L);
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment events = arena.allocate((long)EVENT_LENGTH * MAX_EVENTS, 8);
    private final MemorySegment ctlEvent = arena.allocate(16, 8);
    private final MemorySegment timespec = arena.allocate(16, 8);
    private final MemorySegment scratch = arena.allocate(512, 8);
    private final int[] wakeFds = new int[MAX_WAKE_FDS];
    private int wakeFdCount;
    private final int epfd;
    private boolean usePwait2 = null != EPOLL_PWAIT2;

    /**
     * Creates an empty set.
     */
    public Epoll()
    {
        epfd = invokeInt(EPOLL_CREATE1, EPOLL_CLOEXEC);
        if (epfd < 0)
        {
            throw new IllegalStateException("epoll_create1 failed");
        }
    }

    /**
     * Watches a socket for readability.
     *
     * @param fd the descriptor.
     */
    public void watch(final int fd)
    {
        ctlEvent.set(JAVA_INT, 0, EPOLLIN);
        ctlEvent.set(EVENT_DATA, EVENT_DATA_OFFSET, fd);
        try
        {
            final int result = (int)EPOLL_CTL.invokeExact(epfd, EPOLL_CTL_ADD, fd, ctlEvent);
            if (result < 0)
            {
                throw new IllegalStateException("epoll_ctl(ADD, " + fd + ") failed");
            }
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * Stops watching a descriptor for now (another thread sleeps on it meanwhile); {@link #watch(int)} undoes it
     * (a wake-up descriptor stays one).
     * Safe while a thread sleeps on this set; not to be called by two threads at once.
     *
     * @param fd a watched descriptor.
     */
    public void unwatch(final int fd)
    {
        try
        {
            final int ignore = (int)EPOLL_CTL.invokeExact(epfd, EPOLL_CTL_DEL, fd, ctlEvent);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * Watches a wake-up descriptor (FIFO or eventfd): it is drained whenever it fires.
     *
     * @param fd the descriptor.
     */
    public void watchWakeup(final int fd)
    {
        if (wakeFdCount == MAX_WAKE_FDS)
        {
            throw new IllegalStateException("too many wake-up descriptors");
        }
        watch(fd);
        wakeFds[wakeFdCount++] = fd;
    }

    /**
     * Sleeps until a watched descriptor is readable or the timeout passes, then drains wake-up descriptors.
     *
     * @param timeoutNs longest sleep.
     * @return descriptors ready (0 on timeout or interruption).
     */
    public int await(final long timeoutNs)
    {
        int ready;
        try
        {
            if (usePwait2)
            {
                timespec.set(JAVA_LONG, 0, timeoutNs / 1_000_000_000L);
                timespec.set(JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
                // Bound without errno capture, which would allocate per sleep unless C2 inlines it all: ENOSYS is
                // the only errno that matters here and it does not come and go, so the thread's errno read now
                // serves (if the JVM overwrote it, the next sleep reads it again).
                ready = (int)EPOLL_PWAIT2.invokeExact(epfd, events, MAX_EVENTS, timespec, MemorySegment.NULL);
                if (ready < 0 && ENOSYS == LibC.errnoHint())
                {
                    usePwait2 = false;
                    return 0;
                }
            }
            else
            {
                // Kernels before 5.11: millisecond resolution, rounded up so a short deadline is not a busy loop.
                final int timeoutMs = (int)Math.min(Integer.MAX_VALUE, (timeoutNs + 999_999) / 1_000_000);
                ready = (int)EPOLL_WAIT.invokeExact(epfd, events, MAX_EVENTS, timeoutMs);
            }
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return 0;
        }
        for (int i = 0; i < ready; i++)
        {
            final int fd = (int)events.get(EVENT_DATA, (long)i * EVENT_LENGTH + EVENT_DATA_OFFSET);
            for (int w = 0; w < wakeFdCount; w++)
            {
                if (wakeFds[w] == fd)
                {
                    drain(fd);
                }
            }
        }
        return Math.max(0, ready);
    }

    private void drain(final int fd)
    {
        try
        {
            while ((long)READ.invokeExact(fd, scratch, 512L) > 0)
            {
                Thread.onSpinWait();
            }
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * @return a new non-blocking eventfd, the doorbell other driver threads ring with {@link #signal(int)}.
     */
    public static int eventFd()
    {
        final int fd = invokeInt2(EVENTFD, 0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
        {
            throw new IllegalStateException("eventfd failed");
        }
        return fd;
    }

    /**
     * Rings an eventfd (adds 1 to its counter).
     *
     * @param eventFd the eventfd.
     */
    public static void signal(final int eventFd)
    {
        try
        {
            final long ignore = (long)WRITE.invokeExact(eventFd, ONE, 8L);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
        }
    }

    /**
     * Makes (if needed) and opens a FIFO for reading without blocking. Opened read-write, so it never reads as
     * closed when its last writer goes away.
     *
     * @param path the FIFO's path.
     * @return its descriptor.
     */
    public static int openFifo(final String path)
    {
        try (Arena local = Arena.ofConfined())
        {
            final MemorySegment name = local.allocateFrom(path);
            final MemorySegment state = local.allocate(Linker.Option.captureStateLayout());
            final int made = (int)MKFIFO.invokeExact(state, name, 0600);
            if (made < 0 && EEXIST != state.get(JAVA_INT, 0))
            {
                throw new IllegalStateException("mkfifo failed for " + path + ": errno " + state.get(JAVA_INT, 0));
            }
            final int fd = (int)OPEN.invokeExact(name, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
            if (fd < 0)
            {
                throw new IllegalStateException("cannot open FIFO " + path);
            }
            return fd;
        }
        catch (final RuntimeException ex)
        {
            throw ex;
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * @param fd a descriptor to close; negative ones are ignored.
     */
    public static void closeFd(final int fd)
    {
        if (fd >= 0)
        {
            invokeInt(CLOSE, fd);
        }
    }

    /**
     * Closes the set (not the descriptors it watches).
     */
    public void close()
    {
        closeFd(epfd);
        arena.close();
    }

    private static int invokeInt(final MethodHandle handle, final int argument)
    {
        try
        {
            return (int)handle.invokeExact(argument);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    private static int invokeInt2(final MethodHandle handle, final int first, final int second)
    {
        try
        {
            return (int)handle.invokeExact(first, second);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    private static MethodHandle handle(
        final String name, final FunctionDescriptor descriptor, final Linker.Option... options)
    {
        return LINKER.downcallHandle(
            LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("no libc " + name)),
            descriptor, options);
    }
}
