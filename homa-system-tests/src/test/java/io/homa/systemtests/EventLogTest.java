package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.EventLogReader;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The event log through the real path: an INVOKER-mode driver whose clock moves only when the test says (so no
 * timer event slips in unasked), a client and a server of that driver over UDP on loopback, and {@code events.dat}
 * read back as homa-events reads it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventLogTest
{
    private static final int SERVER_PORT = 650;
    /** An expected arg that matches any value (DATA priorities depend on when the peer's CUTOFFS arrived). */
    private static final int ANY = Integer.MIN_VALUE;

    private final ManualNanoClock clock = new ManualNanoClock();
    private final Requests requests = new Requests();
    private final Responses responses = new Responses();
    private MediaDriver driver;
    private AgentInvoker invoker;
    private Homa homa;
    private HomaSocket server;
    private HomaSocket client;
    private HomaAddress dest;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    private void launch(final Consumer<MediaDriver.Context> config)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .unschedBytes(Configuration.UNSCHED_BYTES_DEFAULT)
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(clock)
            .eventLogEnabled(true);
        config.accept(ctx);
        driver = MediaDriver.launchEmbedded(ctx);
        invoker = driver.sharedAgentInvoker();
        homa = Homa.connect(
            new Homa.Context().homaDirectoryName(driver.homaDirectoryName()).driverAgentInvoker(invoker));
        server = homa.addSocket(SERVER_PORT);
        client = homa.addSocket();
        dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
    }

    private void step()
    {
        invoker.invoke();
        server.poll(requests, 16);
        client.poll(responses, 16);
    }

    private void tick()
    {
        clock.advanceNs(TimeUnit.MILLISECONDS.toNanos(1));
        step();
    }

    private File eventFile()
    {
        return new File(driver.homaDirectoryName(), EventLogDescriptor.EVENT_LOG_FILE);
    }

    private List<Event> events()
    {
        try (EventLogReader reader = EventLogReader.map(eventFile(), false))
        {
            final List<Event> events = new ArrayList<>();
            reader.read((e) -> events.add(new Event(
                e.sequence(), e.type(), e.rpcId(), e.localPort(), e.peerPort(), e.offset(), e.length(), e.arg(),
                e.extra())));
            return events;
        }
    }

    @Test
    void shouldRecordTheEventsOfOneRpcInOrderWithIdsAndOffsets()
    {
        launch(ctx -> {});
        final long id = client.send(dest, pattern(100, 1), 0, 100, 1);
        await(() -> 0 != requests.lastId, this::step, 10_000, "request");
        server.reply(requests.lastId, pattern(200, 2), 0, 200);
        await(() -> 1 == responses.count, this::step, 10_000, "response");
        // NEED_ACK after request_ack_ticks, then the client's ACK ends the server RPC.
        await(() -> 0 == homa.rpcInfo(0).totalRpcs(), this::tick, 10_000, "server RPC acked");

        final long serverId = id | 1;
        final List<Event> events = events();
        final int port = client.port();
        final List<Event> expected = List.of(
            new Event(0, EventType.RPC_CREATED, id, port, SERVER_PORT, 0, 100, 1, 0),
            new Event(0, EventType.PACKET_OUT | HomaWire.DATA, id, port, SERVER_PORT, 0, 100, ANY, 100),
            new Event(0, EventType.PACKET_IN | HomaWire.DATA, serverId, SERVER_PORT, port, 0, 100, 100, 100),
            new Event(0, EventType.RPC_CREATED, serverId, SERVER_PORT, port, 0, 100, 3, 0),
            new Event(0, EventType.MESSAGE_COMPLETE, serverId, SERVER_PORT, port, 0, 100, 3, 0),
            new Event(0, EventType.REPLY_STARTED, serverId, SERVER_PORT, port, 0, 200, 0, 0),
            new Event(0, EventType.PACKET_OUT | HomaWire.DATA, serverId, SERVER_PORT, port, 0, 200, ANY, 200),
            new Event(0, EventType.PACKET_IN | HomaWire.DATA, id, port, SERVER_PORT, 0, 200, 200, 200),
            new Event(0, EventType.MESSAGE_COMPLETE, id, port, SERVER_PORT, 0, 200, 2, 0),
            new Event(0, EventType.RPC_ENDED, id, port, SERVER_PORT, 0, 0, 2, 0),
            new Event(0, EventType.PACKET_OUT | HomaWire.NEED_ACK, serverId, SERVER_PORT, port, 0, 0, 0, 0),
            new Event(0, EventType.PACKET_IN | HomaWire.NEED_ACK, id, port, SERVER_PORT, 0, 0, 0, 0),
            new Event(0, EventType.PACKET_OUT | HomaWire.ACK, id, port, SERVER_PORT, 0, 0, 1, 0),
            new Event(0, EventType.PACKET_IN | HomaWire.ACK, serverId, SERVER_PORT, port, 0, 0, 1, 0),
            new Event(0, EventType.RPC_ENDED, serverId, SERVER_PORT, port, 0, 0, 5, 0));
        assertSubsequence(expected, events);
        // Sequences are consecutive from the driver's first event.
        for (int i = 0; i < events.size(); i++)
        {
            assertEquals(i + 1, events.get(i).sequence, events.toString());
        }
    }

    @Test
    void shouldRecordDataOffsetsAndGrantsOfAMultiPacketMessage()
    {
        launch(ctx -> {});
        final int length = 150_000;
        final long id = client.send(dest, pattern(length, 3), 0, length, 3);
        await(() -> 0 != requests.lastId, this::step, 10_000, "request");

        final long serverId = id | 1;
        final List<Event> events = events();
        final List<Event> sent = events.stream()
            .filter((e) -> e.type == (EventType.PACKET_OUT | HomaWire.DATA) && e.rpcId == id).toList();
        final List<Event> received = events.stream()
            .filter((e) -> e.type == (EventType.PACKET_IN | HomaWire.DATA) && e.rpcId == serverId).toList();
        assertEquals(3, sent.size(), events.toString());
        assertEquals(0, sent.get(0).offset);
        assertEquals(40_000, sent.get(0).length, "the first packet stops at unsched_bytes");
        int next = 0;
        for (final Event e : sent)
        {
            assertEquals(next, e.offset);
            assertEquals(length, e.extra);
            next += e.length;
        }
        assertEquals(length, next);
        assertEquals(sent.stream().map((e) -> e.offset).toList(), received.stream().map((e) -> e.offset).toList());

        // The receiver granted the rest; the sender saw the same GRANT, before the scheduled DATA left.
        final Event grantOut = events.stream()
            .filter((e) -> e.type == (EventType.PACKET_OUT | HomaWire.GRANT) && e.rpcId == serverId)
            .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no GRANT out in " + events));
        assertEquals(length, grantOut.offset);
        final Event grantIn = events.stream()
            .filter((e) -> e.type == (EventType.PACKET_IN | HomaWire.GRANT) && e.rpcId == id)
            .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no GRANT in in " + events));
        assertEquals(length, grantIn.offset);
        assertEquals(grantOut.arg, grantIn.arg, "priority");
        assertTrue(grantIn.sequence < sent.get(2).sequence);
    }

    @Test
    void shouldKeepTheNewestEventsWhenTheLogWraps()
    {
        launch(ctx -> ctx.eventLogLength(64));
        for (int i = 0; i < 10; i++)
        {
            client.send(dest, pattern(100, i), 0, 100, i);
            final int before = responses.count;
            await(() -> 0 != requests.lastId, this::step, 10_000, "request " + i);
            server.reply(requests.lastId, pattern(100, i), 0, 100);
            requests.lastId = 0;
            await(() -> before + 1 == responses.count, this::step, 10_000, "response " + i);
        }

        try (EventLogReader reader = EventLogReader.map(eventFile(), false))
        {
            final long position = reader.position();
            assertTrue(position > 64, "events recorded: " + position);
            assertEquals(64, reader.capacity());
            final List<Long> sequences = new ArrayList<>();
            reader.read((e) -> sequences.add(e.sequence()));
            assertEquals(64, sequences.size());
            for (int i = 0; i < 64; i++)
            {
                assertEquals(position - 63 + i, sequences.get(i));
            }
        }
    }

    @Test
    void shouldIgnoreFreezePacketsUnlessAccepted() throws Exception
    {
        // Off by default: any peer that reaches the driver could otherwise stop its log and make it write a dump.
        launch(ctx -> {});
        sendFreeze();
        await(() -> 1 == driver.counter(SystemCounterDescriptor.FREEZES_REFUSED), this::step, 10_000, "refusal");
        assertEquals(1, driver.counter(SystemCounterDescriptor.PACKETS_RCVD_FREEZE));
        assertEquals(0, driver.counter(SystemCounterDescriptor.EVENT_LOG_FREEZES));
        try (EventLogReader reader = EventLogReader.map(eventFile(), false))
        {
            assertFalse(reader.isFrozen());
        }
        assertFalse(new File(driver.homaDirectoryName(), EventLogDescriptor.DUMP_FILE_PREFIX + "1.txt").exists());
    }

    @Test
    void shouldFreezeOnAFreezePacketAndDumpTheLog() throws Exception
    {
        launch(ctx -> ctx.freezeAccept(true));
        final long id = client.send(dest, pattern(500, 4), 0, 500, 4);
        await(() -> 0 != requests.lastId, this::step, 10_000, "request held by the server");

        sendFreeze();
        await(() -> 1 == driver.counter(SystemCounterDescriptor.EVENT_LOG_FREEZES), this::step, 10_000, "freeze");
        final File dump = new File(driver.homaDirectoryName(), EventLogDescriptor.DUMP_FILE_PREFIX + "1.txt");
        await(dump::exists, () -> {}, 10_000, "dump file " + dump);
        assertEquals("rw-------",
            java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dump.toPath())),
            "the dump is private like every driver file");
        final String text = Files.readString(dump.toPath());
        final List<String> lines = text.lines().toList();
        assertTrue(lines.get(0).startsWith("# Homa event log of driver PID " + ProcessHandle.current().pid()), text);
        assertTrue(lines.get(0).endsWith("frozen (freeze 1)"), text);
        assertTrue(text.contains(" RPC_CREATED       id " + id + " "), text);
        assertTrue(text.contains(" FREEZE_IN         local 0 peer 127.0.0.1:"), text);
        assertTrue(text.matches("(?s).* RPC_ACTIVE +id " + (id | 1) + " local " + SERVER_PORT +
            " .* state SERVER_IN_SERVICE sent 0/-1 received 500/500\n.*"), text);
        assertTrue(lines.get(lines.size() - 2).contains(" LOG_FROZEN "), text);
        assertTrue(lines.get(lines.size() - 2).endsWith(" freeze 1"), text);

        // Frozen: the rest of the RPC and a second FREEZE leave the log as it is.
        final long frozenAt;
        try (EventLogReader reader = EventLogReader.map(eventFile(), false))
        {
            assertTrue(reader.isFrozen());
            frozenAt = reader.position();
        }
        server.reply(requests.lastId, pattern(10, 5), 0, 10);
        await(() -> 1 == responses.count, this::step, 10_000, "response");
        sendFreeze();
        await(() -> 2 == driver.counter(SystemCounterDescriptor.PACKETS_RCVD_FREEZE), this::step, 10_000,
            "second FREEZE");
        assertEquals(1, driver.counter(SystemCounterDescriptor.EVENT_LOG_FREEZES));
        try (EventLogReader reader = EventLogReader.map(eventFile(), true))
        {
            assertEquals(frozenAt, reader.position());
            reader.unfreeze();
        }
        assertFalse(new File(driver.homaDirectoryName(), EventLogDescriptor.DUMP_FILE_PREFIX + "2.txt").exists());

        // Unfrozen by a tool: recording resumes at the next timer tick.
        await(() -> position() > frozenAt, this::tick, 10_000, "recording again");
    }

    private long position()
    {
        try (EventLogReader reader = EventLogReader.map(eventFile(), false))
        {
            return reader.position();
        }
    }

    private void sendFreeze() throws IOException
    {
        final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(HomaWire.FREEZE_LENGTH));
        new PacketWriter().freeze(packet, 0, 4444, 0, 0);
        try (DatagramChannel channel = DatagramChannel.open())
        {
            channel.send(packet.byteBuffer().duplicate().clear(),
                new InetSocketAddress(HomaAddress.ipv4ToString(driver.udpAddressIpv4()), driver.udpPort()));
        }
    }

    /**
     * Checks that {@code expected} occurs in {@code actual} in order (other events may come between), comparing
     * every field but the sequence.
     */
    private static void assertSubsequence(final List<Event> expected, final List<Event> actual)
    {
        int next = 0;
        for (final Event event : actual)
        {
            if (next < expected.size() && expected.get(next).sameAs(event))
            {
                next++;
            }
        }
        if (next < expected.size())
        {
            final StringBuilder sb = new StringBuilder("missing, in order, from ").append(next).append(": ")
                .append(expected.get(next)).append("\nevents:\n");
            actual.forEach((e) -> sb.append(e).append('\n'));
            fail(sb.toString());
        }
    }

    private record Event(
        long sequence, int type, long rpcId, int localPort, int peerPort, int offset, int length, int arg, int extra)
    {
        boolean sameAs(final Event other)
        {
            return type == other.type && rpcId == other.rpcId && localPort == other.localPort &&
                peerPort == other.peerPort && offset == other.offset && length == other.length &&
                (ANY == arg || arg == other.arg) && extra == other.extra;
        }

        public String toString()
        {
            return "#" + sequence + " " + EventType.name(type) + " id " + rpcId + " " + localPort + "->" + peerPort +
                " offset " + offset + " length " + length + " arg " + arg + " extra " + extra;
        }
    }

    private static final class Requests implements MessageHandler
    {
        long lastId;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            lastId = id;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new AssertionError("server error " + errorCode);
        }
    }

    private static final class Responses implements MessageHandler
    {
        int count;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new AssertionError("client error " + errorCode);
        }
    }
}
