package io.homa.driver.status;

/**
 * Layout of {@code events.dat}, the driver's ring of recent protocol events (Linux's timetrace, kept in a file so
 * tools read it from a live or dead driver):
 * <pre>
 *   header (128 bytes) | records: capacity x 64 bytes, record n at slot n &amp; (capacity - 1)
 * </pre>
 * One writer (the engine, on the conductor's thread) numbers records from 1 and overwrites the oldest when the
 * ring is full. A record's first field is its sequence number, written as {@code -sequence} before the other
 * fields and as {@code sequence} after them (a per-record seqlock): a reader that finds the same sequence before
 * and after reading the fields has a whole record, anything else is a record being overwritten, skipped. The
 * header's position is the last complete sequence.
 */
public final class EventLogDescriptor
{
    /** File name inside the driver directory. */
    public static final String EVENT_LOG_FILE = "events.dat";
    /** Prefix of the text dumps a FREEZE produces: {@code events-freeze-<n>.txt}. */
    public static final String DUMP_FILE_PREFIX = "events-freeze-";
    /** Layout version: bump when any offset or meaning changes. */
    public static final int EVENT_LOG_VERSION = 1;

    /** Offset of the layout version (int, written last; 0 = not ready). */
    public static final int VERSION_OFFSET = 0;
    /** Offset of the record length (int). */
    public static final int RECORD_LENGTH_OFFSET = 4;
    /** Offset of the capacity in records (int, a power of two). */
    public static final int CAPACITY_OFFSET = 8;
    /** Offset of the frozen flag (int, 1 = frozen): set by the writer on FREEZE, cleared by a tool to resume. */
    public static final int FROZEN_OFFSET = 12;
    /** Offset of the driver's start time (long, epoch ms), to turn timestamps into wall-clock times. */
    public static final int START_TIMESTAMP_OFFSET = 16;
    /** Offset of the writer's clock at that moment (long, ns). */
    public static final int START_NANO_TIME_OFFSET = 24;
    /** Offset of the driver's process id (long). */
    public static final int PID_OFFSET = 32;
    /** Offset of how many times the log was frozen (int), which numbers the dump files. */
    public static final int FREEZE_COUNT_OFFSET = 40;
    /** Offset of the last complete sequence (long, on a cache line of its own). */
    public static final int POSITION_OFFSET = 64;
    /** Length of the header. */
    public static final int HEADER_LENGTH = 128;

    /** Length of one record: a cache line. */
    public static final int RECORD_LENGTH = 64;
    /** Record: its sequence, negative while being written (long). */
    public static final int SEQUENCE_OFFSET = 0;
    /** Record: the writer's clock (long, ns). */
    public static final int TIMESTAMP_OFFSET = 8;
    /** Record: this host's id of the RPC, 0 for none (long). */
    public static final int RPC_ID_OFFSET = 16;
    /** Record: {@link EventType} (int). */
    public static final int TYPE_OFFSET = 24;
    /** Record: the peer's IPv4 address (int). */
    public static final int PEER_IPV4_OFFSET = 28;
    /** Record: the peer's UDP port (int). */
    public static final int PEER_UDP_PORT_OFFSET = 32;
    /** Record: the Homa port on this side (int). */
    public static final int LOCAL_PORT_OFFSET = 36;
    /** Record: the Homa port on the peer's side (int). */
    public static final int PEER_PORT_OFFSET = 40;
    /** Record: an offset in a message (int). */
    public static final int OFFSET_OFFSET = 44;
    /** Record: a length (int). */
    public static final int LENGTH_OFFSET = 48;
    /** Record: a priority, state, error code or reason, by type (int). */
    public static final int ARG_OFFSET = 52;
    /** Record: a second argument, by type (int). */
    public static final int EXTRA_OFFSET = 56;
    /** Record: flag bits, e.g. {@link EventType#FLAG_RETRANSMIT} (int). */
    public static final int FLAGS_OFFSET = 60;

    private EventLogDescriptor()
    {
    }

    /**
     * @param capacity records, a power of two.
     * @return the file length.
     */
    public static long fileLength(final int capacity)
    {
        return HEADER_LENGTH + (long)capacity * RECORD_LENGTH;
    }

    /**
     * @param sequence a record's sequence.
     * @param mask     capacity - 1.
     * @return where the record starts.
     */
    public static int recordOffset(final long sequence, final int mask)
    {
        return HEADER_LENGTH + (int)(sequence & mask) * RECORD_LENGTH;
    }
}
