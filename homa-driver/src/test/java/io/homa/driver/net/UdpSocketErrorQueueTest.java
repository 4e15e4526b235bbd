package io.homa.driver.net;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IP_RECVERR on our UDP socket: the kernel's ICMP port-unreachable about a datagram we sent to a closed port is
 * flagged by the next send or receive (which is made again, so nothing is lost) and read back from the error queue
 * with the destination it was about.
 */
class UdpSocketErrorQueueTest
{
    @Test
    void shouldReadIcmpPortUnreachableFromTheErrorQueue() throws Exception
    {
        final InetAddress loopback = InetAddress.getByName("127.0.0.1");
        final int closedPort;
        try (DatagramChannel probe = DatagramChannel.open(java.net.StandardProtocolFamily.INET))
        {
            probe.bind(new InetSocketAddress(loopback, 0));
            closedPort = ((InetSocketAddress)probe.getLocalAddress()).getPort();
        }
        try (UdpSocket socket = UdpSocket.open(loopback, 0))
        {
            socket.receiveErrors();
            final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 64));
            // A fresh ephemeral port can inherit an ICMP error about a datagram its previous owner (another test
            // JVM on this host) sent just before closing: drain those, bounded, before the queue must be empty.
            for (int stale = 0; stale < 64 && socket.receiveError(buffer.addressOffset(), 256) >= 0; stale++)
            {
                Thread.onSpinWait();
            }
            assertEquals(-1, socket.receiveError(buffer.addressOffset(), 256), "nothing queued yet");
            socket.clearErrorQueued();
            buffer.putInt(0, 0x12345678);
            assertEquals(8, socket.send(buffer.addressOffset(), 8, UdpSocket.ipv4ToInt(loopback), closedPort, 0));

            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!socket.isErrorQueued() && System.nanoTime() - deadlineNs < 0)
            {
                assertEquals(UdpSocket.RECEIVE_WOULD_BLOCK, socket.receive(buffer.addressOffset() + 64, 64));
            }
            assertTrue(socket.isErrorQueued(), "the receive saw the pending error");
            assertEquals(8, socket.receiveError(buffer.addressOffset() + 128, 64));
            assertEquals(0x12345678, buffer.getInt(128), "our datagram comes back");
            assertEquals(UdpSocket.ipv4ToInt(loopback), socket.lastErrorDestinationIpv4());
            assertEquals(closedPort, socket.lastErrorDestinationPort());
            assertEquals(UdpSocket.SO_EE_ORIGIN_ICMP, socket.lastErrorOrigin());
            assertEquals(3, socket.lastErrorType(), "destination unreachable");
            assertEquals(3, socket.lastErrorCode(), "port unreachable");
            assertEquals(111, socket.lastErrorErrno(), "ECONNREFUSED");
        }
    }
}
