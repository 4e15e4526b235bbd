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
package io.homa.systemtests;

import io.homa.driver.net.Epoll;
import io.homa.driver.net.UdpBatchSender;
import io.homa.driver.net.UdpSocket;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;

import org.agrona.BufferUtil;

/**
 * A child-JVM program for {@link SocketCallAllocationTest}: makes the per-packet socket calls the transports make
 * (sendmsg, a batch through sendmmsg, recvmsg and recvmmsg that find data, the same that find nothing, a zero
 * epoll sleep) on loopback, many times, and prints the bytes its thread allocated per round. Run it without C2
 * (the test does) and nothing can be saved by escape analysis: what is printed is what the calls allocate.
 */
public final class SocketCallAllocation
{
    private static final int ROUNDS = 20_000;
    private static final int WARMUP_ROUNDS = 2_000;
    private static final int LENGTH = 64;

    private SocketCallAllocation()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final InetAddress loopback = InetAddress.getByName("127.0.0.1");
        final int ipv4 = UdpSocket.ipv4ToInt(loopback);
        try (UdpSocket sender = UdpSocket.open(loopback, 0);
            UdpSocket receiver = UdpSocket.open(loopback, 0);
            Epoll epoll = new Epoll())
        {
            final UdpBatchSender batch = new UdpBatchSender(sender, false, LENGTH);
            epoll.watch(receiver.fd());
            final ByteBuffer out = BufferUtil.allocateDirectAligned(LENGTH, 64);
            final ByteBuffer in = BufferUtil.allocateDirectAligned(LENGTH * UdpSocket.MAX_BATCH_SIZE, 64);
            final long outAddress = BufferUtil.address(out);
            final long inAddress = BufferUtil.address(in);
            final int port = receiver.localPort();
            final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

            long failures = 0;
            long before = 0;
            for (int round = 0; round < WARMUP_ROUNDS + ROUNDS; round++)
            {
                if (WARMUP_ROUNDS == round)
                {
                    before = threads.getCurrentThreadAllocatedBytes();
                }
                failures += oneRound(sender, batch, receiver, epoll, outAddress, inAddress, ipv4, port);
            }
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            System.out.println("failures=" + failures);
            System.out.println("bytesPerRound=" + (double)allocated / ROUNDS);
        }
    }

    private static int oneRound(
        final UdpSocket sender,
        final UdpBatchSender batch,
        final UdpSocket receiver,
        final Epoll epoll,
        final long outAddress,
        final long inAddress,
        final int ipv4,
        final int port)
    {
        int failures = 0;
        // One datagram by sendmsg, read by recvmsg; then recvmsg on an empty socket (EAGAIN).
        failures += LENGTH == sender.send(outAddress, LENGTH, ipv4, port, 0) ? 0 : 1;
        epoll.await(0);
        failures += LENGTH == receiver.receive(inAddress, LENGTH) ? 0 : 1;
        failures += UdpSocket.RECEIVE_WOULD_BLOCK == receiver.receive(inAddress, LENGTH) ? 0 : 1;
        // Two datagrams by one sendmmsg, read by one recvmmsg; then recvmmsg on an empty socket.
        batch.add(outAddress, LENGTH, 0, 0, ipv4, port, 0);
        batch.add(outAddress, LENGTH, 0, 0, ipv4, port, 0);
        failures += 2 == batch.flush() ? 0 : 1;
        int received = 0;
        for (int attempt = 0; attempt < 1_000 && received < 2; attempt++)
        {
            final int got = receiver.receiveBatch(inAddress, LENGTH, UdpSocket.MAX_BATCH_SIZE);
            received += Math.max(0, got);
        }
        failures += 2 == received ? 0 : 1;
        failures += 0 == receiver.receiveBatch(inAddress, LENGTH, UdpSocket.MAX_BATCH_SIZE) ? 0 : 1;
        return failures;
    }
}
