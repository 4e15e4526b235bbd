package io.homa.samples;

import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.Configuration;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The server half of a separate-process ping/pong: binds a Homa port and answers every request, echoing it (or
 * with a fixed-size response). Embeds its own driver on a known UDP port by default, or uses a running driver
 * ({@code --dir}). Runs until Ctrl-C, {@code --count} requests or {@code --duration}. Run with {@code --help}.
 */
public final class Pong
{
    private static final long RECEIVE_TIMEOUT_NS = 250_000_000L;

    /** Homa port Pong binds by default and Ping sends to. */
    public static final int PONG_PORT_DEFAULT = 4001;
    /** UDP port of Pong's embedded driver by default (the standalone driver's default too). */
    public static final int PONG_UDP_PORT_DEFAULT = Configuration.UDP_PORT_DEFAULT;

    private static final long LINGER_NS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final Set<String> VALUE_OPTIONS =
        Set.of("dir", "udp-port", "port", "response-size", "count", "duration", "idle", "app-idle");

    private Pong()
    {
    }

    /**
     * @param args options, see {@link #usage()}.
     */
    public static void main(final String[] args)
    {
        final AtomicBoolean running = new AtomicBoolean(true);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            running.set(false);
            try
            {
                stopped.await(5, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ignore)
            {
                Thread.currentThread().interrupt();
            }
        }, "pong-shutdown"));

        try
        {
            run(args, running, (address) -> {}, System.out);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("pong: " + ex.getMessage());
            System.err.println(usage());
            stopped.countDown();
            System.exit(1);
        }
        stopped.countDown();
    }

    /**
     * Serves requests until {@code running} turns false or a limit is reached.
     *
     * @param args    the command line.
     * @param running cleared to stop.
     * @param onReady told the address Ping must send to, once the port is bound.
     * @param out     where to print.
     * @return requests answered.
     */
    public static long run(
        final String[] args, final AtomicBoolean running, final Consumer<HomaAddress> onReady, final PrintStream out)
    {
        final Args parsed = Args.parse(args, VALUE_OPTIONS, Set.of());
        if (parsed.help())
        {
            out.println(usage());
            return 0;
        }
        final int port = parsed.intValue("port", PONG_PORT_DEFAULT);
        final int responseSize = parsed.intValue("response-size", 0);
        final long count = parsed.size("count", Long.MAX_VALUE);
        final long durationNs = parsed.durationNs("duration", Long.MAX_VALUE, "s");
        final IdleStrategy idle = Configuration.idleStrategy(parsed.string("app-idle", "wake"));
        if (responseSize < 0 || responseSize > 1_000_000)
        {
            throw new IllegalArgumentException("--response-size must be in 0..1000000 (0 = echo the request)");
        }

        try (SampleDriver driver = SampleDriver.open(
            parsed.string("dir", null), parsed.intValue("udp-port", PONG_UDP_PORT_DEFAULT), parsed.string("idle", null));
            HomaSocket socket = driver.homa().addSocket(port))
        {
            final HomaAddress address = driver.address(port);
            out.printf(Locale.ROOT, "Homa Pong: answering on %s (%s), responses %s%n", address, driver.describe(),
                0 == responseSize ? "echo the request" : responseSize + " B");
            out.flush();
            onReady.accept(address);

            final Responder responder = new Responder(socket, responseSize);
            final long deadlineNs = Long.MAX_VALUE == durationNs ? Long.MAX_VALUE : System.nanoTime() + durationNs;
            // "wake" (the default) blocks in receive: poll for homa.poll.duration, then sleep until a request comes.
            final boolean sleeps = idle instanceof io.homa.driver.WakeupIdleStrategy && !driver.isInvoker();
            while (running.get() && responder.answered < count && System.nanoTime() - deadlineNs < 0)
            {
                if (sleeps)
                {
                    socket.receive(responder, Math.min(RECEIVE_TIMEOUT_NS, Math.max(1, deadlineNs - System.nanoTime())));
                    continue;
                }
                idle.idle(socket.poll(responder, 16) + driver.invoke());
            }
            // Closing the socket aborts RPCs whose responses the driver has not sent yet: linger a moment.
            final long lingerEndNs = System.nanoTime() + LINGER_NS;
            while (running.get() && System.nanoTime() - lingerEndNs < 0)
            {
                idle.idle(socket.poll(responder, 16) + driver.invoke());
            }
            out.printf(Locale.ROOT, "Homa Pong: answered %,d requests%n", responder.answered);
            return responder.answered;
        }
    }

    static String usage()
    {
        return """
            pong [options]: answers Homa requests (start it before ping)
              --dir DIR            use the running driver in DIR (default: embed a driver)
              --udp-port P         UDP port of the embedded driver (default 4000)
              --port P             Homa port to answer on (default 4001)
              --response-size N    response bytes, 0 = echo the request (default 0)
              --count N            exit after N requests (default: run until Ctrl-C)
              --duration D         exit after D, seconds unless suffixed (default: run until Ctrl-C)
              --idle NAME          embedded driver idle strategy (default: homa.shared.idle.strategy)
              --app-idle NAME      idle strategy of the polling loop (default wake: block in receive)
            """;
    }

    private static final class Responder implements MessageHandler
    {
        private final HomaSocket socket;
        private final int responseSize;
        private final UnsafeBuffer response;
        private long answered;

        Responder(final HomaSocket socket, final int responseSize)
        {
            this.socket = socket;
            this.responseSize = responseSize;
            this.response = new UnsafeBuffer(new byte[0 == responseSize ? 1_000_000 : responseSize]);
        }

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            if (0 == responseSize)
            {
                socket.reply(id, buffer, offset, length);
            }
            else
            {
                response.putBytes(0, buffer, offset, Math.min(length, responseSize));
                socket.reply(id, response, 0, responseSize);
            }
            answered++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }
}
