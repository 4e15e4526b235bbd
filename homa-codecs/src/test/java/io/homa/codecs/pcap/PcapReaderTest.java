package io.homa.codecs.pcap;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PcapReaderTest
{
    private static final byte[] SRC4 = { 10, 99, 0, 2 };
    private static final byte[] DST4 = { 10, 99, 0, 3 };
    private static final byte[] SRC6 = bytes16(0x20);
    private static final byte[] DST6 = bytes16(0x40);

    @TempDir
    Path tempDir;

    private final List<Seen> seen = new ArrayList<>();
    private final PcapReader.PacketHandler recorder = this::record;

    record Seen(int protocol, int tos, byte[] payload, byte[] src, byte[] dst, long timestampNs) { }

    private PcapReader reader;

    @Test
    void shouldReadLittleEndianMicrosEthernetIpv4()
    {
        final byte[] homa = homaGrant();
        final Pcap pcap = new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_ETHERNET, 65535)
            .record(1_700_000_000, 123_456, ethernet(0x0800, ipv4(0xE0, 146, homa, 5, 0)));

        readAll(pcap);

        assertEquals(1, seen.size());
        final Seen packet = seen.get(0);
        assertEquals(146, packet.protocol);
        assertEquals(0xE0, packet.tos);
        assertArrayEquals(homa, packet.payload);
        assertArrayEquals(SRC4, packet.src);
        assertArrayEquals(DST4, packet.dst);
        assertEquals(1_700_000_000_123_456_000L, packet.timestampNs);
    }

    @Test
    void shouldReadBigEndianNanosRawIpv6WithExtensionHeaders()
    {
        final byte[] homa = homaGrant();
        final byte[] hopByHop = { 60, 0, 1, 4, 0, 0, 0, 0 };
        final byte[] destinationOptions = { (byte)146, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        final Pcap pcap = new Pcap(BIG_ENDIAN, true, PcapReader.LINKTYPE_RAW, 262144)
            .record(5, 999_999_999, ipv6(0xC0, 0, concat(hopByHop, destinationOptions, homa)));

        readAll(pcap);

        assertEquals(1, seen.size());
        final Seen packet = seen.get(0);
        assertEquals(146, packet.protocol);
        assertEquals(0xC0, packet.tos);
        assertEquals(6, HomaWire.priorityFromTos(packet.tos));
        assertArrayEquals(homa, packet.payload);
        assertArrayEquals(SRC6, packet.src);
        assertArrayEquals(DST6, packet.dst);
        assertEquals(5_999_999_999L, packet.timestampNs);
    }

    @Test
    void shouldSkipVlanTagsIpOptionsAndEthernetPadding()
    {
        final byte[] homa = homaGrant();
        final byte[] ip = ipv4(0x20, 146, homa, 6, 0);
        final byte[] tagged = concat(new byte[12], new byte[]{ (byte)0x88, (byte)0xA8, 0, 5, (byte)0x81, 0, 0, 7 },
            new byte[]{ 8, 0 }, ip, new byte[9]);
        final Pcap pcap = new Pcap(LITTLE_ENDIAN, true, PcapReader.LINKTYPE_ETHERNET, 65535).record(0, 0, tagged);

        readAll(pcap);

        assertEquals(1, seen.size());
        assertArrayEquals(homa, seen.get(0).payload, "IP total length wins over captured length");
        assertEquals(1, HomaWire.priorityFromTos(seen.get(0).tos));
    }

    @Test
    void shouldDeliverIcmpFromLinuxCookedCaptures()
    {
        final byte[] icmp = { 3, 3, 0x4E, (byte)0xAB, 0, 0, 0, 0 };
        final byte[] sll = concat(new byte[14], new byte[]{ 8, 0 }, ipv4(0, 1, icmp, 5, 0));
        final byte[] sll2 = concat(new byte[]{ (byte)0x86, (byte)0xDD }, new byte[18], ipv6(0, 58, icmp));

        readAll(new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_LINUX_SLL, 65535).record(0, 0, sll));
        readAll(new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_LINUX_SLL2, 65535).record(0, 0, sll2));

        assertEquals(2, seen.size());
        assertEquals(PcapReader.IPPROTO_ICMP, seen.get(0).protocol);
        assertArrayEquals(icmp, seen.get(0).payload);
        assertEquals(PcapReader.IPPROTO_ICMPV6, seen.get(1).protocol);
        assertArrayEquals(icmp, seen.get(1).payload);
    }

    @Test
    void shouldReadRawIpv4AndIpv6LinkTypes()
    {
        final byte[] homa = homaGrant();
        readAll(new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_IPV4, 65535)
            .record(0, 0, ipv4(0xE0, 146, homa, 5, 0)));
        readAll(new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_IPV6, 65535)
            .record(0, 0, ipv6(0xE0, 146, homa)));

        assertEquals(2, seen.size());
        assertArrayEquals(homa, seen.get(0).payload);
        assertArrayEquals(homa, seen.get(1).payload);
    }

    @Test
    void shouldSkipFragmentsOtherProtocolsAndTruncatedPackets()
    {
        final byte[] homa = homaGrant();
        final byte[] ip = ipv4(0, 146, homa, 5, 0);
        final byte[] ipv6Fragment = ipv6(0, 44, concat(new byte[]{ (byte)146, 0, 0, 1, 0, 0, 0, 1 }, homa));
        final Pcap pcap = new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_ETHERNET, 65535)
            .record(0, 0, ethernet(0x0800, ipv4(0, 146, homa, 5, 0x2000)))
            .record(0, 0, ethernet(0x0800, ipv4(0, 146, homa, 5, 0x0010)))
            .record(0, 0, ethernet(0x86DD, ipv6Fragment))
            .record(0, 0, ethernet(0x0800, ipv4(0, 17, homa, 5, 0)))
            .record(0, 0, ethernet(0x0806, new byte[28]))
            .record(0, 0, ethernet(0x0800, ip), 14 + 40)
            .record(0, 0, new byte[6])
            .record(0, 0, ethernet(0x0800, ip));

        readAll(pcap);

        assertEquals(8, reader.frameCount());
        assertEquals(1, seen.size());
        assertEquals(3, reader.fragmentCount());
        assertEquals(1, reader.truncatedCount());
        assertEquals(3, reader.skippedCount());
        assertEquals(1, reader.deliveredCount());
    }

    @Test
    void shouldStreamFilesLargerThanItsBuffer()
    {
        final Pcap pcap = new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_ETHERNET, 1514);
        final int packets = 3000;
        final byte[] payload = new byte[1400];
        for (int i = 0; i < packets; i++)
        {
            ByteBuffer.wrap(payload).putInt(0, i);
            pcap.record(i, 0, ethernet(0x0800, ipv4(0, 146, payload, 5, 0)));
        }

        readAll(pcap);

        assertEquals(packets, seen.size());
        for (int i = 0; i < packets; i++)
        {
            assertEquals(i, ByteBuffer.wrap(seen.get(i).payload).getInt(0));
            assertEquals(i * 1_000_000_000L, seen.get(i).timestampNs);
        }
    }

    @Test
    void shouldStopCleanlyAtTruncatedLastRecord() throws IOException
    {
        final byte[] homa = homaGrant();
        final Pcap pcap = new Pcap(LITTLE_ENDIAN, false, PcapReader.LINKTYPE_ETHERNET, 65535)
            .record(0, 0, ethernet(0x0800, ipv4(0, 146, homa, 5, 0)))
            .record(0, 0, ethernet(0x0800, ipv4(0, 146, homa, 5, 0)));
        final byte[] whole = pcap.bytes();
        final Path file = tempDir.resolve("cut.pcap");
        Files.write(file, Arrays.copyOf(whole, whole.length - 10));

        try (PcapReader cut = PcapReader.open(file))
        {
            reader = cut;
            assertEquals(1, cut.readAll(recorder));
            assertEquals(1, cut.truncatedCount());
            assertEquals(1, cut.frameCount());
        }
    }

    @Test
    void shouldRejectFilesThatAreNotClassicPcap() throws IOException
    {
        final Path pcapng = tempDir.resolve("x.pcapng");
        Files.write(pcapng, new byte[]{ 0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0 });
        assertThrows(IOException.class, () -> PcapReader.open(pcapng).close());

        final Path tiny = tempDir.resolve("tiny.pcap");
        Files.write(tiny, new byte[]{ (byte)0xD4, (byte)0xC3, (byte)0xB2, (byte)0xA1 });
        assertThrows(IOException.class, () -> PcapReader.open(tiny).close());
    }

    @Test
    void shouldRejectCorruptRecordLength() throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.wrap(new Pcap(LITTLE_ENDIAN, false, 1, 65535).bytes());
        final byte[] corrupt = Arrays.copyOf(bytes.array(), 24 + 16);
        ByteBuffer.wrap(corrupt).order(LITTLE_ENDIAN).putInt(24 + 8, -5);
        final Path file = tempDir.resolve("corrupt.pcap");
        Files.write(file, corrupt);

        try (PcapReader corruptReader = PcapReader.open(file))
        {
            assertThrows(IOException.class, () -> corruptReader.readAll(recorder));
        }
    }

    private void record(
        final int protocol,
        final int tos,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int addressOffset,
        final int addressLength)
    {
        final byte[] payload = new byte[length];
        buffer.getBytes(offset, payload);
        final byte[] src = new byte[addressLength];
        final byte[] dst = new byte[addressLength];
        buffer.getBytes(addressOffset, src);
        buffer.getBytes(addressOffset + addressLength, dst);
        seen.add(new Seen(protocol, tos, payload, src, dst, reader.timestampNs()));
    }

    private void readAll(final Pcap pcap)
    {
        try
        {
            final Path file = Files.createTempFile(tempDir, "test", ".pcap");
            Files.write(file, pcap.bytes());
            reader = PcapReader.open(file);
            try
            {
                reader.readAll(recorder);
            }
            finally
            {
                reader.close();
            }
        }
        catch (final IOException ex)
        {
            throw new RuntimeException(ex);
        }
    }

    private static byte[] homaGrant()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HomaWire.GRANT_LENGTH]);
        new PacketWriter().grant(buffer, 0, 4000, 0x8000, 7, 100_000, 0);
        return buffer.byteArray();
    }

    private static byte[] ethernet(final int etherType, final byte[] ip)
    {
        return concat(new byte[12], new byte[]{ (byte)(etherType >> 8), (byte)etherType }, ip);
    }

    private static byte[] ipv4(
        final int tos, final int protocol, final byte[] payload, final int ihlWords, final int flagsAndFragment)
    {
        final int headerLength = ihlWords * 4;
        final ByteBuffer ip = ByteBuffer.allocate(headerLength + payload.length);
        ip.put(0, (byte)(0x40 | ihlWords))
            .put(1, (byte)tos)
            .putShort(2, (short)(headerLength + payload.length))
            .putShort(6, (short)flagsAndFragment)
            .put(8, (byte)64)
            .put(9, (byte)protocol)
            .put(12, SRC4)
            .put(16, DST4)
            .put(headerLength, payload);
        return ip.array();
    }

    private static byte[] ipv6(final int trafficClass, final int nextHeader, final byte[] payload)
    {
        final ByteBuffer ip = ByteBuffer.allocate(40 + payload.length);
        ip.putInt(0, 0x6000_0000 | (trafficClass << 20) | 0x12345)
            .putShort(4, (short)payload.length)
            .put(6, (byte)nextHeader)
            .put(7, (byte)64)
            .put(8, SRC6)
            .put(24, DST6)
            .put(40, payload);
        return ip.array();
    }

    private static byte[] bytes16(final int base)
    {
        final byte[] bytes = new byte[16];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)(base + i);
        }
        return bytes;
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /**
     * Minimal classic pcap writer for building test files.
     */
    private static final class Pcap
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteOrder order;
        private final boolean nanos;
        private final int snapLength;

        Pcap(final ByteOrder order, final boolean nanos, final int linkType, final int snapLength)
        {
            this.order = order;
            this.nanos = nanos;
            this.snapLength = snapLength;
            final ByteBuffer header = ByteBuffer.allocate(24).order(order);
            header.putInt(nanos ? 0xA1B23C4D : 0xA1B2C3D4)
                .putShort((short)2)
                .putShort((short)4)
                .putInt(0)
                .putInt(0)
                .putInt(snapLength)
                .putInt(linkType);
            out.writeBytes(header.array());
        }

        Pcap record(final int seconds, final int fraction, final byte[] frame)
        {
            return record(seconds, fraction, frame, Math.min(frame.length, snapLength));
        }

        Pcap record(final int seconds, final int fraction, final byte[] frame, final int captured)
        {
            final ByteBuffer header = ByteBuffer.allocate(16).order(order);
            header.putInt(seconds).putInt(fraction).putInt(captured).putInt(frame.length);
            out.writeBytes(header.array());
            out.write(frame, 0, captured);
            return this;
        }

        byte[] bytes()
        {
            return out.toByteArray();
        }
    }
}
