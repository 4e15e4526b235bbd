package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.DirectBuffer;
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
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private KeyValue()
    {
    }

    /**
     * @param args none.
     * @throws InterruptedException if interrupted while the server thread stops.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName())))
        {
            final HomaSocket server = serverHoma.addSocket(KV_PORT);
            final Thread serverThread = new Thread(() -> serve(server), "kv-server");
            serverThread.start();

            final HomaSocket client = clientHoma.addSocket();
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), KV_PORT);
            for (final String command : new String[]{"PUT colour blue", "PUT size 42", "GET colour", "GET size",
                "GET weight"})
            {
                System.out.println(command + " -> " + call(client, dest, command));
            }
            server.shutdown();   // wakes the server thread with ESHUTDOWN
            serverThread.join();
        }
    }

    /**
     * One RPC: send privately, then wait for that response alone.
     */
    private static String call(final HomaSocket client, final HomaAddress dest, final String command)
    {
        final byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
        final long id = client.send(dest, new UnsafeBuffer(bytes), 0, bytes.length, 0, HomaSocket.FLAG_PRIVATE);
        final String[] answer = new String[1];
        final int[] errorCode = {HomaError.ETIMEDOUT};
        client.receive(id, new MessageHandler()
        {
            public void onMessage(
                final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
            {
                answer[0] = buffer.getStringWithoutLengthUtf8(offset, length);
                errorCode[0] = 0;
            }

            public void onError(final long id, final long cookie, final int code)
            {
                errorCode[0] = code;
            }
        }, TIMEOUT_NS);
        if (0 != errorCode[0])
        {
            throw new HomaException(errorCode[0], command);
        }
        return answer[0];
    }

    private static void serve(final HomaSocket server)
    {
        final Map<String, String> map = new HashMap<>();
        final UnsafeBuffer response = new UnsafeBuffer(new byte[1024]);
        final MessageHandler store = new MessageHandler()
        {
            public void onMessage(
                final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
            {
                final String[] words = buffer.getStringWithoutLengthUtf8(offset, length).split(" ", 3);
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
                server.reply(id, response, 0, response.putStringWithoutLengthUtf8(0, answer));
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        try
        {
            while (true)
            {
                server.receive(store, TIMEOUT_NS);
            }
        }
        catch (final HomaException ex)
        {
            if (HomaError.ESHUTDOWN != ex.errorCode())
            {
                throw ex;
            }
        }
    }
}
