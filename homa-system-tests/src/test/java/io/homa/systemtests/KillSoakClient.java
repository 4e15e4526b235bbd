package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A remote client for {@code KillSoakTest}: its own embedded driver (so a kill -9 takes the peer down with it, as a
 * host that crashes) keeps IN_FLIGHT requests of SIZE bytes going to a server and prints {@code dir DIR} and then
 * {@code ready} once the first response is back. Exits when its standard input closes.
 * <pre>
 *   KillSoakClient ADDRESS UDP_PORT PORT SIZE IN_FLIGHT
 * </pre>
 */
public final class KillSoakClient
{
    private static int inFlight;
    private static long responses;

    private KillSoakClient()
    {
    }

    public static void main(final String[] args)
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

        final HomaAddress dest = HomaAddress.of(
            Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        final int size = Integer.parseInt(args[3]);
        final int maxInFlight = Integer.parseInt(args[4]);
        final UnsafeBuffer request = new UnsafeBuffer(new byte[size]);
        final MessageHandler handler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                inFlight--;
                if (0 == responses++)
                {
                    System.out.println("ready");
                }
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                inFlight--;
            }
        };
        try (MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .threadingMode(ThreadingMode.SHARED));
            Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName())))
        {
            System.out.println("dir " + driver.homaDirectoryName());
            final HomaSocket socket = homa.addSocket();
            while (true)
            {
                while (inFlight < maxInFlight)
                {
                    socket.send(dest, request, 0, size, responses);
                    inFlight++;
                }
                socket.poll(handler, 16);
            }
        }
    }
}
