package io.homa.driver;

import io.homa.client.CommonContext;
import io.homa.client.HomaProperties;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bad setting stops a real driver from starting, with one line that names the setting and says what it accepts,
 * and the start leaves no directory behind; before #18 each of these was replaced by its default in silence.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConfigurationRefusalTest
{
    private final List<String> properties = new ArrayList<>();
    private final List<File> dirs = new ArrayList<>();

    @AfterEach
    void after()
    {
        properties.forEach(System::clearProperty);
        dirs.forEach(dir -> IoUtil.delete(dir, true));
    }

    private void property(final String name, final String value)
    {
        properties.add(name);
        System.setProperty(name, value);
    }

    private File newDir()
    {
        final File dir = new File(CommonContext.generateRandomDirName());
        dirs.add(dir);
        return dir;
    }

    /**
     * Launches a real driver with the property set and returns why it refused to start.
     */
    private IllegalArgumentException refusedStart(final String name, final String value)
    {
        property(name, value);
        final File dir = newDir();
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> MediaDriver.launch(
            new MediaDriver.Context().homaDirectoryName(dir.getPath()).udpPort(0).dirDeleteOnShutdown(true)).close());
        assertFalse(ex.getMessage().contains("\n"), "one line: " + ex.getMessage());
        assertFalse(dir.exists(), "a refused start leaves no directory: " + dir);
        return ex;
    }

    private static void assertContains(final String message, final String... parts)
    {
        for (final String part : parts)
        {
            assertTrue(message.contains(part), () -> "'" + part + "' not in: " + message);
        }
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "homa.udp.port|abc|whole number",
        "homa.unsched.bytes|20x|k, m or g",
        "homa.timeout.ticks|abc|whole number",
        "homa.event.log.enabled|yes|true or false",
        "homa.direct.drive|1|true or false",
        "homa.dir.delete.on.start|on|true or false",
        "homa.print.configuration|yes|true or false",
        "homa.jmx.enabled|yes|true or false",
        "homa.prometheus.port|http|whole number",
        "homa.prometheus.port|70000|empty (off), 0 (any free port) or a port up to 65535",
        "homa.threading.mode|FOO|one of SHARED, INVOKER, DEDICATED, SHARED_NETWORK",
        "homa.transport|tcp|one of udp, udp-batch, raw, packet-ring",
        "homa.shared.idle.strategy|fast|wake, noop, spin, yield, sleep-ns, sleep-ms, backoff",
        "homa.conductor.idle.strategy|java.lang.String|wake, noop, spin",
        "homa.pacing|maybe|one of auto, true, false",
        "homa.packet.ring.version|4|2 or 3",
        "homa.timer.tick|soon|ns, us, ms or s",
        "homa.client.liveness.timeout|10 s|ns, us, ms or s",
        "homa.poll.duration|fast|ns, us, ms or s",
        "homa.driver.timeout|-1s|ns, us, ms or s",
        "homa.socket.pool.length|64q|k, m or g",
        "homa.mtu.length|1.5k|k, m or g",
        "homa.fault.data.drop.rate|2|0 to 1",
        "homa.fault.seed|one|whole number",
        "homa.max.overcommit|eight|whole number",
        "homa.limit.unearned.bytes.per.peer|1x|k, m or g",
        "homa.limit.peers|many|whole number",
        "homa.freeze.accept|yes|true or false",
        "homa.unsched.cutoffs|1,2,3|8 comma-separated sizes",
        "homa.unsched.cutoffs|0,0,0,0,1m,15k,2800,lots|k, m or g",
    })
    void shouldRefuseToStartOnAnUnparseableValueNamingTheSetting(
        final String name, final String value, final String accepted)
    {
        final IllegalArgumentException ex = refusedStart(name, value);
        assertContains(ex.getMessage(), name, value, accepted);
    }

    @Test
    void shouldRefuseAMisspeltSettingNamingTheNearestOne()
    {
        final IllegalArgumentException ex = refusedStart("homa.unsched.byte", "20000");
        assertContains(ex.getMessage(), "homa.unsched.byte is not a Homa setting", "did you mean homa.unsched.bytes?");
        assertTrue(ex instanceof HomaProperties.ConfigurationException, ex.toString());
    }

    @Test
    void shouldRefuseAnUnknownSettingFarFromAnyName()
    {
        final IllegalArgumentException ex = refusedStart("homa.something.else.entirely", "1");
        assertContains(ex.getMessage(), "homa.something.else.entirely is not a Homa setting");
        assertFalse(ex.getMessage().contains("did you mean"), ex.getMessage());
    }

    @Test
    void shouldRefuseAnEmbeddedDriverToo()
    {
        property(Configuration.UDP_PORT_PROP_NAME, "abc");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, MediaDriver::launchEmbedded);
        assertContains(ex.getMessage(), "homa.udp.port=abc");
    }

    @Test
    void shouldLetToolAndTestPropertiesBe()
    {
        property("homa.shared.dir", "/tmp");
        property("homa.netns.bench", "true");
        property("homa.netns.bench.props", "homa.pacing=false");
        property("homa.root", "..");
        property("homa.all.jar", "target/homa-all.jar");
        property("homa.jvm.flags", "--enable-native-access=ALL-UNNAMED");
        property("homa.test.mine", "x");
        property("homa.tool.mine", "y");
        property(Configuration.SOCKET_POOL_LENGTH_PROP_NAME, "4m");
        property(Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME, "4m");
        try (MediaDriver driver = MediaDriver.launchEmbedded())
        {
            assertTrue(new File(driver.homaDirectoryName()).isDirectory());
        }
    }

    @Test
    void shouldTakeKmgOnEverySize()
    {
        final String[][] sizes = {
            { Configuration.UNSCHED_BYTES_PROP_NAME, "20k" },
            { Configuration.MTU_LENGTH_PROP_NAME, "9k" },
            { Configuration.SOCKET_RCVBUF_PROP_NAME, "1m" },
            { Configuration.SOCKET_SNDBUF_PROP_NAME, "1m" },
            { Configuration.TO_DRIVER_BUFFER_LENGTH_PROP_NAME, "256k" },
            { Configuration.TO_CLIENTS_BUFFER_LENGTH_PROP_NAME, "256k" },
            { Configuration.COUNTERS_VALUES_BUFFER_LENGTH_PROP_NAME, "64k" },
            { Configuration.ERROR_BUFFER_LENGTH_PROP_NAME, "64k" },
            { Configuration.SOCKET_EVENT_BUFFER_LENGTH_PROP_NAME, "256k" },
            { Configuration.SOCKET_POOL_LENGTH_PROP_NAME, "4M" },
            { Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME, "4m" },
            { Configuration.SOCKET_MIN_BLOCK_LENGTH_PROP_NAME, "2k" },
            { Configuration.OUTBOUND_BUFFER_LENGTH_PROP_NAME, "1m" },
            { Configuration.INBOUND_BUFFER_LENGTH_PROP_NAME, "1m" },
            { Configuration.WINDOW_PROP_NAME, "10k" },
            { Configuration.MAX_INCOMING_PROP_NAME, "400k" },
            { Configuration.FIFO_GRANT_INCREMENT_PROP_NAME, "50k" },
            { Configuration.DEFER_MIN_BYTES_PROP_NAME, "1k" },
            { Configuration.EVENT_LOG_LENGTH_PROP_NAME, "1k" },
            { Configuration.UNSCHED_CUTOFFS_PROP_NAME, "0,0,0,0,1m,15k,2800,200" },
        };
        for (final String[] size : sizes)
        {
            property(size[0], size[1]);
        }
        try (MediaDriver driver = MediaDriver.launchEmbedded())
        {
            final MediaDriver.Context ctx = driver.context();
            assertEquals(20 * 1024, ctx.unschedBytes());
            assertEquals(9 * 1024, ctx.mtuLength());
            assertEquals(4 << 20, ctx.socketPoolLength());
            assertEquals(4 << 20, ctx.socketSendRegionLength());
            assertEquals(1 << 20, ctx.inboundBufferLength());
            assertEquals(10 * 1024, ctx.window());
            assertEquals(400 * 1024, ctx.maxIncoming());
            assertEquals(50 * 1024, ctx.fifoGrantIncrement());
            assertEquals(1024, ctx.deferMinBytes());
            assertEquals(1024, ctx.eventLogLength());
            assertArrayEquals(new int[]{ 0, 0, 0, 0, 1 << 20, 15 * 1024, 2800, 200 }, ctx.unschedCutoffs());
        }
    }

    @Test
    void shouldReadDurationsAndBooleansAsWritten()
    {
        property(Configuration.TIMER_TICK_PROP_NAME, "2ms");
        property(Configuration.CLIENT_LIVENESS_TIMEOUT_PROP_NAME, "3s");
        property(Configuration.EVENT_LOG_ENABLED_PROP_NAME, "FALSE");
        property(Configuration.DIRECT_DRIVE_PROP_NAME, "false");
        property(Configuration.THREADING_MODE_PROP_NAME, "dedicated");
        property(Configuration.SOCKET_POOL_LENGTH_PROP_NAME, "4m");
        property(Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME, "4m");
        try (MediaDriver driver = MediaDriver.launchEmbedded())
        {
            final MediaDriver.Context ctx = driver.context();
            assertEquals(2_000_000, ctx.timerTickNs());
            assertEquals(3_000_000_000L, ctx.clientLivenessTimeoutNs());
            assertFalse(ctx.eventLogEnabled());
            assertFalse(ctx.directDrive());
            assertEquals(ThreadingMode.DEDICATED, ctx.threadingMode());
        }
    }
}
