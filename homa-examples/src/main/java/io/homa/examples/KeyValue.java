package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A key-value service: the server keeps a map and answers {@code PUT key value} with {@code OK} and
 * {@code GET key} with the value or {@code NOT_FOUND}; the client stores two entries and reads three keys.
 * Each side embeds its own media driver, as two hosts would.
 */
public final class KeyValue
{
    private static final int KV_PORT = 4100;

    private KeyValue()
    {
    }

    /**
     * @param args none.
     */
    public static void main(final String[] args)
    {
        final Map<String, String> map = new HashMap<>();   // only the server thread touches it
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
             HomaServer server = HomaServer.start(serverHoma, KV_PORT,
                 (request, offset, length, response) -> serve(map, request, offset, length, response));
             HomaSocket client = clientHoma.addSocket())
        {
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), KV_PORT);
            for (final String command : new String[]{"PUT colour blue", "PUT size 42", "GET colour", "GET size",
                "GET weight"})
            {
                final byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
                final DirectBuffer answer =
                    client.call(dest, new UnsafeBuffer(bytes), 0, bytes.length, TimeUnit.SECONDS.toNanos(5));
                System.out.println(command + " -> " + answer.getStringWithoutLengthUtf8(0, answer.capacity()));
            }
        }
    }

    private static int serve(
        final Map<String, String> map,
        final DirectBuffer request,
        final int offset,
        final int length,
        final MutableDirectBuffer response)
    {
        final String[] words = request.getStringWithoutLengthUtf8(offset, length).split(" ", 3);
        final String answer;
        if ("PUT".equals(words[0]) && 3 == words.length)
        {
            map.put(words[1], words[2]);
            answer = "OK";
        }
        else if ("GET".equals(words[0]) && 2 == words.length)
        {
            answer = map.getOrDefault(words[1], "NOT_FOUND");
        }
        else
        {
            answer = "BAD_REQUEST";
        }
        return response.putStringWithoutLengthUtf8(0, answer);
    }
}
