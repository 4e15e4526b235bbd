package io.homa.samples.tools;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.RejectReason;
import io.homa.codecs.WireVariants;
import io.homa.codecs.pcap.PcapReader;
import io.homa.codecs.wire.CommonHeaderDecoder;
import io.homa.codecs.wire.CutoffsDecoder;
import io.homa.codecs.wire.DataHeaderDecoder;
import io.homa.samples.Args;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Decodes a pcap of Homa traffic into one line per packet with every header field of every packet type: IP
 * protocol 146 (Linux HomaModule), our UDP framing (the Homa header right after the UDP header) and the ICMP
 * errors Homa peers send. Packets the receiver would drop are shown with {@link PacketClassifier}'s reason.
 * Ends with a summary of counts per type, as comment lines starting with {@code #}. Run with {@code --help}.
 * <p>
 * A packet the capture's snap length cut short is still decoded as far as its headers go, with the length its IP
 * header gives; its line ends with {@code cut=CAPTURED/LENGTH} (bytes of the IP payload the capture holds, of all).
 * A packet whose Homa header itself is cut shows {@code CUT_HEADER} and no fields.
 * <p>
 * UDP datagrams are decoded on the given {@code --udp-port}s (every datagram to or from them, rejects included),
 * or without that option on any port whose payload classifies as a Homa packet.
 */
public final class PacketDump
{
    private static final int UDP_HEADER_LENGTH = 8;

    private PacketDump()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        final int status = run(args, System.out, System.err);
        if (0 != status)
        {
            System.exit(status);
        }
    }

    /**
     * Runs the tool.
     *
     * @param args the command line.
     * @param out  where the packet lines go.
     * @param err  where problems go.
     * @return exit status: 0 ok, 1 bad arguments, 2 unreadable file.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final Args parsed;
        final int[] udpPorts;
        try
        {
            parsed = Args.parse(args, Set.of("udp-port"), Set.of("no-udp", "no-summary"));
            udpPorts = parsePorts(parsed.string("udp-port", ""));
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("packet-dump: " + ex.getMessage());
            err.println(usage());
            return 1;
        }
        if (parsed.help())
        {
            out.println(usage());
            return 0;
        }
        if (parsed.positional().isEmpty())
        {
            err.println("packet-dump: name a pcap file");
            err.println(usage());
            return 1;
        }

        for (final String file : parsed.positional())
        {
            final Dumper dumper = new Dumper(out, !parsed.flag("no-udp"), udpPorts);
            try (PcapReader reader = PcapReader.open(Path.of(file)))
            {
                reader.deliverUdp(!parsed.flag("no-udp")).deliverTruncated(true);
                dumper.reader = reader;
                reader.readAll(dumper);
                if (!parsed.flag("no-summary"))
                {
                    dumper.printSummary(file);
                }
            }
            catch (final IOException ex)
            {
                err.println("packet-dump: " + file + ": " + ex.getMessage());
                return 2;
            }
        }
        out.flush();
        return 0;
    }

    private static int[] parsePorts(final String ports)
    {
        if (ports.isBlank())
        {
            return new int[0];
        }
        final String[] parts = ports.split(",");
        final int[] result = new int[parts.length];
        for (int i = 0; i < parts.length; i++)
        {
            result[i] = Integer.parseInt(parts[i].trim());
            if (result[i] < 1 || result[i] > 0xFFFF)
            {
                throw new IllegalArgumentException("bad UDP port " + parts[i]);
            }
        }
        return result;
    }

    static String usage()
    {
        return """
            packet-dump [options] FILE.pcap...: one line per Homa packet with every header field
              --udp-port P[,P]  decode every UDP datagram to or from these ports as Homa (rejects shown)
                                (default: UDP on any port, shown when its payload classifies as Homa)
              --no-udp          IP protocol 146 and ICMP only
              --no-summary      no '#' summary lines at the end
            Reads classic pcap (Ethernet, raw IP, Linux cooked), IPv4 and IPv6; e.g. a capture made with
              tcpdump -i any -w homa.pcap 'ip proto 146 or udp port 4000 or icmp'
            """;
    }

    /**
     * Turns each delivered IP packet into a line and counts packets per type.
     */
    static final class Dumper implements PcapReader.PacketHandler
    {
        private final PrintStream out;
        private final boolean udp;
        private final int[] udpPorts;
        private final Map<String, Long> counts = new TreeMap<>();
        private final StringBuilder line = new StringBuilder(256);
        private final CommonHeaderDecoder common = new CommonHeaderDecoder();
        private final CutoffsDecoder cutoffs = new CutoffsDecoder();
        private final DataHeaderDecoder data = new DataHeaderDecoder();
        private PcapReader reader;
        private long firstTimestampNs = -1;
        private long udpNotHoma;
        private long packets;
        private long cutPackets;
        // Bytes of the current packet (from its IP payload's start) the capture holds.
        private int captured;

        Dumper(final PrintStream out, final boolean udp, final int[] udpPorts)
        {
            this.out = out;
            this.udp = udp;
            this.udpPorts = udpPorts;
        }

        public void onPacket(
            final int protocol,
            final int tos,
            final DirectBuffer buffer,
            final int offset,
            final int length,
            final int addressOffset,
            final int addressLength)
        {
            line.setLength(0);
            final long nowNs = reader.timestampNs();
            if (firstTimestampNs < 0)
            {
                firstTimestampNs = nowNs;
            }
            line.append(reader.frameCount()).append(' ')
                .append(String.format(Locale.ROOT, "%.6f", (nowNs - firstTimestampNs) / 1e9)).append(' ');
            final String source = address(buffer, addressOffset, addressLength);
            final String destination = address(buffer, addressOffset + addressLength, addressLength);
            captured = Math.min(length, reader.capturedLength());

            switch (protocol)
            {
                case PcapReader.IPPROTO_HOMA ->
                {
                    line.append(source).append(" > ").append(destination).append(" ip146 ");
                    appendTos(tos);
                    appendHoma(buffer, offset, length, captured, false);
                }
                case PcapReader.IPPROTO_UDP ->
                {
                    if (!appendUdp(tos, buffer, offset, length, source, destination))
                    {
                        udpNotHoma++;
                        return;
                    }
                }
                default ->
                {
                    line.append(source).append(" > ").append(destination).append(' ');
                    // An ICMP error is decoded only as far as it was captured.
                    appendIcmp(protocol, buffer, offset, length, captured);
                }
            }
            packets++;
            if (captured < length)
            {
                cutPackets++;
                line.append(" cut=").append(captured).append('/').append(length);
            }
            out.println(line);
        }

        void printSummary(final String file)
        {
            final StringBuilder summary = new StringBuilder("# ").append(file).append(": ").append(packets)
                .append(" packets");
            String separator = ": ";
            for (final Map.Entry<String, Long> entry : counts.entrySet())
            {
                summary.append(separator).append(entry.getKey()).append(' ').append(entry.getValue());
                separator = ", ";
            }
            out.println(summary);
            out.printf(Locale.ROOT,
                "# frames %d, not Homa %d (of which UDP %d), cut by snap length %d (shown with cut=: %d), " +
                "IP fragments %d%n",
                reader.frameCount(), reader.skippedCount() + udpNotHoma, udpNotHoma, reader.truncatedCount(),
                cutPackets, reader.fragmentCount());
        }

        private boolean appendUdp(
            final int tos,
            final DirectBuffer buffer,
            final int offset,
            final int length,
            final String source,
            final String destination)
        {
            if (!udp || captured < UDP_HEADER_LENGTH)
            {
                return false;
            }
            final int sourcePort = buffer.getShort(offset, BIG_ENDIAN) & 0xFFFF;
            final int destinationPort = buffer.getShort(offset + 2, BIG_ENDIAN) & 0xFFFF;
            final int udpLength = buffer.getShort(offset + 4, BIG_ENDIAN) & 0xFFFF;
            final int homaOffset = offset + UDP_HEADER_LENGTH;
            final int homaLength = Math.min(length, Math.max(udpLength, UDP_HEADER_LENGTH)) - UDP_HEADER_LENGTH;
            final int homaCaptured = Math.min(homaLength, captured - UDP_HEADER_LENGTH);

            if (0 == udpPorts.length)
            {
                if (!headerCaptured(buffer, homaOffset, homaLength, homaCaptured) ||
                    classify(buffer, homaOffset, homaLength, true) < 0)
                {
                    return false;
                }
            }
            else if (!contains(udpPorts, sourcePort) && !contains(udpPorts, destinationPort))
            {
                return false;
            }

            line.append(source).append(':').append(sourcePort).append(" > ")
                .append(destination).append(':').append(destinationPort).append(" udp ");
            appendTos(tos);
            appendHoma(buffer, homaOffset, homaLength, homaCaptured, true);
            return true;
        }

        private void appendTos(final int tos)
        {
            line.append("tos=0x").append(hex2(tos)).append(" prio=").append(HomaWire.priorityFromTos(tos)).append(' ');
        }

        private void appendHoma(
            final DirectBuffer buffer, final int offset, final int length, final int captured, final boolean overUdp)
        {
            if (!headerCaptured(buffer, offset, length, captured))
            {
                count("CUT_HEADER");
                line.append("CUT_HEADER len=").append(length);
                return;
            }
            final int type = classify(buffer, offset, length, overUdp);
            final String name = type > 0 ? HomaWire.typeName(type) : "REJECT(" + RejectReason.name(type) + ")";
            count(name);
            line.append(name).append(" len=").append(length);
            if (length < HomaWire.COMMON_HEADER_LENGTH)
            {
                return;
            }

            appendCommon(buffer, offset, type < 0);
            switch (type)
            {
                case HomaWire.DATA -> appendData(buffer, offset, length);
                case HomaWire.GRANT -> line
                    .append(" grantOffset=").append(HomaWire.grantOffset(buffer, offset))
                    .append(" priority=").append(HomaWire.grantPriority(buffer, offset));
                case HomaWire.RESEND ->
                {
                    final long resendLength = HomaWire.resendLength(buffer, offset);
                    line.append(" resendOffset=").append(HomaWire.resendOffset(buffer, offset))
                        .append(" resendLength=").append(HomaWire.RESEND_ALL == resendLength ? "ALL" : resendLength);
                    if (WireVariants.resendHasPriority(length))
                    {
                        line.append(" priority=").append(HomaWire.resendPriority(buffer, offset, length));
                    }
                    else
                    {
                        line.append(" priority=none(36-byte upstream form)");
                    }
                }
                case HomaWire.CUTOFFS ->
                {
                    cutoffs.wrap(buffer, offset, CutoffsDecoder.BLOCK_LENGTH, CutoffsDecoder.SCHEMA_VERSION);
                    line.append(" cutoffs=[");
                    for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                    {
                        line.append(0 == i ? "" : ",").append(cutoffs.unschedCutoffs(i));
                    }
                    line.append("] version=").append(HomaWire.cutoffsVersion(buffer, offset));
                }
                case HomaWire.ACK -> appendAck(buffer, offset);
                default ->
                {
                    // RPC_UNKNOWN, BUSY, FREEZE, NEED_ACK, PORT_UNREACHABLE: no body; rejects: common header only.
                }
            }
            final int headerLength = type > 0 && HomaWire.DATA != type ? headerLength(type, length) : length;
            if (length > headerLength)
            {
                line.append(" trailing=").append(length - headerLength);
            }
        }

        /**
         * @return whether the bytes captured hold the whole Homa header the packet's type needs (the common header
         * for a type not known), so its fields can be read although the snap length may have cut its payload.
         */
        private static boolean headerCaptured(
            final DirectBuffer buffer, final int offset, final int length, final int captured)
        {
            if (captured >= length)
            {
                return true;
            }
            if (captured < HomaWire.COMMON_HEADER_LENGTH)
            {
                return false;
            }
            final int type = HomaWire.type(buffer, offset);
            final boolean known = type >= HomaWire.DATA && type <= HomaWire.ACK;
            return captured >= (known ? headerLength(type, length) : HomaWire.COMMON_HEADER_LENGTH);
        }

        /**
         * Classifies by the length the IP header gives; a cut packet can end near the end of the reader's buffer,
         * which the classifier's bounds check must not mistake for a bad packet.
         */
        private static int classify(final DirectBuffer buffer, final int offset, final int length, final boolean udp)
        {
            return PacketClassifier.classify(buffer, offset, Math.min(length, buffer.capacity() - offset), udp);
        }

        private static int headerLength(final int type, final int length)
        {
            return HomaWire.RESEND == type ? Math.min(length, HomaWire.RESEND_LENGTH) : HomaWire.minLength(type);
        }

        private void appendCommon(final DirectBuffer buffer, final int offset, final boolean showType)
        {
            common.wrap(buffer, offset);
            if (showType)
            {
                line.append(" type=0x").append(hex2(HomaWire.type(buffer, offset)));
            }
            line.append(" sport=").append(HomaWire.sport(buffer, offset))
                .append(" dport=").append(HomaWire.dport(buffer, offset))
                .append(" seq=").append(HomaWire.sequence(buffer, offset))
                .append(" ack3=0x").append(hex2(common.ack(0))).append(hex2(common.ack(1))).append(hex2(common.ack(2)))
                .append(" doff=0x").append(hex2(common.doff()))
                .append(" flags=0x").append(hex2(common.flags()))
                .append(" window=").append(common.window())
                .append(" checksum=0x").append(String.format(Locale.ROOT, "%04x", common.checksum()))
                .append(" urgent=0x").append(String.format(Locale.ROOT, "%04x", common.urgent()))
                .append(" id=").append(HomaWire.senderId(buffer, offset));
        }

        private void appendData(final DirectBuffer buffer, final int offset, final int length)
        {
            data.wrap(buffer, offset, DataHeaderDecoder.BLOCK_LENGTH, DataHeaderDecoder.SCHEMA_VERSION);
            final long segOffset = HomaWire.segOffset(buffer, offset);
            line.append(" msgLen=").append(HomaWire.messageLength(buffer, offset))
                .append(" incoming=").append(HomaWire.incoming(buffer, offset))
                .append(" ack=").append(HomaWire.ackClientId(buffer, offset))
                .append('@').append(HomaWire.ackServerPort(buffer, offset))
                .append(" cutoffVersion=").append(HomaWire.cutoffVersion(buffer, offset))
                .append(" retransmit=").append(HomaWire.retransmit(buffer, offset) ? 1 : 0)
                .append(" pad=0x").append(hex2(data.pad(0))).append(hex2(data.pad(1))).append(hex2(data.pad(2)))
                .append(" segOffset=").append(HomaWire.NO_SEG_OFFSET == segOffset ? "-1" : Long.toString(segOffset))
                .append(" offset=").append(HomaWire.dataOffset(buffer, offset))
                .append(" payload=").append(length - HomaWire.DATA_HEADER_LENGTH);
        }

        private void appendAck(final DirectBuffer buffer, final int offset)
        {
            final int numAcks = HomaWire.numAcks(buffer, offset);
            line.append(" numAcks=").append(numAcks).append(" acks=[");
            for (int i = 0; i < numAcks; i++)
            {
                line.append(0 == i ? "" : ",")
                    .append(HomaWire.ackClientId(buffer, offset, i)).append('@')
                    .append(HomaWire.ackServerPort(buffer, offset, i));
            }
            line.append(']');
        }

        private void appendIcmp(
            final int protocol, final DirectBuffer buffer, final int offset, final int length, final int captured)
        {
            final boolean v6 = PcapReader.IPPROTO_ICMPV6 == protocol;
            final String name = v6 ? "ICMPv6" : "ICMP";
            count(name);
            line.append(v6 ? "icmp6 " : "icmp ").append(name);
            if (captured < 8)
            {
                line.append(" len=").append(length).append(" (short)");
                return;
            }
            final int type = buffer.getByte(offset) & 0xFF;
            final int code = buffer.getByte(offset + 1) & 0xFF;
            line.append(" len=").append(length).append(" type=").append(type).append(" code=").append(code);
            final boolean unreachable = v6 ? 1 == type : 3 == type;
            if (!unreachable)
            {
                return;
            }
            final boolean portUnreachable = v6 ? 4 == code : 3 == code;
            final boolean protocolUnreachable = !v6 && 2 == code;
            line.append(portUnreachable ? " port-unreachable" :
                protocolUnreachable ? " protocol-unreachable" : " dest-unreachable");
            appendQuotedPacket(v6, buffer, offset + 8, captured - 8);
        }

        private void appendQuotedPacket(
            final boolean v6, final DirectBuffer buffer, final int offset, final int length)
        {
            final int innerProtocol;
            final int headerLength;
            final int addressLength = v6 ? 16 : 4;
            if (v6)
            {
                if (length < 40)
                {
                    return;
                }
                innerProtocol = buffer.getByte(offset + 6) & 0xFF;
                headerLength = 40;
                line.append(" quoting ").append(address(buffer, offset + 8, addressLength))
                    .append(" > ").append(address(buffer, offset + 24, addressLength));
            }
            else
            {
                if (length < 20)
                {
                    return;
                }
                innerProtocol = buffer.getByte(offset + 9) & 0xFF;
                headerLength = (buffer.getByte(offset) & 0x0F) * 4;
                line.append(" quoting ").append(address(buffer, offset + 12, addressLength))
                    .append(" > ").append(address(buffer, offset + 16, addressLength));
            }
            line.append(" proto=").append(innerProtocol);
            final int homaOffset = offset + headerLength;
            final int quoted = length - headerLength;
            if (PcapReader.IPPROTO_HOMA == innerProtocol && quoted >= 4)
            {
                line.append(" sport=").append(HomaWire.sport(buffer, homaOffset))
                    .append(" dport=").append(HomaWire.dport(buffer, homaOffset));
                if (quoted >= HomaWire.COMMON_HEADER_LENGTH)
                {
                    line.append(" type=").append(HomaWire.typeName(HomaWire.type(buffer, homaOffset)))
                        .append(" id=").append(HomaWire.senderId(buffer, homaOffset));
                }
            }
        }

        private void count(final String name)
        {
            counts.merge(name, 1L, Long::sum);
        }

        private static boolean contains(final int[] ports, final int port)
        {
            for (final int candidate : ports)
            {
                if (candidate == port)
                {
                    return true;
                }
            }
            return false;
        }

        private static String hex2(final int value)
        {
            final String hex = Integer.toHexString(value & 0xFF);
            return 1 == hex.length() ? "0" + hex : hex;
        }

        private static String address(final DirectBuffer buffer, final int offset, final int length)
        {
            if (4 == length)
            {
                return (buffer.getByte(offset) & 0xFF) + "." + (buffer.getByte(offset + 1) & 0xFF) + "." +
                    (buffer.getByte(offset + 2) & 0xFF) + "." + (buffer.getByte(offset + 3) & 0xFF);
            }
            // IPv6 in the RFC 5952 short form: hex groups, longest run of two or more zero groups as "::".
            final int[] groups = new int[8];
            int bestStart = -1;
            int bestLength = 1;
            for (int i = 0, runStart = -1; i < 8; i++)
            {
                groups[i] = buffer.getShort(offset + 2 * i, BIG_ENDIAN) & 0xFFFF;
                runStart = 0 == groups[i] ? (runStart < 0 ? i : runStart) : -1;
                if (runStart >= 0 && i - runStart + 1 > bestLength)
                {
                    bestStart = runStart;
                    bestLength = i - runStart + 1;
                }
            }
            final StringBuilder text = new StringBuilder("[");
            for (int i = 0; i < 8; i++)
            {
                if (i == bestStart)
                {
                    text.append("::");
                    i += bestLength - 1;
                    continue;
                }
                if (text.length() > 1 && ':' != text.charAt(text.length() - 1))
                {
                    text.append(':');
                }
                text.append(Integer.toHexString(groups[i]));
            }
            return text.append(']').toString();
        }
    }
}
