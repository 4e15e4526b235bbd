package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.EventLogReader;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.homa.systemtests.TestUtil.await;
import static io.homa.systemtests.TestUtil.matchesPattern;
import static io.homa.systemtests.TestUtil.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled debug-loss profile as a standalone driver would load it (its properties as system properties when
 * the context is made): RPCs of one, several and many packets all complete correctly through the injected drops,
 * duplicates and reordering, and the event log shows the recovery.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DebugLossProfileTest
{
    private static final int SERVER_PORT = 660;
    private static final int[] SIZES = { 100, 5_000, 150_000 };
    private static final int RPCS = 150;

    @Test
    void shouldCompleteEveryRpcThroughInjectedLossAndLogTheRecovery() throws Exception
    {
        final MediaDriver.Context ctx = contextWithProfile("debug-loss.properties");
        assertTrue(ctx.faultInjection().isActive());
        assertTrue(ctx.eventLogEnabled());
        assertEquals(2, ctx.resendTicks());

        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            driver = MediaDriver.launchEmbedded(ctx);
            homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
            final HomaSocket server = homa.addSocket(SERVER_PORT);
            final HomaSocket client = homa.addSocket();
            final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
            final Echo echo = new Echo(server);
            final Responses responses = new Responses();
            for (int i = 0; i < RPCS; i++)
            {
                final int size = SIZES[i % SIZES.length];
                client.send(dest, pattern(size, i), 0, size, i);
                final int expected = i + 1;
                await(() -> responses.count + responses.errors >= expected,
                    () ->
                    {
                        server.poll(echo, 16);
                        client.poll(responses, 16);
                    },
                    30_000, "RPC " + i);
            }
            assertEquals(0, responses.errors, "RPC failures under the profile's loss");
            assertEquals(RPCS, responses.intact);

            assertTrue(driver.counter(SystemCounterDescriptor.FAULT_DROPPED) > 0);
            assertTrue(driver.counter(SystemCounterDescriptor.FAULT_DUPLICATED) > 0);
            assertTrue(driver.counter(SystemCounterDescriptor.FAULT_DELAYED) > 0);
            assertTrue(driver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND) > 0);

            final int[] resends = { 0 };
            try (EventLogReader reader = EventLogReader.map(
                new File(driver.homaDirectoryName(), EventLogDescriptor.EVENT_LOG_FILE), false))
            {
                assertEquals(262_144, reader.capacity());
                reader.read((e) -> resends[0] += e.type() == (EventType.PACKET_OUT | HomaWire.RESEND) ? 1 : 0);
            }
            assertEquals(driver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND), resends[0],
                "every RESEND sent is in the log");
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }

    /**
     * Makes a context while the profile's properties are system properties, then puts the old ones back.
     */
    private static MediaDriver.Context contextWithProfile(final String profile) throws Exception
    {
        final Properties properties = new Properties();
        try (InputStream in = DebugLossProfileTest.class.getClassLoader().getResourceAsStream(profile))
        {
            properties.load(in);
        }
        final Map<String, String> saved = new HashMap<>();
        for (final String name : properties.stringPropertyNames())
        {
            saved.put(name, System.getProperty(name));
            System.setProperty(name, properties.getProperty(name));
        }
        try
        {
            return new MediaDriver.Context();
        }
        finally
        {
            saved.forEach((name, value) ->
            {
                if (null == value)
                {
                    System.clearProperty(name);
                }
                else
                {
                    System.setProperty(name, value);
                }
            });
        }
    }

    private static final class Echo implements MessageHandler
    {
        private final HomaSocket server;

        Echo(final HomaSocket server)
        {
            this.server = server;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            server.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    }

    private static final class Responses implements MessageHandler
    {
        int count;
        int errors;
        int intact;

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            count++;
            if (length == SIZES[(int)cookie % SIZES.length] && matchesPattern(buffer, offset, length, cookie))
            {
                intact++;
            }
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
        }
    }
}
