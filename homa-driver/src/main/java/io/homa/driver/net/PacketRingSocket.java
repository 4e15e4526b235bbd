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

import static io.homa.driver.net.LibC.AF_PACKET;
import static io.homa.driver.net.LibC.EAGAIN;
import static io.homa.driver.net.LibC.EINTR;
import static io.homa.driver.net.LibC.ENOBUFS;
import static io.homa.driver.net.LibC.MAP_SHARED;
import static io.homa.driver.net.LibC.MSG_DONTWAIT;
import static io.homa.driver.net.LibC.PACKET_IGNORE_OUTGOING;
import static io.homa.driver.net.LibC.PACKET_LOSS;
import static io.homa.driver.net.LibC.PACKET_RX_RING;
import static io.homa.driver.net.LibC.PACKET_TX_RING;
import static io.homa.driver.net.LibC.PACKET_VERSION;
import static io.homa.driver.net.LibC.PROT_READ_WRITE;
import static io.homa.driver.net.LibC.SOCK_CLOEXEC;
import static io.homa.driver.net.LibC.SOCK_NONBLOCK;
import static io.homa.driver.net.LibC.SOCK_RAW;
import static io.homa.driver.net.LibC.SOL_PACKET;
import static io.homa.driver.net.LibC.SOL_SOCKET;
import static io.homa.driver.net.LibC.SO_ATTACH_FILTER;
import static io.homa.driver.net.LibC.TPACKET_V3;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An {@code AF_PACKET} socket on one interface with memory-mapped {@code TPACKET_V3} (or V2) RX and TX rings,
 * so that packets move between the kernel and the agents through shared memory: receiving costs no system call
 * (the kernel retires blocks of frames into the RX ring, the receiver reads them in place), and one
 * {@code send(fd, NULL, 0)} transmits every frame marked in the TX ring. A classic BPF filter lets only IPv4
 * protocol-146 frames for our address into the RX ring; our own transmissions are kept out
 * ({@code PACKET_IGNORE_OUTGOING}).
 * <p>
 * Frames are whole link-layer frames: {@link #packet(int)} points at the IPv4 header of a received one, and
 * {@link #claimTxFrame()} hands out room for a frame starting with its link-layer header. Nothing is allocated
 * per packet. The RX side belongs to one thread, the TX side to one thread.
 * <p>
 * A TPACKET_V3 block goes to user space when it is full or when its timer ({@code blockTimeoutMs}) retires it, so
 * a lone packet can wait up to that long: the price of V3's batching, visible in round-trip times. TPACKET_V2
 * hands over every frame as soon as it is written, at the cost of one status word per packet.
 */
public final class PacketRingSocket implements AutoCloseable
{
    /** Largest number of packets {@link #receive()} returns at once. */
    public static final int RECEIVE_BATCH = 64;

    private static final int ETH_P_IP = 0x0800;
    private static final int TP_STATUS_KERNEL = 0;
    private static final int TP_STATUS_USER = 1;
    private static final int TP_STATUS_AVAILABLE = 0;
    private static final int TP_STATUS_SEND_REQUEST = 1;
    private static final int TP_STATUS_SENDING = 2;
    private static final int TP_STATUS_WRONG_FORMAT = 4;
    private static final int PACKET_OUTGOING = 4;

    /** {@code struct tpacket_block_desc}: block_status @8, num_pkts @12, offset_to_first_pkt @16. */
    private static final int BLOCK_STATUS_OFFSET = 8;
    private static final int BLOCK_NUM_PKTS_OFFSET = 12;
    private static final int BLOCK_FIRST_PKT_OFFSET = 16;
    /** {@code struct tpacket3_hdr}: next_offset @0, snaplen @12, len @16, status @20, mac @24, net @26. */
    private static final int HDR_NEXT_OFFSET = 0;
    /** {@code TPACKET_ALIGN(sizeof(struct tpacket3_hdr))}: the sockaddr_ll follows; TX data starts here. */
    private static final int V3_HDR_LENGTH = 48;
    /** {@code TPACKET_ALIGN(sizeof(struct tpacket2_hdr))}: status @0, len @4, snaplen @8, mac @12, net @14. */
    private static final int V2_HDR_LENGTH = 32;
    private static final int TPACKET_V2 = 1;
    /** {@code struct tpacket_req} (V2): four u32. */
    private static final int REQ_LENGTH = 16;
    private static final int SLL_PKTTYPE_OFFSET = 10;
    private static final int PAGE_SIZE = 4096;
    /** {@code struct tpacket_req3}: seven u32. */
    private static final int REQ3_LENGTH = 28;

    private int fd;
    private final Arena arena;
    private final MemorySegment errno;
    private final MemorySegment txErrno;
    private final long mapAddress;
    private final long mapLength;
    private final UnsafeBuffer rx;
    private final UnsafeBuffer tx;
    private final int rxBlockSize;
    private final int rxBlocks;
    private final int txFrameSize;
    private final int txFrames;

    private final boolean isV3;
    private final int hdrStatusOffset;
    private final int hdrLenOffset;
    private final int hdrSnaplenOffset;
    private final int hdrMacOffset;
    private final int hdrNetOffset;
    private final int hdrLength;
    private final int rxFrameSize;
    private final int rxFrames;
    private int rxHead;
    private int rxHeld;

    private int rxBlock;
    private boolean isBlockHeld;
    private int blockPacketsLeft;
    private int blockCursor;
    private final int[] packetOffsets = new int[RECEIVE_BATCH];
    private final int[] packetLengths = new int[RECEIVE_BATCH];

    private int txHead;
    private int txPending;
    private long txErrors;

    private PacketRingSocket(
        final Arena arena,
        final int version,
        final int ifindex,
        final long[] filter,
        final int rxBlockSize,
        final int rxBlocks,
        final int blockTimeoutMs,
        final int txFrameSize,
        final int txFrames)
    {
        this.arena = arena;
        this.isV3 = 3 == version;
        hdrStatusOffset = isV3 ? 20 : 0;
        hdrLenOffset = isV3 ? 16 : 4;
        hdrSnaplenOffset = isV3 ? 12 : 8;
        hdrMacOffset = isV3 ? 24 : 12;
        hdrNetOffset = isV3 ? 26 : 14;
        hdrLength = isV3 ? V3_HDR_LENGTH : V2_HDR_LENGTH;
        rxFrameSize = txFrameSize;
        rxFrames = (int)((long)rxBlockSize * rxBlocks / rxFrameSize);
        this.rxBlockSize = rxBlockSize;
        this.rxBlocks = rxBlocks;
        this.txFrameSize = txFrameSize;
        this.txFrames = txFrames;
        errno = arena.allocate(LibC.errnoStateLayout());
        txErrno = arena.allocate(LibC.errnoStateLayout());

        fd = LibC.socket(errno, AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, Short.reverseBytes(
            (short)ETH_P_IP) & 0xFFFF);
        if (fd < 0)
        {
            final int error = LibC.errno(errno);
            throw new UncheckedIOException(new IOException("socket(AF_PACKET, SOCK_RAW) refused: " +
                LibC.describe(error) + (1 == error ? "; packet rings need CAP_NET_RAW" : "")));
        }
        long mapped = -1;
        try
        {
            // The filter goes on before bind, so no frame of anybody else's ever enters the ring.
            attachFilter(arena, errno, fd, filter);
            setInt(SOL_PACKET, PACKET_VERSION, isV3 ? TPACKET_V3 : TPACKET_V2, "PACKET_VERSION");
            // Skip malformed TX frames rather than stall the ring (must come before the rings exist).
            setInt(SOL_PACKET, PACKET_LOSS, 1, "PACKET_LOSS");
            final MemorySegment req = arena.allocate(REQ3_LENGTH, 8);
            final int reqLength = isV3 ? REQ3_LENGTH : REQ_LENGTH;
            req.set(JAVA_INT, 0, rxBlockSize);
            req.set(JAVA_INT, 4, rxBlocks);
            // V3 frames are only accounting; V2 frames are the slots packets land in.
            req.set(JAVA_INT, 8, isV3 ? rxBlockSize : rxFrameSize);
            req.set(JAVA_INT, 12, isV3 ? rxBlocks : rxFrames);
            if (isV3)
            {
                req.set(JAVA_INT, 16, blockTimeoutMs);
            }
            setOption(SOL_PACKET, PACKET_RX_RING, req, reqLength, "PACKET_RX_RING");
            req.fill((byte)0);
            // Blocks are whole pages; frames tile them, so frame i sits at i * txFrameSize in the mapping.
            final int txBlockSize = Math.max(PAGE_SIZE, txFrameSize);
            req.set(JAVA_INT, 0, txBlockSize);
            req.set(JAVA_INT, 4, (int)((long)txFrameSize * txFrames / txBlockSize));
            req.set(JAVA_INT, 8, txFrameSize);
            req.set(JAVA_INT, 12, txFrames);
            setOption(SOL_PACKET, PACKET_TX_RING, req, reqLength, "PACKET_TX_RING");

            final MemorySegment sll = arena.allocate(20, 8);
            sll.set(JAVA_SHORT, 0, (short)AF_PACKET);
            sll.set(JAVA_SHORT, 2, Short.reverseBytes((short)ETH_P_IP));
            sll.set(JAVA_INT, 4, ifindex);
            if (LibC.bind(errno, fd, sll, 20) < 0)
            {
                throw ioException("bind(AF_PACKET, ifindex " + ifindex + ")", LibC.errno(errno));
            }
            // Our own frames would come back as PACKET_OUTGOING copies: not wanted (Linux 4.20+).
            setInt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");

            final long rxLength = (long)rxBlockSize * rxBlocks;
            mapLength = rxLength + (long)txFrameSize * txFrames;
            mapped = LibC.mmap(errno, 0L, mapLength, PROT_READ_WRITE, MAP_SHARED, fd, 0L);
            if (-1 == mapped)
            {
                throw ioException("mmap of the packet rings", LibC.errno(errno));
            }
            mapAddress = mapped;
            rx = new UnsafeBuffer(mapped, (int)rxLength);
            tx = new UnsafeBuffer(mapped + rxLength, txFrameSize * txFrames);
        }
        catch (final RuntimeException ex)
        {
            LibC.close(errno, fd);
            fd = -1;
            throw ex;
        }
    }

    /**
     * Opens the socket and its rings on one interface.
     *
     * @param version        3 for TPACKET_V3 (RX in blocks: fewer wake-ups, but a block waits for its timer), 2 for
     *                       TPACKET_V2 (RX frame by frame: each packet visible at once).
     * @param ifindex        interface index.
     * @param filter         classic BPF program, one instruction per long ({@link #bpf(int, int, int, int)}).
     * @param rxBlockSize    RX block size (a multiple of the page size, larger than the largest frame).
     * @param rxBlocks       RX blocks.
     * @param blockTimeoutMs how long the kernel keeps a partly filled RX block.
     * @param txFrameSize    TX frame size (a multiple of 16 holding 48 bytes of header and the largest frame;
     *                       frames must tile a page-multiple block, so a power of two).
     * @param txFrames       TX frames (a multiple of the frames per page when frames are smaller than a page).
     * @return the open socket.
     */
    public static PacketRingSocket open(
        final int version,
        final int ifindex,
        final long[] filter,
        final int rxBlockSize,
        final int rxBlocks,
        final int blockTimeoutMs,
        final int txFrameSize,
        final int txFrames)
    {
        final Arena arena = Arena.ofShared();
        try
        {
            return new PacketRingSocket(
                arena, version, ifindex, filter, rxBlockSize, rxBlocks, blockTimeoutMs, txFrameSize, txFrames);
        }
        catch (final RuntimeException ex)
        {
            arena.close();
            throw ex;
        }
    }

    /**
     * One classic BPF instruction ({@code struct sock_filter}) packed into a long.
     *
     * @param code opcode.
     * @param jt   jump if true.
     * @param jf   jump if false.
     * @param k    operand.
     * @return the instruction.
     */
    public static long bpf(final int code, final int jt, final int jf, final int k)
    {
        return (code & 0xFFFFL) | (jt & 0xFFL) << 16 | (jf & 0xFFL) << 24 | (k & 0xFFFF_FFFFL) << 32;
    }

    /**
     * The filter for Homa frames to one address: Ethernet type IPv4, IP protocol 146, destination {@code ipv4}.
     *
     * @param ipv4 our address.
     * @return the program.
     */
    public static long[] homaFilter(final int ipv4)
    {
        return new long[]{
            bpf(0x28, 0, 0, 12),            // ldh [12]: EtherType
            bpf(0x15, 0, 5, ETH_P_IP),      // jeq IPv4, else drop
            bpf(0x30, 0, 0, 23),            // ldb [23]: IP protocol
            bpf(0x15, 0, 3, 146),           // jeq Homa, else drop
            bpf(0x20, 0, 0, 30),            // ld [30]: IP destination
            bpf(0x15, 0, 1, ipv4),          // jeq ours, else drop
            bpf(0x06, 0, 0, 0x0004_0000),   // accept the whole frame
            bpf(0x06, 0, 0, 0) };           // drop
    }

    /**
     * Attaches a classic BPF program to any socket ({@code SO_ATTACH_FILTER}).
     *
     * @param fd     the socket.
     * @param filter the program.
     */
    public static void attachFilter(final int fd, final long[] filter)
    {
        try (Arena arena = Arena.ofConfined())
        {
            attachFilter(arena, arena.allocate(LibC.errnoStateLayout()), fd, filter);
        }
    }

    private static void attachFilter(final Arena arena, final MemorySegment errno, final int fd, final long[] filter)
    {
        final MemorySegment program = arena.allocate(8L * filter.length, 8);
        for (int i = 0; i < filter.length; i++)
        {
            program.set(JAVA_LONG, 8L * i, filter[i]);
        }
        // struct sock_fprog: u16 len, then the pointer at 8.
        final MemorySegment fprog = arena.allocate(16, 8);
        fprog.set(JAVA_SHORT, 0, (short)filter.length);
        fprog.set(JAVA_LONG, 8, program.address());
        if (LibC.setsockopt(errno, fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16) < 0)
        {
            throw ioException("setsockopt(SO_ATTACH_FILTER)", LibC.errno(errno));
        }
    }

    /**
     * Takes the next packets from the RX ring, in place. The previous call's packets are given back to the kernel
     * first, so they must no longer be in use.
     *
     * @return packets available through {@link #packet(int)} / {@link #packetLength(int)}, 0 if none.
     */
    public int receive()
    {
        return isV3 ? receiveBlock() : receiveFrames();
    }

    private int receiveFrames()
    {
        for (int i = 0; i < rxHeld; i++)
        {
            final int frame = packetOffsets[i] - (packetOffsets[i] % rxFrameSize);
            rx.putIntRelease(frame + hdrStatusOffset, TP_STATUS_KERNEL);
        }
        rxHeld = 0;
        int count = 0;
        while (count < RECEIVE_BATCH)
        {
            final int frame = rxHead * rxFrameSize;
            if (0 == (rx.getIntVolatile(frame + hdrStatusOffset) & TP_STATUS_USER))
            {
                break;
            }
            rxHead = rxHead + 1 == rxFrames ? 0 : rxHead + 1;
            final int net = rx.getShort(frame + hdrNetOffset) & 0xFFFF;
            final int mac = rx.getShort(frame + hdrMacOffset) & 0xFFFF;
            packetOffsets[count] = frame + net;
            packetLengths[count] = rx.getInt(frame + hdrSnaplenOffset) - (net - mac);
            if (PACKET_OUTGOING == (rx.getByte(frame + hdrLength + SLL_PKTTYPE_OFFSET) & 0xFF))
            {
                // Give it back now: count only packets for the caller.
                rx.putIntRelease(frame + hdrStatusOffset, TP_STATUS_KERNEL);
                continue;
            }
            count++;
        }
        rxHeld = count;
        return count;
    }

    private int receiveBlock()
    {
        if (isBlockHeld && 0 == blockPacketsLeft)
        {
            final int block = rxBlock * rxBlockSize;
            rx.putIntRelease(block + BLOCK_STATUS_OFFSET, TP_STATUS_KERNEL);
            isBlockHeld = false;
            rxBlock = rxBlock + 1 == rxBlocks ? 0 : rxBlock + 1;
        }
        if (!isBlockHeld)
        {
            final int block = rxBlock * rxBlockSize;
            if (0 == (rx.getIntVolatile(block + BLOCK_STATUS_OFFSET) & TP_STATUS_USER))
            {
                return 0;
            }
            isBlockHeld = true;
            blockPacketsLeft = rx.getInt(block + BLOCK_NUM_PKTS_OFFSET);
            blockCursor = block + rx.getInt(block + BLOCK_FIRST_PKT_OFFSET);
        }

        int count = 0;
        while (blockPacketsLeft > 0 && count < RECEIVE_BATCH)
        {
            final int header = blockCursor;
            blockPacketsLeft--;
            blockCursor = header + rx.getInt(header + HDR_NEXT_OFFSET);
            if (PACKET_OUTGOING == (rx.getByte(header + hdrLength + SLL_PKTTYPE_OFFSET) & 0xFF))
            {
                continue;
            }
            final int net = rx.getShort(header + hdrNetOffset) & 0xFFFF;
            final int mac = rx.getShort(header + hdrMacOffset) & 0xFFFF;
            packetOffsets[count] = header + net;
            packetLengths[count] = rx.getInt(header + hdrSnaplenOffset) - (net - mac);
            count++;
        }
        return count;
    }

    /**
     * @param i packet index, less than {@link #receive()}'s count.
     * @return native address of its IPv4 header.
     */
    public long packet(final int i)
    {
        return rx.addressOffset() + packetOffsets[i];
    }

    /**
     * @param i packet index.
     * @return bytes captured from its IPv4 header on (may include link-layer padding: trust the IP length).
     */
    public int packetLength(final int i)
    {
        return packetLengths[i];
    }

    /**
     * Finds the next free TX frame.
     *
     * @return native address where the frame (link-layer header first) goes, or 0 if the ring is full.
     */
    public long claimTxFrame()
    {
        final int frame = txHead * txFrameSize;
        final int status = tx.getIntVolatile(frame + hdrStatusOffset);
        if (TP_STATUS_AVAILABLE != status)
        {
            if (TP_STATUS_WRONG_FORMAT != status)
            {
                return 0;
            }
            txErrors++;
            tx.putIntRelease(frame + hdrStatusOffset, TP_STATUS_AVAILABLE);
        }
        return tx.addressOffset() + frame + hdrLength;
    }

    /**
     * Marks the claimed frame for sending; {@link #flush()} sends it.
     *
     * @param length frame length.
     */
    public void commitTxFrame(final int length)
    {
        final int frame = txHead * txFrameSize;
        tx.putInt(frame + hdrLenOffset, length);
        if (isV3)
        {
            tx.putInt(frame + HDR_NEXT_OFFSET, 0);
        }
        tx.putIntRelease(frame + hdrStatusOffset, TP_STATUS_SEND_REQUEST);
        txHead = txHead + 1 == txFrames ? 0 : txHead + 1;
        txPending++;
    }

    /**
     * @return largest frame a TX slot holds.
     */
    public int maxTxFrameLength()
    {
        return txFrameSize - hdrLength;
    }

    /**
     * Asks the kernel to transmit every marked frame, without blocking.
     *
     * @return frames handed over (as far as this side knows), 0 if none were pending or the kernel is busy.
     */
    public int flush()
    {
        if (0 == txPending || fd < 0)
        {
            return 0;
        }
        while (true)
        {
            final long result = LibC.sendFlush(txErrno, fd, MSG_DONTWAIT);
            if (result >= 0)
            {
                final int sent = txPending;
                txPending = 0;
                return sent;
            }
            final int error = LibC.errno(txErrno);
            if (EINTR != error)
            {
                if (EAGAIN != error && ENOBUFS != error)
                {
                    txErrors++;
                }
                // Frames still marked stay in the ring; the next flush tries again.
                return 0;
            }
        }
    }

    /**
     * @return true if frames are marked but not yet handed over, or still being sent.
     */
    public boolean hasPendingTx()
    {
        return txPending > 0;
    }

    /**
     * @return TX frames the kernel rejected, or flushes that failed.
     */
    public long txErrors()
    {
        return txErrors;
    }

    /**
     * @return status of TX frame i (tests).
     */
    int txStatus(final int i)
    {
        return tx.getIntVolatile(i * txFrameSize + hdrStatusOffset);
    }

    /**
     * @return true if TX frame i is still queued or sending (tests).
     */
    boolean isTxBusy(final int i)
    {
        final int status = txStatus(i);
        return TP_STATUS_SEND_REQUEST == status || TP_STATUS_SENDING == status;
    }

    /**
     * @return the file descriptor, -1 once closed.
     */
    public int fd()
    {
        return fd;
    }

    /**
     * Unmaps the rings and closes the socket. Idempotent.
     */
    public void close()
    {
        if (fd >= 0)
        {
            final int closing = fd;
            fd = -1;
            LibC.munmap(errno, mapAddress, mapLength);
            LibC.close(errno, closing);
            arena.close();
        }
    }

    private void setInt(final int level, final int name, final int value, final String what)
    {
        final MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        setOption(level, name, v, 4, what);
    }

    private void setOption(final int level, final int name, final MemorySegment value, final int length,
        final String what)
    {
        if (LibC.setsockopt(errno, fd, level, name, value, length) < 0)
        {
            throw ioException("setsockopt(" + what + ")", LibC.errno(errno));
        }
    }

    private static UncheckedIOException ioException(final String what, final int errno)
    {
        return new UncheckedIOException(new IOException(what + " failed: " + LibC.describe(errno)));
    }
}
