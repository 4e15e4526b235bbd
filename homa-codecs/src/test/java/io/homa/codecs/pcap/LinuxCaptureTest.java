package io.homa.codecs.pcap;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.RejectReason;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real traffic between two Linux hosts running HomaModule: every packet must be accepted, the per-type counts
 * must match the capture README, and the fields must obey the protocol's rules as Linux applies them.
 */
class LinuxCaptureTest
{
    private static final int SERVER_PORT = 4000;
    private static final int MAX_IPV4_PAYLOAD_MTU_1500 = 1424;
    private static final int ICMP = 256;
    private static final long UNSCHEDULED_BYTES = 40_000;

    @Test
    void shouldFindBothCaptures() throws IOException
    {
        try (Stream<Path> files = Files.list(SharedDir.linuxCaptures()))
        {
            final List<String> names = files.map((path) -> path.getFileName().toString())
                .filter((name) -> name.endsWith(".pcap")).sorted().toList();
            assertEquals(List.of("medium_10KB_100KB.pcap", "small_100B.pcap"), names);
        }
    }

    @Test
    void shouldClassifySmallCapture() throws IOException
    {
        final Map<Integer, Integer> counts = readCapture("small_100B.pcap", 48);

        assertEquals(41, count(counts, HomaWire.DATA));
        assertEquals(1, count(counts, HomaWire.RESEND));
        assertEquals(2, count(counts, HomaWire.CUTOFFS));
        assertEquals(2, count(counts, HomaWire.NEED_ACK));
        assertEquals(2, count(counts, ICMP));
        assertEquals(48, counts.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void shouldClassifyMediumCapture() throws IOException
    {
        final Map<Integer, Integer> counts = readCapture("medium_10KB_100KB.pcap", 564);

        assertEquals(513, count(counts, HomaWire.DATA));
        assertEquals(41, count(counts, HomaWire.GRANT));
        assertEquals(1, count(counts, HomaWire.RESEND));
        assertEquals(3, count(counts, HomaWire.CUTOFFS));
        assertEquals(4, count(counts, HomaWire.NEED_ACK));
        assertEquals(2, count(counts, HomaWire.ACK));
        assertEquals(564, counts.values().stream().mapToInt(Integer::intValue).sum());
    }

    private static int count(final Map<Integer, Integer> counts, final int type)
    {
        return counts.getOrDefault(type, 0);
    }

    private static Map<Integer, Integer> readCapture(final String name, final int expectedFrames) throws IOException
    {
        final Path file = SharedDir.linuxCaptures().resolve(name);
        final CaptureChecker checker = new CaptureChecker(name);
        try (PcapReader reader = PcapReader.open(file))
        {
            assertEquals(PcapReader.LINKTYPE_ETHERNET, reader.linkType());
            checker.reader = reader;
            reader.readAll(checker);

            assertEquals(expectedFrames, reader.frameCount(), name + " frames");
            assertEquals(expectedFrames, reader.deliveredCount(), name + " delivered");
            assertEquals(0, reader.skippedCount(), name + " skipped");
            assertEquals(0, reader.truncatedCount(), name + " truncated");
            assertEquals(0, reader.fragmentCount(), name + " fragments");
        }

        return checker.counts;
    }

    /**
     * Checks each packet against the rules Linux follows, keeping just enough per-RPC state to do so.
     */
    private static final class CaptureChecker implements PcapReader.PacketHandler
    {
        private final String name;
        private final Map<Integer, Integer> counts = new HashMap<>();
        private final Map<Long, Long> messageLengthBySenderId = new HashMap<>();
        private final Map<Long, Integer> grantPriorityByDataSenderId = new HashMap<>();
        private final Map<Integer, int[]> cutoffsByHost = new HashMap<>();
        private PcapReader reader;

        CaptureChecker(final String name)
        {
            this.name = name;
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
            final String where = name + " frame " + reader.frameCount();
            assertEquals(4, addressLength, where);
            final int srcHost = buffer.getInt(addressOffset, BIG_ENDIAN);
            final int dstHost = buffer.getInt(addressOffset + addressLength, BIG_ENDIAN);

            if (PcapReader.IPPROTO_ICMP == protocol)
            {
                checkIcmp(buffer, offset, length, where);
                counts.merge(ICMP, 1, Integer::sum);
                return;
            }

            assertEquals(PcapReader.IPPROTO_HOMA, protocol, where);
            final int type = PacketClassifier.classify(buffer, offset, length, false);
            if (type < 0)
            {
                fail(where + " rejected: " + RejectReason.name(type));
            }
            counts.merge(type, 1, Integer::sum);

            checkCommon(type, tos, buffer, offset, where);
            switch (type)
            {
                case HomaWire.DATA:
                    checkData(tos, buffer, offset, length, dstHost, where);
                    break;
                case HomaWire.GRANT:
                    checkGrant(buffer, offset, where);
                    break;
                case HomaWire.RESEND:
                    assertEquals(HomaWire.RESEND_LENGTH, length, where);
                    assertEquals(7, HomaWire.resendPriority(buffer, offset, length), where);
                    break;
                case HomaWire.CUTOFFS:
                    checkCutoffs(buffer, offset, length, srcHost, where);
                    break;
                case HomaWire.ACK:
                    checkAck(buffer, offset, length, where);
                    break;
                default:
                    assertEquals(HomaWire.COMMON_HEADER_LENGTH, length, where);
                    break;
            }
        }

        private void checkCommon(
            final int type, final int tos, final DirectBuffer buffer, final int offset, final String where)
        {
            assertEquals(0, tos & 0x1F, where + ": only the priority bits of TOS are used");
            assertEquals(HomaWire.FLAGS, buffer.getByte(offset + 13) & 0xFF, where);
            assertEquals(HomaWire.URGENT, buffer.getShort(offset + 18, BIG_ENDIAN) & 0xFFFF, where);
            assertEquals(0, buffer.getShort(offset + 14, BIG_ENDIAN), where + " window");
            assertEquals(0, buffer.getByte(offset + 8) | buffer.getByte(offset + 9) | buffer.getByte(offset + 10));

            final int sport = HomaWire.sport(buffer, offset);
            final int dport = HomaWire.dport(buffer, offset);
            final long senderId = HomaWire.senderId(buffer, offset);
            if (sport >= HomaWire.HOMA_MIN_DEFAULT_PORT)
            {
                assertEquals(SERVER_PORT, dport, where);
                assertEquals(0, senderId & 1, where + ": client ids are even");
            }
            else
            {
                assertEquals(SERVER_PORT, sport, where);
                assertTrue(dport >= HomaWire.HOMA_MIN_DEFAULT_PORT, where);
                assertEquals(1, senderId & 1, where + ": server ids are odd");
            }

            if (HomaWire.DATA == type)
            {
                assertEquals(HomaWire.DOFF_DATA, buffer.getByte(offset + 12) & 0xFF, where);
            }
            else
            {
                assertEquals(HomaWire.DOFF_CONTROL, buffer.getByte(offset + 12) & 0xFF, where);
                assertEquals(0L, HomaWire.sequence(buffer, offset), where + ": control sequence");
                assertEquals(7, HomaWire.priorityFromTos(tos), where + ": control packets go at priority 7");
            }
        }

        private void checkData(
            final int tos,
            final DirectBuffer buffer,
            final int offset,
            final int length,
            final int dstHost,
            final String where)
        {
            final long messageLength = HomaWire.messageLength(buffer, offset);
            final long incoming = HomaWire.incoming(buffer, offset);
            final long dataOffset = HomaWire.dataOffset(buffer, offset);
            final int payloadLength = length - HomaWire.DATA_HEADER_LENGTH;
            final long senderId = HomaWire.senderId(buffer, offset);
            final boolean retransmit = HomaWire.retransmit(buffer, offset);

            assertTrue(payloadLength > 0 && payloadLength <= MAX_IPV4_PAYLOAD_MTU_1500, where);
            assertTrue(dataOffset + payloadLength <= messageLength, where);
            assertTrue(incoming <= messageLength, where);
            assertTrue(incoming >= dataOffset + payloadLength || !retransmit, where);
            final long fromBoundary = dataOffset < UNSCHEDULED_BYTES ? dataOffset : dataOffset - UNSCHEDULED_BYTES;
            assertEquals(0, fromBoundary % MAX_IPV4_PAYLOAD_MTU_1500, where + ": split at MTU and unscheduled limit");
            if (retransmit)
            {
                assertNotEquals(HomaWire.NO_SEG_OFFSET, HomaWire.segOffset(buffer, offset), where);
                assertEquals(HomaWire.sequence(buffer, offset), dataOffset, where + ": both fields on retransmit");
            }
            else
            {
                assertEquals(Math.min(messageLength, UNSCHEDULED_BYTES), incoming, where + ": unscheduled bytes");
            }

            final long ackClientId = HomaWire.ackClientId(buffer, offset);
            if (0 != ackClientId)
            {
                assertEquals(0, ackClientId & 1, where + ": acks name client ids");
                assertEquals(SERVER_PORT, HomaWire.ackServerPort(buffer, offset), where);
            }

            final Long previous = messageLengthBySenderId.put(senderId, messageLength);
            assertTrue(null == previous || previous == messageLength, where + ": message length changed");

            assertEquals(expectedPriority(buffer, offset, dstHost, where), HomaWire.priorityFromTos(tos), where);
        }

        /**
         * Priority Linux picks: RESEND's priority (7) for retransmissions, the GRANT's for scheduled bytes,
         * 6 before the receiver's cutoffs are known, else the highest level whose cutoff covers the message.
         */
        private int expectedPriority(final DirectBuffer buffer, final int offset, final int dstHost, final String where)
        {
            if (HomaWire.retransmit(buffer, offset))
            {
                return 7;
            }

            if (HomaWire.dataOffset(buffer, offset) >= HomaWire.incoming(buffer, offset))
            {
                final Integer grantPriority = grantPriorityByDataSenderId.get(HomaWire.senderId(buffer, offset));
                assertNotNull(grantPriority, where + ": scheduled DATA before any GRANT");
                return grantPriority;
            }

            if (0 == HomaWire.cutoffVersion(buffer, offset))
            {
                return 6;
            }

            final int[] cutoffs = cutoffsByHost.get(dstHost);
            assertNotNull(cutoffs, where + ": cutoff version set but no CUTOFFS seen from the receiver");
            final long messageLength = HomaWire.messageLength(buffer, offset);
            for (int priority = HomaWire.HOMA_MAX_PRIORITIES - 1; priority > 0; priority--)
            {
                if (cutoffs[priority] >= messageLength)
                {
                    return priority;
                }
            }

            return 0;
        }

        private void checkGrant(final DirectBuffer buffer, final int offset, final String where)
        {
            final long dataSenderId = HomaWire.senderId(buffer, offset) ^ 1;
            final Long messageLength = messageLengthBySenderId.get(dataSenderId);
            assertNotNull(messageLength, where + ": GRANT before any DATA of its message");
            assertTrue(HomaWire.grantOffset(buffer, offset) <= messageLength, where);
            assertTrue(HomaWire.grantOffset(buffer, offset) > UNSCHEDULED_BYTES, where + ": beyond unscheduled");
            grantPriorityByDataSenderId.put(dataSenderId, HomaWire.grantPriority(buffer, offset));
        }

        private void checkCutoffs(
            final DirectBuffer buffer, final int offset, final int length, final int srcHost, final String where)
        {
            assertEquals(HomaWire.CUTOFFS_LENGTH, length, where);
            final int rawEntryZero = buffer.getInt(offset + 28, BIG_ENDIAN);
            assertTrue(0 == rawEntryZero || Integer.MAX_VALUE == rawEntryZero, where);

            final int[] cutoffs = new int[HomaWire.HOMA_MAX_PRIORITIES];
            for (int i = 0; i < cutoffs.length; i++)
            {
                cutoffs[i] = HomaWire.cutoff(buffer, offset, i);
                if (i > 0)
                {
                    assertEquals(HomaWire.DEFAULT_CUTOFFS[i], cutoffs[i], where);
                }
            }
            assertEquals(Integer.MAX_VALUE, cutoffs[0], where);

            final int version = HomaWire.cutoffsVersion(buffer, offset);
            assertEquals(Integer.MAX_VALUE == rawEntryZero ? 2 : 1, version, where + ": rewritten cutoffs are v2");
            cutoffsByHost.put(srcHost, cutoffs);
        }

        private static void checkAck(final DirectBuffer buffer, final int offset, final int length, final String where)
        {
            assertEquals(HomaWire.ACK_LENGTH, length, where);
            final int numAcks = HomaWire.numAcks(buffer, offset);
            for (int i = 0; i < HomaWire.HOMA_MAX_ACKS; i++)
            {
                final long clientId = HomaWire.ackClientId(buffer, offset, i);
                final int serverPort = HomaWire.ackServerPort(buffer, offset, i);
                if (i < numAcks)
                {
                    assertEquals(0, clientId & 1, where);
                    assertEquals(SERVER_PORT, serverPort, where);
                }
                else
                {
                    assertEquals(0L, clientId, where + ": unused slot " + i);
                    assertEquals(0, serverPort, where + ": unused slot " + i);
                }
            }
        }

        private static void checkIcmp(final DirectBuffer buffer, final int offset, final int length, final String where)
        {
            assertEquals(3, buffer.getByte(offset) & 0xFF, where + ": destination unreachable");
            assertEquals(3, buffer.getByte(offset + 1) & 0xFF, where + ": port unreachable");

            final int quoted = offset + 8;
            final int quotedHeaderLength = (buffer.getByte(quoted) & 0x0F) * 4;
            assertEquals(PcapReader.IPPROTO_HOMA, buffer.getByte(quoted + 9) & 0xFF, where + ": quotes a Homa packet");
            final int homa = quoted + quotedHeaderLength;
            assertTrue(length >= homa - offset + HomaWire.COMMON_HEADER_LENGTH, where);
            assertEquals(HomaWire.NEED_ACK, HomaWire.type(buffer, homa), where + ": the late NEED_ACK");
            assertFalse(HomaWire.sport(buffer, homa) >= HomaWire.HOMA_MIN_DEFAULT_PORT, where);
        }
    }
}
