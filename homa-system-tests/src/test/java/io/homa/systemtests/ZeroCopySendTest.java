package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.client.SendClaim;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-copy send: requests and replies written in place in the send region through {@link SendClaim}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZeroCopySendTest
{
    private static final int SERVER_PORT = 800;

    private MediaDriver driver;
    private Homa homa;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    private void launch(final ThreadingMode mode, final int sendRegionLength)
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(mode)
            .socketSendRegionLength(sendRegionLength));
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
    }

    @ParameterizedTest
    @EnumSource(ThreadingMode.class)
    void shouldSendRequestAndReplyWrittenInPlace(final ThreadingMode mode)
    {
        launch(mode, 64 * 1024 * 1024);
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final HomaAddress dest = homa.driverAddress(SERVER_PORT);
        final SendClaim requestClaim = new SendClaim();
        final SendClaim replyClaim = new SendClaim();

        final int[] sizes = { 1, 1_400, 100_000, 1_000_000 };
        for (final int size : sizes)
        {
            assertTrue(client.tryClaim(size, requestClaim));
            writePattern(requestClaim.buffer(), size, size);
            final long id = requestClaim.commitRequest(dest, size);
            assertFalse(requestClaim.isClaimed());

            // The server answers with a claim too: the response is the request's bytes, seeded differently.
            final MessageHandler echo = new MessageHandler()
            {
                public void onMessage(final long requestId, final long cookie, final DirectBuffer buffer,
                    final int offset, final int length)
                {
                    assertTrue(matchesPattern(buffer, offset, length, length));
                    assertTrue(server.tryClaim(length, replyClaim));
                    writePattern(replyClaim.buffer(), length, length + 1);
                    replyClaim.commitReply(requestId);
                }

                public void onError(final long requestId, final long cookie, final int errorCode)
                {
                }
            };
            final long[] got = { 0, 0 };
            final MessageHandler check = new MessageHandler()
            {
                public void onMessage(final long responseId, final long cookie, final DirectBuffer buffer,
                    final int offset, final int length)
                {
                    got[0] = responseId;
                    got[1] = size == length && size == cookie && matchesPattern(buffer, offset, length, size + 1) ?
                        1 : -1;
                }

                public void onError(final long responseId, final long cookie, final int errorCode)
                {
                    got[1] = -errorCode;
                }
            };
            await(() -> 0 != got[1], () ->
            {
                server.poll(echo, 1);
                client.receive(check, TimeUnit.MILLISECONDS.toNanos(1));
            }, 20_000, "response of " + size);
            assertEquals(1, got[1], "response of " + size + " intact");
            assertEquals(id, got[0]);
        }
    }

    @Test
    void shouldPushBackClaimsAndReuseAbortedSpace()
    {
        launch(ThreadingMode.SHARED, 2 * 1024 * 1024);
        final HomaSocket client = homa.addSocket();
        final SendClaim[] claims = new SendClaim[5];
        for (int i = 0; i < 4; i++)
        {
            claims[i] = new SendClaim();
            assertTrue(client.tryClaim(500_000, claims[i]));
        }
        claims[4] = new SendClaim();
        assertFalse(client.tryClaim(500_000, claims[4]), "region full");
        claims[0].abort();
        assertTrue(client.tryClaim(500_000, claims[4]), "aborted space is reusable");

        final SendClaim held = claims[1];
        assertThrows(IllegalStateException.class, () -> client.tryClaim(10, held));
        assertThrows(IllegalStateException.class, () -> new SendClaim().commitReply(1));
        final HomaException badLength = assertThrows(HomaException.class, () -> client.tryClaim(0, new SendClaim()));
        assertEquals(HomaError.EINVAL, badLength.errorCode());
        final HomaException evenId = assertThrows(HomaException.class, () -> held.commitReply(2));
        assertEquals(HomaError.EINVAL, evenId.errorCode());
        assertTrue(held.isClaimed(), "a rejected commit keeps the claim");
    }

    private static void writePattern(final MutableDirectBuffer buffer, final int length, final long seed)
    {
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(i, (byte)(i * 31 + seed));
        }
    }
}
