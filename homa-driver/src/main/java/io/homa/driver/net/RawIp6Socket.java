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

import io.homa.client.HomaAddress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.homa.driver.net.LibC.AF_INET6;
import static io.homa.driver.net.LibC.CMSG_DATA_OFFSET;
import static io.homa.driver.net.LibC.CMSG_HEADER_LENGTH;
import static io.homa.driver.net.LibC.CMSG_LEVEL_OFFSET;
import static io.homa.driver.net.LibC.CMSG_TYPE_OFFSET;
import static io.homa.driver.net.LibC.EAFNOSUPPORT;
import static io.homa.driver.net.LibC.EAGAIN;
import static io.homa.driver.net.LibC.EBADF;
import static io.homa.driver.net.LibC.EINTR;
import static io.homa.driver.net.LibC.ENOBUFS;
import static io.homa.driver.net.LibC.EPERM;
import static io.homa.driver.net.LibC.EWOULDBLOCK;
import static io.homa.driver.net.LibC.ICMP6_FILTER;
import static io.homa.driver.net.LibC.IOVEC_BASE_OFFSET;
import static io.homa.driver.net.LibC.IOVEC_LENGTH;
import static io.homa.driver.net.LibC.IOVEC_LEN_OFFSET;
import static io.homa.driver.net.LibC.IPPROTO_ICMPV6;
import static io.homa.driver.net.LibC.IPV6_RECVTCLASS;
import static io.homa.driver.net.LibC.IPV6_TCLASS;
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
import static io.homa.driver.net.LibC.SOCKADDR_IN6_ADDR_OFFSET;
import static io.homa.driver.net.LibC.SOCKADDR_IN6_LENGTH;
import static io.homa.driver.net.LibC.SOCK_CLOEXEC;
import static io.homa.driver.net.LibC.SOCK_NONBLOCK;
import static io.homa.driver.net.LibC.SOCK_RAW;
import static io.homa.driver.net.LibC.SOL_IPV6;
import static io.homa.driver.net.LibC.SOL_SOCKET;
import static io.homa.driver.net.LibC.SO_RCVBUF;
import static io.homa.driver.net.LibC.SO_RCVBUFFORCE;
import static io.homa.driver.net.LibC.SO_SNDBUF;
import static io.homa.driver.net.LibC.SO_SNDBUFFORCE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A non-blocking IPv6 raw socket ({@code socket(AF_INET6, SOCK_RAW, protocol)}) for one next-header value, e.g.
 * Homa's 146 or ICMPv6's 58, driven through libc with FFM. Unlike IPv4, the kernel hands over only the payload
 * (no IP header): the source comes from {@code msg_name} and, when asked for ({@link #receiveTrafficClass}), the
 * traffic class from an {@code IPV6_TCLASS} control message, which is also how each sent packet gets its own.
 * <p>
 * An address is two longs, the first and last eight bytes in network order ({@link #high(byte[])},
 * {@link #low(byte[])}), so nothing on the data path allocates. Binding to an address makes the kernel deliver
 * only datagrams addressed to it, which is how raw-IPv6 drivers on distinct addresses share a host. One thread
 * may send while another receives; {@link #close()} must not race with I/O.
 */
public final class RawIp6Socket implements AutoCloseable
{
    /** Returned by {@link #receive(long, int)} when nothing is waiting. */
    public static final int RECEIVE_WOULD_BLOCK = -1;
    /** IPv6 header without extension headers. */
    public static final int IPV6_HEADER_LENGTH = 40;
    /** Largest IPv6 payload without jumbograms. */
    public static final int MAX_IPV6_PAYLOAD = 65_535;
    /** Largest {@code vlen} of {@link #receiveBatch(long, int, int)}. */
    public static final int MAX_BATCH = 64;
    /** The smallest MTU an IPv6 link may have (RFC 8200). */
    public static final int MIN_IPV6_MTU = 1_280;

    private static final ValueLayout.OfLong NETWORK_LONG = JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int TCLASS_CMSG_LEN = CMSG_HEADER_LENGTH + 4;
    /** CMSG_SPACE(sizeof(int)): one traffic class control message. */
    private static final int TCLASS_CMSG_SPACE = 24;
    /** Room for the traffic class and whatever else the kernel adds. */
    private static final int RECEIVE_CONTROL_LENGTH = 64;
    private static final int NAME_STRIDE = 32;

    private int fd;
    private final int protocol;
    private final long localHigh;
    private final long localLow;
    private final Arena arena;

    private final MemorySegment setupErrno;
    private final MemorySegment setupInt;
    private final MemorySegment setupLength;

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

    private final MemorySegment batchErrno;
    private final MemorySegment batchMsgs;
    private final MemorySegment batchIovs;
    private final MemorySegment batchNames;
    private final MemorySegment batchControls;
    private long batchBase = -1;
    private int batchSlotCapacity = -1;
    private int batchFilled;

    private long lastSourceHigh;
    private long lastSourceLow;
    private int lastTrafficClass;
    private boolean lastTruncated;

    private RawIp6Socket(final Arena arena, final int protocol, final long bindHigh, final long bindLow)
    {
        this.arena = arena;
        this.protocol = protocol;
        this.localHigh = bindHigh;
        this.localLow = bindLow;

        setupErrno = arena.allocate(LibC.errnoStateLayout());
        setupInt = arena.allocate(JAVA_INT);
        setupLength = arena.allocate(JAVA_INT);

        sendErrno = arena.allocate(LibC.errnoStateLayout());
        sendMsg = arena.allocate(MSGHDR_LENGTH, 8);
        sendIov = arena.allocate(IOVEC_LENGTH * 2L, 8);
        sendAddress = arena.allocate(NAME_STRIDE, 8);
        sendControl = arena.allocate(TCLASS_CMSG_SPACE, 8);

        receiveErrno = arena.allocate(LibC.errnoStateLayout());
        receiveMsg = arena.allocate(MSGHDR_LENGTH, 8);
        receiveIov = arena.allocate(IOVEC_LENGTH, 8);
        receiveAddress = arena.allocate(NAME_STRIDE, 8);
        receiveControl = arena.allocate(RECEIVE_CONTROL_LENGTH, 8);

        batchErrno = arena.allocate(LibC.errnoStateLayout());
        batchMsgs = arena.allocate((long)MMSGHDR_LENGTH * MAX_BATCH, 8);
        batchIovs = arena.allocate((long)IOVEC_LENGTH * MAX_BATCH, 8);
        batchNames = arena.allocate((long)NAME_STRIDE * MAX_BATCH, 8);
        batchControls = arena.allocate((long)RECEIVE_CONTROL_LENGTH * MAX_BATCH, 8);
        for (int i = 0; i < MAX_BATCH; i++)
        {
            final long msg = (long)i * MMSGHDR_LENGTH;
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_NAME_OFFSET, batchNames.address() + (long)i * NAME_STRIDE);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_IOV_OFFSET, batchIovs.address() + (long)i * IOVEC_LENGTH);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_IOVLEN_OFFSET, 1L);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_CONTROL_OFFSET,
                batchControls.address() + (long)i * RECEIVE_CONTROL_LENGTH);
        }

        sendAddress.set(JAVA_SHORT, 0, (short)AF_INET6);
        sendControl.set(JAVA_LONG, 0, TCLASS_CMSG_LEN);
        sendControl.set(JAVA_INT, CMSG_LEVEL_OFFSET, SOL_IPV6);
        sendControl.set(JAVA_INT, CMSG_TYPE_OFFSET, IPV6_TCLASS);
        sendMsg.set(JAVA_LONG, MSGHDR_NAME_OFFSET, sendAddress.address());
        sendMsg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN6_LENGTH);
        sendMsg.set(JAVA_LONG, MSGHDR_IOV_OFFSET, sendIov.address());
        sendMsg.set(JAVA_LONG, MSGHDR_CONTROL_OFFSET, sendControl.address());
        sendMsg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, TCLASS_CMSG_SPACE);

        receiveMsg.set(JAVA_LONG, MSGHDR_NAME_OFFSET, receiveAddress.address());
        receiveMsg.set(JAVA_LONG, MSGHDR_IOV_OFFSET, receiveIov.address());
        receiveMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 1L);
        receiveMsg.set(JAVA_LONG, MSGHDR_CONTROL_OFFSET, receiveControl.address());

        fd = LibC.socket(setupErrno, AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            final int errno = LibC.errno(setupErrno);
            if (EPERM == errno || 13 == errno)
            {
                throw new UncheckedIOException(new IOException("socket(AF_INET6, SOCK_RAW, " + protocol +
                    ") refused: " + LibC.describe(errno) + "; raw IP needs CAP_NET_RAW (run as root or " +
                    "setcap cap_net_raw+ep on the java binary)"));
            }
            if (EAFNOSUPPORT == errno)
            {
                throw new UncheckedIOException(new IOException("socket(AF_INET6, SOCK_RAW, " + protocol +
                    ") refused: " + LibC.describe(errno) + "; this kernel has IPv6 disabled (ipv6.disable=1)"));
            }
            throw ioException("socket(AF_INET6, SOCK_RAW, " + protocol + ")", errno);
        }

        try
        {
            final MemorySegment bindAddress = arena.allocate(NAME_STRIDE, 8);
            bindAddress.set(JAVA_SHORT, 0, (short)AF_INET6);
            bindAddress.set(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET, bindHigh);
            bindAddress.set(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET + 8, bindLow);
            if (LibC.bind(setupErrno, fd, bindAddress, SOCKADDR_IN6_LENGTH) < 0)
            {
                throw ioException("bind([" + toString(bindHigh, bindLow) + "]) of a raw IPv6 socket",
                    LibC.errno(setupErrno));
            }
        }
        catch (final RuntimeException ex)
        {
            LibC.close(setupErrno, fd);
            fd = -1;
            throw ex;
        }
    }

    /**
     * Opens a raw IPv6 socket for one next-header value, bound to a local address.
     *
     * @param protocol  next header (146 for Homa, 58 for ICMPv6).
     * @param bindHigh  first eight bytes of the local address; with bindLow 0 for any address.
     * @param bindLow   last eight bytes.
     * @return the open socket.
     * @throws UncheckedIOException with a clear message without CAP_NET_RAW or IPv6, or with the errno text.
     */
    public static RawIp6Socket open(final int protocol, final long bindHigh, final long bindLow)
    {
        if (protocol < 1 || protocol > 255)
        {
            throw new IllegalArgumentException("IP protocol out of range: " + protocol);
        }
        final Arena arena = Arena.ofShared();
        try
        {
            return new RawIp6Socket(arena, protocol, bindHigh, bindLow);
        }
        catch (final RuntimeException ex)
        {
            arena.close();
            throw ex;
        }
    }

    /**
     * @param address a 16-byte IPv6 address.
     * @return its first eight bytes as a big-endian long.
     */
    public static long high(final byte[] address)
    {
        return readLong(address, 0);
    }

    /**
     * @param address a 16-byte IPv6 address.
     * @return its last eight bytes as a big-endian long.
     */
    public static long low(final byte[] address)
    {
        return readLong(address, 8);
    }

    /**
     * @param high first eight bytes.
     * @param low  last eight bytes.
     * @return the address in the RFC 5952 text form (allocates: for logs and messages).
     */
    public static String toString(final long high, final long low)
    {
        final byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            bytes[i] = (byte)(high >>> (56 - 8 * i));
            bytes[8 + i] = (byte)(low >>> (56 - 8 * i));
        }
        return HomaAddress.ipv6ToString(bytes);
    }

    private static long readLong(final byte[] address, final int offset)
    {
        if (16 != address.length)
        {
            throw new IllegalArgumentException("not an IPv6 address: " + address.length + " bytes");
        }
        long value = 0;
        for (int i = 0; i < 8; i++)
        {
            value = value << 8 | (address[offset + i] & 0xFF);
        }
        return value;
    }

    /**
     * @return the next-header value of this socket.
     */
    public int protocol()
    {
        return protocol;
    }

    /**
     * @return first eight bytes of the bound address.
     */
    public long localHigh()
    {
        return localHigh;
    }

    /**
     * @return last eight bytes of the bound address.
     */
    public long localLow()
    {
        return localLow;
    }

    /**
     * @return the file descriptor, -1 once closed.
     */
    public int fd()
    {
        return fd;
    }

    /**
     * Sets the kernel receive buffer ({@code SO_RCVBUFFORCE} first, then {@code SO_RCVBUF}).
     *
     * @param bytes requested size.
     * @return what the kernel reports afterwards.
     */
    public int receiveBufferSize(final int bytes)
    {
        return bufferSize(SO_RCVBUFFORCE, SO_RCVBUF, bytes);
    }

    /**
     * Sets the kernel send buffer ({@code SO_SNDBUFFORCE} first, then {@code SO_SNDBUF}).
     *
     * @param bytes requested size.
     * @return what the kernel reports afterwards.
     */
    public int sendBufferSize(final int bytes)
    {
        return bufferSize(SO_SNDBUFFORCE, SO_SNDBUF, bytes);
    }

    /**
     * Asks the kernel for each datagram's traffic class ({@code IPV6_RECVTCLASS}): off by default, as it costs a
     * control message per datagram that the driver's own data path does not read.
     *
     * @param enabled true to have {@link #lastTrafficClass()} and {@link #batchTrafficClass(int)} report it.
     */
    public void receiveTrafficClass(final boolean enabled)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, enabled ? 1 : 0);
        if (LibC.setsockopt(setupErrno, fd, SOL_IPV6, IPV6_RECVTCLASS, setupInt, 4) < 0)
        {
            throw ioException("setsockopt(IPV6_RECVTCLASS)", LibC.errno(setupErrno));
        }
    }

    /**
     * For an ICMPv6 socket: the only types the kernel should deliver ({@code ICMP6_FILTER}; the rest are blocked).
     *
     * @param types ICMPv6 types to pass, each 0..255.
     */
    public void icmp6Pass(final int... types)
    {
        ensureOpen();
        final MemorySegment filter = arena.allocate(32, 8);
        // struct icmp6_filter: 256 bits, a set bit blocks that type.
        for (int word = 0; word < 8; word++)
        {
            filter.set(JAVA_INT, word * 4L, -1);
        }
        for (final int type : types)
        {
            final long word = (type >>> 5) * 4L;
            filter.set(JAVA_INT, word, filter.get(JAVA_INT, word) & ~(1 << (type & 31)));
        }
        if (LibC.setsockopt(setupErrno, fd, IPPROTO_ICMPV6, ICMP6_FILTER, filter, 32) < 0)
        {
            throw ioException("setsockopt(ICMP6_FILTER)", LibC.errno(setupErrno));
        }
    }

    /**
     * Sends one datagram gathered from two pieces without blocking; the kernel adds the IPv6 header with this
     * traffic class.
     *
     * @param headerAddress  address of the first piece.
     * @param headerLength   its length.
     * @param payloadAddress address of the second piece (ignored when payloadLength is 0).
     * @param payloadLength  its length, 0 for one piece.
     * @param high           destination, first eight bytes.
     * @param low            destination, last eight bytes.
     * @param trafficClass   IPv6 traffic class (Homa priority &lt;&lt; 5).
     * @return bytes sent, 0 if the kernel would block (try again), or -errno.
     */
    public int send(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final long high,
        final long low,
        final int trafficClass)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        sendAddress.set(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET, high);
        sendAddress.set(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET + 8, low);
        sendIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, headerAddress);
        sendIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, headerLength);
        if (payloadLength > 0)
        {
            sendIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_BASE_OFFSET, payloadAddress);
            sendIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_LEN_OFFSET, payloadLength);
            sendMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 2L);
        }
        else
        {
            sendMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 1L);
        }
        sendControl.set(JAVA_INT, CMSG_DATA_OFFSET, trafficClass);

        while (true)
        {
            final long result = LibC.sendmsg(sendErrno, fd, sendMsg, MSG_DONTWAIT);
            if (result >= 0)
            {
                return (int)result;
            }
            final int errno = LibC.errno(sendErrno);
            if (EINTR != errno)
            {
                return EAGAIN == errno || EWOULDBLOCK == errno || ENOBUFS == errno ? 0 : -errno;
            }
        }
    }

    /**
     * Receives one datagram's payload without blocking; its source, traffic class and truncation are then
     * available from the {@code last*} accessors.
     *
     * @param bufferAddress native address for the payload.
     * @param capacity      bytes available there.
     * @return the payload length (at most capacity); {@link #RECEIVE_WOULD_BLOCK} when nothing is waiting; or
     * another -errno.
     */
    public int receive(final long bufferAddress, final int capacity)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        final MemorySegment msg = receiveMsg;
        receiveIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, bufferAddress);
        receiveIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, capacity);
        msg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN6_LENGTH);
        msg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, RECEIVE_CONTROL_LENGTH);
        msg.set(JAVA_INT, MSGHDR_FLAGS_OFFSET, 0);

        long result;
        while (true)
        {
            result = LibC.recvmsg(receiveErrno, fd, msg, MSG_DONTWAIT);
            if (result >= 0)
            {
                break;
            }
            final int errno = LibC.errno(receiveErrno);
            if (EINTR != errno)
            {
                return EAGAIN == errno || EWOULDBLOCK == errno ? RECEIVE_WOULD_BLOCK : -errno;
            }
        }
        lastSourceHigh = receiveAddress.get(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET);
        lastSourceLow = receiveAddress.get(NETWORK_LONG, SOCKADDR_IN6_ADDR_OFFSET + 8);
        lastTrafficClass = trafficClass(receiveControl, 0, msg.get(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET));
        lastTruncated = 0 != (msg.get(JAVA_INT, MSGHDR_FLAGS_OFFSET) & MSG_TRUNC);
        return (int)Math.min(result, capacity);
    }

    /**
     * Receives up to {@code vlen} datagrams with one {@code recvmmsg}, without blocking: slot {@code i} is
     * {@code [base + i * slotCapacity, + slotCapacity)} and gets the payload. Read each with the {@code batch*}
     * accessors.
     *
     * @param base         address of slot 0.
     * @param slotCapacity bytes per slot.
     * @param vlen         slots, 1..{@link #MAX_BATCH}.
     * @return datagrams received, 0 if none, or -errno.
     */
    public int receiveBatch(final long base, final int slotCapacity, final int vlen)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        if (base != batchBase || slotCapacity != batchSlotCapacity)
        {
            for (int i = 0; i < MAX_BATCH; i++)
            {
                final long iov = (long)i * IOVEC_LENGTH;
                batchIovs.set(JAVA_LONG, iov + IOVEC_BASE_OFFSET, base + (long)i * slotCapacity);
                batchIovs.set(JAVA_LONG, iov + IOVEC_LEN_OFFSET, slotCapacity);
            }
            batchBase = base;
            batchSlotCapacity = slotCapacity;
            batchFilled = MAX_BATCH;
        }
        // The kernel rewrote these in the slots it filled last time.
        for (int i = 0; i < batchFilled; i++)
        {
            final long msg = (long)i * MMSGHDR_LENGTH;
            batchMsgs.set(JAVA_INT, msg + MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN6_LENGTH);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_CONTROLLEN_OFFSET, RECEIVE_CONTROL_LENGTH);
            batchMsgs.set(JAVA_INT, msg + MSGHDR_FLAGS_OFFSET, 0);
        }

        while (true)
        {
            final int result = LibC.recvmmsg(batchErrno, fd, batchMsgs, vlen, MSG_DONTWAIT);
            if (result >= 0)
            {
                batchFilled = result;
                return result;
            }
            final int errno = LibC.errno(batchErrno);
            if (EINTR != errno)
            {
                batchFilled = 0;
                return EAGAIN == errno || EWOULDBLOCK == errno ? 0 : -errno;
            }
        }
    }

    /**
     * @param i slot, less than {@link #receiveBatch(long, int, int)}'s count.
     * @return payload length in the slot.
     */
    public int batchLength(final int i)
    {
        return Math.min(batchMsgs.get(JAVA_INT, (long)i * MMSGHDR_LENGTH + MMSGHDR_LEN_OFFSET), batchSlotCapacity);
    }

    /**
     * @param i slot.
     * @return source address of its datagram, first eight bytes.
     */
    public long batchSourceHigh(final int i)
    {
        return batchNames.get(NETWORK_LONG, (long)i * NAME_STRIDE + SOCKADDR_IN6_ADDR_OFFSET);
    }

    /**
     * @param i slot.
     * @return source address of its datagram, last eight bytes.
     */
    public long batchSourceLow(final int i)
    {
        return batchNames.get(NETWORK_LONG, (long)i * NAME_STRIDE + SOCKADDR_IN6_ADDR_OFFSET + 8);
    }

    /**
     * @param i slot.
     * @return traffic class of its datagram, -1 if the kernel did not say.
     */
    public int batchTrafficClass(final int i)
    {
        return trafficClass(batchControls, (long)i * RECEIVE_CONTROL_LENGTH,
            batchMsgs.get(JAVA_LONG, (long)i * MMSGHDR_LENGTH + MSGHDR_CONTROLLEN_OFFSET));
    }

    /**
     * @param i slot.
     * @return true if its datagram did not fit the slot.
     */
    public boolean batchTruncated(final int i)
    {
        return 0 != (batchMsgs.get(JAVA_INT, (long)i * MMSGHDR_LENGTH + MSGHDR_FLAGS_OFFSET) & MSG_TRUNC);
    }

    /**
     * @return source address of the last datagram received, first eight bytes.
     */
    public long lastSourceHigh()
    {
        return lastSourceHigh;
    }

    /**
     * @return source address of the last datagram received, last eight bytes.
     */
    public long lastSourceLow()
    {
        return lastSourceLow;
    }

    /**
     * @return traffic class of the last datagram received, -1 if the kernel did not say.
     */
    public int lastTrafficClass()
    {
        return lastTrafficClass;
    }

    /**
     * @return true if the last datagram received was larger than the buffer.
     */
    public boolean lastTruncated()
    {
        return lastTruncated;
    }

    /**
     * Closes the socket and frees its native structures. Idempotent.
     */
    public void close()
    {
        if (fd >= 0)
        {
            final int closing = fd;
            fd = -1;
            LibC.close(setupErrno, closing);
            arena.close();
        }
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return "RawIp6Socket{fd=" + fd + ", protocol=" + protocol + ", local=" + toString(localHigh, localLow) + "}";
    }

    private static int trafficClass(final MemorySegment control, final long base, final long controlLength)
    {
        long offset = 0;
        while (offset + CMSG_HEADER_LENGTH <= controlLength)
        {
            final long length = control.get(JAVA_LONG, base + offset);
            if (length < CMSG_HEADER_LENGTH)
            {
                break;
            }
            if (SOL_IPV6 == control.get(JAVA_INT, base + offset + CMSG_LEVEL_OFFSET) &&
                IPV6_TCLASS == control.get(JAVA_INT, base + offset + CMSG_TYPE_OFFSET) &&
                length >= CMSG_HEADER_LENGTH + 4)
            {
                return control.get(JAVA_INT, base + offset + CMSG_DATA_OFFSET) & 0xFF;
            }
            offset += (length + 7) & ~7L;
        }
        return -1;
    }

    private int bufferSize(final int forceOption, final int plainOption, final int bytes)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, bytes);
        if (LibC.setsockopt(setupErrno, fd, SOL_SOCKET, forceOption, setupInt, 4) < 0)
        {
            setupInt.set(JAVA_INT, 0, bytes);
            if (LibC.setsockopt(setupErrno, fd, SOL_SOCKET, plainOption, setupInt, 4) < 0)
            {
                throw ioException("setsockopt(SO_RCVBUF/SO_SNDBUF)", LibC.errno(setupErrno));
            }
        }
        setupInt.set(JAVA_INT, 0, 0);
        setupLength.set(JAVA_INT, 0, 4);
        if (LibC.getsockopt(setupErrno, fd, SOL_SOCKET, plainOption, setupInt, setupLength) < 0)
        {
            throw ioException("getsockopt(SO_RCVBUF/SO_SNDBUF)", LibC.errno(setupErrno));
        }
        return setupInt.get(JAVA_INT, 0);
    }

    private void ensureOpen()
    {
        if (fd < 0)
        {
            throw new IllegalStateException("socket is closed");
        }
    }

    private static UncheckedIOException ioException(final String what, final int errno)
    {
        return new UncheckedIOException(new IOException(what + " failed: " + LibC.describe(errno)));
    }
}
