package io.homa.driver.status;

import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import io.homa.codecs.RejectReason;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Turns event-log records into text, one line per event: time in µs since the first event shown, the gap to the
 * previous one, the sequence, the type, the RPC, the ports and peer, then the fields the type uses. Shared by the
 * FREEZE dump and the {@code homa-events} tool, so both read the same.
 */
public final class EventFormatter
{
    private static final DateTimeFormatter TIME_FORMAT =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneId.systemDefault());

    private EventFormatter()
    {
    }

    /**
     * Prints a header and every event of the log, oldest first (what a FREEZE dump holds).
     *
     * @param reader the log.
     * @param source where it comes from (the driver directory), for the header.
     * @param out    where to print.
     */
    public static void print(final EventLogReader reader, final String source, final PrintWriter out)
    {
        out.println(header(reader, source));
        final long[] times = { Long.MIN_VALUE, 0 };
        final StringBuilder line = new StringBuilder(160);
        final int count = reader.read((event) ->
        {
            if (Long.MIN_VALUE == times[0])
            {
                times[0] = event.timestampNs();
                times[1] = event.timestampNs();
            }
            line.setLength(0);
            format(event, times[0], times[1], line);
            out.println(line);
            times[1] = event.timestampNs();
        });
        out.println("# " + count + " events" + (reader.skipped() > 0 ?
            ", " + reader.skipped() + " overwritten while being read" : ""));
    }

    /**
     * @param reader the log.
     * @param source where it comes from.
     * @return one line (starting with {@code #}) describing the log.
     */
    public static String header(final EventLogReader reader, final String source)
    {
        final long position = reader.position();
        return String.format(Locale.ROOT,
            "# Homa event log of driver PID %d in %s, started %s: %d events recorded, last %d kept, %s",
            reader.pid(), source, TIME_FORMAT.format(Instant.ofEpochMilli(reader.startTimestampMs())), position,
            Math.min(position, reader.capacity()),
            reader.isFrozen() ? "frozen (freeze " + reader.freezeCount() + ")" : "recording");
    }

    /**
     * Appends one event as text.
     *
     * @param event      the event.
     * @param baseNs     timestamp the first column counts from.
     * @param previousNs timestamp of the event before, for the gap column.
     * @param out        where the text goes.
     */
    public static void format(final EventLogReader.Event event, final long baseNs, final long previousNs,
        final StringBuilder out)
    {
        final int type = event.type();
        out.append(String.format(Locale.ROOT, "%12.3f %+10.3f #%-8d %-17s",
            (event.timestampNs() - baseNs) / 1000.0, (event.timestampNs() - previousNs) / 1000.0,
            event.sequence(), EventType.name(type)));
        final boolean isClientEvent = EventType.CLIENT_CONNECTED <= type && type <= EventType.CLIENT_TIMEOUT;
        if (0 != event.rpcId())
        {
            out.append(isClientEvent ? " client " : " id ").append(event.rpcId());
        }
        if (0 != event.localPort() || 0 != event.peerPort() || 0 != event.peerIpv4())
        {
            out.append(" local ").append(event.localPort()).append(" peer ")
                .append(HomaAddress.ipv4ToString(event.peerIpv4())).append(':').append(event.peerUdpPort())
                .append('/').append(event.peerPort());
        }
        if (EventType.isPacket(type))
        {
            formatPacket(event, type & 0xFF, EventType.PACKET_IN == (type & 0xF00), out);
            return;
        }
        switch (type)
        {
            case EventType.PACKET_REJECTED ->
                out.append(" reason ").append(RejectReason.name(event.arg())).append(" length ").append(event.length());
            case EventType.RPC_CREATED ->
                out.append(" state ").append(RpcStateCode.nameOf(event.arg())).append(" length ")
                    .append(event.length());
            case EventType.MESSAGE_COMPLETE, EventType.REPLY_STARTED, EventType.BUFFER_WAIT ->
                out.append(" length ").append(event.length());
            case EventType.RPC_ENDED, EventType.RPC_TIMEOUT ->
                out.append(" state ").append(RpcStateCode.nameOf(event.arg()));
            case EventType.RPC_FAILED -> out.append(" error ").append(HomaError.name(event.arg()));
            case EventType.GRANT_NEEDY ->
                out.append(" granted ").append(event.offset()).append(" length ").append(event.length())
                    .append(" total_incoming ").append(event.arg());
            case EventType.GRANT_FIFO ->
                out.append(" granted ").append(event.offset()).append(" priority ").append(event.arg());
            case EventType.RPC_ACTIVE ->
                out.append(" state ").append(RpcStateCode.nameOf(event.arg()))
                    .append(" sent ").append(event.offset()).append('/').append(event.length())
                    .append(" received ").append(event.extra()).append('/').append(event.flags());
            case EventType.LOG_FROZEN, EventType.LOG_RESUMED -> out.append(" freeze ").append(event.arg());
            case EventType.CLIENT_CONNECTED, EventType.CLIENT_CLOSED -> { }
            case EventType.CLIENT_TIMEOUT ->
                out.append(" sockets_closed ").append(event.length()).append(" silent_ms ").append(event.arg());
            default ->
                out.append(" offset ").append(event.offset()).append(" length ").append(event.length())
                    .append(" arg ").append(event.arg()).append(" extra ").append(event.extra());
        }
    }

    private static void formatPacket(
        final EventLogReader.Event event, final int wireType, final boolean isIn, final StringBuilder out)
    {
        switch (wireType)
        {
            case HomaWire.DATA ->
            {
                out.append(" offset ").append(event.offset()).append(" length ").append(event.length())
                    .append(" message ").append(event.extra());
                out.append(isIn ? " incoming " : " priority ").append(event.arg());
                if (0 != (event.flags() & EventType.FLAG_RETRANSMIT))
                {
                    out.append(" retransmit");
                }
            }
            case HomaWire.GRANT ->
                out.append(" offset ").append(event.offset()).append(" priority ").append(event.arg());
            case HomaWire.RESEND ->
            {
                out.append(" offset ").append(event.offset()).append(" length ");
                if (-1 == event.length())
                {
                    out.append("all");
                }
                else
                {
                    out.append(event.length());
                }
                out.append(" priority ").append(event.arg());
            }
            case HomaWire.CUTOFFS -> out.append(" version ").append(event.arg());
            case HomaWire.ACK -> out.append(" acks ").append(event.arg());
            default ->
            {
                // BUSY, NEED_ACK, RPC_UNKNOWN, FREEZE, PORT_UNREACHABLE: the header says it all.
            }
        }
    }
}
