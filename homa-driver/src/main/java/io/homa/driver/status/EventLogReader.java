package io.homa.driver.status;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.lang.invoke.VarHandle;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

import static io.homa.driver.status.EventLogDescriptor.*;

/**
 * Reads an event log oldest-first, while its writer runs or after its driver died. A record the writer overwrote
 * (or was overwriting) while it was read is detected by its sequence and skipped, never returned torn.
 */
public final class EventLogReader implements AutoCloseable
{
    /**
     * Gets each whole event; the {@link Event} is reused, so copy what is kept.
     */
    @FunctionalInterface
    public interface EventHandler
    {
        /**
         * @param event the event.
         */
        void onEvent(Event event);
    }

    /**
     * One event, read from its record. Reused from one event to the next.
     */
    public static final class Event
    {
        long sequence;
        long timestampNs;
        long rpcId;
        int type;
        int peerIpv4;
        int peerUdpPort;
        int localPort;
        int peerPort;
        int offset;
        int length;
        int arg;
        int extra;
        int flags;

        /**
         * @return the record's sequence: 1 for the first event the driver recorded.
         */
        public long sequence()
        {
            return sequence;
        }

        /**
         * @return the writer's clock, ns.
         */
        public long timestampNs()
        {
            return timestampNs;
        }

        /**
         * @return this host's id of the RPC, or 0.
         */
        public long rpcId()
        {
            return rpcId;
        }

        /**
         * @return the {@link EventType}.
         */
        public int type()
        {
            return type;
        }

        /**
         * @return the peer's IPv4 address.
         */
        public int peerIpv4()
        {
            return peerIpv4;
        }

        /**
         * @return the peer's UDP port.
         */
        public int peerUdpPort()
        {
            return peerUdpPort;
        }

        /**
         * @return the Homa port on this side.
         */
        public int localPort()
        {
            return localPort;
        }

        /**
         * @return the Homa port on the peer's side.
         */
        public int peerPort()
        {
            return peerPort;
        }

        /**
         * @return an offset, by type.
         */
        public int offset()
        {
            return offset;
        }

        /**
         * @return a length, by type.
         */
        public int length()
        {
            return length;
        }

        /**
         * @return a priority, state, errno or reason, by type.
         */
        public int arg()
        {
            return arg;
        }

        /**
         * @return a second argument, by type.
         */
        public int extra()
        {
            return extra;
        }

        /**
         * @return flag bits, by type.
         */
        public int flags()
        {
            return flags;
        }
    }

    private final AtomicBuffer buffer;
    private final MappedByteBuffer mapped;
    private final int capacity;
    private final int mask;
    private final Event event = new Event();
    private long skipped;

    /**
     * @param buffer the whole log (header and records).
     */
    public EventLogReader(final AtomicBuffer buffer)
    {
        this(buffer, null);
    }

    private EventLogReader(final AtomicBuffer buffer, final MappedByteBuffer mapped)
    {
        final int version = buffer.getIntVolatile(VERSION_OFFSET);
        if (EVENT_LOG_VERSION != version)
        {
            throw new IllegalStateException(0 == version ? "event log not ready (version 0)" :
                "event log version " + version + " is not the " + EVENT_LOG_VERSION + " this reader knows");
        }
        this.buffer = buffer;
        this.mapped = mapped;
        this.capacity = buffer.getInt(CAPACITY_OFFSET);
        if (RECORD_LENGTH != buffer.getInt(RECORD_LENGTH_OFFSET) || capacity < 2 ||
            !org.agrona.BitUtil.isPowerOfTwo(capacity) || buffer.capacity() < fileLength(capacity))
        {
            throw new IllegalStateException("event log header does not match its length");
        }
        this.mask = capacity - 1;
    }

    /**
     * Maps a driver's {@code events.dat}.
     *
     * @param file     the file.
     * @param writable true to map it read-write (only to clear the frozen flag), else read-only.
     * @return the reader; close it to unmap.
     * @throws IllegalStateException if the file is missing or not an event log this reader knows.
     */
    public static EventLogReader map(final File file, final boolean writable)
    {
        if (!file.isFile() || file.length() < HEADER_LENGTH)
        {
            throw new IllegalStateException("no event log at " + file +
                " (is homa.event.log.enabled off, or the directory wrong?)");
        }
        final MappedByteBuffer mapped = IoUtil.mapExistingFile(
            file, writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, "events");
        try
        {
            return new EventLogReader(new UnsafeBuffer(mapped), mapped);
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(mapped);
            throw ex;
        }
    }

    /**
     * Reads every event still in the ring, oldest first.
     *
     * @param handler gets each whole event.
     * @return events handed over.
     */
    public int read(final EventHandler handler)
    {
        return read(handler, Long.MAX_VALUE);
    }

    /**
     * Reads the newest events still in the ring, oldest first.
     *
     * @param handler gets each whole event.
     * @param limit   most events, the newest ones.
     * @return events handed over.
     */
    public int read(final EventHandler handler, final long limit)
    {
        final AtomicBuffer buffer = this.buffer;
        final Event event = this.event;
        final long last = buffer.getLongVolatile(POSITION_OFFSET);
        final long first = Math.max(1, last - Math.min(limit, capacity) + 1);
        int count = 0;
        for (long sequence = first; sequence <= last; sequence++)
        {
            final int at = recordOffset(sequence, mask);
            if (buffer.getLongVolatile(at + SEQUENCE_OFFSET) != sequence)
            {
                // Overwritten by a newer event since the position was read.
                skipped++;
                continue;
            }
            event.sequence = sequence;
            event.timestampNs = buffer.getLong(at + TIMESTAMP_OFFSET);
            event.rpcId = buffer.getLong(at + RPC_ID_OFFSET);
            event.type = buffer.getInt(at + TYPE_OFFSET);
            event.peerIpv4 = buffer.getInt(at + PEER_IPV4_OFFSET);
            event.peerUdpPort = buffer.getInt(at + PEER_UDP_PORT_OFFSET);
            event.localPort = buffer.getInt(at + LOCAL_PORT_OFFSET);
            event.peerPort = buffer.getInt(at + PEER_PORT_OFFSET);
            event.offset = buffer.getInt(at + OFFSET_OFFSET);
            event.length = buffer.getInt(at + LENGTH_OFFSET);
            event.arg = buffer.getInt(at + ARG_OFFSET);
            event.extra = buffer.getInt(at + EXTRA_OFFSET);
            event.flags = buffer.getInt(at + FLAGS_OFFSET);
            VarHandle.loadLoadFence();
            if (buffer.getLongVolatile(at + SEQUENCE_OFFSET) != sequence)
            {
                // The writer came round while the fields were read: they may be torn.
                skipped++;
                continue;
            }
            handler.onEvent(event);
            count++;
        }
        return count;
    }

    /**
     * @return events skipped so far because the writer overwrote them while they were read.
     */
    public long skipped()
    {
        return skipped;
    }

    /**
     * @return records the ring holds.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * @return the last sequence written: events recorded since the driver started.
     */
    public long position()
    {
        return buffer.getLongVolatile(POSITION_OFFSET);
    }

    /**
     * @return true while the log is frozen.
     */
    public boolean isFrozen()
    {
        return 0 != buffer.getIntVolatile(FROZEN_OFFSET);
    }

    /**
     * Lets the driver record again (it notices within a timer tick). Needs a writable mapping.
     */
    public void unfreeze()
    {
        buffer.putIntVolatile(FROZEN_OFFSET, 0);
    }

    /**
     * @return times the log was frozen.
     */
    public int freezeCount()
    {
        return buffer.getIntVolatile(FREEZE_COUNT_OFFSET);
    }

    /**
     * @return the driver's process id.
     */
    public long pid()
    {
        return buffer.getLong(PID_OFFSET);
    }

    /**
     * @return the driver's start time, epoch ms.
     */
    public long startTimestampMs()
    {
        return buffer.getLong(START_TIMESTAMP_OFFSET);
    }

    /**
     * @return the writer's clock at the start time, ns.
     */
    public long startNanoTime()
    {
        return buffer.getLong(START_NANO_TIME_OFFSET);
    }

    /**
     * Unmaps the file if this reader mapped it.
     */
    public void close()
    {
        if (null != mapped)
        {
            IoUtil.unmap(mapped);
        }
    }
}
