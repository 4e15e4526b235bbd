package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultInjectionTransportTest
{
    private final CountersManager countersManager = new CountersManager(
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64)),
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(16 * 1024, 64)), StandardCharsets.US_ASCII);
    private final AtomicCounter dropped = countersManager.newCounter("dropped");
    private final AtomicCounter duplicated = countersManager.newCounter("duplicated");
    private final AtomicCounter delayed = countersManager.newCounter("delayed");
    private final AtomicCounter corrupted = countersManager.newCounter("corrupted");
    private final Queue network = new Queue();
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
    private long nowNs;

    @Test
    void shouldParseDropIndicesByTypeName()
    {
        final FaultInjection faults = new FaultInjection().dropIndices("DATA:0,3; resend:1");
        assertTrue(faults.isActive());
        assertTrue(faults.isDropIndex(HomaWire.DATA, 0));
        assertTrue(faults.isDropIndex(HomaWire.DATA, 3));
        assertTrue(faults.isDropIndex(HomaWire.RESEND, 1));
        assertEquals(false, faults.isDropIndex(HomaWire.DATA, 1));
        assertEquals(false, faults.isDropIndex(HomaWire.ACK, 0));
        assertThrows(IllegalArgumentException.class, () -> new FaultInjection().dropIndices("NOPE:1"));
        assertThrows(IllegalArgumentException.class, () -> new FaultInjection().dataDropRate(1.5));
        assertEquals(false, new FaultInjection().isActive());
    }

    @Test
    void shouldDropChosenIndicesPerTypeOnly()
    {
        final FaultInjectionTransport transport = transport(new FaultInjection()
            .dropIndices(HomaWire.DATA, 1).dropIndices(HomaWire.BUSY, 0));
        network.add(HomaWire.DATA, 10);
        network.add(HomaWire.BUSY, 11);
        network.add(HomaWire.DATA, 12);
        network.add(HomaWire.DATA, 13);
        network.add(HomaWire.BUSY, 14);

        assertEquals(10, receiveId(transport));
        assertEquals(13, receiveId(transport));
        assertEquals(14, receiveId(transport));
        assertEquals(-1, transport.receive(receiveBuffer.addressOffset(), receiveBuffer.capacity()));
        assertEquals(2, dropped.get());
    }

    @Test
    void shouldDuplicateAndHoldBackSeparatelyForDataAndControl()
    {
        final FaultInjectionTransport transport = transport(new FaultInjection()
            .dataDuplicateRate(1.0).controlReorderRate(1.0).reorderDelayNs(1_000));
        network.add(HomaWire.NEED_ACK, 1);
        network.add(HomaWire.DATA, 2);

        // The control packet is held back; the DATA overtakes it and arrives twice.
        assertEquals(2, receiveId(transport));
        assertEquals(2, receiveId(transport));
        assertEquals(-1, transport.receive(receiveBuffer.addressOffset(), receiveBuffer.capacity()));
        nowNs += 1_001;
        assertEquals(1, receiveId(transport));
        assertEquals(HomaWire.NEED_ACK, HomaWire.type(receiveBuffer, 0));
        assertEquals(1, duplicated.get());
        assertEquals(1, delayed.get());
        assertEquals(0, transport.heldCount());
    }

    @Test
    void shouldFlipOneHeaderBitWhenCorrupting()
    {
        final FaultInjectionTransport transport = transport(new FaultInjection().controlCorruptRate(1.0));
        network.add(HomaWire.NEED_ACK, 5);
        final UnsafeBuffer original = new UnsafeBuffer(new byte[HomaWire.NEED_ACK_LENGTH]);
        new PacketWriter().needAck(original, 0, 1, 2, 5);
        transport.receive(receiveBuffer.addressOffset(), receiveBuffer.capacity());
        int flipped = 0;
        for (int i = 0; i < HomaWire.NEED_ACK_LENGTH; i++)
        {
            flipped += Integer.bitCount((original.getByte(i) ^ receiveBuffer.getByte(i)) & 0xFF);
        }
        assertEquals(1, flipped);
        assertEquals(1, corrupted.get());
    }

    private FaultInjectionTransport transport(final FaultInjection faults)
    {
        return new FaultInjectionTransport(network, faults, () -> nowNs, dropped, duplicated, delayed, corrupted);
    }

    private long receiveId(final FaultInjectionTransport transport)
    {
        final int length = transport.receive(receiveBuffer.addressOffset(), receiveBuffer.capacity());
        assertTrue(length >= HomaWire.COMMON_HEADER_LENGTH, "packet expected, got " + length);
        return HomaWire.senderId(receiveBuffer, 0);
    }

    /** A network that delivers queued 28-byte control-sized packets in order. */
    static final class Queue implements PacketTransport
    {
        private final ArrayDeque<long[]> packets = new ArrayDeque<>();
        private final PacketWriter writer = new PacketWriter();

        void add(final int type, final long senderId)
        {
            packets.add(new long[]{ type, senderId });
        }

        public int send(final long address, final int length, final int ipv4, final int port, final int tos)
        {
            return length;
        }

        public int send(final long headerAddress, final int headerLength, final long payloadAddress,
            final int payloadLength, final int ipv4, final int port, final int tos)
        {
            return headerLength + payloadLength;
        }

        public int receive(final long address, final int capacity)
        {
            final long[] packet = packets.poll();
            if (null == packet)
            {
                return -1;
            }
            final UnsafeBuffer buffer = new UnsafeBuffer(address, capacity);
            if (HomaWire.DATA == packet[0])
            {
                writer.data(buffer, 0, 1, 2, packet[1], 100, 100, 0, 0, 0, false, 0);
                return HomaWire.DATA_HEADER_LENGTH + 10;
            }
            writer.needAck(buffer, 0, 1, 2, packet[1]);
            buffer.putByte(11, (byte)packet[0]);
            return HomaWire.COMMON_HEADER_LENGTH;
        }

        public int lastSourceIpv4()
        {
            return 0x7F000001;
        }

        public int lastSourcePort()
        {
            return 4000;
        }

        public int lastTos()
        {
            return 0;
        }

        public boolean lastTruncated()
        {
            return false;
        }

        public int localIpv4()
        {
            return 0x7F000001;
        }

        public int localPort()
        {
            return 4001;
        }

        public int maxPacketLength()
        {
            return 1500;
        }

        public long receiveDrops()
        {
            return 0;
        }

        public void close()
        {
        }
    }
}
