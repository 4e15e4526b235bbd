package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.DirectBuffer;
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

            final byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            client.send(dest, new UnsafeBuffer(hello), 0, hello.length, 7);   // 7: a cookie given back with the answer

            final long timeoutNs = TimeUnit.SECONDS.toNanos(5);
            // Blocks until the request is here, then echoes it from where it lies in the receive pool.
            final int requests = server.receive(new MessageHandler()
            {
                public void onMessage(
                    final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
                {
                    server.reply(id, buffer, offset, length);
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                }
            }, timeoutNs);
            final int responses = client.receive(new MessageHandler()
            {
                public void onMessage(
                    final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
                {
                    System.out.println("response " + buffer.getStringWithoutLengthAscii(offset, length) +
                        " (cookie " + cookie + ")");
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                    System.out.println("failed: errno " + errorCode);
                }
            }, timeoutNs);
            if (1 != requests || 1 != responses)
            {
                throw new IllegalStateException("no answer within 5 s");
            }
        }
    }
}
