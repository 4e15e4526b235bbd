/*
 * Copyright 2026 The Homa for the JVM authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.homa.driver.net;

import org.agrona.LangUtil;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The handful of Linux libc socket calls this package needs (UDP, raw IP, netlink, ethtool), bound once with the
 * Foreign Function and Memory API so that no JNI library has to be built or shipped.
 * <p>
 * Every call reports {@code errno} through a caller-supplied segment ({@link #errnoStateLayout()}) because the JVM
 * may run code that overwrites the thread's {@code errno} between the downcall and any later read of it. The
 * per-packet calls (send/receive of one or many datagrams, the packet ring's flush) are the exception in how, not
 * in what: see {@link #sendmsg}. The
 * wrappers catch {@link Throwable} only to satisfy {@code invokeExact}'s signature; the downcalls cannot throw
 * checked exceptions, so the hot path pays nothing for it.
 * <p>
 * Struct offsets are for x86-64 and aarch64 Linux (LP64), written by hand from the kernel UAPI headers.
 */
@SuppressWarnings("restricted")
final class LibC
{
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int AF_NETLINK = 16;
    static final int AF_PACKET = 17;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;

    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_SNDBUFFORCE = 32;
    static final int SO_RCVBUFFORCE = 33;

    static final int SOL_IP = 0;
    static final int IP_TOS = 1;
    static final int IP_HDRINCL = 3;
    static final int IP_RECVTOS = 13;
    static final int IP_MTU_DISCOVER = 10;
    static final int IP_PMTUDISC_DONT = 0;
    static final int SOL_RAW = 255;
    static final int ICMP_FILTER = 1;
    static final int IPPROTO_ICMP = 1;
    static final int SOL_UDP = 17;
    static final int SOL_IPV6 = 41;
    static final int IPV6_RECVTCLASS = 66;
    static final int IPV6_TCLASS = 67;
    static final int IPPROTO_ICMPV6 = 58;
    static final int ICMP6_FILTER = 1;
    static final int UDP_SEGMENT = 103;
    static final int UDP_GRO = 104;

    static final int SIOCETHTOOL = 0x8946;

    static final int SO_ATTACH_FILTER = 26;
    static final int SOL_PACKET = 263;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_VERSION = 10;
    static final int PACKET_TX_RING = 13;
    static final int PACKET_LOSS = 14;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int TPACKET_V3 = 2;
    static final int PROT_READ_WRITE = 0x3;
    static final int MAP_SHARED = 0x1;

    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;

    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EWOULDBLOCK = EAGAIN;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;
    static final int ENOBUFS = 105;
    static final int EOPNOTSUPP = 95;
    static final int EAFNOSUPPORT = 97;

    /** {@code struct sockaddr_in}: family (host order) @0, port (network order) @2, address (network order) @4. */
    static final int SOCKADDR_IN_LENGTH = 16;
    static final int SOCKADDR_IN_PORT_OFFSET = 2;
    static final int SOCKADDR_IN_ADDR_OFFSET = 4;

    /** {@code struct sockaddr_in6}: family @0, port @2, flow info @4, address (network order) @8, scope id @24. */
    static final int SOCKADDR_IN6_LENGTH = 28;
    static final int SOCKADDR_IN6_ADDR_OFFSET = 8;
    static final int SOCKADDR_IN6_SCOPE_ID_OFFSET = 24;

    /** {@code struct iovec}: base pointer @0, length @8. */
    static final int IOVEC_LENGTH = 16;
    static final int IOVEC_BASE_OFFSET = 0;
    static final int IOVEC_LEN_OFFSET = 8;

    /** {@code struct msghdr}. {@code msg_namelen} and {@code msg_flags} are 4-byte ints, the rest 8 bytes. */
    static final int MSGHDR_LENGTH = 56;
    static final int MSGHDR_NAME_OFFSET = 0;
    static final int MSGHDR_NAMELEN_OFFSET = 8;
    static final int MSGHDR_IOV_OFFSET = 16;
    static final int MSGHDR_IOVLEN_OFFSET = 24;
    static final int MSGHDR_CONTROL_OFFSET = 32;
    static final int MSGHDR_CONTROLLEN_OFFSET = 40;
    static final int MSGHDR_FLAGS_OFFSET = 48;

    /** {@code struct mmsghdr}: a msghdr then {@code unsigned int msg_len}, padded to 8. */
    static final int MMSGHDR_LENGTH = 64;
    static final int MMSGHDR_LEN_OFFSET = 56;

    /** {@code struct cmsghdr}: {@code size_t cmsg_len} @0, level @8, type @12, data @16 ({@code CMSG_DATA}). */
    static final int CMSG_HEADER_LENGTH = 16;
    static final int CMSG_LEVEL_OFFSET = 8;
    static final int CMSG_TYPE_OFFSET = 12;
    static final int CMSG_DATA_OFFSET = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CAPTURE_STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /*
     * The I/O calls are bound "critical": no Java-to-native thread-state transition around the call, which removes
     * a few memory fences per packet. That is only acceptable because the socket is O_NONBLOCK and every call also
     * passes MSG_DONTWAIT: a critical call that blocked would hold up every safepoint (and so GC) in the JVM; as it
     * is, a safepoint waits at most one non-blocking system call. Heap access is not allowed (false) because buffers
     * are always native. Measured on a 2-core Firecracker VM (JDK 25.0.3) the gain is within noise (about 4.3 us per
     * loopback send+receive pair and 0.47 us per empty receive either way) because the system call dominates, so
     * dropping CRITICAL from the handles below is a safe one-line change if it ever causes trouble.
     */
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private static final MethodHandle SOCKET = downcall(
        "socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle BIND = downcall(
        "bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETSOCKNAME = downcall(
        "getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SETSOCKOPT = downcall(
        "setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETSOCKOPT = downcall(
        "getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = downcall(
        "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle STRERROR = downcall(
        "strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    /*
     * The per-packet calls are bound twice. The fast handles capture nothing: a capturing handle slices the state
     * segment on every call, and only C2's escape analysis removes that slice, when it inlines the whole downcall
     * into its caller; C1, the interpreter, or a caller that grew past the inlining budget allocate ~50 bytes per
     * packet. A fast call that fails reads the thread's errno at once (__errno_location) as a hint; the benign
     * answers (EAGAIN: nothing to receive or no room to send, EINTR, ENOBUFS) are taken as they are, anything else
     * is confirmed by the capturing handle. That is safe because a send or receive that failed did nothing: a send
     * tried again either succeeds or fails again with the real errno, and a receive tried again returns what the
     * socket holds now. The only error a wrong hint can hide is a one-off receive error read as EAGAIN.
     */
    private static final MethodHandle SENDMSG = downcall(
        "sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle SENDMSG_FAST = downcall(
        "sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CRITICAL);
    private static final MethodHandle RECVMSG = downcall(
        "recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle RECVMSG_FAST = downcall(
        "recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CRITICAL);
    private static final MethodHandle SENDMMSG = downcall(
        "sendmmsg",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        CAPTURE_ERRNO,
        CRITICAL);
    private static final MethodHandle SENDMMSG_FAST = downcall(
        "sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CRITICAL);
    /** Address of the calling thread's errno, as a long so that no segment is made for it. */
    private static final MethodHandle ERRNO_LOCATION = downcall(
        "__errno_location", FunctionDescriptor.of(JAVA_LONG), CRITICAL);
    /** All of memory, to read the errno word at the address above without making a segment per read. */
    private static final MemorySegment EVERYWHERE = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final MethodHandle SEND = downcall(
        "send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle RECV = downcall(
        "recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    // ioctl is variadic: the third argument is the first variadic one.
    private static final MethodHandle IOCTL = downcall(
        "ioctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
        CAPTURE_ERRNO,
        Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall(
        "mmap", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
        CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = downcall(
        "munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle SEND_FLUSH = downcall(
        "send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle SEND_FLUSH_FAST = downcall(
        "send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    private static final MethodHandle RECVMMSG = downcall(
        "recvmmsg",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS),
        CAPTURE_ERRNO,
        CRITICAL);
    private static final MethodHandle RECVMMSG_FAST = downcall(
        "recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), CRITICAL);

    private LibC()
    {
    }

    /**
     * Layout of the segment every call here writes {@code errno} into; allocate one per thread that makes calls.
     *
     * @return the capture-state layout.
     */
    static StructLayout errnoStateLayout()
    {
        return CAPTURE_STATE_LAYOUT;
    }

    /**
     * The {@code errno} captured by the last call that used this state segment.
     *
     * @param state segment passed to the call.
     * @return the captured errno.
     */
    static int errno(final MemorySegment state)
    {
        return (int)ERRNO.get(state, 0L);
    }

    static int socket(final MemorySegment state, final int domain, final int type, final int protocol)
    {
        try
        {
            return (int)SOCKET.invokeExact(state, domain, type, protocol);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int bind(final MemorySegment state, final int fd, final MemorySegment address, final int addressLength)
    {
        try
        {
            return (int)BIND.invokeExact(state, fd, address, addressLength);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int getsockname(
        final MemorySegment state, final int fd, final MemorySegment address, final MemorySegment addressLength)
    {
        try
        {
            return (int)GETSOCKNAME.invokeExact(state, fd, address, addressLength);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int setsockopt(
        final MemorySegment state,
        final int fd,
        final int level,
        final int name,
        final MemorySegment value,
        final int valueLength)
    {
        try
        {
            return (int)SETSOCKOPT.invokeExact(state, fd, level, name, value, valueLength);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int getsockopt(
        final MemorySegment state,
        final int fd,
        final int level,
        final int name,
        final MemorySegment value,
        final MemorySegment valueLength)
    {
        try
        {
            return (int)GETSOCKOPT.invokeExact(state, fd, level, name, value, valueLength);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int close(final MemorySegment state, final int fd)
    {
        try
        {
            return (int)CLOSE.invokeExact(state, fd);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static long sendmsg(final MemorySegment state, final int fd, final MemorySegment msghdr, final int flags)
    {
        try
        {
            final long result = (long)SENDMSG_FAST.invokeExact(fd, msghdr, flags);
            if (result >= 0 || benignFailure(state))
            {
                return result;
            }
            return (long)SENDMSG.invokeExact(state, fd, msghdr, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * As {@link #sendmsg}, but a failure of the fast call is returned as it is (errno from the thread's errno),
     * never repeated: on a socket with IP_RECVERR the failure reports a pending socket error once (the kernel clears
     * it), and a repeated call would succeed and hide it.
     */
    static long sendmsgOnce(final MemorySegment state, final int fd, final MemorySegment msghdr, final int flags)
    {
        try
        {
            final long result = (long)SENDMSG_FAST.invokeExact(fd, msghdr, flags);
            if (result < 0)
            {
                ERRNO.set(state, 0L, errnoHint());
            }
            return result;
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * As {@link #recvmsg}, never repeated on failure (see {@link #sendmsgOnce}).
     */
    static long recvmsgOnce(final MemorySegment state, final int fd, final MemorySegment msghdr, final int flags)
    {
        try
        {
            final long result = (long)RECVMSG_FAST.invokeExact(fd, msghdr, flags);
            if (result < 0)
            {
                ERRNO.set(state, 0L, errnoHint());
            }
            return result;
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static long recvmsg(final MemorySegment state, final int fd, final MemorySegment msghdr, final int flags)
    {
        try
        {
            final long result = (long)RECVMSG_FAST.invokeExact(fd, msghdr, flags);
            if (result >= 0 || benignFailure(state))
            {
                return result;
            }
            return (long)RECVMSG.invokeExact(state, fd, msghdr, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int recvmmsg(
        final MemorySegment state, final int fd, final MemorySegment mmsghdrs, final int vlen, final int flags)
    {
        try
        {
            final int result = (int)RECVMMSG_FAST.invokeExact(fd, mmsghdrs, vlen, flags, MemorySegment.NULL);
            if (result >= 0 || benignFailure(state))
            {
                return result;
            }
            return (int)RECVMMSG.invokeExact(state, fd, mmsghdrs, vlen, flags, MemorySegment.NULL);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int sendmmsg(
        final MemorySegment state, final int fd, final MemorySegment mmsghdrs, final int vlen, final int flags)
    {
        try
        {
            final int result = (int)SENDMMSG_FAST.invokeExact(fd, mmsghdrs, vlen, flags);
            if (result >= 0 || benignFailure(state))
            {
                return result;
            }
            return (int)SENDMMSG.invokeExact(state, fd, mmsghdrs, vlen, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static long send(
        final MemorySegment state, final int fd, final MemorySegment buffer, final long length, final int flags)
    {
        try
        {
            return (long)SEND.invokeExact(state, fd, buffer, length, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static long recv(
        final MemorySegment state, final int fd, final MemorySegment buffer, final long length, final int flags)
    {
        try
        {
            return (long)RECV.invokeExact(state, fd, buffer, length, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * {@code mmap}, with addresses as longs so the caller can wrap the mapping in an Agrona buffer.
     */
    static long mmap(
        final MemorySegment state,
        final long address,
        final long length,
        final int prot,
        final int flags,
        final int fd,
        final long offset)
    {
        try
        {
            return (long)MMAP.invokeExact(state, address, length, prot, flags, fd, offset);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    static int munmap(final MemorySegment state, final long address, final long length)
    {
        try
        {
            return (int)MUNMAP.invokeExact(state, address, length);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * {@code send(fd, NULL, 0, flags)}: tells a packet socket to transmit the frames marked in its TX ring.
     */
    static long sendFlush(final MemorySegment state, final int fd, final int flags)
    {
        try
        {
            final long result = (long)SEND_FLUSH_FAST.invokeExact(fd, 0L, 0L, flags);
            if (result >= 0 || benignFailure(state))
            {
                return result;
            }
            return (long)SEND_FLUSH.invokeExact(state, fd, 0L, 0L, flags);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * The calling thread's errno read now, with no allocation: right after a call bound without capture returned
     * -1 it is almost always that call's errno, but the JVM may have overwritten it in between (see the class
     * comment), so only use it where a wrong answer costs a retry.
     *
     * @return errno as it is now.
     */
    static int errnoHint()
    {
        try
        {
            return EVERYWHERE.get(JAVA_INT, (long)ERRNO_LOCATION.invokeExact());
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return 0;
        }
    }

    /**
     * Right after a fast call returned -1: reads the thread's errno and, if it is one of the answers a caller
     * treats as "not now" (EAGAIN, EINTR, ENOBUFS), stores it in {@code state} as a capturing call would.
     *
     * @return true if the failure is benign and stored; false if the call must be repeated with capture.
     */
    private static boolean benignFailure(final MemorySegment state)
    {
        final int errno = errnoHint();
        if (EAGAIN == errno || EINTR == errno || ENOBUFS == errno)
        {
            ERRNO.set(state, 0L, errno);
            return true;
        }
        return false;
    }

    static int ioctl(final MemorySegment state, final int fd, final long request, final MemorySegment argument)
    {
        try
        {
            return (int)IOCTL.invokeExact(state, fd, request, argument);
        }
        catch (final Throwable t)
        {
            LangUtil.rethrowUnchecked(t);
            return -1;
        }
    }

    /**
     * Text for an errno, for exception messages only: {@code strerror} is not thread-safe, which is tolerable on
     * the error path of setup calls but is why it is never called from {@code send}/{@code receive}.
     *
     * @param errno to describe.
     * @return e.g. {@code "errno 98 (Address already in use)"}.
     */
    static String describe(final int errno)
    {
        String text;
        try
        {
            final MemorySegment message = (MemorySegment)STRERROR.invokeExact(errno);
            text = MemorySegment.NULL.equals(message) ? "unknown" : message.reinterpret(256).getString(0);
        }
        catch (final Throwable t)
        {
            text = "unknown";
        }

        return "errno " + errno + " (" + text + ")";
    }

    private static MethodHandle downcall(
        final String name, final FunctionDescriptor descriptor, final Linker.Option... options)
    {
        final MemorySegment symbol = LOOKUP.find(name)
            .orElseThrow(() -> new IllegalStateException("libc symbol not found: " + name));

        return LINKER.downcallHandle(symbol, descriptor, options);
    }
}
