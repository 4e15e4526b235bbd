package io.homa.driver.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link RawIpSocket} against the kernel on loopback addresses of a random 127.x.y.0/24, so parallel runs on one
 * host do not see each other's packets. Needs CAP_NET_RAW; skipped (with the reason) without it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RawIpSocketTest
{
    /** An experimental protocol number (RFC 3692), so no Homa driver on the host sees these packets. */
    private static final int TEST_PROTOCOL = 253;
    private static final long POLL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
    private int base;
    private RawIpSocket a;
    private RawIpSocket b;
    private RawIpSocket c;

    @BeforeEach
    void before()
    {
        assumeTrue(canOpenRaw(), "raw sockets need CAP_NET_RAW, which this process lacks");
        base = randomLoopbackNet();
        a = RawIpSocket.open(TEST_PROTOCOL, base | 2);
        b = RawIpSocket.open(TEST_PROTOCOL, base | 3);
        c = RawIpSocket.open(TEST_PROTOCOL, base | 4);
    }

    @AfterEach
    void after()
    {
        for (final RawIpSocket s : new RawIpSocket[]{ a, b, c })
        {
            if (null != s)
            {
                s.close();
            }
        }
    }

    static boolean canOpenRaw()
    {
        try (RawIpSocket ignored = RawIpSocket.open(TEST_PROTOCOL, 0x7F000001))
        {
            return true;
        }
        catch (final UncheckedIOException ex)
        {
            return false;
        }
    }

    static int randomLoopbackNet()
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        return 0x7F000000 | (100 + random.nextInt(100)) << 16 | random.nextInt(256) << 8;
    }

    @Test
    void shouldStripIpHeaderAndReportTosSourceAndDestination()
    {
        for (int i = 0; i < 100; i++)
        {
            sendBuffer.putByte(i, (byte)(i * 7));
        }
        final int sent = a.send(sendBuffer.addressOffset(), 40, sendBuffer.addressOffset() + 40, 60, base | 3, 0xE0);
        assertEquals(100, sent);

        final int length = receive(b);
        assertEquals(100, length);
        for (int i = 0; i < 100; i++)
        {
            assertEquals((byte)(i * 7), receiveBuffer.getByte(i), "byte " + i);
        }
        assertEquals(0xE0, b.lastTos());
        assertEquals(base | 2, b.lastSourceIpv4());
        assertEquals(base | 3, b.lastDestinationIpv4());
        assertEquals(TEST_PROTOCOL, b.lastProtocol());
        assertFalse(b.lastTruncated());
    }

    @Test
    void shouldSendEachPacketAtItsOwnTos()
    {
        for (int priority = 0; priority < 8; priority++)
        {
            sendBuffer.putInt(0, priority);
            assertEquals(4, a.send(sendBuffer.addressOffset(), 4, 0, 0, base | 3, priority << 5));
        }
        for (int priority = 0; priority < 8; priority++)
        {
            assertEquals(4, receive(b));
            assertEquals(priority, receiveBuffer.getInt(0));
            assertEquals(priority << 5, b.lastTos());
        }
    }

    @Test
    void shouldOnlyReceiveDatagramsForTheBoundAddress()
    {
        sendBuffer.putLong(0, 0x1122334455667788L);
        assertEquals(8, a.send(sendBuffer.addressOffset(), 8, 0, 0, base | 3, 0));
        assertEquals(8, receive(b));
        // c is bound to another address of the same net: the kernel never hands it b's datagram.
        assertEquals(RawIpSocket.RECEIVE_WOULD_BLOCK, c.receive(receiveBuffer.addressOffset(), 100));
    }

    @Test
    void shouldCarryLargestIpv4DatagramAndReportTruncation()
    {
        final int largest = RawIpSocket.MAX_IPV4_DATAGRAM - RawIpSocket.IPV4_HEADER_LENGTH;
        sendBuffer.setMemory(0, largest, (byte)0x5A);
        assertTrue(a.receiveBufferSize(4 * 1024 * 1024) > 0);
        b.receiveBufferSize(4 * 1024 * 1024);
        assertEquals(largest, a.send(sendBuffer.addressOffset(), largest, 0, 0, base | 3, 0));
        assertEquals(largest, receive(b));
        assertEquals(0x5A, receiveBuffer.getByte(largest - 1));

        assertEquals(1000, a.send(sendBuffer.addressOffset(), 1000, 0, 0, base | 3, 0));
        final long deadline = System.nanoTime() + POLL_TIMEOUT_NS;
        int length;
        do
        {
            length = b.receive(receiveBuffer.addressOffset(), 100);
        }
        while (RawIpSocket.RECEIVE_WOULD_BLOCK == length && System.nanoTime() - deadline < 0);
        assertEquals(100, length);
        assertTrue(b.lastTruncated());
    }

    @Test
    void shouldMovePayloadDownWhenHeaderCarriesOptions()
    {
        // Four bytes of IP options (NOP NOP NOP EOL) make a 24-byte header: the options land in the caller's
        // buffer and the payload has to be moved down over them.
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment errno = arena.allocate(LibC.errnoStateLayout());
            final MemorySegment options = arena.allocate(4);
            options.set(JAVA_BYTE, 0, (byte)1);
            options.set(JAVA_BYTE, 1, (byte)1);
            options.set(JAVA_BYTE, 2, (byte)1);
            options.set(JAVA_BYTE, 3, (byte)0);
            assertEquals(0, LibC.setsockopt(errno, a.fd(), LibC.SOL_IP, 4, options, 4), "IP_OPTIONS");
        }
        for (int i = 0; i < 64; i++)
        {
            sendBuffer.putByte(i, (byte)(100 + i));
        }
        assertEquals(64, a.send(sendBuffer.addressOffset(), 64, 0, 0, base | 3, 0));
        assertEquals(64, receive(b));
        for (int i = 0; i < 64; i++)
        {
            assertEquals((byte)(100 + i), receiveBuffer.getByte(i), "byte " + i);
        }
        assertEquals(base | 2, b.lastSourceIpv4());
    }

    @Test
    void shouldReceiveBatchWithHeadersStrippedOptionsMovedAndTruncationReported()
    {
        final UnsafeBuffer slots = new UnsafeBuffer(ByteBuffer.allocateDirect(8 * 256));
        for (int i = 0; i < 4; i++)
        {
            sendBuffer.putInt(0, 1000 + i);
            assertEquals(50 + i, a.send(sendBuffer.addressOffset(), 50 + i, 0, 0, base | 3, i << 5));
        }
        // One from c with IP options (24-byte header), one too big for its slot.
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment errno = arena.allocate(LibC.errnoStateLayout());
            final MemorySegment options = arena.allocate(4);
            options.set(JAVA_BYTE, 0, (byte)1);
            assertEquals(0, LibC.setsockopt(errno, c.fd(), LibC.SOL_IP, 4, options, 4), "IP_OPTIONS");
        }
        sendBuffer.putInt(0, 2000);
        assertEquals(64, c.send(sendBuffer.addressOffset(), 64, 0, 0, base | 3, 0));
        assertEquals(300, a.send(sendBuffer.addressOffset(), 300, 0, 0, base | 3, 0));

        int count = 0;
        final long deadline = System.nanoTime() + POLL_TIMEOUT_NS;
        while (count < 6 && System.nanoTime() - deadline < 0)
        {
            final int received = b.receiveBatch(slots.addressOffset() + count * 256L, 256, 8 - count);
            assertTrue(received >= 0);
            for (int i = 0; i < received; i++)
            {
                final int slot = count + i;
                final int length = b.batchLength(i);
                if (slot < 4)
                {
                    assertEquals(50 + slot, length);
                    assertEquals(1000 + slot, slots.getInt(slot * 256));
                    assertEquals(slot << 5, b.batchTos(i));
                    assertEquals(base | 2, b.batchSourceIpv4(i));
                    assertEquals(base | 3, b.batchDestinationIpv4(i));
                }
                else if (4 == slot)
                {
                    assertEquals(64, length);
                    assertEquals(2000, slots.getInt(slot * 256), "payload moved over the options");
                    assertEquals(base | 4, b.batchSourceIpv4(i));
                }
                else
                {
                    assertTrue(b.batchTruncated(i));
                }
            }
            count += received;
        }
        assertEquals(6, count);
    }

    @Test
    void shouldComputeInternetChecksum()
    {
        // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        final UnsafeBuffer bytes = new UnsafeBuffer(new byte[]{ 0x00, 0x01, (byte)0xf2, 0x03, (byte)0xf4, (byte)0xf5,
            (byte)0xf6, (byte)0xf7 });
        assertEquals(~0xddf2 & 0xFFFF, RawIpSocket.internetChecksum(bytes, 0, 8));
    }

    private int receive(final RawIpSocket socket)
    {
        final long deadline = System.nanoTime() + POLL_TIMEOUT_NS;
        while (System.nanoTime() - deadline < 0)
        {
            final int length = socket.receive(receiveBuffer.addressOffset(), receiveBuffer.capacity());
            if (RawIpSocket.RECEIVE_WOULD_BLOCK != length)
            {
                return length;
            }
            Thread.onSpinWait();
        }
        return RawIpSocket.RECEIVE_WOULD_BLOCK;
    }
}
