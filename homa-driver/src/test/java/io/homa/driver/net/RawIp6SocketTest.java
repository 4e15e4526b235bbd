package io.homa.driver.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link RawIp6Socket} against the kernel on ::1 with an experimental next header (253), so no Homa driver sees
 * these packets. Needs CAP_NET_RAW and IPv6; skipped (with the reason) without them.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RawIp6SocketTest
{
    private static final int TEST_PROTOCOL = 253;
    private static final long LOOPBACK_HIGH = 0;
    private static final long LOOPBACK_LOW = 1;
    private static final long POLL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
    private RawIp6Socket sender;
    private RawIp6Socket receiver;

    @BeforeEach
    void before()
    {
        assumeTrue(Files.exists(Path.of("/proc/net/if_inet6")), "this kernel has IPv6 disabled");
        assumeTrue(canOpenRaw(), "raw sockets need CAP_NET_RAW, which this process lacks");
        sender = RawIp6Socket.open(TEST_PROTOCOL, LOOPBACK_HIGH, LOOPBACK_LOW);
        receiver = RawIp6Socket.open(TEST_PROTOCOL, LOOPBACK_HIGH, LOOPBACK_LOW);
        receiver.receiveTrafficClass(true);
    }

    @AfterEach
    void after()
    {
        for (final RawIp6Socket socket : new RawIp6Socket[]{ sender, receiver })
        {
            if (null != socket)
            {
                socket.close();
            }
        }
    }

    private static boolean canOpenRaw()
    {
        try (RawIp6Socket ignored = RawIp6Socket.open(TEST_PROTOCOL, LOOPBACK_HIGH, LOOPBACK_LOW))
        {
            return true;
        }
        catch (final UncheckedIOException ex)
        {
            return false;
        }
    }

    @Test
    void shouldDeliverPayloadWithSourceAndTrafficClass()
    {
        for (int i = 0; i < 100; i++)
        {
            sendBuffer.putByte(i, (byte)(i * 7));
        }
        assertEquals(100, sender.send(sendBuffer.addressOffset(), 40, sendBuffer.addressOffset() + 40, 60,
            LOOPBACK_HIGH, LOOPBACK_LOW, 0xE0));

        assertEquals(100, receive(receiver, 70_000), "no IP header: the payload only");
        for (int i = 0; i < 100; i++)
        {
            assertEquals((byte)(i * 7), receiveBuffer.getByte(i), "byte " + i);
        }
        assertEquals(LOOPBACK_HIGH, receiver.lastSourceHigh());
        assertEquals(LOOPBACK_LOW, receiver.lastSourceLow());
        assertEquals(0xE0, receiver.lastTrafficClass());
        assertFalse(receiver.lastTruncated());
    }

    @Test
    void shouldSendEachPacketAtItsOwnTrafficClass()
    {
        for (int priority = 0; priority < 8; priority++)
        {
            sendBuffer.putInt(0, priority);
            assertEquals(4, sender.send(sendBuffer.addressOffset(), 4, 0, 0, LOOPBACK_HIGH, LOOPBACK_LOW,
                priority << 5));
        }
        for (int priority = 0; priority < 8; priority++)
        {
            assertEquals(4, receive(receiver, 100));
            assertEquals(priority, receiveBuffer.getInt(0));
            assertEquals(priority << 5, receiver.lastTrafficClass());
        }
    }

    @Test
    void shouldReceiveABatchWithEachPacketsSourceAndTrafficClass()
    {
        for (int i = 0; i < 5; i++)
        {
            sendBuffer.putInt(0, i);
            assertEquals(4 + i, sender.send(sendBuffer.addressOffset(), 4 + i, 0, 0, LOOPBACK_HIGH, LOOPBACK_LOW,
                i << 5));
        }
        final int slot = 256;
        int received = 0;
        final long deadlineNs = System.nanoTime() + POLL_TIMEOUT_NS;
        while (received < 5 && System.nanoTime() - deadlineNs < 0)
        {
            final int count = receiver.receiveBatch(receiveBuffer.addressOffset(), slot, 8);
            for (int i = 0; i < count; i++)
            {
                final int index = receiveBuffer.getInt(i * slot);
                assertEquals(received, index);
                assertEquals(4 + index, receiver.batchLength(i));
                assertEquals(index << 5, receiver.batchTrafficClass(i));
                assertEquals(LOOPBACK_LOW, receiver.batchSourceLow(i));
                assertEquals(LOOPBACK_HIGH, receiver.batchSourceHigh(i));
                assertFalse(receiver.batchTruncated(i));
                received++;
            }
        }
        assertEquals(5, received);
    }

    @Test
    void shouldNotReportTrafficClassUnlessAsked()
    {
        assertEquals(4, receiver.send(sendBuffer.addressOffset(), 4, 0, 0, LOOPBACK_HIGH, LOOPBACK_LOW, 0xA0));
        // The sender did not ask: it gets its own packet without the control message.
        assertEquals(4, receive(sender, 100));
        assertEquals(-1, sender.lastTrafficClass());
    }

    @Test
    void shouldReportTruncation()
    {
        assertEquals(200, sender.send(sendBuffer.addressOffset(), 200, 0, 0, LOOPBACK_HIGH, LOOPBACK_LOW, 0));
        assertEquals(100, receive(receiver, 100));
        assertTrue(receiver.lastTruncated());
    }

    @Test
    void shouldSplitAddressesIntoTwoLongsAndPrintThemShort() throws Exception
    {
        final byte[] address = InetAddress.getByName("fd00:146:1::2").getAddress();
        assertEquals(0xFD00_0146_0001_0000L, RawIp6Socket.high(address));
        assertEquals(2L, RawIp6Socket.low(address));
        assertEquals("fd00:146:1::2", RawIp6Socket.toString(RawIp6Socket.high(address), RawIp6Socket.low(address)));
        assertEquals("::1", RawIp6Socket.toString(0, 1));
    }

    private int receive(final RawIp6Socket socket, final int capacity)
    {
        final long deadlineNs = System.nanoTime() + POLL_TIMEOUT_NS;
        while (System.nanoTime() - deadlineNs < 0)
        {
            final int length = socket.receive(receiveBuffer.addressOffset(), capacity);
            if (RawIp6Socket.RECEIVE_WOULD_BLOCK != length)
            {
                return length;
            }
            Thread.onSpinWait();
        }
        return RawIp6Socket.RECEIVE_WOULD_BLOCK;
    }
}
