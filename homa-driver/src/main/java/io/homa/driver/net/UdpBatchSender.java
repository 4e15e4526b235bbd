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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.homa.driver.net.LibC.AF_INET;
import static io.homa.driver.net.LibC.AF_INET6;
import static io.homa.driver.net.LibC.CMSG_DATA_OFFSET;
import static io.homa.driver.net.LibC.CMSG_HEADER_LENGTH;
import static io.homa.driver.net.LibC.CMSG_LEVEL_OFFSET;
import static io.homa.driver.net.LibC.CMSG_TYPE_OFFSET;
import static io.homa.driver.net.LibC.EAGAIN;
import static io.homa.driver.net.LibC.EINTR;
import static io.homa.driver.net.LibC.ENOBUFS;
import static io.homa.driver.net.LibC.EWOULDBLOCK;
import static io.homa.driver.net.LibC.IOVEC_BASE_OFFSET;
import static io.homa.driver.net.LibC.IOVEC_LENGTH;
import static io.homa.driver.net.LibC.IOVEC_LEN_OFFSET;
import static io.homa.driver.net.LibC.IPV6_TCLASS;
import static io.homa.driver.net.LibC.IP_TOS;
import static io.homa.driver.net.LibC.MMSGHDR_LENGTH;
import static io.homa.driver.net.LibC.MSGHDR_CONTROLLEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_CONTROL_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_IOVLEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_IOV_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_NAMELEN_OFFSET;
import static io.homa.driver.net.LibC.MSGHDR_NAME_OFFSET;
import static io.homa.driver.net.LibC.MSG_DONTWAIT;
import static io.homa.driver.net.LibC.SOCKADDR_IN6_ADDR_OFFSET;
import static io.homa.driver.net.LibC.SOCKADDR_IN6_LENGTH;
import static io.homa.driver.net.LibC.SOCKADDR_IN_ADDR_OFFSET;
import static io.homa.driver.net.LibC.SOCKADDR_IN_LENGTH;
import static io.homa.driver.net.LibC.SOCKADDR_IN_PORT_OFFSET;
import static io.homa.driver.net.LibC.SOL_IP;
import static io.homa.driver.net.LibC.SOL_IPV6;
import static io.homa.driver.net.LibC.SOL_UDP;
import static io.homa.driver.net.LibC.UDP_SEGMENT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Sends many UDP datagrams of one {@link UdpSocket} per system call: packets are added to a batch (each as a
 * header piece and a payload piece, both left where they are) and {@link #flush()} hands the batch to
 * {@code sendmmsg}. With UDP GSO on, runs of equal-sized packets to the same peer at the same TOS share one
 * message with a {@code UDP_SEGMENT} control message, and the kernel cuts them apart after a single trip through
 * the stack (the last packet of a run may be shorter).
 * <p>
 * The caller's memory must stay valid until the packets left: when the kernel cannot take everything
 * (EAGAIN/ENOBUFS), {@link #stash()} copies what is left into memory of this class so the caller can release its
 * own. Nothing is allocated per packet. Single-threaded (the sending thread).
 */
public final class UdpBatchSender implements AutoCloseable
{
    /** Messages (datagrams or GSO runs) one batch holds. */
    public static final int MAX_MESSAGES = 64;
    /** Packets in one GSO run (the kernel's UDP_MAX_SEGMENTS is at least this). */
    public static final int MAX_GSO_SEGMENTS = 64;
    /** Largest UDP payload of one IPv4 datagram, which also bounds a GSO run. */
    public static final int MAX_UDP_PAYLOAD = 65_507;
    /** Bytes one batch holds, so a stash never needs more. */
    public static final int MAX_BATCH_BYTES = 1024 * 1024;

    private static final int MAX_IOVECS = 2 * MAX_MESSAGES * 4;
    private static final ValueLayout.OfShort NETWORK_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NETWORK_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong NETWORK_LONG = JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN);
    /** Room for a sockaddr_in6 (28 bytes), kept 8-byte aligned. */
    private static final int SOCKADDR_IN6_STRIDE = 32;
    /** Per message: an IP_TOS cmsg (CMSG_SPACE(4) = 24) then a UDP_SEGMENT cmsg (CMSG_SPACE(2) = 24). */
    private static final int CONTROL_LENGTH = 48;
    private static final int TOS_CMSG_LEN = CMSG_HEADER_LENGTH + 4;
    private static final int SEGMENT_CMSG_LEN = CMSG_HEADER_LENGTH + 2;
    private static final int SEGMENT_CMSG_OFFSET = 24;

    private final UdpSocket socket;
    private final RawIpSocket rawSocket;
    private final RawIp6Socket raw6Socket;
    private final boolean isIpv6;
    private final int nameStride;
    private RefusalListener refusalListener;
    private final Arena arena;
    private final MemorySegment errno;
    private final MemorySegment msgs;
    /** msgs from message i on, made once so a flush creates no segment. */
    private final MemorySegment[] msgsFrom = new MemorySegment[MAX_MESSAGES];
    private final MemorySegment iovs;
    private final MemorySegment addresses;
    private final MemorySegment controls;
    private final UnsafeBuffer stash;
    private final UnsafeBuffer copyView = new UnsafeBuffer(0, 0);
    private final int maxSegmentLength;
    private boolean gso;

    // Per message, for the open batch.
    private final int[] messageIpv4 = new int[MAX_MESSAGES];
    private final long[] messageHigh = new long[MAX_MESSAGES];
    private final long[] messageLow = new long[MAX_MESSAGES];
    private final int[] messagePort = new int[MAX_MESSAGES];
    private final int[] messageTos = new int[MAX_MESSAGES];
    private final int[] messageSegmentLength = new int[MAX_MESSAGES];
    private final int[] messageSegments = new int[MAX_MESSAGES];
    private final int[] messageBytes = new int[MAX_MESSAGES];
    private final int[] messageFirstIov = new int[MAX_MESSAGES];
    private final int[] messageIovs = new int[MAX_MESSAGES];
    private final boolean[] messageClosed = new boolean[MAX_MESSAGES];

    private int firstPending;
    private int messageCount;
    private int iovCount;
    private int batchBytes;
    private boolean isStashed;
    private long syscalls;
    private long gsoMessages;
    private long errors;
    private int lastErrno;

    /**
     * @param socket           the socket to send on (not owned).
     * @param gso              try UDP GSO for runs of equal-sized packets.
     * @param maxSegmentLength largest packet the path takes (GSO segments must fit the MTU).
     */
    public UdpBatchSender(final UdpSocket socket, final boolean gso, final int maxSegmentLength)
    {
        this(socket, null, null, gso, maxSegmentLength);
    }

    /**
     * Batches for a raw IP socket: the same {@code sendmmsg} (the port of each destination is ignored), no GSO.
     *
     * @param socket           the raw socket to send on (not owned).
     * @param maxSegmentLength largest packet the path takes.
     */
    public UdpBatchSender(final RawIpSocket socket, final int maxSegmentLength)
    {
        this(null, socket, null, false, maxSegmentLength);
    }

    /**
     * Batches for a raw IPv6 socket: each destination is a peer key (what refusals report) and its address, added
     * with {@link #add6}; traffic class per packet, no GSO.
     *
     * @param socket           the raw IPv6 socket to send on (not owned).
     * @param maxSegmentLength largest packet the path takes.
     */
    public UdpBatchSender(final RawIp6Socket socket, final int maxSegmentLength)
    {
        this(null, null, socket, false, maxSegmentLength);
    }

    /**
     * Told about each message the kernel refused (and that was dropped).
     */
    @FunctionalInterface
    public interface RefusalListener
    {
        /**
         * @param ipv4  destination of the refused message (the peer key for IPv6).
         * @param errno why.
         */
        void onRefused(int ipv4, int errno);
    }

    /**
     * @param listener told about each refused message (e.g. EHOSTUNREACH for a peer), or null.
     */
    public void refusalListener(final RefusalListener listener)
    {
        this.refusalListener = listener;
    }

    private int fd()
    {
        return null != socket ? socket.fd() : null != rawSocket ? rawSocket.fd() : raw6Socket.fd();
    }

    private UdpBatchSender(
        final UdpSocket socket,
        final RawIpSocket rawSocket,
        final RawIp6Socket raw6Socket,
        final boolean gso,
        final int maxSegmentLength)
    {
        this.socket = socket;
        this.rawSocket = rawSocket;
        this.raw6Socket = raw6Socket;
        this.isIpv6 = null != raw6Socket;
        this.nameStride = isIpv6 ? SOCKADDR_IN6_STRIDE : SOCKADDR_IN_LENGTH;
        this.gso = gso;
        this.maxSegmentLength = maxSegmentLength;
        arena = Arena.ofShared();
        errno = arena.allocate(LibC.errnoStateLayout());
        msgs = arena.allocate((long)MMSGHDR_LENGTH * MAX_MESSAGES, 8);
        iovs = arena.allocate((long)IOVEC_LENGTH * MAX_IOVECS, 8);
        addresses = arena.allocate((long)nameStride * MAX_MESSAGES, 8);
        controls = arena.allocate((long)CONTROL_LENGTH * MAX_MESSAGES, 8);
        stash = new UnsafeBuffer(arena.allocate(MAX_BATCH_BYTES + MAX_UDP_PAYLOAD, 64).address(),
            MAX_BATCH_BYTES + MAX_UDP_PAYLOAD);
        for (int i = 0; i < MAX_MESSAGES; i++)
        {
            final long msg = (long)i * MMSGHDR_LENGTH;
            msgsFrom[i] = msgs.asSlice(msg);
            final long control = (long)i * CONTROL_LENGTH;
            msgs.set(JAVA_LONG, msg + MSGHDR_NAME_OFFSET, addresses.address() + (long)i * nameStride);
            msgs.set(JAVA_INT, msg + MSGHDR_NAMELEN_OFFSET, isIpv6 ? SOCKADDR_IN6_LENGTH : SOCKADDR_IN_LENGTH);
            msgs.set(JAVA_LONG, msg + MSGHDR_CONTROL_OFFSET, controls.address() + control);
            addresses.set(JAVA_SHORT, (long)i * nameStride, (short)(isIpv6 ? AF_INET6 : AF_INET));
            controls.set(JAVA_LONG, control, TOS_CMSG_LEN);
            controls.set(JAVA_INT, control + CMSG_LEVEL_OFFSET, isIpv6 ? SOL_IPV6 : SOL_IP);
            controls.set(JAVA_INT, control + CMSG_TYPE_OFFSET, isIpv6 ? IPV6_TCLASS : IP_TOS);
            controls.set(JAVA_LONG, control + SEGMENT_CMSG_OFFSET, SEGMENT_CMSG_LEN);
            controls.set(JAVA_INT, control + SEGMENT_CMSG_OFFSET + CMSG_LEVEL_OFFSET, SOL_UDP);
            controls.set(JAVA_INT, control + SEGMENT_CMSG_OFFSET + CMSG_TYPE_OFFSET, UDP_SEGMENT);
        }
    }

    /**
     * Whether this kernel and path take UDP GSO: sends a two-segment probe from a throwaway socket to another on
     * the same address (setup-time only).
     *
     * @param address local IPv4 address as an int.
     * @param segment segment length to probe with.
     * @return true if the kernel accepted the probe.
     */
    public static boolean probeGso(final int address, final int segment)
    {
        try (UdpSocket from = UdpSocket.open(toInet(address), 0);
            UdpSocket to = UdpSocket.open(toInet(address), 0);
            UdpBatchSender sender = new UdpBatchSender(from, true, segment))
        {
            final UnsafeBuffer probe = new UnsafeBuffer(sender.arena.allocate(2L * segment, 8).address(), 2 * segment);
            sender.add(probe.addressOffset(), segment, 0, 0, address, to.localPort(), 0);
            sender.add(probe.addressOffset() + segment, segment, 0, 0, address, to.localPort(), 0);
            return 2 == sender.flush() && 0 == sender.errors && 1 == sender.gsoMessages;
        }
        catch (final RuntimeException ex)
        {
            return false;
        }
    }

    private static java.net.InetAddress toInet(final int ipv4)
    {
        try
        {
            return java.net.InetAddress.getByAddress(
                new byte[]{ (byte)(ipv4 >>> 24), (byte)(ipv4 >>> 16), (byte)(ipv4 >>> 8), (byte)ipv4 });
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalArgumentException(ex);
        }
    }

    /**
     * @return true if runs of packets go out as GSO messages.
     */
    public boolean isGso()
    {
        return gso;
    }

    /**
     * Adds a packet to the batch, joining the last message as a GSO segment where it can.
     *
     * @param headerAddress  first piece.
     * @param headerLength   its length.
     * @param payloadAddress second piece (ignored when payloadLength is 0).
     * @param payloadLength  its length.
     * @param ipv4           destination address.
     * @param port           destination port.
     * @param tos            IP TOS byte.
     * @return false if the batch is full (flush first) or holds a stash.
     */
    public boolean add(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int port,
        final int tos)
    {
        final int length = headerLength + payloadLength;
        final int pieces = payloadLength > 0 ? 2 : 1;
        if (isStashed || iovCount + pieces > MAX_IOVECS || batchBytes + length > MAX_BATCH_BYTES)
        {
            return false;
        }

        final int last = messageCount - 1;
        if (gso && last >= firstPending && !messageClosed[last] && messageIpv4[last] == ipv4 &&
            messagePort[last] == port && messageTos[last] == tos && length <= messageSegmentLength[last] &&
            messageSegments[last] < MAX_GSO_SEGMENTS && messageBytes[last] + length <= MAX_UDP_PAYLOAD &&
            messageFirstIov[last] + messageIovs[last] == iovCount)
        {
            addIov(headerAddress, headerLength);
            if (payloadLength > 0)
            {
                addIov(payloadAddress, payloadLength);
            }
            messageIovs[last] += pieces;
            messageSegments[last]++;
            messageBytes[last] += length;
            // A shorter packet can only be the run's last segment.
            messageClosed[last] = length < messageSegmentLength[last];
            batchBytes += length;
            prepare(last);
            return true;
        }

        if (messageCount == MAX_MESSAGES)
        {
            return false;
        }
        final int m = messageCount++;
        messageIpv4[m] = ipv4;
        messagePort[m] = port;
        messageTos[m] = tos;
        messageSegmentLength[m] = length;
        messageSegments[m] = 1;
        messageBytes[m] = length;
        messageFirstIov[m] = iovCount;
        messageIovs[m] = pieces;
        messageClosed[m] = length > maxSegmentLength;
        addIov(headerAddress, headerLength);
        if (payloadLength > 0)
        {
            addIov(payloadAddress, payloadLength);
        }
        batchBytes += length;
        prepare(m);
        return true;
    }

    /**
     * Adds a packet for an IPv6 destination (a sender made for a {@link RawIp6Socket}); never joins a GSO run.
     *
     * @param headerAddress  first piece.
     * @param headerLength   its length.
     * @param payloadAddress second piece (ignored when payloadLength is 0).
     * @param payloadLength  its length.
     * @param peer           the peer key, reported to the refusal listener.
     * @param high           destination address, first eight bytes.
     * @param low            destination address, last eight bytes.
     * @param trafficClass   IPv6 traffic class.
     * @return false if the batch is full (flush first) or holds a stash.
     */
    public boolean add6(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int peer,
        final long high,
        final long low,
        final int trafficClass)
    {
        if (!isIpv6)
        {
            throw new IllegalStateException("not an IPv6 sender");
        }
        // Without GSO every packet is a message of its own, the next one: its address goes there.
        final int m = messageCount;
        if (MAX_MESSAGES == m)
        {
            return false;
        }
        messageHigh[m] = high;
        messageLow[m] = low;
        return add(headerAddress, headerLength, payloadAddress, payloadLength, peer, 0, trafficClass);
    }

    private void addIov(final long address, final int length)
    {
        final long iov = (long)iovCount++ * IOVEC_LENGTH;
        iovs.set(JAVA_LONG, iov + IOVEC_BASE_OFFSET, address);
        iovs.set(JAVA_LONG, iov + IOVEC_LEN_OFFSET, length);
    }

    /**
     * @return messages waiting to be sent (a GSO run counts once).
     */
    public int pendingMessages()
    {
        return messageCount - firstPending;
    }

    /**
     * @return true if what is pending lives in this class's memory, so the caller's memory is free.
     */
    public boolean isStashed()
    {
        return isStashed;
    }

    /**
     * Sends what is pending with as few {@code sendmmsg} calls as it takes. Stops when the kernel would block
     * (what is left stays pending: {@link #stash()} it or call again); a message the kernel refuses outright is
     * dropped and counted in {@link #errors()}.
     *
     * @return packets sent.
     */
    public int flush()
    {
        int packets = 0;
        while (firstPending < messageCount)
        {
            final int count = messageCount - firstPending;
            syscalls++;
            final int sent = LibC.sendmmsg(errno, fd(), msgsFrom[firstPending], count, MSG_DONTWAIT);
            if (sent > 0)
            {
                for (int m = firstPending; m < firstPending + sent; m++)
                {
                    packets += messageSegments[m];
                    if (messageSegments[m] > 1)
                    {
                        gsoMessages++;
                    }
                }
                firstPending += sent;
                continue;
            }
            final int error = sent < 0 ? LibC.errno(errno) : EAGAIN;
            if (EINTR == error)
            {
                continue;
            }
            if (EAGAIN == error || EWOULDBLOCK == error || ENOBUFS == error)
            {
                return packets;
            }
            // This message is refused (e.g. EMSGSIZE): drop it and go on with the rest.
            errors++;
            lastErrno = error;
            if (null != refusalListener)
            {
                refusalListener.onRefused(messageIpv4[firstPending], error);
            }
            firstPending++;
        }
        reset();
        return packets;
    }

    private void prepare(final int m)
    {
        final long msg = (long)m * MMSGHDR_LENGTH;
        final long address = (long)m * nameStride;
        final long control = (long)m * CONTROL_LENGTH;
        addresses.set(NETWORK_SHORT, address + SOCKADDR_IN_PORT_OFFSET, (short)messagePort[m]);
        if (isIpv6)
        {
            addresses.set(NETWORK_LONG, address + SOCKADDR_IN6_ADDR_OFFSET, messageHigh[m]);
            addresses.set(NETWORK_LONG, address + SOCKADDR_IN6_ADDR_OFFSET + 8, messageLow[m]);
        }
        else
        {
            addresses.set(NETWORK_INT, address + SOCKADDR_IN_ADDR_OFFSET, messageIpv4[m]);
        }
        controls.set(JAVA_INT, control + CMSG_DATA_OFFSET, messageTos[m]);
        msgs.set(JAVA_LONG, msg + MSGHDR_IOV_OFFSET, iovs.address() + (long)messageFirstIov[m] * IOVEC_LENGTH);
        msgs.set(JAVA_LONG, msg + MSGHDR_IOVLEN_OFFSET, messageIovs[m]);
        if (messageSegments[m] > 1)
        {
            controls.set(JAVA_SHORT, control + SEGMENT_CMSG_OFFSET + CMSG_DATA_OFFSET,
                (short)messageSegmentLength[m]);
            msgs.set(JAVA_LONG, msg + MSGHDR_CONTROLLEN_OFFSET, CONTROL_LENGTH);
        }
        else
        {
            msgs.set(JAVA_LONG, msg + MSGHDR_CONTROLLEN_OFFSET, SEGMENT_CMSG_OFFSET);
        }
    }

    /**
     * Copies every pending message into this class's memory (one piece each; a GSO run's segments stay back to
     * back, which is all GSO needs), so the caller may release its own. Nothing can be added until they left.
     */
    public void stash()
    {
        if (isStashed || firstPending == messageCount)
        {
            return;
        }
        int stashOffset = 0;
        for (int m = firstPending; m < messageCount; m++)
        {
            final int start = stashOffset;
            for (int i = messageFirstIov[m], end = i + messageIovs[m]; i < end; i++)
            {
                final long iov = (long)i * IOVEC_LENGTH;
                final long base = iovs.get(JAVA_LONG, iov + IOVEC_BASE_OFFSET);
                final int length = (int)iovs.get(JAVA_LONG, iov + IOVEC_LEN_OFFSET);
                copyView.wrap(base, length);
                stash.putBytes(stashOffset, copyView, 0, length);
                stashOffset += length;
            }
            // Reuse the message's first iovec for the copy.
            final long iov = (long)messageFirstIov[m] * IOVEC_LENGTH;
            iovs.set(JAVA_LONG, iov + IOVEC_BASE_OFFSET, stash.addressOffset() + start);
            iovs.set(JAVA_LONG, iov + IOVEC_LEN_OFFSET, stashOffset - start);
            messageIovs[m] = 1;
            prepare(m);
        }
        isStashed = true;
    }

    private void reset()
    {
        firstPending = 0;
        messageCount = 0;
        iovCount = 0;
        batchBytes = 0;
        isStashed = false;
    }

    /**
     * @return {@code sendmmsg} calls made.
     */
    public long syscalls()
    {
        return syscalls;
    }

    /**
     * @return GSO messages sent (each carried two or more packets).
     */
    public long gsoMessages()
    {
        return gsoMessages;
    }

    /**
     * @return messages the kernel refused and that were dropped.
     */
    public long errors()
    {
        return errors;
    }

    /**
     * @return errno of the last refused message.
     */
    public int lastErrno()
    {
        return lastErrno;
    }

    /**
     * Frees the native structures (the socket is not closed).
     */
    public void close()
    {
        arena.close();
    }
}
