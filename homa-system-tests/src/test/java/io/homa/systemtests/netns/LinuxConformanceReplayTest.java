package io.homa.systemtests.netns;

import io.homa.client.HomaSocket;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.codecs.pcap.PcapReader;
import io.homa.driver.net.RawIpSocket;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Replays the client side of a real Linux capture ({@code small_100B.pcap}: a HomaModule client doing 20
 * 100-byte RPCs to server port 4000) byte for byte from a raw socket in one namespace against a fresh raw-IP
 * driver of ours in another, and checks that the answers have the shape Linux's own server gave them in the
 * capture: response DATA with the odd id, swapped ports, the TCP look-alike constants, the real offset, message
 * length and {@code incoming}, an unscheduled priority in the TOS byte; piggy-backed acks freeing the previous
 * RPC; NEED_ACK for the last one (control priority) and an ACK ending it.
 * <p>
 * Not checked, because the engine does not have them yet (cutoffs and grants, loss recovery): the CUTOFFS Linux
 * sends on first contact, echoing the client's cutoff version, priority 7 from the client's cutoffs, and the
 * retransmission answering the capture's RESEND. Those packets are replayed anyway and must do no harm.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinuxConformanceReplayTest
{
    private static final int SERVER_PORT = 4000;
    private static final int CAPTURE_CLIENT = 0x0A630002;

    private NetnsTestbed bed;

    @AfterEach
    void after()
    {
        if (null != bed)
        {
            bed.close();
        }
    }

    private record CapturedPacket(int tos, byte[] bytes)
    {
        int type()
        {
            return bytes[11] & 0xFF;
        }

        long senderId()
        {
            return ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).getLong(20);
        }
    }

    private static List<CapturedPacket> clientPackets() throws Exception
    {
        final Path capture = sharedDir().resolve("linux-captures").resolve("small_100B.pcap");
        final List<CapturedPacket> packets = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(capture))
        {
            reader.readAll((protocol, tos, buffer, offset, length, addressOffset, addressLength) ->
            {
                if (PcapReader.IPPROTO_HOMA == protocol &&
                    CAPTURE_CLIENT == buffer.getInt(addressOffset, ByteOrder.BIG_ENDIAN))
                {
                    final byte[] bytes = new byte[length];
                    buffer.getBytes(offset, bytes);
                    packets.add(new CapturedPacket(tos, bytes));
                }
            });
        }
        return packets;
    }

    private static Path sharedDir()
    {
        final String property = System.getProperty("homa.shared.dir");
        for (final Path candidate : new Path[]{ null == property ? null : Path.of(property), Path.of("..", "..",
            "shared"), Path.of("..", "shared") })
        {
            if (null != candidate && Files.isDirectory(candidate.resolve("linux-captures")))
            {
                return candidate;
            }
        }
        throw new IllegalStateException("shared directory with linux-captures not found");
    }

    @Test
    void shouldAnswerReplayedLinuxClientAsLinuxDoes() throws Exception
    {
        final String reason = NetnsTestbed.unavailableReason();
        assumeTrue(null == reason, () -> "network namespaces unavailable: " + reason);
        final List<CapturedPacket> replay = clientPackets();
        assertEquals(22, replay.size(), "client packets in the capture: 20 DATA, a RESEND and a CUTOFFS");

        bed = new NetnsTestbed(2, 1_500, 1_000);
        final NetnsTestbed.Driver serverDriver = bed.startDriver(2, "raw", Map.of());
        final HomaSocket server = serverDriver.homa().addSocket(SERVER_PORT);
        final NetnsMultiHostTest.Echo echo = new NetnsMultiHostTest.Echo(server);
        final int serverIpv4 = NetnsTestbed.hostIpv4(2);
        // The Linux client, moved to 10.0.0.1: a raw socket made inside host 1's namespace.
        final RawIpSocket client = Netns.call(bed.hostNs(1),
            () -> RawIpSocket.open(HomaWire.IPPROTO_HOMA, NetnsTestbed.hostIpv4(1)));
        final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(2_048));
        final UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(70_000));
        try
        {
            int requests = 0;
            for (final CapturedPacket packet : replay)
            {
                out.putBytes(0, packet.bytes());
                assertEquals(packet.bytes().length,
                    client.send(out.addressOffset(), packet.bytes().length, 0, 0, serverIpv4, packet.tos()));
                if (HomaWire.RESEND == packet.type())
                {
                    // RESEND(0, all) for a response the server still holds: Linux retransmits it at the RESEND's
                    // priority with retransmit set (capture packet 6).
                    final long resendId = packet.senderId();
                    final int length = awaitPacket(client, in, server, echo, serverDriver, HomaWire.DATA);
                    assertEquals(HomaWire.DATA_HEADER_LENGTH + 100, length, "retransmitted response length");
                    assertEquals(resendId | 1, HomaWire.senderId(in, 0), "retransmitted response id");
                    assertEquals(1, in.getByte(48), "retransmit flag");
                    assertEquals(0, HomaWire.dataOffset(in, 0), "retransmitted offset");
                    assertEquals(0xE0, client.lastTos(), "retransmission at the RESEND's priority (7)");
                    continue;
                }
                if (HomaWire.DATA != packet.type())
                {
                    // CUTOFFS: the server records the client's cutoffs; nothing comes back.
                    continue;
                }
                requests++;
                final long clientId = packet.senderId();
                final int length = awaitPacket(client, in, server, echo, serverDriver, HomaWire.DATA);
                checkResponse(in, length, client.lastTos(), clientId, packet.bytes());
                if (requests > 1)
                {
                    // The piggy-backed ack of the previous id ended that RPC on the server.
                    assertTrue(NetnsMultiHostTest.counter(serverDriver, "rpcs_active") <= 1, "acked RPCs freed");
                }
            }
            assertEquals(20, requests);
            assertEquals(20, NetnsMultiHostTest.counter(serverDriver, "server_requests_done"));

            // Nobody acked id 40's response: the server asks, at control priority, as Linux did (id 41).
            final int length = awaitPacket(client, in, server, echo, serverDriver, HomaWire.NEED_ACK);
            assertEquals(HomaWire.NEED_ACK_LENGTH, length);
            assertEquals(0xE0, client.lastTos(), "NEED_ACK TOS");
            assertEquals(41, HomaWire.senderId(in, 0));
            assertEquals(SERVER_PORT, HomaWire.sport(in, 0));
            assertEquals(32768, HomaWire.dport(in, 0));
            assertEquals(0x50, in.getByte(12) & 0xFF, "control doff");
            assertEquals(0x06, in.getByte(13) & 0xFF, "flags");
            assertEquals(0xB97D, in.getShort(18, ByteOrder.BIG_ENDIAN) & 0xFFFF, "urgent");

            // A live Linux client answers with ACK naming the RPC; the server forgets it.
            final int ackLength = new PacketWriter().ack(out, 0, 32768, SERVER_PORT, 40, 0, new long[5], new int[5]);
            assertEquals(HomaWire.ACK_LENGTH, client.send(out.addressOffset(), ackLength, 0, 0, serverIpv4, 0xE0));
            NetnsMultiHostTest.await(() -> 0 == NetnsMultiHostTest.counter(serverDriver, "rpcs_active"),
                () -> server.poll(echo, 10), 10_000, "server RPCs freed by the ACK", serverDriver);
            assertEquals(0, NetnsMultiHostTest.counter(serverDriver, "short_packets"));
            assertEquals(0, NetnsMultiHostTest.counter(serverDriver, "unknown_packet_types"));
            assertEquals(0, NetnsMultiHostTest.counter(serverDriver, "packet_discards"));
        }
        finally
        {
            client.close();
        }
    }

    /**
     * Response DATA as the capture's Linux server sent it (same ids, ports, constants, lengths; offset by the
     * rule), checked field by field against the request it answers.
     */
    private static void checkResponse(
        final UnsafeBuffer in, final int length, final int tos, final long clientId, final byte[] request)
    {
        final String what = "response to id " + clientId + ": ";
        assertEquals(HomaWire.DATA_HEADER_LENGTH + 100, length, what + "length");
        assertEquals(clientId | 1, HomaWire.senderId(in, 0), what + "odd server id");
        assertEquals(SERVER_PORT, HomaWire.sport(in, 0), what + "sport");
        assertEquals(32768, HomaWire.dport(in, 0), what + "dport");
        assertEquals(100, HomaWire.messageLength(in, 0), what + "message_length");
        assertEquals(100, HomaWire.incoming(in, 0), what + "incoming");
        assertEquals(0, HomaWire.dataOffset(in, 0), what + "offset");
        assertEquals(0xE0, in.getByte(12) & 0xFF, what + "DATA doff");
        assertEquals(0x06, in.getByte(13) & 0xFF, what + "flags");
        assertEquals(0, in.getShort(14), what + "window");
        assertEquals(0xB97D, in.getShort(18, ByteOrder.BIG_ENDIAN) & 0xFFFF, what + "urgent");
        assertEquals(0, in.getByte(8) | in.getByte(9) | in.getByte(10), what + "ack[3]");
        assertEquals(0, in.getByte(48), what + "retransmit");
        assertTrue(tos >= 4 << 5 && 0 == (tos & 0x1F), what + "unscheduled priority in TOS: " + tos);
        for (int i = 0; i < 100; i++)
        {
            if (request[HomaWire.DATA_HEADER_LENGTH + i] != in.getByte(HomaWire.DATA_HEADER_LENGTH + i))
            {
                fail(what + "echoed byte " + i);
            }
        }
    }

    private static int awaitPacket(
        final RawIpSocket client,
        final UnsafeBuffer in,
        final HomaSocket server,
        final NetnsMultiHostTest.Echo echo,
        final NetnsTestbed.Driver serverDriver,
        final int type)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - deadlineNs < 0)
        {
            server.poll(echo, 10);
            final int length = client.receive(in.addressOffset(), in.capacity());
            if (length >= HomaWire.COMMON_HEADER_LENGTH && type == HomaWire.type(in, 0))
            {
                return length;
            }
        }
        fail("no " + HomaWire.typeName(type) + " from the server\n" + serverDriver.logText());
        return -1;
    }
}
