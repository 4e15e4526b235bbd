package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.nio.ByteOrder;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The packet-ring transport's framing ({@link PacketRingFraming}) with the sender and the receiver on it at once,
 * as in DEDICATED mode: the sender writes a frame (a DATA header and 1,000 payload bytes) into a TX slot while the
 * receiver parses a frame from the RX ring. With one view shared by both directions, the sender copies the
 * received packet's bytes into its outgoing frame, or the receiver reads the sender's bytes.
 * Results: the sender's frame (1 = byte for byte the one written alone; 0 = other bytes; -1 = taken for a
 * PORT_UNREACHABLE; -2 = an exception), the receiver's parse (1 = accepted with the right Homa offset, length
 * and source; 0 = anything else; -2 = an exception).
 */
@JCStressTest
@Description("Packet-ring framing: a frame written on the sender's thread, another parsed on the receiver's")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "each direction saw its own packet")
@Outcome(expect = FORBIDDEN, desc = "one direction read the other's packet through a shared view")
@State
public class PacketRingFramingStress
{
    static final int LOCAL = 0x0A00_0001;
    static final int PEER = 0x0A00_0002;
    static final long LOCAL_MAC = 0x0200_0000_0001L;
    static final long PEER_MAC = 0x0200_0000_0002L;
    static final int TOS = 0xA0;
    static final int HEADER_LENGTH = HomaWire.DATA_HEADER_LENGTH;
    static final int PAYLOAD_LENGTH = 1_000;
    static final int RECEIVED_HOMA_LENGTH = 300;
    static final int IPV4 = PacketRingFraming.IP_HEADER_LENGTH;
    /** Read-only, shared by every instance. */
    static final UnsafeBuffer HEADER = RawIpFramingStress.packet(HEADER_LENGTH, HomaWire.DATA, 0, 7);
    static final UnsafeBuffer PAYLOAD = RawIpFramingStress.packet(PAYLOAD_LENGTH, HomaWire.DATA, 0, 11);
    static final UnsafeBuffer RECEIVED = received();
    static final byte[] EXPECTED_FRAME = expectedFrame();
    static final int FRAME_CAPACITY = 2_048;

    private final PacketRingFraming framing = new PacketRingFraming(LOCAL, LOCAL_MAC);
    private final UnsafeBuffer frame = new UnsafeBuffer(BufferUtil.allocateDirectAligned(FRAME_CAPACITY, 64));

    /** An IPv4 packet from the peer to us carrying a 300-byte DATA, as the RX ring hands it over. */
    private static UnsafeBuffer received()
    {
        final UnsafeBuffer packet = new UnsafeBuffer(BufferUtil.allocateDirectAligned(IPV4 + RECEIVED_HOMA_LENGTH,
            64));
        packet.putBytes(IPV4, RawIpFramingStress.packet(RECEIVED_HOMA_LENGTH, HomaWire.DATA, 0, 13), 0,
            RECEIVED_HOMA_LENGTH);
        packet.putByte(0, (byte)0x45);
        packet.putShort(2, (short)(IPV4 + RECEIVED_HOMA_LENGTH), ByteOrder.BIG_ENDIAN);
        packet.putByte(8, (byte)64);
        packet.putByte(9, (byte)HomaWire.IPPROTO_HOMA);
        packet.putInt(12, PEER, ByteOrder.BIG_ENDIAN);
        packet.putInt(16, LOCAL, ByteOrder.BIG_ENDIAN);
        return packet;
    }

    private static byte[] expectedFrame()
    {
        final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2_048, 64));
        final byte[] expected = new byte[new PacketRingFraming(LOCAL, LOCAL_MAC).writeFrame(out.addressOffset(),
            PEER_MAC, HEADER.addressOffset(), HEADER_LENGTH, PAYLOAD.addressOffset(), PAYLOAD_LENGTH, PEER, TOS)];
        out.getBytes(0, expected);
        return expected;
    }

    @Actor
    public void sender(final II_Result r)
    {
        try
        {
            if (framing.isPortUnreachableToSend(HEADER.addressOffset(), HEADER_LENGTH))
            {
                r.r1 = -1;
                return;
            }
            final int length = framing.writeFrame(frame.addressOffset(), PEER_MAC, HEADER.addressOffset(),
                HEADER_LENGTH, PAYLOAD.addressOffset(), PAYLOAD_LENGTH, PEER, TOS);
            r.r1 = RawIpFramingStress.matches(frame, length, EXPECTED_FRAME) ? 1 : 0;
        }
        catch (final RuntimeException ex)
        {
            r.r1 = -2;
        }
    }

    @Actor
    public void receiver(final II_Result r)
    {
        try
        {
            final int ihl = framing.parse(RECEIVED.addressOffset(), IPV4 + RECEIVED_HOMA_LENGTH);
            r.r2 = IPV4 == ihl && RECEIVED_HOMA_LENGTH == framing.parsedHomaLength() &&
                PEER == framing.parsedSourceIpv4() ? 1 : 0;
        }
        catch (final RuntimeException ex)
        {
            r.r2 = -2;
        }
    }
}
