package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Receive in place ({@code homa.receive.in.place}): DATA payloads the kernel scatters straight into the receive
 * pool where the engine guesses they belong. Long messages from several clients at once interleave, so guesses go
 * both right and wrong; every byte must still arrive where it belongs, whichever way each packet landed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReceiveInPlaceTest
{
    private static final int SERVER_PORT = 820;
    private static final int[] SIZES = { 1_000_000, 700_001, 250_000, 65_452, 100, 1 };

    private MediaDriver driver;
    private Homa homa;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    @ParameterizedTest
    @CsvSource({ "INVOKER, true", "SHARED, true", "INVOKER, false" })
    void shouldDeliverInterleavedLongMessagesIntactWhetherReceivedInPlaceOrNot(
        final ThreadingMode mode, final boolean inPlace)
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(mode)
            .receiveInPlace(inPlace));
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
        final org.agrona.concurrent.AgentInvoker invoker = driver.sharedAgentInvoker();
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaAddress dest = homa.driverAddress(SERVER_PORT);
        final HomaSocket[] clients = new HomaSocket[SIZES.length];
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[SIZES[0]]);
        final int rounds = 3;
        final int[] intact = { 0 };
        final int[] broken = { 0 };

        final MessageHandler echo = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                // Requests carry the pattern seeded by their length, responses by length + 7.
                if (!matches(buffer, offset, length, length))
                {
                    broken[0]++;
                }
                fill(scratch, length, length + 7L);
                server.reply(id, scratch, 0, length);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                broken[0]++;
            }
        };
        final MessageHandler check = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                if (SIZES[(int)cookie] == length && matches(buffer, offset, length, length + 7L))
                {
                    intact[0]++;
                }
                else
                {
                    broken[0]++;
                }
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                broken[0]++;
            }
        };

        for (int i = 0; i < clients.length; i++)
        {
            clients[i] = homa.addSocket();
        }
        for (int round = 0; round < rounds; round++)
        {
            // Every client's request is in flight at once: their packets interleave at the server.
            final int before = intact[0];
            for (int i = 0; i < clients.length; i++)
            {
                fill(scratch, SIZES[i], SIZES[i]);
                clients[i].send(dest, scratch, 0, SIZES[i], i);
            }
            await(() -> intact[0] + broken[0] >= before + clients.length, () ->
            {
                if (null != invoker)
                {
                    invoker.invoke();
                }
                server.poll(echo, 16);
                for (final HomaSocket client : clients)
                {
                    client.poll(check, 16);
                }
            }, 30_000, "responses of round " + round);
        }
        assertEquals(0, broken[0], "messages not intact");
        assertEquals(rounds * clients.length, intact[0]);

        try (DriverCounters counters = new DriverCounters(new java.io.File(driver.homaDirectoryName())))
        {
            final long placed = counters.get("data_received_in_place");
            final long data = counters.get("packets_rcvd_DATA");
            if (inPlace)
            {
                assertTrue(placed > 0, "some payloads landed in place: " + placed + " of " + data + " DATA");
            }
            else
            {
                assertEquals(0, placed, "off: every payload copied");
            }
        }
    }

    /** Position-dependent bytes with no short period, so a payload put at another offset never matches. */
    private static void fill(final MutableDirectBuffer buffer, final int length, final long seed)
    {
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(i, patternByte(i, seed));
        }
    }

    private static boolean matches(final DirectBuffer buffer, final int offset, final int length, final long seed)
    {
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != patternByte(i, seed))
            {
                return false;
            }
        }
        return true;
    }

    private static byte patternByte(final int i, final long seed)
    {
        return (byte)(((i + seed) * 0x9E3779B97F4A7C15L) >>> 56);
    }
}
