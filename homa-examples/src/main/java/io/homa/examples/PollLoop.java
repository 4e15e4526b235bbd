package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The README's "Using it": one embedded driver, a server socket and a client socket in one thread, one request
 * echoed back and read in place through a {@link MessageHandler}, the path that copies and allocates nothing.
 */
public final class PollLoop
{
    private PollLoop()
    {
    }

    /**
     * @param args none.
     */
    public static void main(final String[] args)
    {
        try (MediaDriver driver = MediaDriver.launchEmbedded();
             Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName())))
        {
            final HomaSocket server = homa.addSocket(99);   // bound: accepts requests on Homa port 99
            final HomaSocket client = homa.addSocket();     // automatic client port >= 32768
            // An embedded driver takes any free UDP port: ask it which.
            final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), 99);

            // Handlers are made once; each message is then read in place from the receive pool.
            final MessageHandler echo = MessageHandler.of(
                (id, cookie, buffer, offset, length) -> server.reply(id, buffer, offset, length),
                (id, cookie, errorCode) -> { });
            final MessageHandler print = MessageHandler.of(
                (id, cookie, buffer, offset, length) -> System.out.println(
                    "response " + buffer.getStringWithoutLengthAscii(offset, length) + " (cookie " + cookie + ")"),
                (id, cookie, errorCode) -> System.out.println("failed: errno " + errorCode));

            final byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            client.send(dest, new UnsafeBuffer(hello), 0, hello.length, 7);   // 7: a cookie given back with the answer

            final long timeoutNs = TimeUnit.SECONDS.toNanos(5);
            // Each receive blocks until something is there: the request at the server, then the echo.
            if (0 == server.receive(echo, timeoutNs) || 0 == client.receive(print, timeoutNs))
            {
                throw new IllegalStateException("no answer within 5 s");
            }
        }
    }
}
