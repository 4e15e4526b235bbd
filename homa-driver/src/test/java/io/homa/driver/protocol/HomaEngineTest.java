package io.homa.driver.protocol;

import io.homa.client.internal.SocketFileDescriptor;
import io.homa.client.internal.control.MessageEventDecoder;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.ClientProxy;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastBufferDescriptor;
import org.agrona.concurrent.broadcast.BroadcastTransmitter;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine driven directly, with no threads, transport or clock of its own: what goes into the outbound ring
 * and what comes out on a socket's event ring.
 */
class HomaEngineTest
{
    private static final int MAX_PACKET = 1500 - 28;
    private static final int PEER_IP = 0x7F000002;
    private static final int PEER_PORT = 5000;
    private static final long CLIENT_ID = 77;

    @TempDir
    File dir;

    private OutboundPackets outbound;
    private SystemCounters counters;
    private HomaEngine engine;

    @BeforeEach
    void before()
    {
        outbound = new OutboundPackets(new OneToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect((1 << 22) + RingBufferDescriptor.TRAILER_LENGTH))));
        final ClientProxy proxy = new ClientProxy(new BroadcastTransmitter(new UnsafeBuffer(
            ByteBuffer.allocateDirect((1 << 16) + BroadcastBufferDescriptor.TRAILER_LENGTH))));
        counters = new SystemCounters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 18)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16))));
        final HomaEngine.Settings settings = new HomaEngine.Settings(
            40_000, 2, 1_000_000, 1 << 16, 1 << 21, 1 << 21, 1024, MAX_PACKET);
        engine = new HomaEngine(new io.homa.driver.MappedSocketStore(dir), settings, outbound, proxy, counters);
    }

    @AfterEach
    void after()
    {
        engine.close();
    }

    @Test
    void shouldSendOnlyUnscheduledBytesInMtuPacketsEndingAtUnschedBytes()
    {
        engine.onAddSocket(1, CLIENT_ID);
        final DriverSocket socket = engine.socketById(1);
        final int length = 100_000;
        final int sendOffset = 0;
        for (int i = 0; i < length; i++)
        {
            socket.sendRegion.putByte(sendOffset + i, (byte)i);
        }
        engine.onSendRequest(1, CLIENT_ID, 42, 9, sendOffset, length, 0, PEER_IP, PEER_PORT, 100);
        for (int i = 0; i < 100; i++)
        {
            engine.doWork(i);
        }

        final List<int[]> packets = new ArrayList<>();
        outbound.ring().read((msgTypeId, buffer, index, recordLength) ->
        {
            final int header = index + OutboundPackets.PREFIX_LENGTH;
            assertEquals(HomaWire.DATA, buffer.getInt(index + OutboundPackets.TYPE_OFFSET));
            assertEquals(PEER_IP, buffer.getInt(index + OutboundPackets.DEST_IPV4_OFFSET));
            assertEquals(PEER_PORT, buffer.getInt(index + OutboundPackets.DEST_PORT_OFFSET));
            assertEquals(42, HomaWire.senderId(buffer, header));
            assertEquals(100, HomaWire.dport(buffer, header));
            assertEquals(length, HomaWire.messageLength(buffer, header));
            assertEquals(40_000, HomaWire.incoming(buffer, header), "incoming = min(unsched_bytes, length)");
            final int offset = (int)HomaWire.dataOffset(buffer, header);
            assertEquals(offset, HomaWire.sequence(buffer, header), "true offset in both fields");
            final int payload = buffer.getInt(index + OutboundPackets.PAYLOAD_LENGTH_OFFSET);
            final long payloadAddress = buffer.getLong(index + OutboundPackets.PAYLOAD_ADDRESS_OFFSET);
            assertEquals(socket.sendRegion.addressOffset() + sendOffset + offset, payloadAddress);
            packets.add(new int[]{ offset, payload });
        }, Integer.MAX_VALUE);

        int expectedOffset = 0;
        for (final int[] packet : packets)
        {
            assertEquals(expectedOffset, packet[0], "packets are contiguous");
            assertTrue(packet[1] <= MAX_PACKET - HomaWire.DATA_HEADER_LENGTH, "fits the MTU");
            assertFalse(packet[0] < 40_000 && packet[0] + packet[1] > 40_000, "no packet straddles unsched_bytes");
            expectedOffset += packet[1];
        }
        // Without GRANTs only the unscheduled bytes may leave, and the last unscheduled packet ends exactly there.
        assertEquals(40_000, expectedOffset);
        assertTrue(packets.stream().anyMatch(p -> p[0] + p[1] == 40_000), "a packet ends exactly at 40,000");
    }

    @Test
    void shouldReassembleReorderedAndDuplicatedPacketsIntoThePoolAndDeliverOnce()
    {
        engine.onAddSocket(1, CLIENT_ID);
        engine.onBindSocket(2, CLIENT_ID, 1, 100);
        final int length = 5_000;
        final int[][] segments = { { 3_750, 5_000 }, { 1_250, 2_500 }, { 0, 1_250 }, { 1_250, 2_500 }, { 2_500, 3_750 } };
        final PacketWriter writer = new PacketWriter();
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[2_000]);
        for (final int[] segment : segments)
        {
            writer.data(packet, 0, 33_000, 100, 1_000, length, length, 0, 0, 0, false, segment[0]);
            for (int i = segment[0]; i < segment[1]; i++)
            {
                packet.putByte(HomaWire.DATA_HEADER_LENGTH + i - segment[0], (byte)(i * 7));
            }
            engine.onPacket(packet, 0, HomaWire.DATA_HEADER_LENGTH + segment[1] - segment[0], PEER_IP, PEER_PORT, 0);
        }

        assertEquals(1, counters.get(SystemCounterDescriptor.DUPLICATE_DATA).get());
        assertEquals(1, counters.get(SystemCounterDescriptor.SERVER_REQUESTS_DONE).get());

        final File file = SocketFileDescriptor.socketFile(dir, 1);
        final MappedByteBuffer mapped = IoUtil.mapExistingFile(file, "socket");
        try
        {
            final UnsafeBuffer meta = SocketFileDescriptor.metaDataBuffer(mapped);
            final OneToOneRingBuffer events = new OneToOneRingBuffer(SocketFileDescriptor.eventRingBuffer(mapped, meta));
            final UnsafeBuffer pool = SocketFileDescriptor.poolBuffer(mapped, meta);
            final MessageEventDecoder decoder = new MessageEventDecoder();
            final int[] delivered = new int[1];
            events.read((msgTypeId, buffer, index, recordLength) ->
            {
                assertEquals(MessageEventDecoder.TEMPLATE_ID, msgTypeId);
                decoder.wrap(buffer, index, MessageEventDecoder.BLOCK_LENGTH, MessageEventDecoder.SCHEMA_VERSION);
                assertEquals(length, decoder.length());
                assertEquals(1, decoder.rpcId() & 1, "requests have odd ids");
                assertEquals(PEER_IP, decoder.peerAddress());
                assertEquals(33_000, decoder.peerPort());
                for (int i = 0; i < length; i++)
                {
                    assertEquals((byte)(i * 7), pool.getByte(decoder.poolOffset() + i), "byte " + i);
                }
                delivered[0]++;
            }, Integer.MAX_VALUE);
            assertEquals(1, delivered[0]);
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }

    @Test
    void shouldSurviveHostilePacketsAndKeepServing()
    {
        engine.onAddSocket(1, CLIENT_ID);
        engine.onBindSocket(2, CLIENT_ID, 1, 100);
        final PacketWriter writer = new PacketWriter();
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[3_000]);
        final java.util.Random random = new java.util.Random(1234);
        final int[] types = { HomaWire.DATA, HomaWire.GRANT, HomaWire.RESEND, HomaWire.RPC_UNKNOWN, HomaWire.BUSY,
            HomaWire.CUTOFFS, HomaWire.FREEZE, HomaWire.NEED_ACK, HomaWire.ACK, HomaWire.PORT_UNREACHABLE };
        for (int i = 0; i < 100_000; i++)
        {
            final int type = types[random.nextInt(types.length)];
            final long id = random.nextInt(8);
            final int sport = random.nextBoolean() ? 33_000 : random.nextInt(0x10000);
            final int dport = random.nextBoolean() ? 100 : random.nextInt(0x10000);
            int length = switch (type)
            {
                case HomaWire.DATA ->
                {
                    final int messageLength = 1 + random.nextInt(4_000);
                    final int offset = random.nextInt(messageLength);
                    final int payload = 1 + random.nextInt(Math.min(1_400, messageLength - offset));
                    writer.data(packet, 0, sport, dport, id, messageLength, messageLength, random.nextInt(6), 100,
                        0, random.nextBoolean(), offset);
                    yield HomaWire.DATA_HEADER_LENGTH + payload;
                }
                case HomaWire.GRANT -> writer.grant(packet, 0, sport, dport, id, random.nextInt(), random.nextInt(8));
                case HomaWire.RESEND -> writer.resend(packet, 0, sport, dport, id, random.nextInt(), -1, 7);
                case HomaWire.CUTOFFS -> writer.cutoffs(packet, 0, sport, dport, id, HomaWire.defaultCutoffs(), 2);
                case HomaWire.ACK -> writer.ack(packet, 0, sport, dport, id, random.nextInt(6),
                    new long[]{ 1, 2, 3, 4, 5 }, new int[]{ 100, 100, 7, 100, 9 });
                default -> writer.busy(packet, 0, sport, dport, id);
            };
            packet.putByte(11, (byte)type); // the type byte: turns the 28-byte BUSY into each 28-byte type
            if (random.nextInt(4) == 0)
            {
                packet.putByte(random.nextInt(length), (byte)random.nextInt());
            }
            if (random.nextInt(8) == 0)
            {
                length = random.nextInt(length + 1);
            }
            engine.onPacket(packet, 0, length, PEER_IP + random.nextInt(3), PEER_PORT, i);
            if (0 == (i & 1023))
            {
                engine.doWork(i);
                outbound.ring().read((msgTypeId, buffer, index, recordLength) -> { }, Integer.MAX_VALUE);
            }
        }

        // Still serving: a well-formed request from a new peer is delivered.
        engine.doWork(200_000);
        outbound.ring().read((msgTypeId, buffer, index, recordLength) -> { }, Integer.MAX_VALUE);
        final long before = counters.get(SystemCounterDescriptor.SERVER_REQUESTS_DONE).get();
        writer.data(packet, 0, 33_000, 100, 1_000_000, 10, 10, 0, 0, 0, false, 0);
        engine.onPacket(packet, 0, HomaWire.DATA_HEADER_LENGTH + 10, 0x0A000001, 1, 200_001);
        assertEquals(before + 1, counters.get(SystemCounterDescriptor.SERVER_REQUESTS_DONE).get());
        assertTrue(counters.get(SystemCounterDescriptor.SHORT_PACKETS).get() > 0);
    }

    @Test
    void shouldAnswerRequestForUnboundPortWithPortUnreachable()
    {
        engine.onAddSocket(1, CLIENT_ID);
        final PacketWriter writer = new PacketWriter();
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[200]);
        writer.data(packet, 0, 33_000, 4_321, 1_000, 100, 100, 0, 0, 0, false, 0);
        engine.onPacket(packet, 0, HomaWire.DATA_HEADER_LENGTH + 100, PEER_IP, PEER_PORT, 0);

        final int[] seen = new int[1];
        outbound.ring().read((msgTypeId, buffer, index, recordLength) ->
        {
            final int header = index + OutboundPackets.PREFIX_LENGTH;
            assertEquals(HomaWire.PORT_UNREACHABLE, HomaWire.type(buffer, header));
            assertEquals(4_321, HomaWire.sport(buffer, header));
            assertEquals(33_000, HomaWire.dport(buffer, header));
            assertEquals(1_000, HomaWire.senderId(buffer, header));
            assertEquals(HomaWire.tos(7), buffer.getInt(index + OutboundPackets.TOS_OFFSET));
            seen[0]++;
        }, Integer.MAX_VALUE);
        assertEquals(1, seen[0]);
        assertEquals(0, engine.activeRpcCount());
    }

    @Test
    void shouldNotAskForBytesItNeverGranted()
    {
        engine.onAddSocket(1, CLIENT_ID);
        engine.onBindSocket(2, CLIENT_ID, 1, 100);
        final int length = 1_000_000;
        final PacketWriter writer = new PacketWriter();
        final UnsafeBuffer packet = new UnsafeBuffer(new byte[2_000]);
        writer.data(packet, 0, 33_000, 100, 1_000, length, 40_000, 0, 0, 0, false, 0);
        engine.onPacket(packet, 0, HomaWire.DATA_HEADER_LENGTH + 1_400, PEER_IP, PEER_PORT, 0);

        // The sender goes silent; the receiver's timer asks again, but only for what it allowed the sender to send.
        long nowNs = 0;
        for (int tick = 0; tick < 20; tick++)
        {
            nowNs += 1_000_000;
            engine.doWork(nowNs);
        }
        final long[] grantedAndResends = { 40_000, 0 };
        final List<long[]> resends = new ArrayList<>();
        outbound.ring().read((msgTypeId, buffer, index, recordLength) ->
        {
            final int header = index + OutboundPackets.PREFIX_LENGTH;
            if (HomaWire.GRANT == HomaWire.type(buffer, header))
            {
                grantedAndResends[0] = Math.max(grantedAndResends[0], HomaWire.grantOffset(buffer, header));
            }
            else if (HomaWire.RESEND == HomaWire.type(buffer, header))
            {
                resends.add(new long[]{ HomaWire.resendOffset(buffer, header), HomaWire.resendLength(buffer, header) });
            }
        }, Integer.MAX_VALUE);
        assertFalse(resends.isEmpty(), "silence noticed");
        for (final long[] resend : resends)
        {
            assertTrue(resend[0] + resend[1] <= grantedAndResends[0],
                "RESEND [" + resend[0] + ", +" + resend[1] + ") beyond the granted " + grantedAndResends[0]);
        }
        assertTrue(grantedAndResends[0] < length, "not everything was granted at once");
    }
}
