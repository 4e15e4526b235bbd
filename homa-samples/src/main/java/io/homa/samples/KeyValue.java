package io.homa.samples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A small key-value service as an application would write it: an embedded driver on each side (two hosts), a
 * server thread with a map, and a client that does sequential PUT/GET RPCs of 100 B values, each one
 * {@code send(..., FLAG_PRIVATE)} then {@code receive(id, ...)} (block until that response). The same loop over
 * plain TCP sockets (one connection, length-prefixed frames, TCP_NODELAY) runs beside it for comparison. Prints
 * p50/p99 per protocol and the number of failed RPCs (ETIMEDOUT and others) over every run.
 * Run with {@code --help}.
 */
public final class KeyValue
{
    private static final int SERVER_PORT = 4100;
    private static final int KEYS = 1000;
    /** Largest value a PUT can carry: a Homa message holds 1,000,000 B, less the type byte and the 8-byte key. */
    static final int MAX_VALUE_SIZE = io.homa.codecs.HomaWire.HOMA_MAX_MESSAGE_LENGTH - 9;
    private static final byte GET = 1;
    private static final byte PUT = 2;
    private static final Set<String> VALUE_OPTIONS =
        Set.of("count", "runs", "value-size", "protocol", "mode", "rpc-timeout", "interval", "warmup");

    private KeyValue()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        try
        {
            final Result result = run(args, System.out);
            if (null != result && result.failures > 0)
            {
                System.exit(2);
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("kv: " + ex.getMessage());
            System.err.println(usage());
            System.exit(1);
        }
    }

    /**
     * What a run measured.
     *
     * @param homa     Homa round trips (ns), or null.
     * @param tcp      TCP round trips (ns), or null.
     * @param failures Homa RPCs that failed (ETIMEDOUT or other errors, or no answer within the RPC timeout).
     */
    public record Result(Histogram homa, Histogram tcp, long failures)
    {
    }

    /**
     * Runs the sample.
     *
     * @param args the command line.
     * @param out  where to print.
     * @return what was measured, or null for --help.
     */
    public static Result run(final String[] args, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return null;
        }
        final int count = parsed.intValue("count", 10_000);
        final int runs = parsed.intValue("runs", 1);
        final int valueSize = parsed.intValue("value-size", 100);
        final String protocol = parsed.string("protocol", "both");
        final ThreadingMode mode = parsed.choice("mode", ThreadingMode.class, ThreadingMode.SHARED);
        final long rpcTimeoutNs = parsed.durationNs("rpc-timeout", TimeUnit.SECONDS.toNanos(10), "s");
        final long intervalNs = parsed.durationNs("interval", 0, "ms");
        final int warmup = parsed.intValue("warmup", 2_000);
        if (count < 1 || runs < 1 || valueSize < 1 || valueSize > MAX_VALUE_SIZE || ThreadingMode.INVOKER == mode ||
            intervalNs < 0 || warmup < 0 || !Set.of("homa", "tcp", "both").contains(protocol))
        {
            throw new IllegalArgumentException("need --count >= 1, --runs >= 1, 1 <= --value-size <= " + MAX_VALUE_SIZE + ", " +
                "--protocol homa|tcp|both, --mode SHARED|SHARED_NETWORK|DEDICATED");
        }
        out.printf(Locale.ROOT, "Key-value loop: %,d sequential RPCs (GET/PUT, %,d B values) x %d run(s), driver " +
            "threading mode %s, %s, load average %s%n", count, valueSize, runs, mode,
            0 == intervalNs ? "back to back" : "one RPC every " + TimeUnit.NANOSECONDS.toMicros(intervalNs) + " us",
            loadAverage());

        final Histogram homa = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        final Histogram tcp = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        long failures = 0;
        for (int run = 0; run < runs; run++)
        {
            // Interleaved, so both see the same machine.
            if (!"tcp".equals(protocol))
            {
                final long failed = homaRun(warmup, count, valueSize, mode, rpcTimeoutNs, intervalNs, homa);
                failures += failed;
                out.printf(Locale.ROOT, "  run %d homa: p50 %.1f us so far, failed %d%n", run + 1,
                    homa.getValueAtPercentile(50) / 1000.0, failed);
            }
            if (!"homa".equals(protocol))
            {
                tcpRun(warmup, count, valueSize, intervalNs, tcp);
            }
        }
        print(out, "homa (" + mode + ", embedded drivers, receive(id))", "homa".equals(protocol) || "both".equals(
            protocol) ? homa : null);
        print(out, "tcp (one connection, TCP_NODELAY, blocking streams)", "tcp".equals(protocol) ||
            "both".equals(protocol) ? tcp : null);
        out.printf(Locale.ROOT, "failed Homa RPCs: %d%n", failures);
        return new Result("tcp".equals(protocol) ? null : homa, "homa".equals(protocol) ? null : tcp, failures);
    }

    private static void print(final PrintStream out, final String name, final Histogram histogram)
    {
        if (null != histogram && histogram.getTotalCount() > 0)
        {
            out.printf(Locale.ROOT, "%-55s p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %9.1f us  (%,d RPCs)%n",
                name, histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(99) / 1000.0,
                histogram.getValueAtPercentile(99.9) / 1000.0, histogram.getMaxValue() / 1000.0,
                histogram.getTotalCount());
        }
    }

    private static long homaRun(
        final int warmup,
        final int count, final int valueSize, final ThreadingMode mode, final long rpcTimeoutNs,
        final long intervalNs, final Histogram histogram)
    {
        final AtomicBoolean running = new AtomicBoolean(true);
        MediaDriver serverDriver = null;
        MediaDriver clientDriver = null;
        Homa serverHoma = null;
        Homa clientHoma = null;
        Thread serverThread = null;
        try
        {
            serverDriver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(mode));
            clientDriver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(mode));
            serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
            clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
            final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
            final HomaSocket client = clientHoma.addSocket();
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

            final Store store = new Store(server, valueSize);
            serverThread = new Thread(() ->
            {
                while (running.get())
                {
                    server.receive(store, TimeUnit.MILLISECONDS.toNanos(100));
                }
            }, "kv-server");
            serverThread.setDaemon(true);
            serverThread.start();

            final UnsafeBuffer request = new UnsafeBuffer(new byte[1 + 8 + valueSize]);
            final Response response = new Response(valueSize);
            final boolean[] stored = new boolean[KEYS];
            long failures = 0;
            // Back-to-back warm-up RPCs first (failures count, times do not): the JIT compiles the paths only after
            // thousands of RPCs, which one every 10 ms would never reach.
            for (int i = 0; i < warmup + count; i++)
            {
                final boolean isMeasured = i >= warmup;
                if (isMeasured)
                {
                    pause(intervalNs);
                }
                final boolean isPut = 0 == (i & 1);
                final long key = keyFor(i);
                request.putByte(0, isPut ? PUT : GET);
                request.putLong(1, key);
                if (isPut)
                {
                    for (int j = 0; j < valueSize; j++)
                    {
                        request.putByte(9 + j, valueByte(key, j));
                    }
                }
                response.expect(key, isPut, isPut || stored[(int)key]);
                final int length = isPut ? request.capacity() : 9;
                final long startNs = System.nanoTime();
                response.reset();
                final long id;
                try
                {
                    id = client.send(dest, request, 0, length, i, HomaSocket.FLAG_PRIVATE);
                }
                catch (final HomaException ex)
                {
                    failures++;
                    continue;
                }
                if (!client.receive(id, response, rpcTimeoutNs) || 0 != response.errorCode || !response.isCorrect)
                {
                    failures++;
                    continue;
                }
                if (isPut)
                {
                    // Only a PUT the store answered is stored: a later GET of a failed one expects "not found".
                    stored[(int)key] = true;
                }
                if (isMeasured)
                {
                    histogram.recordValue(Math.min(response.arrivedNs - startNs, histogram.getHighestTrackableValue()));
                }
            }
            return failures;
        }
        finally
        {
            running.set(false);
            if (null != serverThread)
            {
                try
                {
                    serverThread.join(2_000);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            CloseHelper.closeAll(clientHoma, serverHoma, clientDriver, serverDriver);
        }
    }

    private static void tcpRun(
        final int warmup, final int count, final int valueSize, final long intervalNs, final Histogram histogram)
    {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final Thread serverThread = new Thread(() -> serveTcp(listener, valueSize), "kv-tcp-server");
            serverThread.setDaemon(true);
            serverThread.start();
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort()))
            {
                socket.setTcpNoDelay(true);
                final DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
                    socket.getOutputStream(), 2 * valueSize + 64));
                final DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(
                    socket.getInputStream(), 2 * valueSize + 64));
                final byte[] value = new byte[valueSize];
                final byte[] reply = new byte[valueSize + 1];
                for (int i = 0; i < warmup + count; i++)
                {
                    final boolean isMeasured = i >= warmup;
                    if (isMeasured)
                    {
                        pause(intervalNs);
                    }
                    final boolean isPut = 0 == (i & 1);
                    final long startNs = System.nanoTime();
                    out.writeInt(isPut ? 9 + valueSize : 9);
                    out.writeByte(isPut ? PUT : GET);
                    out.writeLong(keyFor(i));
                    if (isPut)
                    {
                        out.write(value);
                    }
                    out.flush();
                    final int length = in.readInt();
                    in.readFully(reply, 0, length);
                    if (isMeasured)
                    {
                        histogram.recordValue(
                            Math.min(System.nanoTime() - startNs, histogram.getHighestTrackableValue()));
                    }
                }
            }
            serverThread.join(2_000);
        }
        catch (final IOException | InterruptedException ex)
        {
            throw new IllegalStateException("TCP loop failed", ex);
        }
    }

    private static void serveTcp(final ServerSocket listener, final int valueSize)
    {
        final Long2ObjectHashMap<byte[]> map = new Long2ObjectHashMap<>();
        try (Socket socket = listener.accept())
        {
            socket.setTcpNoDelay(true);
            final DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(
                socket.getInputStream(), 2 * valueSize + 64));
            final DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
                socket.getOutputStream(), 2 * valueSize + 64));
            final byte[] frame = new byte[9 + valueSize];
            while (true)
            {
                final int length;
                try
                {
                    length = in.readInt();
                }
                catch (final java.io.EOFException ex)
                {
                    return;
                }
                in.readFully(frame, 0, length);
                final long key = java.nio.ByteBuffer.wrap(frame, 1, 8).getLong();
                if (PUT == frame[0])
                {
                    map.put(key, java.util.Arrays.copyOfRange(frame, 9, length));
                    out.writeInt(1);
                    out.writeByte(0);
                }
                else
                {
                    final byte[] stored = map.get(key);
                    out.writeInt(1 + (null == stored ? 0 : stored.length));
                    out.writeByte(null == stored ? 1 : 0);
                    if (null != stored)
                    {
                        out.write(stored);
                    }
                }
                out.flush();
            }
        }
        catch (final IOException ex)
        {
            // The client closed: the run is over.
        }
    }

    /**
     * The server: a map from key to value, read and written in place from the receive pool.
     */
    private static final class Store implements MessageHandler
    {
        private final HomaSocket socket;
        private final Long2ObjectHashMap<UnsafeBuffer> map = new Long2ObjectHashMap<>();
        private final UnsafeBuffer reply;

        Store(final HomaSocket socket, final int valueSize)
        {
            this.socket = socket;
            this.reply = new UnsafeBuffer(new byte[1 + valueSize]);
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final long key = buffer.getLong(offset + 1);
            if (PUT == buffer.getByte(offset))
            {
                UnsafeBuffer value = map.get(key);
                if (null == value || value.capacity() != length - 9)
                {
                    value = new UnsafeBuffer(new byte[length - 9]);
                    map.put(key, value);
                }
                value.putBytes(0, buffer, offset + 9, length - 9);
                reply.putByte(0, (byte)0);
                socket.reply(id, reply, 0, 1);
                return;
            }
            final UnsafeBuffer value = map.get(key);
            reply.putByte(0, null == value ? (byte)1 : 0);
            final int valueLength = null == value ? 0 : value.capacity();
            if (null != value)
            {
                reply.putBytes(1, value, 0, valueLength);
            }
            socket.reply(id, reply, 0, 1 + valueLength);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    /**
     * The key of RPC {@code i}, the same for both protocols: even RPCs PUT, odd ones GET either the key just PUT
     * or one never written (alternately), so both loops move the same bytes.
     */
    static long keyFor(final int i)
    {
        return 0 == (i & 1) ? (i * 7919L) % KEYS : ((i - 1) * 7919L + (0 == (i & 2) ? 0 : 1)) % KEYS;
    }

    static byte valueByte(final long key, final int index)
    {
        return (byte)(key * 13 + index);
    }

    /**
     * The client's view of one response: checks it is what the store must answer.
     */
    private static final class Response implements MessageHandler
    {
        private final int valueSize;
        int errorCode;
        boolean isCorrect;
        long arrivedNs;
        private long key;
        private boolean isPut;
        private boolean isStored;

        Response(final int valueSize)
        {
            this.valueSize = valueSize;
        }

        void reset()
        {
            errorCode = 0;
            isCorrect = false;
        }

        void expect(final long key, final boolean isPut, final boolean isStored)
        {
            this.key = key;
            this.isPut = isPut;
            this.isStored = isStored;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            // The round trip ends here: checking a large value byte by byte is not part of it (the TCP loop does
            // not check at all).
            arrivedNs = System.nanoTime();
            if (isPut || !isStored)
            {
                // PUT: status 0; GET of a key never written: status 1 (not found).
                isCorrect = 1 == length && buffer.getByte(offset) == (isPut ? 0 : 1);
                return;
            }
            boolean correct = 1 + valueSize == length && 0 == buffer.getByte(offset);
            for (int j = 0; correct && j < valueSize; j++)
            {
                correct = buffer.getByte(offset + 1 + j) == valueByte(key, j);
            }
            isCorrect = correct;
            if (!correct)
            {
                System.err.println("kv: wrong value for key " + key + " in RPC " + id);
            }
        }

        public void onError(final long id, final long cookie, final int code)
        {
            errorCode = code;
            System.err.println("kv: RPC " + id + " failed with " + HomaError.name(code));
        }
    }

    /**
     * With an interval, the application sleeps between RPCs, so both sides (drivers included) go idle before each.
     */
    private static void pause(final long intervalNs)
    {
        if (intervalNs > 0)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(intervalNs);
        }
    }

    private static String loadAverage()
    {
        try
        {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }

    static String usage()
    {
        return """
            kv [options]: a key-value loop of sequential 100 B RPCs over Homa (send FLAG_PRIVATE + receive(id)) and
            the same loop over a TCP connection, interleaved; p50/p99 per protocol and failed Homa RPCs
              --count N           RPCs per run (default 10000)
              --runs N            runs (default 1); each run starts two new embedded drivers
              --value-size N      value bytes (default 100)
              --protocol P        homa, tcp or both (default both)
              --mode M            driver threading mode: SHARED (default), SHARED_NETWORK, DEDICATED
              --rpc-timeout D     give up on one RPC after this long (default 10s)
              --interval D        sleep this long before each RPC (e.g. 10ms: every RPC meets idle, sleeping hosts)
              --warmup N          back-to-back RPCs per run before the measured ones, not timed (default 2000)
            Exit status 2 if any Homa RPC failed.""";
    }
}
