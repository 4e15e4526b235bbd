package io.homa.driver.status;

import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLogTest
{
    private static final int IPV4 = 0x7F000001;

    private long nowNs = 1_000_000;

    private EventLog log(final int capacity)
    {
        final UnsafeBuffer buffer =
            new UnsafeBuffer(BufferUtil.allocateDirectAligned((int)EventLogDescriptor.fileLength(capacity), 64));
        return EventLog.inMemory(buffer, capacity, () -> nowNs += 1_500);
    }

    private static UnsafeBuffer bufferOf(final EventLog log) throws ReflectiveOperationException
    {
        final var field = EventLog.class.getDeclaredField("buffer");
        field.setAccessible(true);
        return (UnsafeBuffer)field.get(log);
    }

    private static List<long[]> readAll(final EventLogReader reader, final long limit)
    {
        final List<long[]> events = new ArrayList<>();
        reader.read((e) -> events.add(new long[]{ e.sequence(), e.type(), e.rpcId(), e.offset(), e.length() }), limit);
        return events;
    }

    @Test
    void shouldReadEventsBackOldestFirstWithEveryField() throws Exception
    {
        final EventLog log = log(16);
        log.record(EventType.PACKET_OUT | HomaWire.DATA, 1002, IPV4, 4000, 32768, 99, 40_000, 1400, 6, 100_000,
            EventType.FLAG_RETRANSMIT);
        log.record(EventType.RPC_FAILED, 1004, IPV4, 4001, 32769, 98, 0, 0, HomaError.ETIMEDOUT, 0, 0);

        final EventLogReader reader = new EventLogReader(bufferOf(log));
        assertEquals(2, reader.position());
        assertEquals(16, reader.capacity());
        final List<EventLogReader.Event> copies = new ArrayList<>();
        final StringBuilder text = new StringBuilder();
        final long[] base = { -1 };
        reader.read((e) ->
        {
            if (-1 == base[0])
            {
                base[0] = e.timestampNs();
            }
            EventFormatter.format(e, base[0], base[0], text);
            text.append('\n');
            final EventLogReader.Event copy = new EventLogReader.Event();
            copy.sequence = e.sequence();
            copy.type = e.type();
            copy.rpcId = e.rpcId();
            copy.peerIpv4 = e.peerIpv4();
            copy.peerUdpPort = e.peerUdpPort();
            copy.localPort = e.localPort();
            copy.peerPort = e.peerPort();
            copy.offset = e.offset();
            copy.length = e.length();
            copy.arg = e.arg();
            copy.extra = e.extra();
            copy.flags = e.flags();
            copy.timestampNs = e.timestampNs();
            copies.add(copy);
        });

        assertEquals(2, copies.size());
        final EventLogReader.Event data = copies.get(0);
        assertEquals(1, data.sequence());
        assertEquals(EventType.PACKET_OUT | HomaWire.DATA, data.type());
        assertEquals(1002, data.rpcId());
        assertEquals(IPV4, data.peerIpv4());
        assertEquals(4000, data.peerUdpPort());
        assertEquals(32768, data.localPort());
        assertEquals(99, data.peerPort());
        assertEquals(40_000, data.offset());
        assertEquals(1400, data.length());
        assertEquals(6, data.arg());
        assertEquals(100_000, data.extra());
        assertEquals(EventType.FLAG_RETRANSMIT, data.flags());
        assertEquals(1_500, copies.get(1).timestampNs() - data.timestampNs());

        final String[] lines = text.toString().split("\n");
        assertTrue(lines[0].matches(" +0\\.000 +\\+0\\.000 #1 +DATA_OUT +id 1002 " +
            "local 32768 peer 127\\.0\\.0\\.1:4000/99 offset 40000 length 1400 message 100000 priority 6 retransmit"),
            lines[0]);
        assertTrue(lines[1].matches(" +1\\.500 +\\+1\\.500 #2 +RPC_FAILED +id 1004 .* error ETIMEDOUT"), lines[1]);
    }

    @Test
    void shouldKeepOnlyTheNewestEventsOnceFull() throws Exception
    {
        final EventLog log = log(8);
        for (int i = 1; i <= 21; i++)
        {
            log.record(EventType.RPC_CREATED, 2L * i, IPV4, 4000, 1, 2, 0, i, 1, 0, 0);
        }
        final EventLogReader reader = new EventLogReader(bufferOf(log));
        final List<long[]> events = readAll(reader, Long.MAX_VALUE);
        assertEquals(8, events.size());
        for (int i = 0; i < 8; i++)
        {
            assertEquals(14 + i, events.get(i)[0]);
            assertEquals(2L * (14 + i), events.get(i)[2]);
            assertEquals(14 + i, events.get(i)[4]);
        }
        assertEquals(0, reader.skipped());

        final List<long[]> newest = readAll(reader, 3);
        assertEquals(List.of(19L, 20L, 21L), newest.stream().map((e) -> e[0]).toList());
    }

    @Test
    void shouldStopRecordingWhenFrozenUntilUnfrozen() throws Exception
    {
        final EventLog log = log(8);
        log.record(EventType.RPC_CREATED, 2, IPV4, 4000, 1, 2, 0, 10, 1, 0, 0);
        assertTrue(log.freeze(IPV4, 5000, 0, 40000));
        assertTrue(log.isFrozen());
        assertFalse(log.freeze(IPV4, 5000, 0, 40000), "a second FREEZE changes nothing");
        log.record(EventType.RPC_CREATED, 4, IPV4, 4000, 1, 2, 0, 10, 1, 0, 0);

        final EventLogReader reader = new EventLogReader(bufferOf(log));
        assertTrue(reader.isFrozen());
        assertEquals(1, reader.freezeCount());
        final List<long[]> frozen = readAll(reader, Long.MAX_VALUE);
        assertEquals(2, frozen.size());
        assertEquals(EventType.LOG_FROZEN, frozen.get(1)[1]);

        log.checkUnfreeze();
        assertTrue(log.isFrozen(), "stays frozen until a tool clears the flag");
        reader.unfreeze();
        log.checkUnfreeze();
        assertFalse(log.isFrozen());
        log.record(EventType.RPC_CREATED, 6, IPV4, 4000, 1, 2, 0, 10, 1, 0, 0);
        final List<long[]> resumed = readAll(reader, Long.MAX_VALUE);
        assertEquals(4, resumed.size());
        assertEquals(EventType.LOG_RESUMED, resumed.get(2)[1]);

        final StringWriter dump = new StringWriter();
        EventFormatter.print(reader, "memory", new PrintWriter(dump));
        assertTrue(dump.toString().startsWith("# Homa event log of driver PID " + ProcessHandle.current().pid() +
            " in memory"), dump.toString());
        assertTrue(dump.toString().contains("LOG_FROZEN        local 0 peer 127.0.0.1:5000/40000 freeze 1"),
            dump.toString());
        assertTrue(dump.toString().contains("LOG_RESUMED       freeze 1"), dump.toString());
        assertTrue(dump.toString().endsWith("# 4 events" + System.lineSeparator()), dump.toString());
    }

    @Test
    void shouldHandTheFrozenLogToItsDumperOnceOnTheWritersThreadWithTheGivenClocksTimes()
    {
        final List<String> calls = new ArrayList<>();
        final List<long[]> seen = new ArrayList<>();
        final FreezeDumper dumper = (frozenLog, freezeNumber) ->
        {
            calls.add(Thread.currentThread().getName() + " freeze " + freezeNumber + " frozen " +
                frozenLog.isFrozen());
            frozenLog.read((e) -> seen.add(new long[]{ e.sequence(), e.type(), e.timestampNs() }));
        };
        final UnsafeBuffer buffer =
            new UnsafeBuffer(BufferUtil.allocateDirectAligned((int)EventLogDescriptor.fileLength(8), 64));
        final EventLog log = EventLog.inMemory(buffer, 8, () -> nowNs += 1_500, () -> 42L, dumper);
        log.record(EventType.RPC_CREATED, 2, IPV4, 4000, 1, 2, 0, 10, 1, 0, 0);
        final String writer = Thread.currentThread().getName();

        assertTrue(log.freeze(IPV4, 5000, 0, 40000));
        assertEquals(List.of(writer + " freeze 1 frozen true"), calls, "once, at the freeze, on the writer's thread");
        // Header start (1,001,500), then the two records: every time is the given clock's, none the system's.
        assertEquals(List.of(1_003_000L, 1_004_500L), seen.stream().map((e) -> e[2]).toList());
        assertEquals(EventType.LOG_FROZEN, seen.get(1)[1]);
        assertEquals(42L, new EventLogReader(buffer).startTimestampMs());
        assertFalse(log.freeze(IPV4, 5000, 0, 40000));
        assertEquals(1, calls.size(), "a second FREEZE while frozen does not dump again");

        new EventLogReader(buffer).unfreeze();
        log.checkUnfreeze();
        assertTrue(log.freeze(IPV4, 5000, 0, 40000));
        assertEquals(List.of(writer + " freeze 1 frozen true", writer + " freeze 2 frozen true"), calls);
        assertTrue(Thread.getAllStackTraces().keySet().stream()
            .noneMatch((t) -> t.getName().startsWith("homa-event-dump")), "the log started no dump thread");
        log.close();
    }

    @Test
    void shouldSkipARecordOverwrittenWhileBeingRead() throws Exception
    {
        final EventLog log = log(4);
        for (int i = 1; i <= 4; i++)
        {
            log.record(EventType.RPC_CREATED, 2L * i, IPV4, 4000, 1, 2, 0, i, 1, 0, 0);
        }
        final UnsafeBuffer buffer = bufferOf(log);
        // The writer is half-way through event 5, which reuses event 1's slot: its sequence says "being written".
        buffer.putLong(EventLogDescriptor.recordOffset(5, 3) + EventLogDescriptor.SEQUENCE_OFFSET, -5);
        final EventLogReader reader = new EventLogReader(buffer);
        final List<long[]> events = readAll(reader, Long.MAX_VALUE);
        assertEquals(List.of(2L, 3L, 4L), events.stream().map((e) -> e[0]).toList());
        assertEquals(1, reader.skipped());
    }

    @Test
    void shouldRecordNothingWhenDisabled()
    {
        final EventLog log = EventLog.disabled();
        assertFalse(log.isEnabled());
        assertFalse(log.isRecording());
        log.record(EventType.RPC_CREATED, 2, IPV4, 4000, 1, 2, 0, 10, 1, 0, 0);
        assertFalse(log.freeze(IPV4, 1, 2, 3));
        assertEquals(0, log.position());
        log.close();
    }

    @Test
    void shouldRejectACapacityThatIsNotAPowerOfTwo()
    {
        assertThrows(IllegalArgumentException.class, () -> log(12));
    }

    @Test
    void shouldNameEventTypes()
    {
        assertEquals("DATA_IN", EventType.name(EventType.PACKET_IN | HomaWire.DATA));
        assertEquals("GRANT_OUT", EventType.name(EventType.PACKET_OUT | HomaWire.GRANT));
        assertEquals("PORT_UNREACHABLE_OUT", EventType.name(EventType.PACKET_OUT | HomaWire.PORT_UNREACHABLE));
        assertEquals("GRANT_NEEDY", EventType.name(EventType.GRANT_NEEDY));
        assertEquals("EVENT_99", EventType.name(99));
    }
}
