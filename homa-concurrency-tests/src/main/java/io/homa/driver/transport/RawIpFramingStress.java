package io.homa.driver.transport;

import io.homa.codecs.HomaWire;
import io.homa.codecs.wire.CommonHeaderDecoder;
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
 * The raw-IP transports' framing ({@link RawIpFraming}, used by {@link RawIpTransport} and
 * {@link RawIpv6Transport}) with the sender and the receiver on it at once, as in DEDICATED mode: the sender
 * turns the engine's PORT_UNREACHABLE into an ICMP message while the receiver checks a received DATA packet.
 * With one view shared by both directions, the sender quotes (or misreads the type of) the received packet, or
 * the receiver takes the DATA for a PORT_UNREACHABLE.
 * Results: the sender's ICMP message (1 = byte for byte the one built alone; 0 = other bytes; -1 = the
 * PORT_UNREACHABLE not recognised; -2 = an exception), the receiver's verdict (1 = kept, 0 = dropped, -2 = an
 * exception).
 */
@JCStressTest
@Description("Raw-IP framing: ICMP port-unreachable built on the sender's thread, a DATA checked on the receiver's")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "each direction saw its own packet")
@Outcome(expect = FORBIDDEN, desc = "one direction read the other's packet through a shared view")
@State
public class RawIpFramingStress
{
    static final int LOCAL = 0x0A00_0001;
    static final int PEER = 0x0A00_0002;
    /** The engine's PORT_UNREACHABLE with 200 bytes of the offending packet behind it. */
    static final int REQUEST_LENGTH = HomaWire.COMMON_HEADER_LENGTH + 200;
    static final int RECEIVED_LENGTH = 1_000;
    /** Read-only: the sender reads it in every instance. */
    static final UnsafeBuffer REQUEST = packet(REQUEST_LENGTH, HomaWire.PORT_UNREACHABLE, 1_400, 7);
    /** Read-only: the receiver reads it in every instance. */
    static final UnsafeBuffer RECEIVED = packet(RECEIVED_LENGTH, HomaWire.DATA, 0x1234, 13);
    static final byte[] EXPECTED_ICMP = expectedIcmp();

    private final RawIpFraming framing = new RawIpFraming();
    private final UnsafeBuffer icmpOut = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1_024, 64));

    static UnsafeBuffer packet(final int length, final int type, final int sequence, final int pattern)
    {
        final UnsafeBuffer packet = new UnsafeBuffer(BufferUtil.allocateDirectAligned(length, 64));
        for (int i = 0; i < length; i++)
        {
            packet.putByte(i, (byte)(i * pattern + 1));
        }
        packet.putInt(CommonHeaderDecoder.sequenceEncodingOffset(), sequence, ByteOrder.BIG_ENDIAN);
        packet.putByte(CommonHeaderDecoder.typeEncodingOffset(), (byte)type);
        return packet;
    }

    private static byte[] expectedIcmp()
    {
        final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1_024, 64));
        final UnsafeBuffer view = new RawIpFraming().portUnreachableToSend(REQUEST.addressOffset(), REQUEST_LENGTH);
        final byte[] expected = new byte[RawIpFraming.icmpv4PortUnreachable(out, view, REQUEST_LENGTH, PEER, LOCAL)];
        out.getBytes(0, expected);
        return expected;
    }

    @Actor
    public void sender(final II_Result r)
    {
        try
        {
            final UnsafeBuffer view = framing.portUnreachableToSend(REQUEST.addressOffset(), REQUEST_LENGTH);
            if (null == view)
            {
                r.r1 = -1;
                return;
            }
            final int length = RawIpFraming.icmpv4PortUnreachable(icmpOut, view, REQUEST_LENGTH, PEER, LOCAL);
            r.r1 = matches(icmpOut, length, EXPECTED_ICMP) ? 1 : 0;
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
            r.r2 = framing.isPortUnreachableReceived(RECEIVED.addressOffset(), RECEIVED_LENGTH) ? 0 : 1;
        }
        catch (final RuntimeException ex)
        {
            r.r2 = -2;
        }
    }

    static boolean matches(final UnsafeBuffer buffer, final int length, final byte[] expected)
    {
        if (length != expected.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(i) != expected[i])
            {
                return false;
            }
        }
        return true;
    }
}
