package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.DriverLog;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.EventLogReader;
import io.homa.driver.status.EventType;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.homa.systemtests.TestUtil.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an operator sees of a driver, after real RPCs between two embedded drivers on loopback: the application's
 * error handler and the {@code System.Logger} lines, client lifecycle in the event log and the log, per-socket and
 * per-client counters, the JMX MBean (its attributes are the CnC's counters) and the Prometheus endpoint.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObservabilityTest
{
    private static final int ECHO_PORT = 7;
    private static final int CALLS = 20;
    private static final int SIZE = 3_000;
    private static final Pattern SAMPLE =
        Pattern.compile("^(homa_[a-zA-Z0-9_]+)(\\{[a-z]+=\"[^\"]*\"(?:,[a-z]+=\"[^\"]*\")*})? (-?\\d+)$");

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Logger julLogger = Logger.getLogger(DriverLog.LOGGER_NAME);
    private final Handler capture = new Handler()
    {
        public void publish(final LogRecord record)
        {
            logged.add(record);
        }

        public void flush()
        {
        }

        public void close()
        {
        }
    };
    private Level levelBefore;
    private Homa clientHoma;

    @BeforeEach
    void before()
    {
        levelBefore = julLogger.getLevel();
        julLogger.setLevel(Level.FINE);
        capture.setLevel(Level.ALL);
        julLogger.addHandler(capture);
    }

    /** Clients first, then drivers: a client whose driver went first would wait out its driver timeout. */
    private void closeAll()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
        closeables.clear();
    }

    @AfterEach
    void after()
    {
        closeAll();
        julLogger.removeHandler(capture);
        julLogger.setLevel(levelBefore);
    }

    private MediaDriver launch(final MediaDriver.Context ctx)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx);
        closeables.add(driver);
        return driver;
    }

    private Homa connect(final MediaDriver driver)
    {
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        closeables.add(homa);
        return homa;
    }

    /** An echo server on {@code server}, and {@link #CALLS} echoes from a client of {@code client}. */
    private HomaSocket echoes(final MediaDriver server, final MediaDriver client)
    {
        final HomaServer echo = HomaServer.start(new HomaServer.Context().homa(connect(server)).port(ECHO_PORT)
            .shutdownHook(false).requestHandler((request, offset, length, response) ->
            {
                response.putBytes(0, request, offset, length);
                return length;
            }));
        closeables.add(echo);
        clientHoma = connect(client);
        final HomaSocket socket = clientHoma.addSocket();
        closeables.add(socket);
        final HomaAddress dest = HomaAddress.of(server.udpAddressIpv4(), server.udpPort(), ECHO_PORT);
        final UnsafeBuffer request = TestUtil.pattern(SIZE, 5);
        for (int i = 0; i < CALLS; i++)
        {
            assertEquals(SIZE, socket.call(dest, request, 0, SIZE, TimeUnit.SECONDS.toNanos(10)).capacity());
        }
        // Quiet: every RPC acked and freed on both sides, so the counters stop moving.
        await(() -> 0 == server.counter(SystemCounterDescriptor.RPCS_ACTIVE) &&
            0 == client.counter(SystemCounterDescriptor.RPCS_ACTIVE), ObservabilityTest::pause, 20_000,
            "RPCs freed");
        return socket;
    }

    @Test
    void shouldGiveErrorsToTheApplicationsHandlerLogThemAndSurviveAHandlerThatThrows()
    {
        final List<Throwable> seen = new CopyOnWriteArrayList<>();
        final MediaDriver driver = launch(new MediaDriver.Context().errorHandler((error) ->
        {
            seen.add(error);
            throw new IllegalStateException("the application's handler fails too");
        }));
        driver.failConductorOnce(new IllegalArgumentException("injected by the test"));
        await(() -> 1 == seen.size(), ObservabilityTest::pause, 10_000, "the application's handler called");
        assertEquals("injected by the test", seen.get(0).getMessage());
        assertEquals(1, driver.counter(SystemCounterDescriptor.ERRORS));
        assertTrue(logged.stream().anyMatch((r) -> r.getLevel() == Level.WARNING &&
            r.getMessage().startsWith("homa driver: error: ") && r.getMessage().contains("injected by the test")),
            () -> messages().toString());
        assertTrue(logged.stream().anyMatch((r) -> r.getLevel() == Level.WARNING &&
            r.getMessage().contains("the application's error handler threw")), () -> messages().toString());
        // The driver goes on: a client still gets a socket.
        assertTrue(connect(driver).addSocket().port() > 0);
        assertFalse(driver.hasFailed());
    }

    @Test
    void shouldLogStartStopAndClientLifecycleAndRecordItInTheEventLog()
    {
        final MediaDriver driver = launch(new MediaDriver.Context().clientLivenessTimeoutNs(
            TimeUnit.MILLISECONDS.toNanos(300)));
        final String dir = driver.homaDirectoryName();
        assertTrue(messages().stream().anyMatch((m) -> m.startsWith("homa driver: dir=" + dir + " udp=")),
            () -> messages().toString());

        final Homa closing = Homa.connect(new Homa.Context().homaDirectoryName(dir));
        closing.addSocket();
        final long closingId = closing.clientId();
        closing.close();
        final Homa silent = Homa.connect(new Homa.Context().homaDirectoryName(dir).useKeepaliveThread(false));
        closeables.add(silent);
        silent.addSocket();
        silent.addSocket();
        final long silentId = silent.clientId();
        await(() -> 1 == driver.counter(SystemCounterDescriptor.CLIENT_TIMEOUTS), ObservabilityTest::pause,
            10_000, "the silent client timed out");
        // The conductor logs once the client's resources are freed, right after counting.
        await(() -> messages().stream().anyMatch((m) -> m.startsWith("homa driver: client " + silentId +
            " timed out")), ObservabilityTest::pause, 10_000, "timeout logged");

        assertTrue(messages().contains("homa driver: client " + closingId + " connected"), () -> messages().toString());
        assertTrue(messages().stream().anyMatch((m) -> m.startsWith("homa driver: client " + closingId +
            " closed (")), () -> messages().toString());
        final String timeoutLine = messages().stream()
            .filter((m) -> m.startsWith("homa driver: client " + silentId + " timed out")).findFirst().orElseThrow();
        assertTrue(timeoutLine.contains("its 2 sockets closed"), timeoutLine);

        final List<long[]> clientEvents = new ArrayList<>();
        try (EventLogReader reader = EventLogReader.map(new File(dir, EventLogDescriptor.EVENT_LOG_FILE), false))
        {
            reader.read((e) ->
            {
                if (e.type() >= EventType.CLIENT_CONNECTED && e.type() <= EventType.CLIENT_TIMEOUT)
                {
                    clientEvents.add(new long[] {e.type(), e.rpcId(), e.length()});
                }
            });
        }
        assertEquals(4, clientEvents.size());
        assertEquals(List.of(
            List.of((long)EventType.CLIENT_CONNECTED, closingId), List.of((long)EventType.CLIENT_CLOSED, closingId),
            List.of((long)EventType.CLIENT_CONNECTED, silentId), List.of((long)EventType.CLIENT_TIMEOUT, silentId)),
            clientEvents.stream().map((e) -> List.of(e[0], e[1])).toList());
        assertEquals(2, clientEvents.get(3)[2], "sockets the timeout closed");

        driver.close();
        assertTrue(messages().stream().anyMatch((m) -> m.startsWith("homa driver: shutdown")), () -> messages().toString());
    }

    /** Between two looks at a condition. */
    private static void pause()
    {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }

    private List<String> messages()
    {
        return logged.stream().map(LogRecord::getMessage).toList();
    }

    @Test
    void shouldExportExactlyTheCncCountersOverJmxAfterRealRpcs() throws Exception
    {
        final MediaDriver server = launch(new MediaDriver.Context().jmxEnabled(true));
        final MediaDriver client = launch(new MediaDriver.Context().jmxEnabled(true));
        final HomaSocket socket = echoes(server, client);

        final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        final ObjectName name = client.countersObjectName();
        assertNotNull(name);
        assertTrue(mbeans.isRegistered(name));
        try (DriverCounters cnc = new DriverCounters(new File(client.homaDirectoryName())))
        {
            final Map<String, Long>[] last = new Map[2];
            await(() ->
            {
                last[0] = jmxValues(mbeans, name);
                last[1] = cnc.snapshot();
                return last[0].equals(last[1]);
            }, ObservabilityTest::pause, 10_000, "JMX equal to the CnC");
            final Map<String, Long> jmx = last[0];
            assertTrue(jmx.size() > SystemCounterDescriptor.values().length, jmx.keySet().toString());
            assertEquals(CALLS, jmx.get("client_requests_started"));
            assertEquals(CALLS, jmx.get("client_responses_done"));
            final String socketScope = " socket=" + socket.socketId() + " port=" + socket.port() + " client=" +
                clientHoma.clientId();
            assertEquals(CALLS, jmx.get("socket_messages_sent" + socketScope), jmx.keySet().toString());
            assertEquals(CALLS * (long)SIZE, jmx.get("socket_bytes_sent" + socketScope));
            assertEquals(CALLS, jmx.get("socket_messages_received" + socketScope));
            assertEquals(CALLS * (long)SIZE, jmx.get("socket_bytes_received" + socketScope));
            assertEquals(0, jmx.get("socket_rpc_errors" + socketScope));
            assertTrue(jmx.get("client_keepalives client=" + clientHoma.clientId()) >= 1, "its addSocket at least");
            assertEquals(jmx.get("client_requests_started"), mbeans.getAttribute(name, "client_requests_started"));
        }

        closeAll();
        assertFalse(mbeans.isRegistered(name), "unregistered on close");
    }

    private static Map<String, Long> jmxValues(final MBeanServer mbeans, final ObjectName name)
    {
        try
        {
            final MBeanAttributeInfo[] infos = mbeans.getMBeanInfo(name).getAttributes();
            final String[] names = new String[infos.length];
            for (int i = 0; i < infos.length; i++)
            {
                names[i] = infos[i].getName();
            }
            final Map<String, Long> values = new LinkedHashMap<>();
            final AttributeList list = mbeans.getAttributes(name, names);
            for (final Attribute attribute : list.asList())
            {
                values.put(attribute.getName(), (Long)attribute.getValue());
            }
            return values;
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void shouldServeTheCountersAsPrometheusTextOnlyWhenAsked() throws Exception
    {
        final MediaDriver server = launch(new MediaDriver.Context().prometheusPort(0));
        final MediaDriver client = launch(new MediaDriver.Context());
        assertEquals(-1, client.prometheusPort(), "off by default");
        echoes(server, client);
        final int port = server.prometheusPort();
        assertTrue(port > 0);

        final HttpClient http = HttpClient.newHttpClient();
        final HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
        try (DriverCounters cnc = new DriverCounters(new File(server.homaDirectoryName())))
        {
            final String[] text = new String[1];
            final Map<String, Long>[] cncValues = new Map[1];
            await(() ->
            {
                try
                {
                    final HttpResponse<String> response = http.send(get, HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
                    text[0] = response.body();
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
                cncValues[0] = cnc.snapshot();
                return cncValues[0].equals(prometheusAsLabels(text[0]));
            }, ObservabilityTest::pause, 10_000, "the endpoint's values equal to the CnC");

            final String body = text[0];
            final List<String> typed = new ArrayList<>();
            for (final String line : body.split("\n"))
            {
                if (line.startsWith("# TYPE "))
                {
                    typed.add(line.split(" ")[2]);
                    assertTrue(line.endsWith(" counter") || line.endsWith(" gauge"), line);
                }
                else if (!line.startsWith("# HELP "))
                {
                    final Matcher sample = SAMPLE.matcher(line);
                    assertTrue(sample.matches(), "not a sample: " + line);
                    assertTrue(typed.contains(sample.group(1)), "sample before its TYPE line: " + line);
                }
            }
            assertTrue(body.contains("# TYPE homa_server_requests_done counter\n"), body);
            assertTrue(body.contains("# TYPE homa_sockets_open gauge\n"), body);
            assertTrue(body.contains("\nhoma_server_requests_done " + CALLS + "\n"), body);
            assertTrue(Pattern.compile("(?m)^homa_socket_messages_received\\{socket=\"\\d+\",port=\"" + ECHO_PORT +
                "\",client=\"\\d+\"} " + CALLS + "$").matcher(body).find(), body);
            assertEquals(cncValues[0].size(), body.lines().filter((l) -> !l.startsWith("#")).count());
        }

        closeAll();
        assertThrowsIo(http, get);
    }

    @Test
    void shouldRefuseToStartWhenThePrometheusPortIsTakenAndLeaveNoDirectory() throws Exception
    {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
            java.net.InetAddress.getByName("127.0.0.1")))
        {
            final MediaDriver.Context ctx = new MediaDriver.Context().prometheusPort(taken.getLocalPort());
            final IllegalArgumentException refused =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> launch(ctx));
            assertTrue(refused.getMessage().startsWith("homa.prometheus.port=" + taken.getLocalPort() +
                " is refused: cannot listen on 127.0.0.1:"), refused.getMessage());
            assertFalse(new File(ctx.homaDirectoryName()).exists(), "the failed start removed its directory");
        }
    }

    /** Prometheus samples turned back into CnC labels ({@code name key=value ...}) and values. */
    private static Map<String, Long> prometheusAsLabels(final String body)
    {
        final Map<String, Long> values = new LinkedHashMap<>();
        for (final String line : body.split("\n"))
        {
            final Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.matches())
            {
                continue;
            }
            final StringBuilder label = new StringBuilder(sample.group(1).substring("homa_".length()));
            if (null != sample.group(2))
            {
                final Matcher pair = Pattern.compile("([a-z]+)=\"([^\"]*)\"").matcher(sample.group(2));
                while (pair.find())
                {
                    label.append(' ').append(pair.group(1)).append('=').append(pair.group(2));
                }
            }
            values.put(label.toString(), Long.parseLong(sample.group(3)));
        }
        return values;
    }

    private static void assertThrowsIo(final HttpClient http, final HttpRequest get)
    {
        try
        {
            final HttpResponse<String> response = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertNull(response, "the endpoint answered after close: " + response.statusCode());
        }
        catch (final java.io.IOException expected)
        {
            // Closed with the driver.
        }
        catch (final InterruptedException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
