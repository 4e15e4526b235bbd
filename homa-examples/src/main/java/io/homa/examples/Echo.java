package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Echo: a server that answers every request with its own bytes, and a client that sends some words, one blocking
 * call each, and prints the answers. Each side embeds its own media driver, as two hosts would.
 */
public final class Echo
{
    private static final int ECHO_PORT = 7;

    private Echo()
    {
    }

    /**
     * @param args the words to send (three by default).
     */
    public static void main(final String[] args)
    {
        final String[] words = 0 == args.length ? new String[]{"one", "two", "three"} : args;
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
             HomaServer server = HomaServer.start(serverHoma, ECHO_PORT, (request, offset, length, response) ->
             {
                 response.putBytes(0, request, offset, length);
                 return length;
             });
             HomaSocket client = clientHoma.addSocket())
        {
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), ECHO_PORT);
            for (final String word : words)
            {
                final byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
                // Blocks for the response; a failed RPC throws a HomaException naming its errno.
                final DirectBuffer answer =
                    client.call(dest, new UnsafeBuffer(bytes), 0, bytes.length, TimeUnit.SECONDS.toNanos(5));
                System.out.println("echo: " + answer.getStringWithoutLengthUtf8(0, answer.capacity()));
            }
        }
    }
}
