package io.homa.samples.tools;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketDumpTest
{
    private static final String[] COMMON_FIELDS =
        { " sport=", " dport=", " seq=", " ack3=0x", " doff=0x", " flags=0x", " window=", " checksum=0x",
          " urgent=0x", " id=" };
    private static final String[] DATA_FIELDS =
        { " msgLen=", " incoming=", " ack=", " cutoffVersion=", " retransmit=", " pad=0x", " segOffset=", " offset=",
          " payload=" };
    private static final int HOMA_UDP_PORT = 4000;
    private static final int CLIENT_PORT = 0x8000;

    @TempDir
    Path tempDir;

    @Test
    void shouldDecodeSmallLinuxCaptureOneLinePerPacket()
    {
        final Dump dump = dump(linuxCapture("small_100B.pcap").toString());
        assertEquals(48, dump.packetLines.size(), dump.out);
        assertEquals(Map.of("DATA", 41L, "RESEND", 1L, "CUTOFFS", 2L, "NEED_ACK", 2L, "ICMP", 2L), dump.countsByType());

        dump.linesOf("DATA").forEach((line) -> assertFields(line, COMMON_FIELDS, DATA_FIELDS));
        dump.linesOf("DATA").forEach((line) -> assertTrue(line.contains(" flags=0x06 ") &&
            line.contains(" urgent=0xb97d ") && line.contains(" ip146 "), line));
        assertTrue(dump.linesOf("CUTOFFS").stream().allMatch((line) -> line.contains(" cutoffs=[") &&
            line.contains(" len=62 ")), dump.out);
        assertTrue(dump.linesOf("CUTOFFS").stream().anyMatch((line) -> line.contains(" version=2")), dump.out);
        assertTrue(dump.linesOf("RESEND").stream().allMatch((line) ->
            line.contains(" resendOffset=") && line.contains(" resendLength=") && line.contains(" priority=")), dump.out);
        assertTrue(dump.linesOf("ICMP").stream().allMatch((line) ->
            line.contains("port-unreachable") && line.contains(" proto=146") && line.contains(" type=NEED_ACK")),
            dump.out);
        assertTrue(dump.out.contains("# frames 48, not Homa 0"), dump.out);
    }

    @Test
    void shouldDecodeMediumLinuxCaptureWithGrantsAndAcks()
    {
        final Dump dump = dump(linuxCapture("medium_10KB_100KB.pcap").toString());
        assertEquals(564, dump.packetLines.size());
        assertEquals(
            Map.of("DATA", 513L, "GRANT", 41L, "RESEND", 1L, "CUTOFFS", 3L, "NEED_ACK", 4L, "ACK", 2L),
            dump.countsByType());
        dump.linesOf("GRANT").forEach((line) ->
        {
            assertFields(line, COMMON_FIELDS, new String[]{ " grantOffset=", " priority=" });
            assertTrue(line.contains(" len=33 "), line);
        });
        dump.linesOf("ACK").forEach((line) ->
            assertFields(line, COMMON_FIELDS, new String[]{ " numAcks=", " acks=[" }));
        assertTrue(dump.linesOf("DATA").stream().anyMatch((line) -> line.contains(" segOffset=-1 ")), dump.out);
        assertTrue(dump.linesOf("DATA").stream().anyMatch((line) -> line.contains(" payload=1424")), dump.out);
        assertTrue(dump.out.contains("# " + linuxCapture("medium_10KB_100KB.pcap") + ": 564 packets: ACK 2, " +
            "CUTOFFS 3, DATA 513, GRANT 41, NEED_ACK 4, RESEND 1"), dump.out);
    }

    @Test
    void shouldDecodeHeadersOfPacketsCutBySnapLengthAndNoteTheCut() throws IOException
    {
        final Path whole = linuxCapture("medium_10KB_100KB.pcap");
        final Path cut = tempDir.resolve("cut200.pcap");
        cutCapture(whole, cut, 200);
        final Dump wholeDump = dump(whole.toString());
        final Dump cutDump = dump(cut.toString());

        // Every packet is still shown, with the same header fields and lengths; the cut ones say how much was kept.
        assertEquals(564, cutDump.packetLines.size(), cutDump.out);
        assertEquals(wholeDump.countsByType(), cutDump.countsByType());
        int cutLines = 0;
        for (int i = 0; i < wholeDump.packetLines.size(); i++)
        {
            final String line = cutDump.packetLines.get(i);
            final int note = line.indexOf(" cut=");
            if (note >= 0)
            {
                cutLines++;
                // 200 captured bytes: 14 Ethernet + 20 IPv4 leave 166 of the IP payload.
                assertTrue(line.substring(note).matches(" cut=166/\\d+"), line);
                assertTrue(Integer.parseInt(line.substring(line.indexOf('/', note) + 1)) > 166, line);
            }
            assertEquals(wholeDump.packetLines.get(i), note < 0 ? line : line.substring(0, note));
        }
        assertTrue(cutLines > 400, "cut lines " + cutLines);
        assertTrue(cutDump.linesOf("DATA").stream().anyMatch((line) -> line.contains(" payload=1424 ") &&
            line.endsWith(" cut=166/1480")), cutDump.out);
        assertTrue(cutDump.out.contains("cut by snap length " + cutLines + " (shown with cut=: " + cutLines + ")"),
            cutDump.out);

        // Cut inside the Homa common header: shown, counted, no fields read from bytes not captured.
        final Path tiny = tempDir.resolve("cut50.pcap");
        cutCapture(whole, tiny, 50);
        final Dump tinyDump = dump(tiny.toString());
        assertEquals(564, tinyDump.packetLines.size(), tinyDump.out);
        assertEquals(Map.of("CUT_HEADER", 564L), tinyDump.countsByType());
        assertTrue(tinyDump.packetLines.stream().noneMatch((line) -> line.contains(" id=")), tinyDump.out);
        assertTrue(tinyDump.packetLines.stream().allMatch((line) -> line.endsWith(" cut=16/" +
            line.substring(line.indexOf(" len=") + 5, line.indexOf(' ', line.indexOf(" len=") + 5)))),
            tinyDump.out);
    }

    /**
     * Copies a little- or big-endian classic pcap keeping at most snapLength bytes of each frame, as tcpdump -s does.
     */
    private static void cutCapture(final Path source, final Path destination, final int snapLength) throws IOException
    {
        final ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(source));
        final int magic = in.getInt(0);
        in.order(0xA1B2C3D4 == magic || 0xA1B23C4D == magic ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer out = ByteBuffer.allocate(in.capacity()).order(in.order());
        out.put(in.array(), 0, 24).putInt(16, snapLength);
        for (int position = 24; position < in.capacity(); )
        {
            final int included = in.getInt(position + 8);
            final int kept = Math.min(included, snapLength);
            out.put(in.array(), position, 16).putInt(out.position() - 8, kept);
            out.put(in.array(), position + 16, kept);
            position += 16 + included;
        }
        Files.write(destination, Arrays.copyOf(out.array(), out.position()));
    }

    @Test
    void shouldDecodeUdpFramedPcapWrittenWithPacketWriter() throws IOException
    {
        final Path file = tempDir.resolve("udp.pcap");
        writeUdpCapture(file);

        final Dump dump = dump("--udp-port", Integer.toString(HOMA_UDP_PORT), file.toString());
        assertEquals(13, dump.packetLines.size(), dump.out);
        assertEquals(Map.ofEntries(
            Map.entry("DATA", 2L), Map.entry("GRANT", 1L), Map.entry("RESEND", 1L), Map.entry("RPC_UNKNOWN", 1L),
            Map.entry("BUSY", 1L), Map.entry("CUTOFFS", 1L), Map.entry("FREEZE", 1L), Map.entry("NEED_ACK", 1L),
            Map.entry("ACK", 1L), Map.entry("PORT_UNREACHABLE", 1L), Map.entry("REJECT(UNKNOWN_TYPE)", 1L),
            Map.entry("REJECT(DATA_EMPTY)", 1L)), dump.countsByType());

        final String data = dump.linesOf("DATA").get(0);
        assertTrue(data.startsWith("1 0.000000 10.0.0.1:5000 > 10.0.0.2:4000 udp tos=0xc0 prio=6 DATA len=72 "),
            data);
        assertTrue(data.contains(" sport=32768 dport=4000 seq=1424 ack3=0x000000 doff=0xe0 flags=0x06 window=0 " +
            "checksum=0x0000 urgent=0xb97d id=42 msgLen=100000 incoming=40000 ack=40@4000 cutoffVersion=1 " +
            "retransmit=0 pad=0x000000 segOffset=1424 offset=1424 payload=16"), data);
        assertTrue(dump.linesOf("DATA").get(1).startsWith("2 0.000010 [::1]:5000 > [::1]:4000 udp"), dump.out);
        assertTrue(dump.linesOf("GRANT").get(0).endsWith(" grantOffset=60000 priority=3"), dump.out);
        assertTrue(dump.linesOf("RESEND").get(0).endsWith(" resendOffset=0 resendLength=ALL priority=7"), dump.out);
        assertTrue(dump.linesOf("CUTOFFS").get(0).endsWith(" cutoffs=[0,0,0,0,1000000,15000,2800,200] version=1"),
            dump.out);
        assertTrue(dump.linesOf("ACK").get(0).endsWith(" numAcks=2 acks=[38@4000,40@4001]"), dump.out);
        assertTrue(dump.linesOf("FREEZE").get(0).contains(" dport=0 "), dump.out);
        assertTrue(dump.linesOf("REJECT(UNKNOWN_TYPE)").get(0).contains(" type=0x05 sport="), dump.out);
        assertTrue(dump.linesOf("REJECT(DATA_EMPTY)").get(0).contains(" len=56 "), dump.out);
        assertTrue(dump.out.contains("not Homa 1 (of which UDP 1)"), dump.out);

        // Without a port: only datagrams whose payload classifies, on any port; the rejects and the DNS-like
        // datagram are not Homa.
        final Dump anyPort = dump(file.toString());
        assertEquals(11, anyPort.packetLines.size(), anyPort.out);
        assertTrue(anyPort.out.contains("not Homa 3 (of which UDP 3)"), anyPort.out);

        final Dump noUdp = dump("--no-udp", file.toString());
        assertEquals(0, noUdp.packetLines.size(), noUdp.out);
    }

    @Test
    void shouldRejectMissingFileAndBadOptions()
    {
        final Dump missing = dump(tempDir.resolve("absent.pcap").toString());
        assertEquals(2, missing.status);
        final Dump noFile = dump();
        assertEquals(1, noFile.status);
        final Dump badPort = dump("--udp-port", "70000", "x.pcap");
        assertEquals(1, badPort.status);
        assertTrue(dump("--help").out.contains("packet-dump"));
    }

    private static void assertFields(final String line, final String[] common, final String[] specific)
    {
        for (final String field : common)
        {
            assertTrue(line.contains(field), field + " missing: " + line);
        }
        for (final String field : specific)
        {
            assertTrue(line.contains(field), field + " missing: " + line);
        }
    }

    private static void writeUdpCapture(final Path file) throws IOException
    {
        final PcapFile pcap = new PcapFile();
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        final PacketWriter writer = new PacketWriter();
        final long clientId = 42;
        final long serverId = clientId ^ 1;

        int length = writer.data(
            buffer, 0, CLIENT_PORT, HOMA_UDP_PORT, clientId, 100_000, 40_000, 40, HOMA_UDP_PORT, 1, false, 1424);
        pcap.udp4(6, 5000, HOMA_UDP_PORT, buffer, length + 16);
        pcap.udp6(6, 5000, HOMA_UDP_PORT, buffer, length + 16);
        length = writer.grant(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId, 60_000, 3);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.resend(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId, 0, -1, 7);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.rpcUnknown(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.busy(buffer, 0, CLIENT_PORT, HOMA_UDP_PORT, clientId);
        pcap.udp4(7, 5000, HOMA_UDP_PORT, buffer, length);
        length = writer.cutoffs(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId, HomaWire.defaultCutoffs(), 1);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.freeze(buffer, 0, HOMA_UDP_PORT, 0, 0);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.needAck(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);
        length = writer.ack(buffer, 0, CLIENT_PORT, HOMA_UDP_PORT, clientId, 2, new long[]{ 38, 40 },
            new int[]{ HOMA_UDP_PORT, 4001 });
        pcap.udp4(7, 5000, HOMA_UDP_PORT, buffer, length);
        length = writer.portUnreachable(buffer, 0, HOMA_UDP_PORT, CLIENT_PORT, serverId);
        pcap.udp4(7, HOMA_UDP_PORT, 5000, buffer, length);

        // Rejects on the Homa port: an unknown type byte and a DATA without payload.
        length = writer.busy(buffer, 0, CLIENT_PORT, HOMA_UDP_PORT, clientId);
        buffer.putByte(11, (byte)0x05);
        pcap.udp4(0, 5000, HOMA_UDP_PORT, buffer, length);
        length = writer.data(buffer, 0, CLIENT_PORT, HOMA_UDP_PORT, clientId, 100, 100, 0, 0, 0, false, 0);
        pcap.udp4(0, 5000, HOMA_UDP_PORT, buffer, length);

        // Not Homa: a DNS-looking datagram on another port.
        buffer.setMemory(0, 40, (byte)0);
        pcap.udp4(0, 53, 33333, buffer, 40);

        Files.write(file, pcap.bytes());
    }

    private static Path linuxCapture(final String name)
    {
        final String property = System.getProperty("homa.shared.dir");
        for (final Path candidate : new Path[]{ null == property ? null : Paths.get(property), Paths.get("..", "..",
            "shared"), Paths.get("..", "shared") })
        {
            if (null != candidate && Files.isRegularFile(candidate.resolve("linux-captures").resolve(name)))
            {
                return candidate.resolve("linux-captures").resolve(name).toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("linux-captures/" + name + " not found: set -Dhoma.shared.dir");
    }

    private static Dump dump(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = PacketDump.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Dump(status, out.toString(StandardCharsets.UTF_8));
    }

    private static final class Dump
    {
        final int status;
        final String out;
        final List<String> packetLines;

        Dump(final int status, final String out)
        {
            this.status = status;
            this.out = out;
            this.packetLines = out.lines().filter((line) -> !line.startsWith("#") && !line.isBlank()).toList();
        }

        /**
         * The type is the first word after the priority (or after the ICMP marker).
         */
        Map<String, Long> countsByType()
        {
            return packetLines.stream().map(Dump::typeOf)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        }

        List<String> linesOf(final String type)
        {
            return packetLines.stream().filter((line) -> type.equals(typeOf(line))).toList();
        }

        static String typeOf(final String line)
        {
            final String[] words = line.split(" ");
            for (int i = 0; i < words.length - 1; i++)
            {
                if (words[i].startsWith("prio=") || "icmp".equals(words[i]) || "icmp6".equals(words[i]))
                {
                    return words[i + 1];
                }
            }
            return "?";
        }
    }

    /**
     * Writes a classic little-endian pcap with raw IPv4/IPv6 link type and UDP datagrams, 10 µs apart.
     */
    private static final class PcapFile
    {
        private static final int LINKTYPE_RAW = 101;
        private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long timestampUs = 1_700_000_000_000_000L;

        PcapFile()
        {
            bytes.putInt(0xA1B2C3D4).putShort((short)2).putShort((short)4).putInt(0).putInt(0).putInt(65_535)
                .putInt(LINKTYPE_RAW);
        }

        void udp4(final int priority, final int sourcePort, final int destinationPort, final UnsafeBuffer payload,
            final int length)
        {
            final int total = 20 + 8 + length;
            record(total);
            bytes.order(ByteOrder.BIG_ENDIAN);
            bytes.put((byte)0x45).put((byte)HomaWire.tos(priority)).putShort((short)total).putShort((short)1)
                .putShort((short)0x4000).put((byte)64).put((byte)17).putShort((short)0)
                .put(new byte[]{ 10, 0, 0, 1 }).put(new byte[]{ 10, 0, 0, 2 });
            udp(sourcePort, destinationPort, payload, length);
        }

        void udp6(final int priority, final int sourcePort, final int destinationPort, final UnsafeBuffer payload,
            final int length)
        {
            record(40 + 8 + length);
            bytes.order(ByteOrder.BIG_ENDIAN);
            final byte[] loopback = new byte[16];
            loopback[15] = 1;
            bytes.putInt(0x6000_0000 | (HomaWire.tos(priority) << 20)).putShort((short)(8 + length)).put((byte)17)
                .put((byte)64).put(loopback).put(loopback);
            udp(sourcePort, destinationPort, payload, length);
        }

        private void record(final int length)
        {
            bytes.order(ByteOrder.LITTLE_ENDIAN);
            bytes.putInt((int)(timestampUs / 1_000_000)).putInt((int)(timestampUs % 1_000_000))
                .putInt(length).putInt(length);
            timestampUs += 10;
        }

        private void udp(final int sourcePort, final int destinationPort, final UnsafeBuffer payload, final int length)
        {
            bytes.putShort((short)sourcePort).putShort((short)destinationPort).putShort((short)(8 + length))
                .putShort((short)0);
            final byte[] body = new byte[length];
            payload.getBytes(0, body);
            bytes.put(body);
        }

        byte[] bytes()
        {
            final byte[] result = new byte[bytes.position()];
            bytes.flip();
            bytes.get(result);
            return result;
        }
    }
}
