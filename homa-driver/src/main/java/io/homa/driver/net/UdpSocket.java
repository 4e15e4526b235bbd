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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteOrder;

import static io.homa.driver.net.LibC.AF_INET;
import static io.homa.driver.net.LibC.CMSG_DATA_OFFSET;
import static io.homa.driver.net.LibC.CMSG_HEADER_LENGTH;
import static io.homa.driver.net.LibC.CMSG_LEVEL_OFFSET;
import static io.homa.driver.net.LibC.CMSG_TYPE_OFFSET;
import static io.homa.driver.net.LibC.EADDRINUSE;
import static io.homa.driver.net.LibC.EADDRNOTAVAIL;
import static io.homa.driver.net.LibC.EAGAIN;
import static io.homa.driver.net.LibC.EBADF;
import static io.homa.driver.net.LibC.EINTR;
import static io.homa.driver.net.LibC.ENOBUFS;
import static io.homa.driver.net.LibC.EWOULDBLOCK;
import static io.homa.driver.net.LibC.IOVEC_BASE_OFFSET;
import static io.homa.driver.net.LibC.IOVEC_LENGTH;
import static io.homa.driver.net.LibC.IOVEC_LEN_OFFSET;
import static io.homa.driver.net.LibC.IP_RECVTOS;
import static io.homa.driver.net.LibC.IP_TOS;
import static io.homa.driver.net.LibC.MMSGHDR_LENGTH;
import static io.homa.driver.net.LibC.MMSGHDR_LEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_CONTROLLEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_CONTROL_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_FLAGS_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_IOVLEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_IOV_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_LENGTH;
import static io.homa.driver.net.LibC.MSGHDR_NAMELEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_NAME_OFFSET;
import static io.homa.driver.net.LibC.MSG_DONTWAIT;
import static io.homa.driver.net.LibC.MSG_TRUNC;
import static io.homa.driver.net.LibC.SOCKADDR_IN_ADDR_OFFSET;
import static io.homa.driver.net.LibC.SOCKADDR_IN_LENGTH;
import static io.homa.driver.net.LibC.SOCKADDR_IN_PORT_OFFSET;
import static io.homa.driver.net.LibC.SOCK_CLOEXEC;
import static io.homa.driver.net.LibC.SOCK_DGRAM;
import static io.homa.driver.net.LibC.SOCK_NONBLOCK;
import static io.homa.driver.net.LibC.SOL_IP;
import static io.homa.driver.net.LibC.SOL_UDP;
import static io.homa.driver.net.LibC.UDP_GRO;
import static io.homa.driver.net.LibC.SOL_SOCKET;
import static io.homa.driver.net.LibC.SO_RCVBUF;
import static io.homa.driver.net.LibC.SO_RCVBUFFORCE;
import static io.homa.driver.net.LibC.SO_SNDBUF;
import static io.homa.driver.net.LibC.SO_SNDBUFFORCE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A non-blocking IPv4 UDP socket driven directly through libc with the Foreign Function and Memory API.
 * <p>
 * Why not {@link java.nio.channels.DatagramChannel}: NIO cannot set the IP TOS byte per packet (Homa carries its
 * priority in the DSCP bits, so one socket must send at eight priorities), cannot report the TOS of a received
 * packet or a truncated datagram, has no batch receive, and allocates an {@code InetSocketAddress} per receive.
 * This class does all of that with no allocation per call: every {@code msghdr}, {@code iovec}, {@code sockaddr_in},
 * control buffer and errno capture segment is allocated once, from an {@link Arena} owned by the socket and freed by
 * {@link #close()}. Payload buffers are passed by raw native address (e.g. {@code UnsafeBuffer.addressOffset()} of a
 * direct buffer) and written straight into the {@code iovec}, so no {@link MemorySegment} is created for them.
 * <p>
 * Threading: one thread may send while another receives (each direction has its own native structures and errno
 * capture), but each direction is single-threaded, and {@link #close()} must not race with I/O. The hot-path methods
 * never throw: they return {@code 0}/{@code -1} for "try again" and {@code -errno} for failures.
 */
public final class UdpSocket implements AutoCloseable
{
    /** Largest {@code vlen} accepted by {@link #receiveBatch(long, int, int)}; structures are preallocated for it. */
    public static final int MAX_BATCH_SIZE = 64;

    /** Returned by {@link #receive(long, int)} when no datagram is waiting. */
    public static final int RECEIVE_WOULD_BLOCK = -1;

    private static final int SO_MEMINFO = 55;
    private static final int SK_MEMINFO_DROPS = 8;
    private static final long SK_MEMINFO_LENGTH = 4L * 16;

    private static final ValueLayout.OfShort NETWORK_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NETWORK_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);

    /** {@code CMSG_LEN(sizeof(int))}: an IP_TOS cmsg on send carries an int. */
    private static final int SEND_TOS_CMSG_LEN = CMSG_HEADER_LENGTH + 4;
    /** {@code CMSG_SPACE(sizeof(int))}. */
    private static final int SEND_CONTROL_LENGTH = 24;
    /** Room for the 1-byte IP_TOS cmsg ({@code CMSG_SPACE(1)} = 24) with slack for any other the kernel adds. */
    private static final int RECEIVE_CONTROL_LENGTH = 64;
    /** Per-slot control space for batch receive: IP_TOS ({@code CMSG_SPACE(1)}) and UDP_GRO ({@code CMSG_SPACE(4)}). */
    private static final int BATCH_CONTROL_LENGTH = 64;

    private int fd;
    private final Arena arena;
    private final int localPort;
    private final int localAddressInt;
    private int defaultTos;

    private final MemorySegment sendErrno;
    private final MemorySegment sendMsg;
    private final MemorySegment sendIov;
    private final MemorySegment sendAddress;
    private final MemorySegment sendControl;

    private final MemorySegment receiveErrno;
    private final MemorySegment receiveMsg;
    private final MemorySegment receiveIov;
    private final MemorySegment receiveAddress;
    private final MemorySegment receiveControl;

    private final MemorySegment batchMsgs;
    private final MemorySegment batchIovs;
    private final MemorySegment batchAddresses;
    private final MemorySegment batchControls;
    /** getsockopt(SO_MEMINFO) answer: SK_MEMINFO_VARS u32 values; index 8 is the socket's drop count. */
    private final MemorySegment memInfo;
    private final MemorySegment memInfoLength;
    private final MemorySegment memInfoErrno;

    private final MemorySegment setupErrno;
    private final MemorySegment setupInt;
    private final MemorySegment setupLength;

    private long batchBase = -1;
    private int batchSlotCapacity = -1;
    private int batchPrepared;
    private int batchFilled;

    private int lastSourceIpv4;
    private int lastSourcePort;
    private int lastTos;
    private boolean lastTruncated;

    /** IP_RECVERR: ICMP errors about our datagrams are queued on the socket's error queue. */
    private static final int IP_RECVERR = 11;
    /** recvmsg flag: read the error queue. */
    private static final int MSG_ERRQUEUE = 0x2000;
    /** {@code struct sock_extended_err}: errno (u32), origin, type, code, pad (u8 each), info, data (u32). */
    private static final int EE_ERRNO_OFFSET = 0;
    private static final int EE_ORIGIN_OFFSET = 4;
    private static final int EE_TYPE_OFFSET = 5;
    private static final int EE_CODE_OFFSET = 6;
    /** SO_EE_ORIGIN_ICMP: the error came from an ICMP message. */
    public static final int SO_EE_ORIGIN_ICMP = 2;
    private static final int ERROR_CONTROL_LENGTH = 128;

    private boolean isReceivingErrors;
    /** Set by a send or receive that the kernel failed with a pending socket error: the error queue has entries. */
    private volatile boolean isErrorQueued;
    private MemorySegment errorErrno;
    private MemorySegment errorMsg;
    private MemorySegment errorIov;
    private MemorySegment errorAddress;
    private MemorySegment errorControl;
    private int lastErrorDestinationIpv4;
    private int lastErrorDestinationPort;
    private int lastErrorOrigin;
    private int lastErrorType;
    private int lastErrorCode;
    private int lastErrorErrno;

    private UdpSocket(final Arena arena, final int bindAddressInt, final int port)
    {
        this.arena = arena;

        setupErrno = arena.allocate(LibC.errnoStateLayout());
        setupInt = arena.allocate(JAVA_INT);
        setupLength = arena.allocate(JAVA_INT);

        sendErrno = arena.allocate(LibC.errnoStateLayout());
        sendMsg = arena.allocate(MSGHDR_LENGTH, 8);
        sendIov = arena.allocate(IOVEC_LENGTH * 2L, 8);
        sendAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
        sendControl = arena.allocate(SEND_CONTROL_LENGTH, 8);

        receiveErrno = arena.allocate(LibC.errnoStateLayout());
        receiveMsg = arena.allocate(MSGHDR_LENGTH, 8);
        receiveIov = arena.allocate(IOVEC_LENGTH * 3L, 8);
        receiveAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
        receiveControl = arena.allocate(RECEIVE_CONTROL_LENGTH, 8);

        batchMsgs = arena.allocate((long)MMSGHDR_LENGTH * MAX_BATCH_SIZE, 8);
        batchIovs = arena.allocate((long)IOVEC_LENGTH * MAX_BATCH_SIZE, 8);
        batchAddresses = arena.allocate((long)SOCKADDR_IN_LENGTH * MAX_BATCH_SIZE, 8);
        batchControls = arena.allocate((long)BATCH_CONTROL_LENGTH * MAX_BATCH_SIZE, 8);
        memInfo = arena.allocate(SK_MEMINFO_LENGTH, 8);
        memInfoLength = arena.allocate(4, 4);
        memInfoErrno = arena.allocate(Linker.Option.captureStateLayout());

        initStaticFields();

        fd = LibC.socket(setupErrno, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw ioException("socket(AF_INET, SOCK_DGRAM)", LibC.errno(setupErrno));
        }

        try
        {
            final MemorySegment bindAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
            writeSockaddr(bindAddress, bindAddressInt, port);
            if (LibC.bind(setupErrno, fd, bindAddress, SOCKADDR_IN_LENGTH) < 0)
            {
                final int errno = LibC.errno(setupErrno);
                final String message = "bind(" + ipv4ToString(bindAddressInt) + ":" + port + ") failed: " +
                    LibC.describe(errno);
                if (EADDRINUSE == errno || EADDRNOTAVAIL == errno)
                {
                    throw new UncheckedIOException(new BindException(message));
                }
                throw new UncheckedIOException(new IOException(message));
            }

            setIntOption(SOL_IP, IP_RECVTOS, 1, "setsockopt(IP_RECVTOS)");

            setupLength.set(JAVA_INT, 0, SOCKADDR_IN_LENGTH);
            if (LibC.getsockname(setupErrno, fd, bindAddress, setupLength) < 0)
            {
                throw ioException("getsockname", LibC.errno(setupErrno));
            }
            localPort = bindAddress.get(NETWORK_SHORT, SOCKADDR_IN_PORT_OFFSET) & 0xFFFF;
            localAddressInt = bindAddress.get(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET);
            defaultTos = getIntOption(SOL_IP, IP_TOS, "getsockopt(IP_TOS)");
        }
        catch (final RuntimeException ex)
        {
            LibC.close(setupErrno, fd);
            fd = -1;
            throw ex;
        }
    }

    /**
     * Opens a non-blocking {@code AF_INET}/{@code SOCK_DGRAM} socket bound to (address, port), with
     * {@code IP_RECVTOS} enabled so receives can report the TOS byte.
     *
     * @param bindAddress IPv4 address to bind to; {@code null} or {@code 0.0.0.0} for any.
     * @param port        port to bind to, 0 for an ephemeral port (see {@link #localPort()}).
     * @return the open socket, which the caller must {@link #close()}.
     * @throws UncheckedIOException     with the errno text if the kernel refuses (a {@link BindException} cause for
     *                                  an address in use or not available).
     * @throws IllegalArgumentException if the address is not IPv4 or the port is out of range.
     */
    public static UdpSocket open(final InetAddress bindAddress, final int port)
    {
        if (port < 0 || port > 0xFFFF)
        {
            throw new IllegalArgumentException("port out of range: " + port);
        }

        final int addressInt;
        if (null == bindAddress)
        {
            addressInt = 0;
        }
        else if (bindAddress instanceof Inet4Address)
        {
            addressInt = ipv4ToInt(bindAddress);
        }
        else
        {
            throw new IllegalArgumentException("only IPv4 is supported: " + bindAddress);
        }

        final Arena arena = Arena.ofShared();
        try
        {
            return new UdpSocket(arena, addressInt, port);
        }
        catch (final RuntimeException ex)
        {
            arena.close();
            throw ex;
        }
    }

    /**
     * Converts an {@link Inet4Address} to the int form used by this class.
     *
     * @param address IPv4 address.
     * @return {@code a.b.c.d} as {@code a << 24 | b << 16 | c << 8 | d}.
     */
    public static int ipv4ToInt(final InetAddress address)
    {
        final byte[] bytes = address.getAddress();
        if (4 != bytes.length)
        {
            throw new IllegalArgumentException("not an IPv4 address: " + address);
        }

        return (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
    }

    /**
     * Dotted-quad text for an address in the int form used by this class, for logs and messages.
     *
     * @param ipv4 address as {@code a << 24 | b << 16 | c << 8 | d}.
     * @return e.g. {@code "127.0.0.1"}.
     */
    public static String ipv4ToString(final int ipv4)
    {
        return (ipv4 >>> 24) + "." + ((ipv4 >>> 16) & 0xFF) + "." + ((ipv4 >>> 8) & 0xFF) + "." + (ipv4 & 0xFF);
    }

    /**
     * The file descriptor, e.g. for epoll registration; -1 once closed.
     *
     * @return the file descriptor.
     */
    public int fd()
    {
        return fd;
    }

    /**
     * The bound port, as reported by {@code getsockname} at open, so ephemeral ports are known.
     *
     * @return the local port.
     */
    public int localPort()
    {
        return localPort;
    }

    /**
     * The bound IPv4 address as reported by {@code getsockname} at open (0 when bound to any).
     *
     * @return {@code a.b.c.d} as {@code a << 24 | b << 16 | c << 8 | d}.
     */
    public int localAddressInt()
    {
        return localAddressInt;
    }

    /**
     * Sets the kernel receive buffer. Tries {@code SO_RCVBUFFORCE} first, which a process with CAP_NET_ADMIN
     * (e.g. root) may use beyond {@code net.core.rmem_max}, and falls back to {@code SO_RCVBUF}, which the kernel
     * silently caps at {@code rmem_max}. Hence the kernel's answer is returned rather than assumed.
     *
     * @param bytes requested size.
     * @return the size the kernel reports afterwards; Linux doubles the request to account for its bookkeeping.
     * @throws UncheckedIOException  if both options fail.
     * @throws IllegalStateException if the socket is closed.
     */
    public int receiveBufferSize(final int bytes)
    {
        return bufferSize(SO_RCVBUFFORCE, SO_RCVBUF, bytes);
    }

    /**
     * The kernel receive buffer size as reported by {@code getsockopt(SO_RCVBUF)}.
     *
     * @return the size in bytes (twice the usable payload size on Linux).
     */
    public int receiveBufferSize()
    {
        return getIntOption(SOL_SOCKET, SO_RCVBUF, "getsockopt(SO_RCVBUF)");
    }

    /**
     * Sets the kernel send buffer: {@code SO_SNDBUFFORCE} first (may exceed {@code net.core.wmem_max} with
     * CAP_NET_ADMIN), then {@code SO_SNDBUF}. See {@link #receiveBufferSize(int)}.
     *
     * @param bytes requested size.
     * @return the size the kernel reports afterwards.
     * @throws UncheckedIOException  if both options fail.
     * @throws IllegalStateException if the socket is closed.
     */
    public int sendBufferSize(final int bytes)
    {
        return bufferSize(SO_SNDBUFFORCE, SO_SNDBUF, bytes);
    }

    /**
     * The kernel send buffer size as reported by {@code getsockopt(SO_SNDBUF)}.
     *
     * @return the size in bytes.
     */
    public int sendBufferSize()
    {
        return getIntOption(SOL_SOCKET, SO_SNDBUF, "getsockopt(SO_SNDBUF)");
    }

    /**
     * Sets the socket-wide TOS byte ({@code IP_TOS}). Packets sent with this TOS go without a control message,
     * which saves the kernel parsing one; any other TOS is attached per packet.
     *
     * @param tos TOS byte (DSCP in the upper six bits, ECN in the lower two).
     * @return this for a fluent API.
     * @throws UncheckedIOException if the kernel refuses.
     */
    public UdpSocket defaultTos(final int tos)
    {
        setIntOption(SOL_IP, IP_TOS, tos, "setsockopt(IP_TOS)");
        defaultTos = getIntOption(SOL_IP, IP_TOS, "getsockopt(IP_TOS)");
        return this;
    }

    /**
     * The socket-wide TOS byte, as the kernel reports it.
     *
     * @return the default TOS (0 unless {@link #defaultTos(int)} was called).
     */
    public int defaultTos()
    {
        return defaultTos;
    }

    /**
     * Sends one datagram without blocking, with a per-packet TOS byte: a {@code sendmsg} with an {@code IP_TOS}
     * control message, so one socket can send at every priority. The control message is left off when
     * {@code tos} equals {@link #defaultTos()}.
     *
     * @param bufferAddress native address of the payload.
     * @param length        payload length in bytes.
     * @param ipv4          destination as {@code a << 24 | b << 16 | c << 8 | d}.
     * @param port          destination port.
     * @param tos           TOS byte for this packet, 0..255.
     * @return bytes sent; 0 if the kernel would block or has no buffer space (EAGAIN/EWOULDBLOCK/ENOBUFS), so try
     * again later; or {@code -errno} (e.g. -EMSGSIZE, -EINVAL, -EBADF once closed).
     */
    public int send(final long bufferAddress, final int length, final int ipv4, final int port, final int tos)
    {
        return send(bufferAddress, length, 0L, 0, ipv4, port, tos);
    }

    /**
     * Non-blocking send of one datagram gathered from two pieces, e.g. a packet header built in one place and a
     * payload that stays where the application wrote it, so the payload is copied only by the kernel.
     *
     * @param headerAddress  address of the first piece.
     * @param headerLength   its length.
     * @param payloadAddress address of the second piece (ignored when payloadLength is 0).
     * @param payloadLength  its length, 0 for a one-piece datagram.
     * @param ipv4           destination address.
     * @param port           destination port.
     * @param tos            IP TOS byte for this datagram.
     * @return bytes sent, 0 if the kernel would block, or -errno.
     */
    public int send(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int port,
        final int tos)
    {
        if (fd < 0)
        {
            return -EBADF;
        }

        final MemorySegment msg = sendMsg;
        writeSockaddr(sendAddress, ipv4, port);
        sendIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, headerAddress);
        sendIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, headerLength);
        if (payloadLength > 0)
        {
            sendIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_BASE_OFFSET, payloadAddress);
            sendIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_LEN_OFFSET, payloadLength);
            msg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 2L);
        }
        else
        {
            msg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 1L);
        }

        if (tos == defaultTos)
        {
            msg.set(JAVA_LONG, MSGHDR_CONTROL_OFFSET, 0L);
            msg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, 0L);
        }
        else
        {
            sendControl.set(JAVA_INT, CMSG_DATA_OFFSET, tos);
            msg.set(JAVA_LONG, MSGHDR_CONTROL_OFFSET, sendControl.address());
            msg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, SEND_CONTROL_LENGTH);
        }

        boolean isRetry = false;
        while (true)
        {
            // With IP_RECVERR a failure must not be repeated inside LibC, which would hide a pending error.
            final long result = isReceivingErrors && !isRetry ?
                LibC.sendmsgOnce(sendErrno, fd, msg, MSG_DONTWAIT) : LibC.sendmsg(sendErrno, fd, msg, MSG_DONTWAIT);
            if (result >= 0)
            {
                return (int)result;
            }

            final int errno = LibC.errno(sendErrno);
            if (EINTR != errno)
            {
                if (EAGAIN == errno || EWOULDBLOCK == errno || ENOBUFS == errno)
                {
                    return 0;
                }
                if (isReceivingErrors && !isRetry)
                {
                    // With IP_RECVERR a pending ICMP error fails the next send once (sock_error) without sending:
                    // note the queued error and send again.
                    isErrorQueued = true;
                    isRetry = true;
                    continue;
                }
                return -errno;
            }
        }
    }

    /**
     * Receives one datagram without blocking. On success the source, TOS and truncation of the datagram are
     * available from {@link #lastSourceIpv4()}, {@link #lastSourcePort()}, {@link #lastTos()} and
     * {@link #lastTruncated()}.
     *
     * @param bufferAddress native address to receive into.
     * @param capacity      bytes available at that address.
     * @return bytes copied into the buffer (&gt;= 0; a zero-length datagram gives 0 and still sets the source; a
     * truncated one gives {@code capacity} with {@link #lastTruncated()} set); {@link #RECEIVE_WOULD_BLOCK} (-1) if
     * nothing is waiting; or another {@code -errno} ({@code -EPERM} would collide with -1, but it is not an error
     * recvmsg reports for UDP).
     */
    public int receive(final long bufferAddress, final int capacity)
    {
        if (fd < 0)
        {
            return -EBADF;
        }

        receiveIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, bufferAddress);
        receiveIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, capacity);
        receiveMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 1L);
        return receiveInto();
    }

    /**
     * As {@link #receive(long, int)}, scattered in order over three ranges (one {@code recvmsg} with three
     * {@code iovec}s): the first {@code headerLength} bytes, then up to {@code hintLength} bytes at
     * {@code hintAddress}, then up to {@code restLength} bytes at {@code restAddress}. Truncated when the datagram
     * is longer than the three together.
     *
     * @return as {@link #receive(long, int)}.
     */
    public int receiveScattered(
        final long headerAddress,
        final int headerLength,
        final long hintAddress,
        final int hintLength,
        final long restAddress,
        final int restLength)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        final MemorySegment iov = receiveIov;
        iov.set(JAVA_LONG, IOVEC_BASE_OFFSET, headerAddress);
        iov.set(JAVA_LONG, IOVEC_LEN_OFFSET, headerLength);
        iov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_BASE_OFFSET, hintAddress);
        iov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_LEN_OFFSET, hintLength);
        iov.set(JAVA_LONG, 2L * IOVEC_LENGTH + IOVEC_BASE_OFFSET, restAddress);
        iov.set(JAVA_LONG, 2L * IOVEC_LENGTH + IOVEC_LEN_OFFSET, restLength);
        receiveMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 3L);
        return receiveInto();
    }

    private int receiveInto()
    {
        final MemorySegment msg = receiveMsg;
        msg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
        msg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, RECEIVE_CONTROL_LENGTH);
        msg.set(JAVA_INT, MSGHDR_FLAGS_OFFSET, 0);

        long result;
        boolean isRetry = false;
        while (true)
        {
            result = isReceivingErrors && !isRetry ?
                LibC.recvmsgOnce(receiveErrno, fd, msg, MSG_DONTWAIT) : LibC.recvmsg(receiveErrno, fd, msg, MSG_DONTWAIT);
            if (result >= 0)
            {
                break;
            }

            final int errno = LibC.errno(receiveErrno);
            if (EINTR != errno)
            {
                if (EAGAIN == errno || EWOULDBLOCK == errno)
                {
                    return RECEIVE_WOULD_BLOCK;
                }
                if (isReceivingErrors && !isRetry)
                {
                    // A pending ICMP error (IP_RECVERR) is reported once by the next receive, before any datagram.
                    isErrorQueued = true;
                    isRetry = true;
                    continue;
                }
                return -errno;
            }
        }

        lastTruncated = 0 != (msg.get(JAVA_INT, MSGHDR_FLAGS_OFFSET) & MSG_TRUNC);
        lastSourceIpv4 = receiveAddress.get(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET);
        lastSourcePort = receiveAddress.get(NETWORK_SHORT, SOCKADDR_IN_PORT_OFFSET) & 0xFFFF;
        lastTos = findTos(receiveControl, 0, msg.get(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET));

        return (int)result;
    }

    /**
     * Turns on IP_RECVERR: ICMP errors about datagrams this socket sent (port or host unreachable) are queued for
     * {@link #receiveError(long, int)}, which the owner must then drain whenever {@link #isErrorQueued()} says so
     * (otherwise the queue keeps the socket readable for epoll as EPOLLERR). The pending error that fails one send or
     * receive is absorbed here: that call is made again once.
     */
    public void receiveErrors()
    {
        if (isReceivingErrors)
        {
            return;
        }
        errorErrno = arena.allocate(LibC.errnoStateLayout());
        errorMsg = arena.allocate(MSGHDR_LENGTH, 8);
        errorIov = arena.allocate(IOVEC_LENGTH, 8);
        errorAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
        errorControl = arena.allocate(ERROR_CONTROL_LENGTH, 8);
        initMsghdr(errorMsg, 0, errorAddress.address(), errorIov.address(), errorControl.address(),
            ERROR_CONTROL_LENGTH);
        setIntOption(SOL_IP, IP_RECVERR, 1, "setsockopt(IP_RECVERR)");
        isReceivingErrors = true;
        // An error may already be queued (or come before the first send): look once.
        isErrorQueued = true;
    }

    /**
     * @return true if a send or receive found a pending error since the last {@link #clearErrorQueued()}.
     */
    public boolean isErrorQueued()
    {
        return isErrorQueued;
    }

    /**
     * The error queue may hold more than was drained: look again.
     */
    public void markErrorQueued()
    {
        isErrorQueued = true;
    }

    /**
     * Before draining the error queue: a later error sets the flag again.
     */
    public void clearErrorQueued()
    {
        isErrorQueued = false;
    }

    /**
     * Reads one entry of the error queue ({@code recvmsg(MSG_ERRQUEUE)}, non-blocking): the datagram of ours it is
     * about (its payload, cut to {@code capacity}) and, from {@link #lastErrorDestinationIpv4()} and the other
     * {@code lastError} accessors, where it was sent and what came back.
     *
     * @param bufferAddress where the payload of our datagram goes.
     * @param capacity      bytes available there.
     * @return the payload bytes copied, {@link #RECEIVE_WOULD_BLOCK} when the queue is empty, or {@code -errno}.
     */
    public int receiveError(final long bufferAddress, final int capacity)
    {
        if (fd < 0 || !isReceivingErrors)
        {
            return -EBADF;
        }
        final MemorySegment msg = errorMsg;
        errorIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, bufferAddress);
        errorIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, capacity);
        msg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 1L);
        msg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
        msg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, ERROR_CONTROL_LENGTH);
        msg.set(JAVA_INT, MSGHDR_FLAGS_OFFSET, 0);
        long result;
        while (true)
        {
            result = LibC.recvmsg(errorErrno, fd, msg, MSG_DONTWAIT | MSG_ERRQUEUE);
            if (result >= 0)
            {
                break;
            }
            final int errno = LibC.errno(errorErrno);
            if (EINTR != errno)
            {
                return EAGAIN == errno || EWOULDBLOCK == errno ? RECEIVE_WOULD_BLOCK : -errno;
            }
        }
        lastErrorDestinationIpv4 = errorAddress.get(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET);
        lastErrorDestinationPort = errorAddress.get(NETWORK_SHORT, SOCKADDR_IN_PORT_OFFSET) & 0xFFFF;
        final long cmsg = findCmsg(errorControl, 0, msg.get(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET), SOL_IP, IP_RECVERR);
        if (cmsg < 0)
        {
            lastErrorOrigin = 0;
            lastErrorType = 0;
            lastErrorCode = 0;
            lastErrorErrno = 0;
        }
        else
        {
            final long ee = cmsg + CMSG_DATA_OFFSET;
            lastErrorErrno = errorControl.get(JAVA_INT, ee + EE_ERRNO_OFFSET);
            lastErrorOrigin = errorControl.get(JAVA_BYTE, ee + EE_ORIGIN_OFFSET) & 0xFF;
            lastErrorType = errorControl.get(JAVA_BYTE, ee + EE_TYPE_OFFSET) & 0xFF;
            lastErrorCode = errorControl.get(JAVA_BYTE, ee + EE_CODE_OFFSET) & 0xFF;
        }
        return (int)result;
    }

    /**
     * @return where the datagram of the last {@link #receiveError} entry was sent ({@code a << 24 | ... | d}).
     */
    public int lastErrorDestinationIpv4()
    {
        return lastErrorDestinationIpv4;
    }

    /**
     * @return the UDP port the datagram of the last {@link #receiveError} entry was sent to.
     */
    public int lastErrorDestinationPort()
    {
        return lastErrorDestinationPort;
    }

    /**
     * @return the last entry's origin ({@link #SO_EE_ORIGIN_ICMP} for an ICMP message), 0 if unknown.
     */
    public int lastErrorOrigin()
    {
        return lastErrorOrigin;
    }

    /**
     * @return the ICMP type of the last entry.
     */
    public int lastErrorType()
    {
        return lastErrorType;
    }

    /**
     * @return the ICMP code of the last entry.
     */
    public int lastErrorCode()
    {
        return lastErrorCode;
    }

    /**
     * @return the errno the kernel made of the last entry (ECONNREFUSED for port unreachable).
     */
    public int lastErrorErrno()
    {
        return lastErrorErrno;
    }

    /**
     * Source address of the last datagram returned by {@link #receive(long, int)}.
     *
     * @return {@code a << 24 | b << 16 | c << 8 | d}.
     */
    public int lastSourceIpv4()
    {
        return lastSourceIpv4;
    }

    /**
     * Source port of the last datagram returned by {@link #receive(long, int)}.
     *
     * @return the port.
     */
    public int lastSourcePort()
    {
        return lastSourcePort;
    }

    /**
     * TOS byte of the IP header of the last datagram returned by {@link #receive(long, int)}.
     *
     * @return the TOS byte, 0..255.
     */
    public int lastTos()
    {
        return lastTos;
    }

    /**
     * Whether the last datagram returned by {@link #receive(long, int)} was larger than the buffer (MSG_TRUNC);
     * the rest of it was discarded by the kernel.
     *
     * @return true if truncated.
     */
    public boolean lastTruncated()
    {
        return lastTruncated;
    }

    /**
     * Receives up to {@code vlen} datagrams in one {@code recvmmsg} system call without blocking. Slot {@code i}
     * is {@code [baseAddress + i * slotCapacity, + slotCapacity)}; its length, source, TOS and truncation are read
     * with the {@code batch*} accessors for {@code i < } the returned count. Uses the receive direction's
     * structures, so it must be called from the receiving thread.
     *
     * @param baseAddress  native address of slot 0.
     * @param slotCapacity bytes per slot.
     * @param vlen         number of slots, 1..{@link #MAX_BATCH_SIZE}.
     * @return the number of datagrams received, 0 if none were waiting, or {@code -errno}.
     * @throws IllegalArgumentException if {@code vlen} or {@code slotCapacity} is out of range.
     */
    public int receiveBatch(final long baseAddress, final int slotCapacity, final int vlen)
    {
        if (vlen < 1 || vlen > MAX_BATCH_SIZE || slotCapacity < 0)
        {
            throw badBatch(vlen, slotCapacity);
        }

        if (fd < 0)
        {
            return -EBADF;
        }

        if (baseAddress != batchBase || slotCapacity != batchSlotCapacity || vlen > batchPrepared)
        {
            prepareBatch(baseAddress, slotCapacity, vlen);
        }
        else
        {
            // Only the slots the last call filled had their in/out fields changed by the kernel.
            resetBatchSlots(batchFilled);
        }

        while (true)
        {
            final int result = LibC.recvmmsg(receiveErrno, fd, batchMsgs, vlen, MSG_DONTWAIT);
            if (result >= 0)
            {
                batchFilled = result;
                return result;
            }

            final int errno = LibC.errno(receiveErrno);
            if (EINTR != errno)
            {
                batchFilled = 0;
                return EAGAIN == errno || EWOULDBLOCK == errno ? 0 : -errno;
            }
        }
    }

    private static IllegalArgumentException badBatch(final int vlen, final int slotCapacity)
    {
        return new IllegalArgumentException("vlen=" + vlen + " slotCapacity=" + slotCapacity);
    }

    private void prepareBatch(final long baseAddress, final int slotCapacity, final int vlen)
    {
        final MemorySegment iovs = batchIovs;
        for (int i = 0; i < vlen; i++)
        {
            final long iovOffset = (long)i * IOVEC_LENGTH;
            iovs.set(JAVA_LONG, iovOffset + IOVEC_BASE_OFFSET, baseAddress + (long)i * slotCapacity);
            iovs.set(JAVA_LONG, iovOffset + IOVEC_LEN_OFFSET, slotCapacity);
        }
        resetBatchSlots(vlen);
        batchBase = baseAddress;
        batchSlotCapacity = slotCapacity;
        batchPrepared = vlen;
    }

    private void resetBatchSlots(final int count)
    {
        final MemorySegment msgs = batchMsgs;
        for (int i = 0; i < count; i++)
        {
            final long msgOffset = (long)i * MMSGHDR_LENGTH;
            msgs.set(JAVA_INT, msgOffset + MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
            msgs.set(JAVA_LONG, msgOffset + MSGHDR_CONTROLLEN_OFFSET, BATCH_CONTROL_LENGTH);
            msgs.set(JAVA_INT, msgOffset + MSGHDR_FLAGS_OFFSET, 0);
            msgs.set(JAVA_INT, msgOffset + MMSGHDR_LEN_OFFSET, 0);
        }
    }

    /**
     * Bytes received into slot {@code i} by the last {@link #receiveBatch(long, int, int)}.
     *
     * @param i slot index, less than the count returned.
     * @return the length (at most the slot capacity; see {@link #batchTruncated(int)}).
     */
    public int batchLength(final int i)
    {
        return batchMsgs.get(JAVA_INT, (long)i * MMSGHDR_LENGTH + MMSGHDR_LEN_OFFSET);
    }

    /**
     * Whether the datagram in slot {@code i} was larger than the slot.
     *
     * @param i slot index, less than the count returned.
     * @return true if truncated.
     */
    public boolean batchTruncated(final int i)
    {
        return 0 != (batchMsgs.get(JAVA_INT, (long)i * MMSGHDR_LENGTH + MSGHDR_FLAGS_OFFSET) & MSG_TRUNC);
    }

    /**
     * Source address of the datagram in slot {@code i}.
     *
     * @param i slot index, less than the count returned.
     * @return {@code a << 24 | b << 16 | c << 8 | d}.
     */
    public int batchSourceIpv4(final int i)
    {
        return batchAddresses.get(NETWORK_INT, (long)i * SOCKADDR_IN_LENGTH + SOCKADDR_IN_ADDR_OFFSET);
    }

    /**
     * Source port of the datagram in slot {@code i}.
     *
     * @param i slot index, less than the count returned.
     * @return the port.
     */
    public int batchSourcePort(final int i)
    {
        return batchAddresses.get(NETWORK_SHORT, (long)i * SOCKADDR_IN_LENGTH + SOCKADDR_IN_PORT_OFFSET) & 0xFFFF;
    }

    /**
     * TOS byte of the datagram in slot {@code i}.
     *
     * @param i slot index, less than the count returned.
     * @return the TOS byte, 0..255.
     */
    public int batchTos(final int i)
    {
        final long controlLength = batchMsgs.get(JAVA_LONG, (long)i * MMSGHDR_LENGTH + MSGHDR_CONTROLLEN_OFFSET);
        return findTos(batchControls, (long)i * BATCH_CONTROL_LENGTH, controlLength);
    }

    /**
     * Segment size of a datagram the kernel coalesced (UDP GRO, see {@link #enableGro()}): the slot then holds
     * several datagrams of this size back to back, the last possibly shorter.
     *
     * @param i slot index, less than the count returned.
     * @return the segment size, or 0 if the slot holds one datagram.
     */
    public int batchGroSize(final int i)
    {
        final long controlLength = batchMsgs.get(JAVA_LONG, (long)i * MMSGHDR_LENGTH + MSGHDR_CONTROLLEN_OFFSET);
        final long offset = findCmsg(batchControls, (long)i * BATCH_CONTROL_LENGTH, controlLength, SOL_UDP, UDP_GRO);
        return offset < 0 ? 0 : batchControls.get(JAVA_INT, offset + CMSG_DATA_OFFSET);
    }

    /**
     * Asks the kernel to coalesce runs of datagrams from one sender into one receive (UDP GRO, Linux 5.0+); batch
     * receives then report the segment size with {@link #batchGroSize(int)}. Only for batch receive: a plain
     * {@link #receive(long, int)} cannot tell the segments apart.
     *
     * @return true if the kernel accepted it.
     */
    public boolean enableGro()
    {
        setupInt.set(JAVA_INT, 0, 1);
        return LibC.setsockopt(setupErrno, fd, SOL_UDP, UDP_GRO, setupInt, 4) >= 0;
    }

    /**
     * Closes the file descriptor and frees the native structures. Idempotent. Must not race with I/O on other
     * threads; once closed, the I/O methods return {@code -EBADF}.
     */
    @Override
    public void close()
    {
        if (fd >= 0)
        {
            final int closingFd = fd;
            fd = -1;
            LibC.close(setupErrno, closingFd);
            arena.close();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "UdpSocket{fd=" + fd + ", local=" + ipv4ToString(localAddressInt) + ":" + localPort + "}";
    }

    private void initStaticFields()
    {
        sendAddress.set(JAVA_SHORT, 0, (short)AF_INET);
        sendControl.set(JAVA_LONG, 0, SEND_TOS_CMSG_LEN);
        sendControl.set(JAVA_INT, CMSG_LEVEL_OFFSET, SOL_IP);
        sendControl.set(JAVA_INT, CMSG_TYPE_OFFSET, IP_TOS);
        initMsghdr(sendMsg, 0, sendAddress.address(), sendIov.address(), 0L, 0);

        initMsghdr(receiveMsg, 0, receiveAddress.address(), receiveIov.address(), receiveControl.address(),
            RECEIVE_CONTROL_LENGTH);

        for (int i = 0; i < MAX_BATCH_SIZE; i++)
        {
            initMsghdr(
                batchMsgs,
                (long)i * MMSGHDR_LENGTH,
                batchAddresses.address() + (long)i * SOCKADDR_IN_LENGTH,
                batchIovs.address() + (long)i * IOVEC_LENGTH,
                batchControls.address() + (long)i * BATCH_CONTROL_LENGTH,
                BATCH_CONTROL_LENGTH);
        }
    }

    private static void initMsghdr(
        final MemorySegment msgs,
        final long offset,
        final long nameAddress,
        final long iovAddress,
        final long controlAddress,
        final int controlLength)
    {
        msgs.set(JAVA_LONG, offset + MSGHDR_NAME_OFFSET, nameAddress);
        msgs.set(JAVA_INT, offset + MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
        msgs.set(JAVA_LONG, offset + MSGHDR_IOV_OFFSET, iovAddress);
        msgs.set(JAVA_LONG, offset + MSGHDR_IOVLEN_OFFSET, 1L);
        msgs.set(JAVA_LONG, offset + MSGHDR_CONTROL_OFFSET, controlAddress);
        msgs.set(JAVA_LONG, offset + MSGHDR_CONTROLLEN_OFFSET, controlLength);
        msgs.set(JAVA_INT, offset + MSGHDR_FLAGS_OFFSET, 0);
    }

    private static void writeSockaddr(final MemorySegment sockaddr, final int ipv4, final int port)
    {
        sockaddr.set(JAVA_SHORT, 0, (short)AF_INET);
        sockaddr.set(NETWORK_SHORT, SOCKADDR_IN_PORT_OFFSET, (short)port);
        sockaddr.set(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET, ipv4);
    }

    private static int findTos(final MemorySegment control, final long base, final long controlLength)
    {
        final long offset = findCmsg(control, base, controlLength, SOL_IP, IP_TOS);
        return offset < 0 ? 0 : control.get(JAVA_BYTE, offset + CMSG_DATA_OFFSET) & 0xFF;
    }

    private static long findCmsg(
        final MemorySegment control, final long base, final long controlLength, final int level, final int type)
    {
        long offset = 0;
        while (offset + CMSG_HEADER_LENGTH <= controlLength)
        {
            final long cmsgLength = control.get(JAVA_LONG, base + offset);
            if (cmsgLength < CMSG_HEADER_LENGTH)
            {
                break;
            }

            if (level == control.get(JAVA_INT, base + offset + CMSG_LEVEL_OFFSET) &&
                type == control.get(JAVA_INT, base + offset + CMSG_TYPE_OFFSET))
            {
                return base + offset;
            }

            offset += (cmsgLength + 7) & ~7L;
        }

        return -1;
    }

    private int bufferSize(final int forceOption, final int plainOption, final int bytes)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, bytes);
        if (LibC.setsockopt(setupErrno, fd, SOL_SOCKET, forceOption, setupInt, 4) < 0)
        {
            setIntOption(SOL_SOCKET, plainOption, bytes, "setsockopt(SO_RCVBUF/SO_SNDBUF)");
        }

        return getIntOption(SOL_SOCKET, plainOption, "getsockopt(SO_RCVBUF/SO_SNDBUF)");
    }

    private void ensureOpen()
    {
        if (fd < 0)
        {
            throw new IllegalStateException("socket is closed");
        }
    }

    private void setIntOption(final int level, final int name, final int value, final String what)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, value);
        if (LibC.setsockopt(setupErrno, fd, level, name, setupInt, 4) < 0)
        {
            throw ioException(what, LibC.errno(setupErrno));
        }
    }

    /**
     * Datagrams the kernel dropped on this socket (receive buffer full, bad checksum) since it opened, read with
     * {@code getsockopt(SO_MEMINFO)}: the same count as the drops column of /proc/net/udp, without allocating.
     *
     * @return the drop count, or -1 if the kernel does not report it.
     */
    public long receiveDrops()
    {
        if (fd < 0)
        {
            return -1;
        }
        memInfoLength.set(JAVA_INT, 0, (int)SK_MEMINFO_LENGTH);
        if (LibC.getsockopt(memInfoErrno, fd, SOL_SOCKET, SO_MEMINFO, memInfo, memInfoLength) < 0 ||
            memInfoLength.get(JAVA_INT, 0) <= SK_MEMINFO_DROPS * 4)
        {
            return -1;
        }
        return memInfo.get(JAVA_INT, SK_MEMINFO_DROPS * 4L) & 0xFFFF_FFFFL;
    }

    private int getIntOption(final int level, final int name, final String what)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, 0);
        setupLength.set(JAVA_INT, 0, 4);
        if (LibC.getsockopt(setupErrno, fd, level, name, setupInt, setupLength) < 0)
        {
            throw ioException(what, LibC.errno(setupErrno));
        }

        return setupInt.get(JAVA_INT, 0);
    }

    private static UncheckedIOException ioException(final String what, final int errno)
    {
        return new UncheckedIOException(new IOException(what + " failed: " + LibC.describe(errno)));
    }
}
