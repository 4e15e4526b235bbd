package io.homa.codecs.pcap;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * Streams a classic pcap file and hands every IP packet carrying Homa (protocol 146), ICMP or ICMPv6 to a
 * {@link PacketHandler}, so captures of Linux traffic can drive codec tests and a packet-dump tool.
 * <p>
 * Understands both byte orders and the micro- and nanosecond variants of the file header; link types
 * Ethernet (1, with 802.1Q/802.1ad tags), raw IP (101, 228, 229) and Linux cooked capture (113, 276);
 * IPv4 (options skipped, fragments skipped) and IPv6 (hop-by-hop, routing, destination options and AH
 * headers skipped; fragments skipped). Packets cut short by the snap length are skipped too, because the
 * Homa payload length is derived from the IP length, unless {@link #deliverTruncated(boolean)} asks for them: then
 * they are delivered with the length their IP header gives and {@link #capturedLength()} says how many of those
 * bytes the capture holds (a header decoder reads only those). pcapng is not supported.
 * <p>
 * The file is read through one reusable direct buffer: nothing is allocated per packet. Not thread-safe.
 */
public final class PcapReader implements AutoCloseable
{
    /** IP protocol number of ICMP. */
    public static final int IPPROTO_ICMP = 1;
    /** IP protocol number of ICMPv6. */
    public static final int IPPROTO_ICMPV6 = 58;
    /** IP protocol number of Homa. */
    public static final int IPPROTO_HOMA = 146;
    /** IP protocol number of UDP, delivered only after {@link #deliverUdp(boolean)} (our UDP framing). */
    public static final int IPPROTO_UDP = 17;

    /** Link type: Ethernet. */
    public static final int LINKTYPE_ETHERNET = 1;
    /** Link type: raw IP, version from the first nibble. */
    public static final int LINKTYPE_RAW = 101;
    /** Link type: Linux cooked capture v1. */
    public static final int LINKTYPE_LINUX_SLL = 113;
    /** Link type: raw IPv4. */
    public static final int LINKTYPE_IPV4 = 228;
    /** Link type: raw IPv6. */
    public static final int LINKTYPE_IPV6 = 229;
    /** Link type: Linux cooked capture v2. */
    public static final int LINKTYPE_LINUX_SLL2 = 276;

    private static final int MAGIC_MICROS = 0xA1B2C3D4;
    private static final int MAGIC_NANOS = 0xA1B23C4D;
    private static final int FILE_HEADER_LENGTH = 24;
    private static final int RECORD_HEADER_LENGTH = 16;
    private static final int MIN_CHUNK_LENGTH = 1 << 20;
    private static final int MAX_RECORD_LENGTH = 1 << 24;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;

    private static final int IPV6_HOP_BY_HOP = 0;
    private static final int IPV6_ROUTING = 43;
    private static final int IPV6_FRAGMENT = 44;
    private static final int IPV6_AH = 51;
    private static final int IPV6_DESTINATION_OPTIONS = 60;

    /**
     * Receives IP packets of interest. Everything passed is only valid during the call.
     */
    @FunctionalInterface
    public interface PacketHandler
    {
        /**
         * One IP packet carrying Homa, ICMP or ICMPv6.
         *
         * @param protocol         {@link #IPPROTO_HOMA}, {@link #IPPROTO_ICMP}, {@link #IPPROTO_ICMPV6} or, when
         *                         enabled, {@link #IPPROTO_UDP}.
         * @param tos              IPv4 TOS byte or IPv6 traffic class (Homa priority = tos >> 5).
         * @param buffer           holding the packet.
         * @param offset           of the IP payload (the Homa header for protocol 146).
         * @param length           of the IP payload, from the IP header's length field.
         * @param addressOffset    of the source address; the destination follows immediately.
         * @param addressLength    4 for IPv4, 16 for IPv6.
         */
        void onPacket(
            int protocol, int tos, DirectBuffer buffer, int offset, int length, int addressOffset, int addressLength);
    }

    private final FileChannel channel;
    private final ByteBuffer chunk;
    private final UnsafeBuffer buffer;
    private final ByteOrder fileOrder;
    private final boolean nanos;
    private final int linkType;
    private final int snapLength;

    private long position;
    private boolean endOfFile;
    private long frameCount;
    private long timestampNs;
    private long deliveredCount;
    private long skippedCount;
    private long truncatedCount;
    private boolean deliverTruncated;
    private int capturedLength;
    private long fragmentCount;
    private boolean deliverUdp;

    private PcapReader(final FileChannel channel) throws IOException
    {
        this.channel = channel;
        final ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_LENGTH).order(LITTLE_ENDIAN);
        while (header.hasRemaining())
        {
            if (channel.read(header) < 0)
            {
                throw new EOFException("pcap file header truncated");
            }
        }

        final int magic = header.getInt(0);
        if (MAGIC_MICROS == magic || MAGIC_NANOS == magic)
        {
            fileOrder = LITTLE_ENDIAN;
            nanos = MAGIC_NANOS == magic;
        }
        else if (MAGIC_MICROS == Integer.reverseBytes(magic) || MAGIC_NANOS == Integer.reverseBytes(magic))
        {
            fileOrder = BIG_ENDIAN;
            nanos = MAGIC_NANOS == Integer.reverseBytes(magic);
        }
        else
        {
            throw new IOException("not a classic pcap file (magic 0x" + Integer.toHexString(magic) + ")");
        }

        header.order(fileOrder);
        snapLength = header.getInt(16);
        linkType = header.getInt(20) & 0xFFFF;

        final int capacity = Math.max(MIN_CHUNK_LENGTH, 2 * (RECORD_HEADER_LENGTH + Math.max(0, snapLength)));
        chunk = ByteBuffer.allocateDirect(capacity);
        chunk.limit(0);
        buffer = new UnsafeBuffer(chunk);
        position = FILE_HEADER_LENGTH;
    }

    /**
     * Open a pcap file and read its header.
     *
     * @param file to read.
     * @return a reader positioned at the first record.
     * @throws IOException if the file cannot be read or is not a classic pcap file.
     */
    public static PcapReader open(final Path file) throws IOException
    {
        final FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try
        {
            return new PcapReader(channel);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /**
     * Read every remaining record.
     *
     * @param handler receives the packets of interest.
     * @return number of packets delivered to the handler by this call.
     * @throws IOException on a read error or a corrupt record header.
     */
    public long readAll(final PacketHandler handler) throws IOException
    {
        final long before = deliveredCount;
        boolean more = true;
        while (more)
        {
            more = readNext(handler);
        }

        return deliveredCount - before;
    }

    /**
     * Read one record and deliver it if it is of interest.
     *
     * @param handler receives the packet if it is of interest.
     * @return false at the end of the file.
     * @throws IOException on a read error or a corrupt record header.
     */
    public boolean readNext(final PacketHandler handler) throws IOException
    {
        if (!ensure(RECORD_HEADER_LENGTH))
        {
            return false;
        }

        final int recordOffset = chunk.position();
        final long seconds = buffer.getInt(recordOffset, fileOrder) & 0xFFFF_FFFFL;
        final long fraction = buffer.getInt(recordOffset + 4, fileOrder) & 0xFFFF_FFFFL;
        final int capturedLength = buffer.getInt(recordOffset + 8, fileOrder);
        if (capturedLength < 0 || capturedLength > MAX_RECORD_LENGTH ||
            capturedLength > chunk.capacity() - RECORD_HEADER_LENGTH)
        {
            throw new IOException("corrupt pcap record length " + capturedLength + " at byte " + position);
        }

        if (!ensure(RECORD_HEADER_LENGTH + capturedLength))
        {
            truncatedCount++;
            return false;
        }

        final int frameOffset = chunk.position() + RECORD_HEADER_LENGTH;
        chunk.position(frameOffset + capturedLength);
        position += RECORD_HEADER_LENGTH + capturedLength;
        frameCount++;
        timestampNs = seconds * 1_000_000_000L + (nanos ? fraction : fraction * 1_000L);

        decodeLink(frameOffset, capturedLength, handler);
        return true;
    }

    /**
     * Also deliver UDP datagrams (protocol {@link #IPPROTO_UDP}, offset at the UDP header), so a tool can find
     * Homa in our UDP framing. Off by default.
     *
     * @param deliver true to deliver UDP.
     * @return this for a fluent API.
     */
    public PcapReader deliverUdp(final boolean deliver)
    {
        this.deliverUdp = deliver;
        return this;
    }

    /**
     * @return the pcap link type of the file.
     */
    public int linkType()
    {
        return linkType;
    }

    /**
     * @param deliver also deliver packets the snap length cut short (their headers may be whole); see
     *                {@link #capturedLength()}. Off by default.
     * @return this.
     */
    public PcapReader deliverTruncated(final boolean deliver)
    {
        this.deliverTruncated = deliver;
        return this;
    }

    /**
     * @return during {@link PacketHandler#onPacket}: how many bytes of the IP payload the capture holds; less than
     * the length passed only for a packet the snap length cut (see {@link #deliverTruncated(boolean)}).
     */
    public int capturedLength()
    {
        return capturedLength;
    }

    /**
     * @return the snap length from the file header.
     */
    public int snapLength()
    {
        return snapLength;
    }

    /**
     * @return records read so far; during a callback, the 1-based number of the current frame.
     */
    public long frameCount()
    {
        return frameCount;
    }

    /**
     * @return timestamp of the current (last read) record, in nanoseconds since the epoch.
     */
    public long timestampNs()
    {
        return timestampNs;
    }

    /**
     * @return packets handed to the handler so far.
     */
    public long deliveredCount()
    {
        return deliveredCount;
    }

    /**
     * @return records that were not Homa, ICMP or ICMPv6 over IP, or were malformed.
     */
    public long skippedCount()
    {
        return skippedCount;
    }

    /**
     * @return records whose IP packet was cut by the snap length, or a final record cut by the end of file.
     */
    public long truncatedCount()
    {
        return truncatedCount;
    }

    /**
     * @return IP fragments, which are skipped.
     */
    public long fragmentCount()
    {
        return fragmentCount;
    }

    /**
     * Close the file.
     *
     * @throws IOException from the channel.
     */
    public void close() throws IOException
    {
        channel.close();
    }

    private boolean ensure(final int length) throws IOException
    {
        if (chunk.remaining() >= length)
        {
            return true;
        }

        chunk.compact();
        while (!endOfFile && chunk.position() < length)
        {
            if (channel.read(chunk) < 0)
            {
                endOfFile = true;
            }
        }
        chunk.flip();

        return chunk.remaining() >= length;
    }

    private void decodeLink(final int offset, final int length, final PacketHandler handler)
    {
        switch (linkType)
        {
            case LINKTYPE_ETHERNET:
                decodeEthernet(offset, length, handler);
                break;

            case LINKTYPE_RAW:
            case LINKTYPE_IPV4:
            case LINKTYPE_IPV6:
                decodeIp(offset, length, handler);
                break;

            case LINKTYPE_LINUX_SLL:
                decodeEtherType(16, 14, offset, length, handler);
                break;

            case LINKTYPE_LINUX_SLL2:
                decodeEtherType(20, 0, offset, length, handler);
                break;

            default:
                skippedCount++;
                break;
        }
    }

    private void decodeEthernet(final int offset, final int length, final PacketHandler handler)
    {
        int typeOffset = 12;
        while (typeOffset + 2 <= length)
        {
            final int etherType = buffer.getShort(offset + typeOffset, BIG_ENDIAN) & 0xFFFF;
            if (ETHERTYPE_VLAN != etherType && ETHERTYPE_QINQ != etherType)
            {
                break;
            }
            typeOffset += 4;
        }

        decodeEtherType(typeOffset + 2, typeOffset, offset, length, handler);
    }

    private void decodeEtherType(
        final int headerLength,
        final int typeOffset,
        final int offset,
        final int length,
        final PacketHandler handler)
    {
        if (length < headerLength)
        {
            skippedCount++;
            return;
        }

        final int etherType = buffer.getShort(offset + typeOffset, BIG_ENDIAN) & 0xFFFF;
        if (ETHERTYPE_IPV4 == etherType || ETHERTYPE_IPV6 == etherType)
        {
            decodeIp(offset + headerLength, length - headerLength, handler);
        }
        else
        {
            skippedCount++;
        }
    }

    private void decodeIp(final int offset, final int length, final PacketHandler handler)
    {
        if (length < 1)
        {
            skippedCount++;
            return;
        }

        final int version = (buffer.getByte(offset) & 0xF0) >> 4;
        if (4 == version)
        {
            decodeIpv4(offset, length, handler);
        }
        else if (6 == version)
        {
            decodeIpv6(offset, length, handler);
        }
        else
        {
            skippedCount++;
        }
    }

    private void decodeIpv4(final int offset, final int length, final PacketHandler handler)
    {
        final int headerLength = (buffer.getByte(offset) & 0x0F) * 4;
        if (length < 20 || headerLength < 20 || headerLength > length)
        {
            skippedCount++;
            return;
        }

        final int tos = buffer.getByte(offset + 1) & 0xFF;
        final int totalLength = buffer.getShort(offset + 2, BIG_ENDIAN) & 0xFFFF;
        final int flagsAndFragment = buffer.getShort(offset + 6, BIG_ENDIAN) & 0xFFFF;
        final int protocol = buffer.getByte(offset + 9) & 0xFF;

        if (0 != (flagsAndFragment & 0x3FFF))
        {
            fragmentCount++;
            return;
        }

        if (totalLength < headerLength)
        {
            skippedCount++;
            return;
        }

        if (totalLength > length)
        {
            truncatedCount++;
            if (!deliverTruncated)
            {
                return;
            }
        }

        deliver(protocol, tos, offset + headerLength, totalLength - headerLength,
            Math.min(totalLength, length) - headerLength, offset + 12, 4, handler);
    }

    private void decodeIpv6(final int offset, final int length, final PacketHandler handler)
    {
        if (length < 40)
        {
            skippedCount++;
            return;
        }

        final int trafficClass = (buffer.getShort(offset, BIG_ENDIAN) >> 4) & 0xFF;
        final int payloadLength = buffer.getShort(offset + 4, BIG_ENDIAN) & 0xFFFF;
        final boolean isCut = 40 + payloadLength > length;
        if (isCut)
        {
            truncatedCount++;
            if (!deliverTruncated)
            {
                return;
            }
        }

        int nextHeader = buffer.getByte(offset + 6) & 0xFF;
        int headerOffset = 40;
        final int end = 40 + payloadLength;
        // Extension headers are walked only within the bytes captured.
        final int capturedEnd = Math.min(end, length);
        while (true)
        {
            if (IPV6_HOP_BY_HOP == nextHeader || IPV6_ROUTING == nextHeader ||
                IPV6_DESTINATION_OPTIONS == nextHeader || IPV6_AH == nextHeader)
            {
                if (headerOffset + 2 > capturedEnd)
                {
                    skippedCount++;
                    return;
                }

                final int extensionLength = buffer.getByte(offset + headerOffset + 1) & 0xFF;
                final int skipLength = IPV6_AH == nextHeader ? (extensionLength + 2) * 4 : (extensionLength + 1) * 8;
                nextHeader = buffer.getByte(offset + headerOffset) & 0xFF;
                headerOffset += skipLength;
                if (headerOffset > end)
                {
                    skippedCount++;
                    return;
                }
            }
            else if (IPV6_FRAGMENT == nextHeader)
            {
                fragmentCount++;
                return;
            }
            else
            {
                break;
            }
        }

        deliver(nextHeader, trafficClass, offset + headerOffset, end - headerOffset,
            Math.max(0, capturedEnd - headerOffset), offset + 8, 16, handler);
    }

    private void deliver(
        final int protocol,
        final int tos,
        final int offset,
        final int length,
        final int captured,
        final int addressOffset,
        final int addressLength,
        final PacketHandler handler)
    {
        capturedLength = captured;
        if (IPPROTO_HOMA == protocol || IPPROTO_ICMP == protocol || IPPROTO_ICMPV6 == protocol ||
            (deliverUdp && IPPROTO_UDP == protocol))
        {
            deliveredCount++;
            handler.onPacket(protocol, tos, buffer, offset, length, addressOffset, addressLength);
        }
        else
        {
            skippedCount++;
        }
    }
}
