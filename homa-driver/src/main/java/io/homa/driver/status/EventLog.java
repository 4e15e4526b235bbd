package io.homa.driver.status;

import io.homa.driver.DriverFiles;
import org.agrona.IoUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.lang.invoke.VarHandle;
import java.nio.MappedByteBuffer;

import static io.homa.driver.status.EventLogDescriptor.*;

/**
 * The driver's ring of recent protocol events (Linux's timetrace), in {@code events.dat} of the driver directory
 * so that {@code homa-events} reads it from a live or dead driver. Cheap enough to leave on: a record is a handful
 * of plain stores into one cache line of a mapped file, two release stores and a clock read; no allocation, no
 * lock. Exactly one thread writes (the engine's); readers detect records overwritten under them by the record's
 * sequence (see {@link EventLogDescriptor}). Every timestamp comes from the clock it is given (the driver's real
 * one, a simulator's virtual one): the log reads no clock of its own.
 * <p>
 * {@link #freeze} stops recording, as Linux's tt_freeze does when a FREEZE packet arrives, and hands the frozen log
 * to its {@link FreezeDumper}: the driver's writes it to {@code events-freeze-<n>.txt} on a thread of its own so the
 * engine never waits for the file; the log itself starts no thread. Clearing the header's frozen flag (a tool's
 * {@code --unfreeze}) resumes recording at the next {@link #checkUnfreeze()}.
 */
public final class EventLog implements AutoCloseable
{
    private final AtomicBuffer buffer;
    private final byte[] byteArray;
    private final long addressOffset;
    private final MappedByteBuffer mapped;
    private final int mask;
    private final NanoClock clock;
    private final FreezeDumper dumper;
    private boolean isRecording;
    private boolean isFrozen;
    private long sequence;

    private EventLog(
        final AtomicBuffer buffer,
        final MappedByteBuffer mapped,
        final int capacity,
        final NanoClock clock,
        final long startEpochMs,
        final FreezeDumper dumper)
    {
        this.buffer = buffer;
        this.byteArray = null == buffer ? null : buffer.byteArray();
        this.addressOffset = null == buffer ? 0 : buffer.addressOffset();
        this.mapped = mapped;
        this.mask = capacity - 1;
        this.clock = clock;
        this.dumper = dumper;
        if (null != buffer)
        {
            buffer.putInt(RECORD_LENGTH_OFFSET, RECORD_LENGTH);
            buffer.putInt(CAPACITY_OFFSET, capacity);
            buffer.putLong(START_TIMESTAMP_OFFSET, startEpochMs);
            buffer.putLong(START_NANO_TIME_OFFSET, clock.nanoTime());
            buffer.putLong(PID_OFFSET, ProcessHandle.current().pid());
            buffer.putLongVolatile(POSITION_OFFSET, 0);
            buffer.putIntVolatile(VERSION_OFFSET, EVENT_LOG_VERSION);
            isRecording = true;
        }
    }

    /**
     * Creates {@code events.dat} in a driver directory and starts recording.
     *
     * @param directory    the driver directory.
     * @param capacity     records kept, a power of two.
     * @param clock        timestamps.
     * @param epochClock   the start time in the header.
     * @param dumper       what a freeze does with the frozen log (the driver's {@link FileFreezeDumper}).
     * @return the log.
     */
    public static EventLog create(
        final File directory,
        final int capacity,
        final NanoClock clock,
        final EpochClock epochClock,
        final FreezeDumper dumper)
    {
        requireCapacity(capacity);
        final MappedByteBuffer mapped =
            DriverFiles.mapNewFile(new File(directory, EVENT_LOG_FILE), fileLength(capacity));
        return new EventLog(new UnsafeBuffer(mapped), mapped, capacity, clock, epochClock.time(), dumper);
    }

    /**
     * An event log in memory, for tests: a freeze dumps nothing ({@link FreezeDumper#NONE}), the header's start
     * time is the system's.
     *
     * @param buffer   at least {@link EventLogDescriptor#fileLength(int)} bytes, 8-byte aligned.
     * @param capacity records kept, a power of two.
     * @param clock    timestamps.
     * @return the log.
     */
    public static EventLog inMemory(final AtomicBuffer buffer, final int capacity, final NanoClock clock)
    {
        return inMemory(buffer, capacity, clock, SystemEpochClock.INSTANCE, FreezeDumper.NONE);
    }

    /**
     * An event log in memory (a simulator's, a test's).
     *
     * @param buffer     at least {@link EventLogDescriptor#fileLength(int)} bytes, 8-byte aligned.
     * @param capacity   records kept, a power of two.
     * @param clock      timestamps.
     * @param epochClock the start time in the header.
     * @param dumper     what a freeze does with the frozen log.
     * @return the log.
     */
    public static EventLog inMemory(
        final AtomicBuffer buffer,
        final int capacity,
        final NanoClock clock,
        final EpochClock epochClock,
        final FreezeDumper dumper)
    {
        requireCapacity(capacity);
        if (buffer.capacity() < fileLength(capacity))
        {
            throw new IllegalArgumentException("buffer too small for " + capacity + " records");
        }
        return new EventLog(buffer, null, capacity, clock, epochClock.time(), dumper);
    }

    /**
     * @return a log that records nothing (homa.event.log.enabled=false).
     */
    public static EventLog disabled()
    {
        return new EventLog(null, null, 1, null, 0, FreezeDumper.NONE);
    }

    private static void requireCapacity(final int capacity)
    {
        if (capacity < 2 || !org.agrona.BitUtil.isPowerOfTwo(capacity))
        {
            throw new IllegalArgumentException("event log length must be a power of two >= 2: " + capacity);
        }
    }

    /**
     * @return true if this log has a ring (it was enabled).
     */
    public boolean isEnabled()
    {
        return null != buffer;
    }

    /**
     * @return true while events are being recorded (enabled and not frozen): callers may skip preparing an event.
     */
    public boolean isRecording()
    {
        return isRecording;
    }

    /**
     * @return true while frozen.
     */
    public boolean isFrozen()
    {
        return isFrozen;
    }

    /**
     * @return records the ring holds (1 when disabled).
     */
    public int capacity()
    {
        return mask + 1;
    }

    /**
     * @return the last sequence written (events recorded so far).
     */
    public long position()
    {
        return sequence;
    }

    /**
     * Records one event; does nothing when disabled or frozen. Single writer.
     *
     * @param type        {@link EventType}.
     * @param rpcId       this host's id of the RPC, or 0.
     * @param peerIpv4    the peer's address.
     * @param peerUdpPort the peer's UDP port.
     * @param localPort   the Homa port on this side.
     * @param peerPort    the Homa port on the peer's side.
     * @param offset      by type.
     * @param length      by type.
     * @param arg         by type.
     * @param extra       by type.
     * @param flags       by type.
     */
    public void record(
        final int type,
        final long rpcId,
        final int peerIpv4,
        final int peerUdpPort,
        final int localPort,
        final int peerPort,
        final int offset,
        final int length,
        final int arg,
        final int extra,
        final int flags)
    {
        if (!isRecording)
        {
            return;
        }
        // Unchecked stores: the mask keeps every record inside the ring, so per-field bounds checks buy nothing.
        final Object array = byteArray;
        final long sequence = ++this.sequence;
        final long at = addressOffset + recordOffset(sequence, mask);
        // Readers must see "being written" before any field changes, and the fields before the sequence.
        UnsafeApi.putLong(array, at + SEQUENCE_OFFSET, -sequence);
        VarHandle.storeStoreFence();
        UnsafeApi.putLong(array, at + TIMESTAMP_OFFSET, clock.nanoTime());
        UnsafeApi.putLong(array, at + RPC_ID_OFFSET, rpcId);
        UnsafeApi.putInt(array, at + TYPE_OFFSET, type);
        UnsafeApi.putInt(array, at + PEER_IPV4_OFFSET, peerIpv4);
        UnsafeApi.putInt(array, at + PEER_UDP_PORT_OFFSET, peerUdpPort);
        UnsafeApi.putInt(array, at + LOCAL_PORT_OFFSET, localPort);
        UnsafeApi.putInt(array, at + PEER_PORT_OFFSET, peerPort);
        UnsafeApi.putInt(array, at + OFFSET_OFFSET, offset);
        UnsafeApi.putInt(array, at + LENGTH_OFFSET, length);
        UnsafeApi.putInt(array, at + ARG_OFFSET, arg);
        UnsafeApi.putInt(array, at + EXTRA_OFFSET, extra);
        UnsafeApi.putInt(array, at + FLAGS_OFFSET, flags);
        UnsafeApi.putLongRelease(array, at + SEQUENCE_OFFSET, sequence);
        UnsafeApi.putLongRelease(array, addressOffset + POSITION_OFFSET, sequence);
    }

    /**
     * Freezes the log, as a FREEZE packet asks: records {@link EventType#LOG_FROZEN} last, stops recording and
     * hands the frozen log to the {@link FreezeDumper} once. Does nothing if already frozen.
     *
     * @param peerIpv4    who asked.
     * @param peerUdpPort its UDP port.
     * @param localPort   the packet's destination port.
     * @param peerPort    the packet's source port.
     * @return true if this call froze the log.
     */
    public boolean freeze(final int peerIpv4, final int peerUdpPort, final int localPort, final int peerPort)
    {
        if (!isRecording)
        {
            return false;
        }
        final int number = buffer.getInt(FREEZE_COUNT_OFFSET) + 1;
        buffer.putIntRelease(FREEZE_COUNT_OFFSET, number);
        record(EventType.LOG_FROZEN, 0, peerIpv4, peerUdpPort, localPort, peerPort, 0, 0, number, 0, 0);
        isRecording = false;
        isFrozen = true;
        buffer.putIntVolatile(FROZEN_OFFSET, 1);
        dumper.onFrozen(new EventLogReader(buffer), number);
        return true;
    }

    /**
     * Resumes recording once a tool cleared the frozen flag. Cheap: call it once per timer tick.
     */
    public void checkUnfreeze()
    {
        if (isFrozen && 0 == buffer.getIntVolatile(FROZEN_OFFSET))
        {
            isFrozen = false;
            isRecording = true;
            record(EventType.LOG_RESUMED, 0, 0, 0, 0, 0, 0, 0, buffer.getInt(FREEZE_COUNT_OFFSET), 0, 0);
        }
    }

    /**
     * Waits for the dumper's dumps under way ({@link FreezeDumper#awaitDumps()}), then unmaps the file (left mapped
     * if a dump is stuck, rather than pulled from under it).
     */
    public void close()
    {
        final boolean isDumping = !dumper.awaitDumps();
        isRecording = false;
        if (null != mapped && !isDumping)
        {
            IoUtil.unmap(mapped);
        }
    }
}
