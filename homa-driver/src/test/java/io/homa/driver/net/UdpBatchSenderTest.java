package io.homa.driver.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UdpBatchSender} against real kernel sockets on 127.0.0.1.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UdpBatchSenderTest
{
    private static final int LOOPBACK = 0x7F000001;
    private static final int SEGMENT = 1_472;

    private final UnsafeBuffer data = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20));
    private final UnsafeBuffer received = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
    private UdpSocket from;
    private UdpSocket to;

    @BeforeEach
    void before() throws Exception
    {
        from = UdpSocket.open(InetAddress.getByName("127.0.0.1"), 0);
        to = UdpSocket.open(InetAddress.getByName("127.0.0.1"), 0);
        to.receiveBufferSize(8 * 1024 * 1024);
        for (int i = 0; i < data.capacity(); i += 4)
        {
            data.putInt(i, i);
        }
    }

    @AfterEach
    void after()
    {
        from.close();
        to.close();
    }

    @Test
    void shouldSendManyDatagramsWithTheirOwnTosInOneSystemCall()
    {
        try (UdpBatchSender sender = new UdpBatchSender(from, false, SEGMENT))
        {
            for (int i = 0; i < 50; i++)
            {
                // Header piece and payload piece from different places, as the engine's DATA packets are.
                assertTrue(sender.add(data.addressOffset() + i * 4L, 4, data.addressOffset() + 100_000 + i * 100L,
                    100, LOOPBACK, to.localPort(), (i % 8) << 5));
            }
            assertEquals(50, sender.flush());
            assertEquals(1, sender.syscalls());
            assertEquals(0, sender.pendingMessages());
        }
        for (int i = 0; i < 50; i++)
        {
            assertEquals(104, receive());
            assertEquals(i * 4, received.getInt(0));
            assertEquals(100_000 + i * 100, received.getInt(4));
            assertEquals((i % 8) << 5, to.lastTos());
        }
    }

    @Test
    void shouldCarryRunOfEqualPacketsAsOneGsoMessageThatArrivesAsSeparateDatagrams()
    {
        try (UdpBatchSender sender = new UdpBatchSender(from, true, SEGMENT))
        {
            for (int i = 0; i < 10; i++)
            {
                assertTrue(sender.add(data.addressOffset() + i * 1_400L, 56, data.addressOffset() + 200_000 +
                    i * 1_400L, 1_344, LOOPBACK, to.localPort(), 0xC0));
            }
            // A shorter packet ends the run as its last segment.
            assertTrue(sender.add(data.addressOffset(), 500, 0, 0, LOOPBACK, to.localPort(), 0xC0));
            // Another TOS cannot join the run.
            assertTrue(sender.add(data.addressOffset(), 1_400, 0, 0, LOOPBACK, to.localPort(), 0x20));
            assertEquals(2, sender.pendingMessages());
            assertEquals(12, sender.flush());
            assertEquals(1, sender.syscalls());
            assertEquals(1, sender.gsoMessages());
        }
        for (int i = 0; i < 10; i++)
        {
            assertEquals(1_400, receive(), "segment " + i);
            assertEquals(i * 1_400, received.getInt(0));
            assertEquals(200_000 + i * 1_400, received.getInt(56));
            assertEquals(0xC0, to.lastTos());
        }
        assertEquals(500, receive());
        assertEquals(1_400, receive());
        assertEquals(0x20, to.lastTos());
    }

    @Test
    void shouldStashPendingPacketsSoTheCallerCanReuseItsMemory()
    {
        final UnsafeBuffer scratch = new UnsafeBuffer(ByteBuffer.allocateDirect(4_096));
        try (UdpBatchSender sender = new UdpBatchSender(from, true, SEGMENT))
        {
            for (int i = 0; i < 3; i++)
            {
                scratch.putInt(i * 1_000, 7_000 + i);
                assertTrue(sender.add(scratch.addressOffset() + i * 1_000L, 1_000, 0, 0, LOOPBACK, to.localPort(),
                    0));
            }
            sender.stash();
            assertTrue(sender.isStashed());
            assertFalse(sender.add(scratch.addressOffset(), 10, 0, 0, LOOPBACK, to.localPort(), 0));
            scratch.setMemory(0, 4_096, (byte)0);
            assertEquals(3, sender.flush());
            assertFalse(sender.isStashed());
        }
        for (int i = 0; i < 3; i++)
        {
            assertEquals(1_000, receive());
            assertEquals(7_000 + i, received.getInt(0));
        }
    }

    @Test
    void shouldDropMessageTheKernelRefusesAndSendTheRest()
    {
        try (UdpBatchSender sender = new UdpBatchSender(from, false, SEGMENT))
        {
            sender.add(data.addressOffset(), 10, 0, 0, LOOPBACK, to.localPort(), 0);
            sender.add(data.addressOffset(), 65_508, 0, 0, LOOPBACK, to.localPort(), 0);
            sender.add(data.addressOffset(), 20, 0, 0, LOOPBACK, to.localPort(), 0);
            assertEquals(2, sender.flush());
            assertEquals(1, sender.errors());
            assertEquals(90, sender.lastErrno(), "EMSGSIZE");
        }
        assertEquals(10, receive());
        assertEquals(20, receive());
    }

    @Test
    void shouldFindGsoOnLoopback()
    {
        assertTrue(UdpBatchSender.probeGso(LOOPBACK, SEGMENT));
    }

    private int receive()
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() - deadline < 0)
        {
            final int length = to.receive(received.addressOffset(), received.capacity());
            if (UdpSocket.RECEIVE_WOULD_BLOCK != length)
            {
                return length;
            }
        }
        return -1;
    }
}
