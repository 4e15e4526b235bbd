/*
 * Copyright 2026 The Homa for the JVM authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.homa.driver.net;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exercises {@link UdpSocket} against real kernel sockets on 127.0.0.1 only. Loopback delivers a datagram to the
 * receiving socket's queue before {@code sendmsg} returns, but the receive loops below still poll briefly so that
 * they do not depend on it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpSocketTest
{
    private static final int LOOPBACK = 0x7F000001;
    private static final int MAX_UDP_PAYLOAD = 65_507;
    private static final int EMSGSIZE = 90;
    private static final long POLL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024));
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(128 * 1024));
    private UdpSocket sender;
    private UdpSocket receiver;

    @BeforeEach
    void before() throws Exception
    {
        final InetAddress loopback = InetAddress.getByName("127.0.0.1");
        sender = UdpSocket.open(loopback, 0);
        receiver = UdpSocket.open(loopback, 0);
    }

    @AfterEach
    void after()
    {
        sender.close();
        receiver.close();
    }

    @Test
    void shouldReportLocalAddressAndEphemeralPort()
    {
        assertEquals(LOOPBACK, receiver.localAddressInt());
        assertTrue(receiver.localPort() > 0);
        assertTrue(receiver.fd() >= 0);
        assertTrue(receiver.localPort() != sender.localPort());
    }

    @Test
    void shouldRoundTripDatagramWithContentAndSource()
    {
        final int length = 1200;
        for (int i = 0; i < length; i++)
        {
            sendBuffer.putByte(i, (byte)(i * 31 + 7));
        }

        assertEquals(length, sender.send(sendBuffer.addressOffset(), length, LOOPBACK, receiver.localPort(), 0));
        assertEquals(length, receiveOne(receiveBuffer.capacity()));

        for (int i = 0; i < length; i++)
        {
            assertEquals((byte)(i * 31 + 7), receiveBuffer.getByte(i), "byte " + i);
        }
        assertEquals(LOOPBACK, receiver.lastSourceIpv4());
        assertEquals(sender.localPort(), receiver.lastSourcePort());
        assertFalse(receiver.lastTruncated());
    }

    @Test
    void shouldCarryTosPerPacket()
    {
        final int[] tosValues = { 0xE0, 0x20, 0x00, 0xB8, 0x04 };
        for (final int tos : tosValues)
        {
            sendBuffer.putInt(0, tos);
            assertEquals(4, sender.send(sendBuffer.addressOffset(), 4, LOOPBACK, receiver.localPort(), tos));
            assertEquals(4, receiveOne(64));
            assertEquals(tos, receiveBuffer.getInt(0));
            assertEquals(tos, receiver.lastTos(), "tos " + tos);
        }
    }

    @Test
    void shouldUseSocketDefaultTosAndStillOverrideItPerPacket()
    {
        sender.defaultTos(0xB8);
        assertEquals(0xB8, sender.defaultTos());

        assertEquals(1, sender.send(sendBuffer.addressOffset(), 1, LOOPBACK, receiver.localPort(), 0xB8));
        assertEquals(1, receiveOne(64));
        assertEquals(0xB8, receiver.lastTos());

        assertEquals(1, sender.send(sendBuffer.addressOffset(), 1, LOOPBACK, receiver.localPort(), 0x00));
        assertEquals(1, receiveOne(64));
        assertEquals(0x00, receiver.lastTos());
    }

    @Test
    void shouldReturnMinusOneWithoutBlockingWhenEmpty()
    {
        final long startNs = System.nanoTime();
        for (int i = 0; i < 1000; i++)
        {
            assertEquals(UdpSocket.RECEIVE_WOULD_BLOCK, receiver.receive(receiveBuffer.addressOffset(), 1500));
        }
        assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(1));
        assertEquals(0, receiver.receiveBatch(receiveBuffer.addressOffset(), 1500, 8));
    }

    @Test
    void shouldRaiseReceiveAndSendBufferSizes()
    {
        final int requestBytes = 32 * 1024 * 1024;
        final int previousReceiveBytes = receiver.receiveBufferSize();
        final int previousSendBytes = sender.sendBufferSize();

        final int receiveBytes = receiver.receiveBufferSize(requestBytes);
        final int sendBytes = sender.sendBufferSize(requestBytes);

        assertEquals(receiveBytes, receiver.receiveBufferSize());
        assertEquals(sendBytes, sender.sendBufferSize());
        if (isRoot())
        {
            assertTrue(receiveBytes >= requestBytes, "SO_RCVBUFFORCE as root: " + receiveBytes);
            assertTrue(sendBytes >= requestBytes, "SO_SNDBUFFORCE as root: " + sendBytes);
        }
        else
        {
            assertTrue(receiveBytes > previousReceiveBytes, previousReceiveBytes + " -> " + receiveBytes);
            assertTrue(sendBytes > previousSendBytes, previousSendBytes + " -> " + sendBytes);
        }
    }

    @Test
    void shouldRoundTripLargestDatagramAndRejectLarger()
    {
        for (int i = 0; i < MAX_UDP_PAYLOAD; i++)
        {
            sendBuffer.putByte(i, (byte)i);
        }

        assertEquals(MAX_UDP_PAYLOAD,
            sender.send(sendBuffer.addressOffset(), MAX_UDP_PAYLOAD, LOOPBACK, receiver.localPort(), 0x20));
        assertEquals(MAX_UDP_PAYLOAD, receiveOne(65_536));
        assertFalse(receiver.lastTruncated());
        assertEquals(0x20, receiver.lastTos());
        for (int i = 0; i < MAX_UDP_PAYLOAD; i++)
        {
            assertEquals((byte)i, receiveBuffer.getByte(i), "byte " + i);
        }

        assertEquals(-EMSGSIZE,
            sender.send(sendBuffer.addressOffset(), MAX_UDP_PAYLOAD + 1, LOOPBACK, receiver.localPort(), 0));
    }

    @Test
    void shouldReportTruncation()
    {
        sendBuffer.setMemory(0, 100, (byte)'x');
        receiveBuffer.setMemory(0, 100, (byte)0);
        assertEquals(100, sender.send(sendBuffer.addressOffset(), 100, LOOPBACK, receiver.localPort(), 0));
        assertEquals(10, receiveOne(10));
        assertTrue(receiver.lastTruncated());
        assertEquals('x', receiveBuffer.getByte(9));
        assertEquals(0, receiveBuffer.getByte(10));

        assertEquals(5, sender.send(sendBuffer.addressOffset(), 5, LOOPBACK, receiver.localPort(), 0));
        assertEquals(5, receiveOne(10));
        assertFalse(receiver.lastTruncated());
    }

    @Test
    void shouldReceiveZeroLengthDatagramWithSource()
    {
        assertEquals(0, sender.send(sendBuffer.addressOffset(), 0, LOOPBACK, receiver.localPort(), 0x20));
        assertEquals(0, receiveOne(64));
        assertEquals(LOOPBACK, receiver.lastSourceIpv4());
        assertEquals(sender.localPort(), receiver.lastSourcePort());
        assertEquals(0x20, receiver.lastTos());
    }

    @Test
    void shouldReceiveBatchInOneCall()
    {
        final int count = 5;
        final int[] tosValues = { 0x00, 0x20, 0x40, 0xE0, 0xB8 };
        // What each datagram occupies in the receive queue (its skb truesize, as /proc/net/udp's rx_queue counts
        // it), measured one at a time so that the batch below is received only once every datagram is queued.
        long queuedWhenAllArrived = 0;
        for (int i = 0; i < count; i++)
        {
            final int length = 100 + i;
            assertEquals(length, sender.send(sendBuffer.addressOffset(), length, LOOPBACK, receiver.localPort(), 0));
            awaitQueuedBytes(1);
            queuedWhenAllArrived += queuedBytes();
            assertEquals(length, receiveOne(2048));
            assertEquals(0, queuedBytes(), "queue drained");
        }

        for (int i = 0; i < count; i++)
        {
            final int length = 100 + i;
            sendBuffer.setMemory(0, length, (byte)('a' + i));
            assertEquals(length,
                sender.send(sendBuffer.addressOffset(), length, LOOPBACK, receiver.localPort(), tosValues[i]));
        }
        awaitQueuedBytes(queuedWhenAllArrived);

        final int slotCapacity = 2048;
        final int received = receiver.receiveBatch(receiveBuffer.addressOffset(), slotCapacity, 8);
        assertEquals(count, received);
        for (int i = 0; i < count; i++)
        {
            assertEquals(100 + i, receiver.batchLength(i));
            assertEquals(LOOPBACK, receiver.batchSourceIpv4(i));
            assertEquals(sender.localPort(), receiver.batchSourcePort(i));
            assertEquals(tosValues[i], receiver.batchTos(i), "slot " + i);
            assertFalse(receiver.batchTruncated(i));
            assertEquals((byte)('a' + i), receiveBuffer.getByte(i * slotCapacity));
            assertEquals((byte)('a' + i), receiveBuffer.getByte(i * slotCapacity + 99 + i));
        }
        assertEquals(0, receiver.receiveBatch(receiveBuffer.addressOffset(), slotCapacity, 8));
    }

    @Test
    void shouldReportTruncationInBatch()
    {
        assertEquals(300, sender.send(sendBuffer.addressOffset(), 300, LOOPBACK, receiver.localPort(), 0));
        awaitQueuedBytes(1);
        assertEquals(1, receiver.receiveBatch(receiveBuffer.addressOffset(), 256, 4));
        assertEquals(256, receiver.batchLength(0));
        assertTrue(receiver.batchTruncated(0));
    }

    @Test
    void shouldCloseIdempotently()
    {
        final UdpSocket socket = UdpSocket.open(null, 0);
        assertTrue(socket.fd() >= 0);
        socket.close();
        socket.close();
        assertEquals(-1, socket.fd());
        assertEquals(-9, socket.send(sendBuffer.addressOffset(), 1, LOOPBACK, receiver.localPort(), 0));
        assertEquals(-9, socket.receive(receiveBuffer.addressOffset(), 1));
        assertEquals(-9, socket.receiveBatch(receiveBuffer.addressOffset(), 1, 1));
        assertThrows(IllegalStateException.class, socket::receiveBufferSize);
    }

    @Test
    void shouldFailToBindPortInUse() throws Exception
    {
        final UncheckedIOException ex = assertThrows(
            UncheckedIOException.class,
            () -> UdpSocket.open(InetAddress.getByName("127.0.0.1"), receiver.localPort()));
        assertInstanceOf(BindException.class, ex.getCause());
        assertTrue(ex.getMessage().contains("errno 98"), ex.getMessage());
    }

    @Test
    void shouldNotAllocateOnSendAndReceive()
    {
        final com.sun.management.ThreadMXBean threadMXBean =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long sendAddress = sendBuffer.addressOffset();
        final long receiveAddress = receiveBuffer.addressOffset();
        final int port = receiver.localPort();
        final int length = 64;

        long checksum = sendReceiveLoop(200_000, sendAddress, receiveAddress, port, length);
        assertEquals(200_000L * length, checksum);

        // Windows, best one counts: on a loaded machine the JIT may still be compiling (and the interpreter's
        // downcalls allocate) during the first.
        threadMXBean.getCurrentThreadAllocatedBytes();
        final StringBuilder windows = new StringBuilder();
        long best = Long.MAX_VALUE;
        for (int window = 0; window < 8 && best >= 1024; window++)
        {
            final long beforeBytes = threadMXBean.getCurrentThreadAllocatedBytes();
            checksum = sendReceiveLoop(100_000, sendAddress, receiveAddress, port, length);
            final long allocatedBytes = threadMXBean.getCurrentThreadAllocatedBytes() - beforeBytes;
            assertEquals(100_000L * length, checksum);
            windows.append(allocatedBytes).append(' ');
            best = Math.min(best, allocatedBytes);
        }
        assertTrue(best < 1024, "bytes allocated in each window of 100,000 send+receive pairs: " + windows);
    }

    private long sendReceiveLoop(
        final int iterations, final long sendAddress, final long receiveAddress, final int port, final int length)
    {
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            final int tos = (i & 7) << 5;
            int sent;
            do
            {
                sent = sender.send(sendAddress, length, LOOPBACK, port, tos);
            }
            while (0 == sent);

            int received;
            do
            {
                received = receiver.receive(receiveAddress, 2048);
            }
            while (UdpSocket.RECEIVE_WOULD_BLOCK == received);

            if (length == sent && tos == receiver.lastTos())
            {
                total += received;
            }
        }

        return total;
    }

    private int receiveOne(final int capacity)
    {
        final long deadlineNs = System.nanoTime() + POLL_TIMEOUT_NS;
        int result;
        do
        {
            result = receiver.receive(receiveBuffer.addressOffset(), capacity);
        }
        while (UdpSocket.RECEIVE_WOULD_BLOCK == result && deadlineNs - System.nanoTime() > 0);

        return result;
    }

    /**
     * Bounded wait until the receiver's queue holds at least {@code bytes} (fails after {@link #POLL_TIMEOUT_NS}).
     */
    private void awaitQueuedBytes(final long bytes)
    {
        final long deadlineNs = System.nanoTime() + POLL_TIMEOUT_NS;
        long queued;
        while ((queued = queuedBytes()) < bytes)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("receive queue holds " + queued + " bytes, expected at least " + bytes);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The receiver's queued bytes, as the kernel reports them without dequeuing anything: the rx_queue column of
     * its line in /proc/net/udp (hex "local_address:port ... tx_queue:rx_queue").
     */
    private long queuedBytes()
    {
        final String local = String.format("0100007F:%04X", receiver.localPort());
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/net/udp")))
            {
                final String[] fields = line.trim().split("\\s+");
                if (fields.length > 4 && local.equals(fields[1]))
                {
                    return Long.parseLong(fields[4].substring(fields[4].indexOf(':') + 1), 16);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        throw new IllegalStateException("no " + local + " in /proc/net/udp");
    }

    private static boolean isRoot()
    {
        return "root".equals(System.getProperty("user.name"));
    }
}
