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

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.homa.driver.net.LibC.AF_INET;
import static io.homa.driver.net.LibC.CMSG_DATA_OFFSET;
import static io.homa.driver.net.LibC.CMSG_HEADER_LENGTH;
import static io.homa.driver.net.LibC.CMSG_LEVEL_OFFSET;
import static io.homa.driver.net.LibC.CMSG_TYPE_OFFSET;
import static io.homa.driver.net.LibC.EAGAIN;
import static io.homa.driver.net.LibC.EBADF;
import static io.homa.driver.net.LibC.EINTR;
import static io.homa.driver.net.LibC.ENOBUFS;
import static io.homa.driver.net.LibC.EPERM;
import static io.homa.driver.net.LibC.EWOULDBLOCK;
import static io.homa.driver.net.LibC.ICMP_FILTER;
import static io.homa.driver.net.LibC.IOVEC_BASE_OFFSET;
import static io.homa.driver.net.LibC.IOVEC_LENGTH;
import static io.homa.driver.net.LibC.IOVEC_LEN_OFFSET;
import static io.homa.driver.net.LibC.IP_MTU_DISCOVER;
import static io.homa.driver.net.LibC.IP_PMTUDISC_DONT;
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
import static io.homa.driver.net.LibC.SOCK_CLOEXEC;
import static io.homa.driver.net.LibC.SOCK_NONBLOCK;
import static io.homa.driver.net.LibC.SOCK_RAW;
import static io.homa.driver.net.LibC.SOL_IP;
import static io.homa.driver.net.LibC.SOL_RAW;
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
 * A non-blocking IPv4 raw socket ({@code SOCK_RAW}) for one IP protocol, e.g. Homa's 146 or ICMP, driven through
 * libc with FFM. The kernel builds the IPv4 header on send (TOS per packet through an {@code IP_TOS} control
 * message, as for UDP); on receive the kernel hands over the whole IP datagram, and this class strips the header:
 * a 20-byte first {@code iovec} catches a standard header so the payload lands at the start of the caller's buffer
 * with no copy (a header with options is the rare case that costs a move).
 * <p>
 * Binding to an address makes the kernel deliver only datagrams addressed to it, which is how several raw-IP
 * drivers share a host on distinct addresses; {@link #lastDestinationIpv4()} is still reported so callers can
 * verify. No allocation per call: every native structure is allocated once from the socket's {@link Arena}.
 * One thread may send while another receives; {@link #close()} must not race with I/O.
 */
public final class RawIpSocket implements AutoCloseable
{
    /** Returned by {@link #receive(long, int)} when nothing is waiting. */
    public static final int RECEIVE_WOULD_BLOCK = -1;
    /** Returned by {@link #receive(long, int)} for a datagram whose IPv4 header makes no sense (dropped). */
    public static final int RECEIVE_BAD_HEADER = -2;
    /** IPv4 header without options. */
    public static final int IPV4_HEADER_LENGTH = 20;
    /** Largest IPv4 datagram. */
    public static final int MAX_IPV4_DATAGRAM = 65_535;
    /** Largest {@code vlen} of {@link #receiveBatch(long, int, int)}. */
    public static final int MAX_BATCH = 64;

    private static final ValueLayout.OfInt NETWORK_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort NETWORK_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int SEND_TOS_CMSG_LEN = CMSG_HEADER_LENGTH + 4;
    private static final int SEND_CONTROL_LENGTH = 24;

    private int fd;
    private final int protocol;
    private final int localIpv4;
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
    private final MemorySegment ipHeader;
    private final UnsafeBuffer moveView = new UnsafeBuffer(0, 0);

    private final MemorySegment batchErrno;
    private final MemorySegment batchMsgs;
    private final MemorySegment batchIovs;
    private final MemorySegment batchHeaders;
    private long batchBase = -1;
    private int batchSlotCapacity = -1;
    private int batchFilled;

    private int lastSourceIpv4;
    private int lastDestinationIpv4;
    private int lastTos;
    private boolean lastDontFragment;
    private int lastProtocol;
    private boolean lastTruncated;

    private RawIpSocket(final Arena arena, final int protocol, final int bindIpv4)
    {
        this.arena = arena;
        this.protocol = protocol;
        this.localIpv4 = bindIpv4;

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
        receiveIov = arena.allocate(IOVEC_LENGTH * 2L, 8);
        receiveAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
        ipHeader = arena.allocate(IPV4_HEADER_LENGTH, 8);

        batchErrno = arena.allocate(LibC.errnoStateLayout());
        batchMsgs = arena.allocate((long)MMSGHDR_LENGTH * MAX_BATCH, 8);
        batchIovs = arena.allocate((long)IOVEC_LENGTH * 2 * MAX_BATCH, 8);
        batchHeaders = arena.allocate((long)IPV4_HEADER_LENGTH * MAX_BATCH, 8);
        for (int i = 0; i < MAX_BATCH; i++)
        {
            final long msg = (long)i * MMSGHDR_LENGTH;
            final long iov = (long)i * 2 * IOVEC_LENGTH;
            batchIovs.set(JAVA_LONG, iov + IOVEC_BASE_OFFSET, batchHeaders.address() + (long)i * IPV4_HEADER_LENGTH);
            batchIovs.set(JAVA_LONG, iov + IOVEC_LEN_OFFSET, IPV4_HEADER_LENGTH);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_IOV_OFFSET, batchIovs.address() + iov);
            batchMsgs.set(JAVA_LONG, msg + MSGHDR_IOVLEN_OFFSET, 2L);
        }

        sendAddress.set(JAVA_SHORT, 0, (short)AF_INET);
        sendControl.set(JAVA_LONG, 0, SEND_TOS_CMSG_LEN);
        sendControl.set(JAVA_INT, CMSG_LEVEL_OFFSET, SOL_IP);
        sendControl.set(JAVA_INT, CMSG_TYPE_OFFSET, IP_TOS);
        sendMsg.set(JAVA_LONG, MSGHDR_NAME_OFFSET, sendAddress.address());
        sendMsg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
        sendMsg.set(JAVA_LONG, MSGHDR_IOV_OFFSET, sendIov.address());
        sendMsg.set(JAVA_LONG, MSGHDR_CONTROL_OFFSET, sendControl.address());
        sendMsg.set(JAVA_LONG, MSGHDR_CONTROLLEN_OFFSET, SEND_CONTROL_LENGTH);

        receiveIov.set(JAVA_LONG, IOVEC_BASE_OFFSET, ipHeader.address());
        receiveIov.set(JAVA_LONG, IOVEC_LEN_OFFSET, IPV4_HEADER_LENGTH);
        receiveMsg.set(JAVA_LONG, MSGHDR_NAME_OFFSET, receiveAddress.address());
        receiveMsg.set(JAVA_LONG, MSGHDR_IOV_OFFSET, receiveIov.address());
        receiveMsg.set(JAVA_LONG, MSGHDR_IOVLEN_OFFSET, 2L);

        fd = LibC.socket(setupErrno, AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            final int errno = LibC.errno(setupErrno);
            if (EPERM == errno || 13 == errno)
            {
                throw new UncheckedIOException(new IOException("socket(AF_INET, SOCK_RAW, " + protocol +
                    ") refused: " + LibC.describe(errno) + "; raw IP needs CAP_NET_RAW (run as root or " +
                    "setcap cap_net_raw+ep on the java binary)"));
            }
            throw ioException("socket(AF_INET, SOCK_RAW, " + protocol + ")", errno);
        }

        try
        {
            final MemorySegment bindAddress = arena.allocate(SOCKADDR_IN_LENGTH, 8);
            bindAddress.set(JAVA_SHORT, 0, (short)AF_INET);
            bindAddress.set(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET, bindIpv4);
            if (LibC.bind(setupErrno, fd, bindAddress, SOCKADDR_IN_LENGTH) < 0)
            {
                throw ioException("bind(" + UdpSocket.ipv4ToString(bindIpv4) + ") of a raw socket",
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
     * Opens a raw socket for one IP protocol, bound to a local address.
     *
     * @param protocol IP protocol number (146 for Homa, 1 for ICMP).
     * @param bindIpv4 local address as {@code a << 24 | ... | d}; 0 receives datagrams for every local address.
     * @return the open socket.
     * @throws UncheckedIOException with a clear message when the process lacks CAP_NET_RAW, or the errno text.
     */
    public static RawIpSocket open(final int protocol, final int bindIpv4)
    {
        if (protocol < 1 || protocol > 255)
        {
            throw new IllegalArgumentException("IP protocol out of range: " + protocol);
        }
        final Arena arena = Arena.ofShared();
        try
        {
            return new RawIpSocket(arena, protocol, bindIpv4);
        }
        catch (final RuntimeException ex)
        {
            arena.close();
            throw ex;
        }
    }

    /**
     * @return the IP protocol of this socket.
     */
    public int protocol()
    {
        return protocol;
    }

    /**
     * @return the bound address (0 for any).
     */
    public int localIpv4()
    {
        return localIpv4;
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
     * For an ICMP socket: which ICMP types the kernel should not deliver ({@code ICMP_FILTER}, bit n = type n).
     *
     * @param blockedTypes bit mask of blocked types.
     */
    public void icmpFilter(final int blockedTypes)
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, blockedTypes);
        if (LibC.setsockopt(setupErrno, fd, SOL_RAW, ICMP_FILTER, setupInt, 4) < 0)
        {
            throw ioException("setsockopt(ICMP_FILTER)", LibC.errno(setupErrno));
        }
    }

    /**
     * Sends with DF clear and no path MTU discovery ({@code IP_PMTUDISC_DONT}), as Linux sends its ICMP errors.
     */
    public void allowFragmentation()
    {
        ensureOpen();
        setupInt.set(JAVA_INT, 0, IP_PMTUDISC_DONT);
        if (LibC.setsockopt(setupErrno, fd, SOL_IP, IP_MTU_DISCOVER, setupInt, 4) < 0)
        {
            throw ioException("setsockopt(IP_MTU_DISCOVER)", LibC.errno(setupErrno));
        }
    }

    /**
     * Sends one datagram gathered from two pieces without blocking; the kernel adds the IPv4 header with this TOS.
     *
     * @param headerAddress  address of the first piece.
     * @param headerLength   its length.
     * @param payloadAddress address of the second piece (ignored when payloadLength is 0).
     * @param payloadLength  its length, 0 for one piece.
     * @param ipv4           destination.
     * @param tos            IP TOS byte.
     * @return bytes sent, 0 if the kernel would block (try again), or -errno.
     */
    public int send(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int tos)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        sendAddress.set(NETWORK_INT, SOCKADDR_IN_ADDR_OFFSET, ipv4);
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
        sendControl.set(JAVA_INT, CMSG_DATA_OFFSET, tos);

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
     * Receives one datagram without blocking and strips its IPv4 header: the IP payload starts at
     * {@code bufferAddress}. The header's source, destination, TOS and protocol are then available from the
     * {@code last*} accessors.
     *
     * @param bufferAddress native address for the IP payload.
     * @param capacity      bytes available there.
     * @return the IP payload length; {@link #RECEIVE_WOULD_BLOCK} when nothing is waiting;
     * {@link #RECEIVE_BAD_HEADER} for a datagram with a nonsensical header (consumed); or another -errno.
     */
    public int receive(final long bufferAddress, final int capacity)
    {
        if (fd < 0)
        {
            return -EBADF;
        }
        final MemorySegment msg = receiveMsg;
        receiveIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_BASE_OFFSET, bufferAddress);
        receiveIov.set(JAVA_LONG, IOVEC_LENGTH + IOVEC_LEN_OFFSET, capacity);
        msg.set(JAVA_INT, MSGHDR_NAMELEN_OFFSET, SOCKADDR_IN_LENGTH);
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

        final int received = (int)result;
        if (received < IPV4_HEADER_LENGTH)
        {
            return RECEIVE_BAD_HEADER;
        }
        final int versionAndIhl = ipHeader.get(JAVA_BYTE, 0) & 0xFF;
        final int headerLength = (versionAndIhl & 0xF) << 2;
        if (4 != versionAndIhl >>> 4 || headerLength < IPV4_HEADER_LENGTH || headerLength > received)
        {
            return RECEIVE_BAD_HEADER;
        }
        lastTos = ipHeader.get(JAVA_BYTE, 1) & 0xFF;
        lastDontFragment = 0 != (ipHeader.get(JAVA_BYTE, 6) & 0x40);
        lastProtocol = ipHeader.get(JAVA_BYTE, 9) & 0xFF;
        lastSourceIpv4 = ipHeader.get(NETWORK_INT, 12);
        lastDestinationIpv4 = ipHeader.get(NETWORK_INT, 16);
        lastTruncated = 0 != (msg.get(JAVA_INT, MSGHDR_FLAGS_OFFSET) & MSG_TRUNC);

        int payloadLength = received - headerLength;
        if (headerLength > IPV4_HEADER_LENGTH)
        {
            // IP options spilled into the caller's buffer ahead of the payload: move the payload down.
            final int options = headerLength - IPV4_HEADER_LENGTH;
            final int inBuffer = Math.min(received, capacity + IPV4_HEADER_LENGTH) - headerLength;
            payloadLength = Math.max(inBuffer, 0);
            moveView.wrap(bufferAddress, capacity);
            moveView.putBytes(0, moveView, options, payloadLength);
        }
        return Math.min(payloadLength, capacity);
    }

    /**
     * Receives up to {@code vlen} datagrams with one {@code recvmmsg}, without blocking: slot {@code i} is
     * {@code [base + i * slotCapacity, + slotCapacity)} and gets the IP payload (each header lands in memory of
     * this class). Read each with the {@code batch*} accessors; a slot whose header makes no sense has
     * {@link #batchLength(int)} {@link #RECEIVE_BAD_HEADER}.
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
                final long iov = (long)i * 2 * IOVEC_LENGTH + IOVEC_LENGTH;
                batchIovs.set(JAVA_LONG, iov + IOVEC_BASE_OFFSET, base + (long)i * slotCapacity);
                batchIovs.set(JAVA_LONG, iov + IOVEC_LEN_OFFSET, slotCapacity);
            }
            batchBase = base;
            batchSlotCapacity = slotCapacity;
            batchFilled = MAX_BATCH;
        }
        for (int i = 0; i < batchFilled; i++)
        {
            batchMsgs.set(JAVA_INT, (long)i * MMSGHDR_LENGTH + MSGHDR_FLAGS_OFFSET, 0);
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
     * @return IP payload length in the slot, or {@link #RECEIVE_BAD_HEADER}.
     */
    public int batchLength(final int i)
    {
        final int received = batchMsgs.get(JAVA_INT, (long)i * MMSGHDR_LENGTH + MMSGHDR_LEN_OFFSET);
        final long header = (long)i * IPV4_HEADER_LENGTH;
        final int versionAndIhl = batchHeaders.get(JAVA_BYTE, header) & 0xFF;
        final int headerLength = (versionAndIhl & 0xF) << 2;
        if (received < IPV4_HEADER_LENGTH || 4 != versionAndIhl >>> 4 || headerLength < IPV4_HEADER_LENGTH ||
            headerLength > received)
        {
            return RECEIVE_BAD_HEADER;
        }
        if (headerLength > IPV4_HEADER_LENGTH)
        {
            // Options spilled into the slot: move the payload down over them (rare).
            final int options = headerLength - IPV4_HEADER_LENGTH;
            final int inSlot = Math.max(Math.min(received - IPV4_HEADER_LENGTH, batchSlotCapacity) - options, 0);
            moveView.wrap(batchBase + (long)i * batchSlotCapacity, batchSlotCapacity);
            moveView.putBytes(0, moveView, options, inSlot);
            batchHeaders.set(JAVA_BYTE, header, (byte)0x45);
            batchMsgs.set(JAVA_INT, (long)i * MMSGHDR_LENGTH + MMSGHDR_LEN_OFFSET, inSlot + IPV4_HEADER_LENGTH);
            return inSlot;
        }
        return Math.min(received - headerLength, batchSlotCapacity);
    }

    /**
     * @param i slot.
     * @return source address of its datagram.
     */
    public int batchSourceIpv4(final int i)
    {
        return batchHeaders.get(NETWORK_INT, (long)i * IPV4_HEADER_LENGTH + 12);
    }

    /**
     * @param i slot.
     * @return destination address of its datagram.
     */
    public int batchDestinationIpv4(final int i)
    {
        return batchHeaders.get(NETWORK_INT, (long)i * IPV4_HEADER_LENGTH + 16);
    }

    /**
     * @param i slot.
     * @return TOS byte of its datagram.
     */
    public int batchTos(final int i)
    {
        return batchHeaders.get(JAVA_BYTE, (long)i * IPV4_HEADER_LENGTH + 1) & 0xFF;
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
     * @return source address of the last datagram received.
     */
    public int lastSourceIpv4()
    {
        return lastSourceIpv4;
    }

    /**
     * @return destination address of the last datagram received.
     */
    public int lastDestinationIpv4()
    {
        return lastDestinationIpv4;
    }

    /**
     * @return TOS byte of the last datagram received.
     */
    public int lastTos()
    {
        return lastTos;
    }

    /**
     * @return true if the last datagram received had DF set.
     */
    public boolean lastDontFragment()
    {
        return lastDontFragment;
    }

    /**
     * @return IP protocol of the last datagram received.
     */
    public int lastProtocol()
    {
        return lastProtocol;
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
        return "RawIpSocket{fd=" + fd + ", protocol=" + protocol + ", local=" + UdpSocket.ipv4ToString(localIpv4) +
            "}";
    }

    /**
     * The ones' complement Internet checksum (RFC 1071) of a byte range, as IP and ICMP headers need.
     *
     * @param buffer holds the bytes.
     * @param offset first byte.
     * @param length byte count.
     * @return the checksum to store (big-endian) in the header.
     */
    public static int internetChecksum(final UnsafeBuffer buffer, final int offset, final int length)
    {
        long sum = 0;
        int i = 0;
        for (; i + 1 < length; i += 2)
        {
            sum += ((buffer.getByte(offset + i) & 0xFF) << 8) | (buffer.getByte(offset + i + 1) & 0xFF);
        }
        if (i < length)
        {
            sum += (buffer.getByte(offset + i) & 0xFF) << 8;
        }
        while (0 != (sum >>> 16))
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
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
