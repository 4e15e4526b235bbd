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
import java.util.concurrent.TimeUnit;

/**
 * Echo: a server that answers every request with its own bytes, and a client that sends three words and prints
 * the answers. Each side embeds its own media driver, as two hosts would.
 */
public final class Echo
{
    private static final int ECHO_PORT = 7;

    private Echo()
    {
    }

    /**
     * @param args the words to send (three by default).
     * @throws InterruptedException if interrupted while the server thread stops.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final String[] words = 0 == args.length ? new String[]{"one", "two", "three"} : args;
        final long timeoutNs = TimeUnit.SECONDS.toNanos(5);
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName())))
        {
            final HomaSocket server = serverHoma.addSocket(ECHO_PORT);
            final Thread serverThread = new Thread(() -> serve(server), "echo-server");
            serverThread.start();

            final HomaSocket client = clientHoma.addSocket();
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), ECHO_PORT);
            final Answer answer = new Answer();
            for (final String word : words)
            {
                final byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
                // FLAG_PRIVATE: this response goes only to receive(id, ...), so concurrent calls do not mix.
                final long id = client.send(dest, new UnsafeBuffer(bytes), 0, bytes.length, 0, HomaSocket.FLAG_PRIVATE);
                if (!client.receive(id, answer, timeoutNs) || 0 != answer.errorCode)
                {
                    throw new HomaException(0 != answer.errorCode ? answer.errorCode : HomaError.ETIMEDOUT, "no echo of " + word);
                }
                System.out.println("echo: " + answer.text);
            }
            server.shutdown();   // wakes the server thread with ESHUTDOWN
            serverThread.join();
        }
    }

    private static void serve(final HomaSocket server)
    {
        final MessageHandler echo = new MessageHandler()
        {
            public void onMessage(
                final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
            {
                server.reply(id, buffer, offset, length);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        try
        {
            while (true)
            {
                server.receive(echo, TimeUnit.SECONDS.toNanos(1));
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

    private static final class Answer implements MessageHandler
    {
        String text;
        int errorCode;

        public void onMessage(
            final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
        {
            text = buffer.getStringWithoutLengthUtf8(offset, length);
            errorCode = 0;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            this.errorCode = errorCode;
        }
    }
}
