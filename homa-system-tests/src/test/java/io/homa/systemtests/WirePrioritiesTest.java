package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a driver actually puts on the wire, seen by a hand-driven peer on its own UDP socket (which reads each
 * datagram's TOS byte with IP_RECVTOS): the priority in the TOS byte, the unscheduled limit, GRANTs followed
 * exactly, CUTOFFS sent and used.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WirePrioritiesTest
{
    private static final int PEER_HOMA_PORT = 99;
    private static final int PEER_CLIENT_PORT = 40_000;
    private static final int DRIVER_SERVER_PORT = 800;
    private static final int CAPACITY = 70_000;

    private final UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(CAPACITY));
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(CAPACITY));
    private final PacketWriter writer = new PacketWriter();
    private MediaDriver driver;
    private Homa homa;
    private AgentInvoker invoker;
    private UdpSocket peer;
    private HomaSocket client;
    private HomaAddress peerAddress;
    private int lastTos;
    private int lastLength;
    private final io.homa.client.MessageHandler noResponses = new io.homa.client.MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final org.agrona.DirectBuffer buffer, final int offset,
            final int length)
        {
            fail("no response expected");
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("no failure expected: " + errorCode);
        }
    };

    @BeforeEach
    void before()
    {
        // A long tick makes the once-per-tick CUTOFFS rate limit, and no FIFO grants the grant sequence, independent
        // of how fast the test runs.
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .unschedBytes(Configuration.UNSCHED_BYTES_DEFAULT)
            .threadingMode(ThreadingMode.INVOKER)
            .timerTickNs(TimeUnit.SECONDS.toNanos(30))
            .grantFifoFraction(0));
        invoker = driver.sharedAgentInvoker();
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(invoker));
        peer = UdpSocket.open(InetAddress.getLoopbackAddress(), 0);
        client = homa.addSocket();
        peerAddress = HomaAddress.of(peer.localAddressInt(), peer.localPort(), PEER_HOMA_PORT);
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver, peer);
    }

    @Test
    void shouldStampPrioritiesInTosAndSendOnlyWhatIsGranted()
    {
        // First contact: no CUTOFFS from this receiver yet, so unscheduled DATA goes at level 6.
        final long first = client.send(peerAddress, pattern(100, 1), 0, 100, 1);
        expectData(first, 100, 0, 100, 6, 0, 100);

        sendToDriver(writer.cutoffs(out, 0, PEER_HOMA_PORT, client.port(), first | 1, HomaWire.defaultCutoffs(), 1));
        pumpUntilCounter(SystemCounterDescriptor.PACKETS_RCVD_CUTOFFS, 1);

        // Now the receiver's cutoffs choose: <= 200 B at 7, <= 2800 at 6, <= 15000 at 5, longer at 4.
        expectData(client.send(peerAddress, pattern(100, 2), 0, 100, 2), 100, 0, 100, 7, 1, 100);
        expectData(client.send(peerAddress, pattern(2_000, 3), 0, 2_000, 3), 2_000, 0, 2_000, 6, 1, 2_000);
        expectData(client.send(peerAddress, pattern(10_000, 4), 0, 10_000, 4), 10_000, 0, 10_000, 5, 1, 10_000);

        // A 100 KB message: only the 40,000 unscheduled bytes leave without a grant.
        final long id = client.send(peerAddress, pattern(100_000, 5), 0, 100_000, 5);
        expectData(id, 100_000, 0, 40_000, 4, 1, 40_000);
        assertNull(nextPacket(2_000), "nothing beyond the unscheduled bytes without a GRANT");

        // Scheduled bytes go up to the granted offset at the granted priority.
        sendGrant(id, 70_000, 2);
        expectData(id, 100_000, 40_000, 30_000, 2, 1, 40_000);
        // Duplicate, late and equal-offset GRANTs change nothing.
        sendGrant(id, 70_000, 2);
        sendGrant(id, 50_000, 2);
        assertNull(nextPacket(2_000));
        sendGrant(id, 100_000, 1);
        expectData(id, 100_000, 70_000, 30_000, 1, 1, 40_000);
        assertNull(nextPacket(1_000));
        assertEquals(4, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_GRANT));
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_CUTOFFS));
        assertEquals(0, driver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS), "no DATA came in");
    }

    @Test
    void shouldAnswerStaleCutoffVersionOnceAndGrantAtControlPriority()
    {
        homa.addSocket(DRIVER_SERVER_PORT);
        final long clientId = 1_000;
        final int message = 1_000_000;

        // The first 40,000 bytes of a 1 MB request, from a sender that has never seen our cutoffs.
        sendToDriver(dataPacket(clientId, message, 0, 40_000, 0));
        final Packet cutoffs = expectPacket(HomaWire.CUTOFFS);
        assertEquals(HomaWire.tos(7), cutoffs.tos);
        assertEquals(1, HomaWire.cutoffsVersion(cutoffs.buffer, 0));
        // Linux's default table as a Linux receiver sends it: entry 0 is 0, not INT_MAX (#17).
        assertCutoffs(cutoffs, new int[]{ 0, 0, 0, 0, 1_000_000, 15_000, 2_800, 200 });
        assertEquals(clientId | 1, HomaWire.senderId(cutoffs.buffer, 0));

        // A lone message: granted one window (max_incoming / 2) beyond what arrived, at the lowest level.
        final Packet grant = expectPacket(HomaWire.GRANT);
        assertEquals(HomaWire.tos(7), grant.tos);
        assertEquals(240_000, HomaWire.grantOffset(grant.buffer, 0));
        assertEquals(0, HomaWire.grantPriority(grant.buffer, 0));
        assertEquals(clientId | 1, HomaWire.senderId(grant.buffer, 0));

        // Still stale, but within the same tick: no second CUTOFFS. Each batch of data moves the grant on.
        sendToDriver(dataPacket(clientId, message, 40_000, 40_000, 0));
        assertEquals(280_000, HomaWire.grantOffset(expectPacket(HomaWire.GRANT).buffer, 0));
        sendToDriver(dataPacket(clientId, message, 80_000, 40_000, 1));
        assertEquals(320_000, HomaWire.grantOffset(expectPacket(HomaWire.GRANT).buffer, 0));
        assertNull(nextPacket(2_000));
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_SENT_CUTOFFS));
        assertEquals(3, driver.counter(SystemCounterDescriptor.PACKETS_SENT_GRANT));
    }

    @Test
    void shouldSendConfiguredCutoffsNormalisedAsVersionTwo()
    {
        // A table other than Linux's defaults is sent as Linux sends one after a sysctl change: normalised (entry 0
        // INT_MAX, unused levels 0) and as version 2.
        CloseHelper.closeAll(homa, driver);
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .unschedBytes(Configuration.UNSCHED_BYTES_DEFAULT)
            .threadingMode(ThreadingMode.INVOKER)
            .timerTickNs(TimeUnit.SECONDS.toNanos(30))
            .grantFifoFraction(0)
            .numPriorities(6)
            .unschedCutoffs(new int[]{ 0, 0, 1_000_000, 10_000, 1_000, 100, 50, 20 }));
        invoker = driver.sharedAgentInvoker();
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(invoker));
        client = homa.addSocket();
        homa.addSocket(DRIVER_SERVER_PORT);

        sendToDriver(dataPacket(2_000, 1_000, 0, 1_000, 1));
        final Packet cutoffs = expectPacket(HomaWire.CUTOFFS);
        assertEquals(2, HomaWire.cutoffsVersion(cutoffs.buffer, 0));
        assertCutoffs(cutoffs, new int[]{ Integer.MAX_VALUE, 0, 1_000_000, 10_000, 1_000, 100, 0, 0 });
    }

    @Test
    void shouldFollowGrantWithResendAllByteOfOlderLinux()
    {
        // HomaModule before June 2025 sends 34-byte GRANTs: the current 33 bytes and a resend_all byte (#17).
        final long id = client.send(peerAddress, pattern(100_000, 5), 0, 100_000, 5);
        expectData(id, 100_000, 0, 40_000, 6, 0, 40_000);

        final int length = writer.grant(out, 0, PEER_HOMA_PORT, client.port(), id | 1, 70_000, 2);
        out.putByte(length, (byte)1);
        assertEquals(34, length + 1);
        sendToDriver(length + 1);
        expectData(id, 100_000, 40_000, 30_000, 2, 0, 40_000);
        assertNull(nextPacket(2_000), "only what the old GRANT granted");
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_GRANT));
    }

    @Test
    void shouldRetransmitForUpstreamResendWithoutPriority()
    {
        // The upstream (net-next) module's RESEND is 36 bytes: no priority byte, so the retransmission goes at the
        // top level; the full module's 37-byte RESEND names the level (#17).
        final long id = client.send(peerAddress, pattern(100_000, 5), 0, 100_000, 5);
        expectData(id, 100_000, 0, 40_000, 6, 0, 40_000);

        assertEquals(37, writer.resend(out, 0, PEER_HOMA_PORT, client.port(), id | 1, 10_000, 1_000, 3));
        sendToDriver(37);
        final Packet full = expectPacket(HomaWire.DATA);
        assertEquals(HomaWire.tos(3), full.tos);
        assertEquals(10_000, HomaWire.dataOffset(full.buffer, 0));

        writer.resend(out, 0, PEER_HOMA_PORT, client.port(), id | 1, 10_000, 1_000, 3);
        sendToDriver(36);
        final Packet upstream = expectPacket(HomaWire.DATA);
        assertEquals(HomaWire.tos(7), upstream.tos, "no priority byte: the top level, not the 3 beyond the packet");
        assertEquals(10_000, HomaWire.dataOffset(upstream.buffer, 0));
        assertEquals(full.length, upstream.length);
        // incoming as Linux's homa_resend_data sets it: the end of the RESEND range, not the message length.
        assertEquals(11_000, HomaWire.incoming(full.buffer, 0));
        assertEquals(11_000, HomaWire.incoming(upstream.buffer, 0));
        assertNull(nextPacket(2_000));

        // "Everything you sent" (length 0xFFFFFFFF): the 40,000 bytes sent so far, each packet saying so.
        sendToDriver(writer.resend(out, 0, PEER_HOMA_PORT, client.port(), id | 1, 0, -1, 3));
        int resent = 0;
        while (resent < 40_000)
        {
            final Packet packet = expectPacket(HomaWire.DATA);
            assertEquals(resent, HomaWire.dataOffset(packet.buffer, 0));
            assertEquals(40_000, HomaWire.incoming(packet.buffer, 0), "at most what was sent, never 100,000");
            resent += packet.length - HomaWire.DATA_HEADER_LENGTH;
        }
        assertEquals(40_000, resent);
        assertNull(nextPacket(2_000));
        assertEquals(3, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_RESEND));
    }

    @Test
    void shouldRestartAfterRpcUnknownWithIncomingAtWhatWasSent()
    {
        // A server that lost the request: the client sends again what it sent, 70,000 of 100,000 bytes here, each
        // packet's incoming at 70,000 (Linux: homa_resend_data(rpc, 0, next_xmit_offset)), not the message length.
        final long id = client.send(peerAddress, pattern(100_000, 5), 0, 100_000, 5);
        expectData(id, 100_000, 0, 40_000, 6, 0, 40_000);
        sendGrant(id, 70_000, 2);
        expectData(id, 100_000, 40_000, 30_000, 2, 0, 40_000);

        sendToDriver(writer.rpcUnknown(out, 0, PEER_HOMA_PORT, client.port(), id | 1));
        int resent = 0;
        while (resent < 70_000)
        {
            final Packet packet = expectPacket(HomaWire.DATA);
            assertEquals(resent, HomaWire.dataOffset(packet.buffer, 0));
            assertEquals(70_000, HomaWire.incoming(packet.buffer, 0));
            resent += packet.length - HomaWire.DATA_HEADER_LENGTH;
        }
        assertEquals(70_000, resent);
        assertNull(nextPacket(2_000), "nothing beyond the grant");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static void assertCutoffs(final Packet packet, final int[] expected)
    {
        assertEquals(HomaWire.CUTOFFS_LENGTH, packet.length);
        final io.homa.codecs.wire.CutoffsDecoder decoder = new io.homa.codecs.wire.CutoffsDecoder()
            .wrap(packet.buffer, 0, io.homa.codecs.wire.CutoffsDecoder.BLOCK_LENGTH,
                io.homa.codecs.wire.CutoffsDecoder.SCHEMA_VERSION);
        for (int i = 0; i < expected.length; i++)
        {
            assertEquals(expected[i] & 0xFFFF_FFFFL, decoder.unschedCutoffs(i), "cutoff " + i);
        }
    }

    record Packet(UnsafeBuffer buffer, int length, int tos)
    {
    }

    private int dataPacket(
        final long clientId, final int messageLength, final int offset, final int payload, final int cutoffVersion)
    {
        writer.data(out, 0, PEER_CLIENT_PORT, DRIVER_SERVER_PORT, clientId, messageLength, 40_000, 0, 0,
            cutoffVersion, false, offset);
        for (int i = 0; i < payload; i++)
        {
            out.putByte(HomaWire.DATA_HEADER_LENGTH + i, (byte)(offset + i));
        }
        return HomaWire.DATA_HEADER_LENGTH + payload;
    }

    private void sendGrant(final long clientId, final int offset, final int priority)
    {
        sendToDriver(writer.grant(out, 0, PEER_HOMA_PORT, client.port(), clientId | 1, offset, priority));
    }

    private void sendToDriver(final int length)
    {
        final int sent = peer.send(out.addressOffset(), length, driver.udpAddressIpv4(), driver.udpPort(), 0);
        assertEquals(length, sent);
    }

    private void expectData(
        final long id,
        final int messageLength,
        final int offset,
        final int payload,
        final int priority,
        final int cutoffVersion,
        final int incoming)
    {
        final Packet packet = expectPacket(HomaWire.DATA);
        assertEquals(HomaWire.tos(priority), packet.tos, "TOS of DATA at offset " + offset);
        assertEquals(id, HomaWire.senderId(packet.buffer, 0));
        assertEquals(messageLength, HomaWire.messageLength(packet.buffer, 0));
        assertEquals(offset, HomaWire.dataOffset(packet.buffer, 0));
        assertEquals(payload, packet.length - HomaWire.DATA_HEADER_LENGTH);
        assertEquals(cutoffVersion, HomaWire.cutoffVersion(packet.buffer, 0));
        assertEquals(incoming, HomaWire.incoming(packet.buffer, 0));
    }

    private Packet expectPacket(final int type)
    {
        final Packet packet = nextPacket(1_000_000);
        if (null == packet)
        {
            fail("no " + HomaWire.typeName(type) + " packet arrived");
        }
        assertEquals(HomaWire.typeName(type), HomaWire.typeName(HomaWire.type(packet.buffer, 0)));
        return packet;
    }

    /**
     * Runs the driver until the peer has a datagram, at most {@code maxCycles} duty cycles (and 10 s).
     */
    private Packet nextPacket(final int maxCycles)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int i = 0; i < maxCycles && System.nanoTime() - deadlineNs < 0; i++)
        {
            final int length = peer.receive(in.addressOffset(), CAPACITY);
            if (length >= 0)
            {
                lastTos = peer.lastTos();
                lastLength = length;
                final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                copy.putBytes(0, in, 0, length);
                return new Packet(copy, lastLength, lastTos);
            }
            invoker.invoke();
            client.poll(noResponses, 1);
        }
        return null;
    }

    private void pumpUntilCounter(final SystemCounterDescriptor descriptor, final long value)
    {
        TestUtil.await(() -> driver.counter(descriptor) >= value, invoker::invoke, 10_000, descriptor.label());
    }
}
