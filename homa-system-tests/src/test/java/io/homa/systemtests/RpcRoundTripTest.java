package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RpcRoundTripTest
{
    private static final int SERVER_PORT = 99;

    private MediaDriver driver;
    private Homa homa;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    static Stream<Arguments> sizesAndModes()
    {
        return Stream.of(ThreadingMode.values())
            .flatMap(mode -> Stream.of(1, 1_400, 64 * 1024, 500_000, 1_000_000).map(size -> Arguments.of(mode, size)));
    }

    @ParameterizedTest
    @MethodSource("sizesAndModes")
    void shouldEchoRequestOfEachSize(final ThreadingMode mode, final int size)
    {
        launch(mode);
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        final UnsafeBuffer request = pattern(size, 7);
        final long cookie = 0xC0FFEE;
        final long id = client.send(dest, request, 0, size, cookie);
        assertEquals(0, id & 1, "client ids are even");

        final EchoHandler echo = new EchoHandler(server);
        final ResponseCheck check = new ResponseCheck(request, size);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!check.done)
        {
            server.poll(echo, 10);
            client.receive(check, TimeUnit.MILLISECONDS.toNanos(1));
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("no response; counters: dataSent=" + driver.counter(SystemCounterDescriptor.PACKETS_SENT_DATA) +
                    " dataRcvd=" + driver.counter(SystemCounterDescriptor.PACKETS_RCVD_DATA));
            }
        }
        assertEquals(id, check.id);
        assertEquals(cookie, check.cookie);
        assertEquals(1, echo.requests);
        assertTrue(echo.requestId % 2 == 1, "request ids are odd");
    }

    private void launch(final ThreadingMode mode)
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(mode));
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
    }

    static UnsafeBuffer pattern(final int size, final int seed)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[size]);
        for (int i = 0; i < size; i++)
        {
            buffer.putByte(i, (byte)(i * 31 + seed));
        }
        return buffer;
    }

    static final class EchoHandler implements MessageHandler
    {
        private final HomaSocket socket;
        int requests;
        long requestId;

        EchoHandler(final HomaSocket socket)
        {
            this.socket = socket;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            requests++;
            requestId = id;
            socket.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("server got an error for " + id + ": " + errorCode);
        }
    }

    static final class ResponseCheck implements MessageHandler
    {
        private final UnsafeBuffer expected;
        private final int length;
        boolean done;
        long id;
        long cookie;

        ResponseCheck(final UnsafeBuffer expected, final int length)
        {
            this.expected = expected;
            this.length = length;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            assertEquals(this.length, length);
            for (int i = 0; i < length; i++)
            {
                if (expected.getByte(i) != buffer.getByte(offset + i))
                {
                    fail("byte " + i + " differs");
                }
            }
            this.id = id;
            this.cookie = cookie;
            done = true;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("client got an error for " + id + ": " + errorCode);
        }
    }
}
