package io.homa.samples.tools;

import io.homa.client.CommonContext;
import io.homa.client.Homa;
import io.homa.client.HomaException;
import io.homa.client.RpcInfo;
import io.homa.client.RpcInfoSnapshot;
import io.homa.samples.Args;

import java.io.File;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Prints the live RPCs of a running Homa driver with their state, what Linux's {@code HOMAIOCINFO} gives: id,
 * socket port, peer, state, outgoing message (length, bytes sent, bytes granted, priority), incoming message
 * (length, bytes remaining, gaps, bytes granted), silent ticks, RESENDs sent and DATA retransmitted, flags. Connects
 * as a client of the driver (counted in {@code clients_active} while it runs) and asks for a snapshot; with
 * {@code --watch} it refreshes as homa-stat does. Run with {@code --help}.
 */
public final class RpcStat
{
    private static final DateTimeFormatter TIME_FORMAT =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final String CLEAR_SCREEN = "\u001b[H\u001b[2J";
    private static final String HEADER_FORMAT =
        "%-20s %-20s %5s %-22s %-17s %8s %8s %8s %2s %8s %8s %4s %8s %6s %7s %4s %s%n";
    private static final String ROW_FORMAT =
        "%-20d %-20d %5d %-22s %-17s %8s %8s %8s %2s %8s %8s %4d %8s %6d %7d %4d %s%n";

    private RpcStat()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        final int status = run(args, System.out, System.err);
        if (0 != status)
        {
            System.exit(status);
        }
    }

    /**
     * Runs the tool.
     *
     * @param args the command line.
     * @param out  where snapshots go.
     * @param err  where errors go.
     * @return exit status: 0 ok, 1 bad arguments, 2 no usable driver.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final Args parsed;
        final int port;
        final long watchNs;
        final long count;
        try
        {
            parsed = Args.parse(args, Set.of("dir", "port", "watch", "count"), Set.of());
            port = parsed.intValue("port", 0);
            if (port < 0 || port > 0xFFFF)
            {
                throw new IllegalArgumentException("--port out of range 0..65535: " + port);
            }
            watchNs = parsed.durationNs("watch", 0, "s");
            count = parsed.has("watch") ? parsed.size("count", Long.MAX_VALUE) : 1;
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("rpc-stat: " + ex.getMessage());
            err.println(usage());
            return 1;
        }
        if (parsed.help())
        {
            out.println(usage());
            return 0;
        }

        final File dir = new File(parsed.string("dir", System.getProperty(
            CommonContext.HOMA_DIR_PROP_NAME, CommonContext.HOMA_DIR_DEFAULT)));
        final String udp;
        try (CncFileReader cnc = CncFileReader.map(dir))
        {
            // Fail fast and clearly when there is no live driver, instead of waiting out the driver timeout.
            final long ageMs = cnc.heartbeatAgeMs(System.currentTimeMillis());
            if (0 == cnc.heartbeatMs() || ageMs > TimeUnit.NANOSECONDS.toMillis(cnc.driverTimeoutNs()))
            {
                err.println("rpc-stat: the driver in " + dir + " looks dead (heartbeat " + ageMs + " ms ago)");
                return 2;
            }
            udp = cnc.udpAddress() + ":" + cnc.udpPort();
        }
        catch (final IllegalStateException ex)
        {
            err.println("rpc-stat: " + ex.getMessage());
            return 2;
        }

        final boolean clearScreen = count > 1 && null != System.console() && out == System.out;
        try (Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(dir.getPath())))
        {
            for (long i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(watchNs)));
                }
                final RpcInfoSnapshot snapshot = homa.rpcInfo(port);
                if (clearScreen)
                {
                    out.print(CLEAR_SCREEN);
                }
                else if (i > 0)
                {
                    out.println();
                }
                print(snapshot, dir, udp, out);
                out.flush();
            }
            return 0;
        }
        catch (final HomaException ex)
        {
            err.println("rpc-stat: " + ex.getMessage());
            return 2;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /**
     * Prints a header and one line per RPC, by socket port then id.
     *
     * @param snapshot the RPCs.
     * @param dir      the driver directory.
     * @param udp      the driver's UDP endpoint.
     * @param out      where to print.
     */
    static void print(final RpcInfoSnapshot snapshot, final File dir, final String udp, final PrintStream out)
    {
        final StringBuilder scope = new StringBuilder();
        if (0 == snapshot.port())
        {
            scope.append("all ports");
        }
        else
        {
            scope.append("port ").append(snapshot.port());
            if (snapshot.poolAvailBytes() < 0)
            {
                scope.append(", no socket");
            }
            else
            {
                scope.append(String.format(Locale.ROOT, ", receive pool %,d bytes free", snapshot.poolAvailBytes()));
            }
        }
        out.printf(Locale.ROOT, "%s - Homa driver %s, UDP %s: %d RPC%s (%s)%s%n",
            TIME_FORMAT.format(Instant.now()), dir, udp, snapshot.totalRpcs(), 1 == snapshot.totalRpcs() ? "" : "s",
            scope, snapshot.isTruncated() ? ", first " + snapshot.rpcs().size() + " shown" : "");
        out.printf(Locale.ROOT, HEADER_FORMAT, "ID", "APP-ID", "PORT", "PEER", "STATE", "TX-LEN", "TX-SENT",
            "TX-GRANT", "P", "RX-LEN", "RX-LEFT", "GAPS", "RX-GRANT", "SILENT", "RESENDS", "RETX", "FLAGS");

        final List<RpcInfo> rpcs = new ArrayList<>(snapshot.rpcs());
        rpcs.sort(Comparator.comparingInt(RpcInfo::localPort).thenComparingLong(RpcInfo::id));
        for (final RpcInfo rpc : rpcs)
        {
            final boolean hasTx = rpc.txLength() >= 0;
            final boolean hasRx = rpc.rxLength() >= 0;
            out.printf(Locale.ROOT, ROW_FORMAT,
                rpc.id(),
                rpc.applicationId(),
                rpc.localPort(),
                rpc.peerToString(),
                rpc.state(),
                hasTx ? Integer.toString(rpc.txLength()) : "-",
                hasTx ? Integer.toString(rpc.txSent()) : "-",
                hasTx ? Integer.toString(rpc.txGranted()) : "-",
                hasTx ? Integer.toString(rpc.txPriority()) : "-",
                hasRx ? Integer.toString(rpc.rxLength()) : "-",
                hasRx ? Integer.toString(rpc.rxRemaining()) : "-",
                rpc.rxGaps(),
                hasRx ? Integer.toString(rpc.rxGranted()) : "-",
                rpc.silentTicks(),
                rpc.resends(),
                rpc.retransmits(),
                flags(rpc.flags()));
        }
    }

    static String flags(final int flags)
    {
        if (0 == flags)
        {
            return "-";
        }
        final StringBuilder sb = new StringBuilder();
        if (0 != (flags & RpcInfo.FLAG_BUFFER_STALL))
        {
            sb.append("BUF_STALL,");
        }
        if (0 != (flags & RpcInfo.FLAG_PRIVATE))
        {
            sb.append("PRIVATE,");
        }
        if (0 != (flags & RpcInfo.FLAG_RX_READY))
        {
            sb.append("RX_READY,");
        }
        sb.setLength(Math.max(0, sb.length() - 1));
        return sb.toString();
    }

    static String usage()
    {
        return """
            rpc-stat [options]: live RPCs of a running Homa driver and their state (Linux's HOMAIOCINFO)
              --dir DIR       driver directory (default: -Dhoma.dir, else the default directory)
              --port N        only the RPCs of the socket on Homa port N (default 0: every socket)
              --watch D       refresh every D, seconds unless suffixed (e.g. 500ms); default: print once
              --count N       with --watch: snapshots to print, then exit (default: until Ctrl-C)
            Columns: ID (Linux's: even = client side, odd = server side), APP-ID (what the application sees),
            PORT (local socket), PEER (address:udp-port/homa-port), STATE, TX-LEN/TX-SENT/TX-GRANT/P (outgoing
            message: length, bytes sent, bytes the receiver granted, priority of scheduled DATA), RX-LEN/RX-LEFT/
            GAPS/RX-GRANT (incoming message: length, bytes still missing, missing ranges, bytes granted to the
            sender), SILENT (timer ticks without news from the peer), RESENDS (RESENDs sent), RETX (DATA packets
            sent again), FLAGS (BUF_STALL: waits for receive-pool space, PRIVATE, RX_READY: complete, waiting for
            room in the socket's event ring). '-' = no such message (yet).
            rpc-stat connects as a client of the driver while it runs.
            """;
    }
}
