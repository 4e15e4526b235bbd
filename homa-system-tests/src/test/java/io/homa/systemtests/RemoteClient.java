package io.homa.systemtests;

import io.homa.client.DriverTimeoutException;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

/**
 * A Homa application in a JVM of its own, for the multi-process tests. Prints progress on stdout; exits when its
 * standard input closes (the test JVM went away).
 * <pre>
 *   echo   DIR PORT              serve PORT: reply to every request with its own bytes; exit 2 when the
 *                                driver is gone (DriverTimeoutException)
 *   hammer DIR PORT SIZE N       keep N requests of SIZE bytes in flight to PORT on the same driver
 *   once   DIR PORT SIZE         one request, check the echoed bytes, exit 0 (or 1)
 *   server DIR PORT              a HomaServer echoing on PORT, with its shutdown hook; runs until signalled
 * </pre>
 */
public final class RemoteClient
{
    private RemoteClient()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Thread stdinWatcher = new Thread(() ->
        {
            try
            {
                while (System.in.read() >= 0)
                {
                    // Only end of input matters.
                }
            }
            catch (final Exception ignore)
            {
                // Same: the parent is gone.
            }
            Runtime.getRuntime().halt(3);
        }, "stdin-watcher");
        stdinWatcher.setDaemon(true);
        stdinWatcher.start();

        final String mode = args[0];
        final String dir = args[1];
        final int port = Integer.parseInt(args[2]);
        try (Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(dir)))
        {
            switch (mode)
            {
                case "echo" -> echo(homa, port);
                case "hammer" -> hammer(homa, port, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
                case "server" -> server(homa, port);
                case "once" -> System.exit(once(homa, port, Integer.parseInt(args[3])) ? 0 : 1);
                default -> throw new IllegalArgumentException(mode);
            }
        }
    }

    private static void server(final Homa homa, final int port)
    {
        // Not closed here: on SIGTERM only the server's shutdown hook may free the port.
        final HomaServer server = HomaServer.start(homa, port, (request, offset, length, response) ->
        {
            response.putBytes(0, request, offset, length);
            return length;
        });
        System.out.println("serving port=" + server.port());
        System.out.flush();
        // Until the JVM goes (SIGTERM runs the hook): parking has no timeout to expire.
        while (true)
        {
            java.util.concurrent.locks.LockSupport.park();
        }
    }

    private static void echo(final Homa homa, final int port)
    {
        final HomaSocket socket = homa.addSocket(port);
        final MessageHandler echo = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                socket.reply(id, buffer, offset, length);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        System.out.println("ready client=" + homa.clientId());
        System.out.flush();
        try
        {
            while (true)
            {
                socket.receive(echo, TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
        catch (final DriverTimeoutException ex)
        {
            System.out.println("driver timeout: " + ex.getMessage());
            System.out.flush();
            Runtime.getRuntime().halt(2);
        }
    }

    private static void hammer(final Homa homa, final int port, final int size, final int inFlight)
    {
        final HomaSocket socket = homa.addSocket();
        final HomaAddress dest = homa.driverAddress(port);
        final UnsafeBuffer request = TestUtil.pattern(size, 5);
        final int[] completed = { 0 };
        final MessageHandler counter = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                completed[0]++;
                System.out.println("progress " + completed[0]);
                System.out.flush();
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                System.out.println("error " + errorCode);
            }
        };
        for (int i = 0; i < inFlight; i++)
        {
            socket.send(dest, request, 0, size, i);
        }
        while (true)
        {
            final int done = socket.receive(counter, TimeUnit.MILLISECONDS.toNanos(100));
            for (int i = 0; i < done; i++)
            {
                socket.send(dest, request, 0, size, i);
            }
        }
    }

    private static boolean once(final Homa homa, final int port, final int size)
    {
        final HomaSocket socket = homa.addSocket();
        socket.send(homa.driverAddress(port), TestUtil.pattern(size, size), 0, size, 1);
        final boolean[] ok = { false, false };
        final MessageHandler check = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                ok[0] = true;
                ok[1] = size == length && TestUtil.matchesPattern(buffer, offset, length, size);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                ok[0] = true;
            }
        };
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!ok[0] && System.nanoTime() - deadlineNs < 0)
        {
            socket.receive(check, TimeUnit.MILLISECONDS.toNanos(100));
        }
        System.out.println(ok[1] ? "ok" : "fail");
        System.out.flush();
        return ok[1];
    }
}
