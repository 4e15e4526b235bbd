package io.homa.samples.tools;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatToolsTest
{
    private static final Pattern RATE_LINE =
        Pattern.compile("^\\s*(\\d+):\\s+([\\d,]+)\\s+(\\S*/s)? +- (.+)$");
    private static final Pattern COUNTER_LINE = Pattern.compile("^\\s*(\\d+):\\s+([\\d,]+) - (\\S+)$");
    private static final int SERVER_PORT = 99;

    private MediaDriver driver;
    private Homa homa;

    @BeforeEach
    void before()
    {
        driver = MediaDriver.launchEmbedded();
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    @Test
    void shouldShowHeaderAndCountersThatMovedAfterRpcs()
    {
        final Output before = homaStat("--dir", driver.homaDirectoryName(), "--once");
        assertEquals(0, before.status, before.err);
        final String header = before.out.lines().findFirst().orElseThrow();
        assertTrue(header.contains("CnC version " + CncFileDescriptor.CNC_VERSION), header);
        assertTrue(header.contains("PID " + ProcessHandle.current().pid()), header);
        assertTrue(header.contains("UDP 127.0.0.1:" + driver.udpPort()), header);
        assertTrue(Pattern.compile("heartbeat age -?\\d+ ms,").matcher(header).find(), header);
        final Map<String, Long> countersBefore = counters(before.out);
        // Every system counter is listed (transports may add counters of their own beside them).
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            assertTrue(countersBefore.containsKey(descriptor.label()), descriptor.label() + " in\n" + before.out);
        }

        final int rpcs = 5;
        doRpcs(rpcs);

        final Output after = homaStat("--dir", driver.homaDirectoryName(), "--once");
        final Map<String, Long> countersAfter = counters(after.out);
        assertEquals(rpcs, countersAfter.get("client_requests_started") - countersBefore.get("client_requests_started"));
        assertEquals(rpcs, countersAfter.get("client_responses_done") - countersBefore.get("client_responses_done"));
        assertTrue(countersAfter.get("packets_sent_DATA") >= countersBefore.get("packets_sent_DATA") + 2 * rpcs);
        assertEquals(driver.counter(SystemCounterDescriptor.SOCKETS_OPEN), countersAfter.get("sockets_open"));
    }

    @Test
    void shouldPrintRatesPerSecondSinceTheSnapshotBefore()
    {
        try (CncFileReader cnc = CncFileReader.map(new File(driver.homaDirectoryName())))
        {
            final HomaStat.Filter filter = new HomaStat.Filter(
                Pattern.compile("client_requests_started|sockets_open"), Pattern.compile(".*"), Pattern.compile(".*"));
            final ByteArrayOutputStream first = new ByteArrayOutputStream();
            final Map<Integer, Long> before = HomaStat.printSnapshot(cnc, filter, print(first), null, 0, true);
            assertTrue(first.toString(StandardCharsets.UTF_8).lines().skip(2)
                .allMatch((line) -> RATE_LINE.matcher(line).matches() && line.contains(" - ") &&
                    !line.contains("/s")), "no rates on the first snapshot: " + first);

            final int rpcs = 5;
            doRpcs(rpcs);
            final ByteArrayOutputStream second = new ByteArrayOutputStream();
            // As if half a second passed: 5 more requests are 10 per second.
            HomaStat.printSnapshot(cnc, filter, print(second), before, 500_000_000L, true);
            final Map<String, String> rates = new HashMap<>();
            final Map<String, Long> deltas = new HashMap<>();
            second.toString(StandardCharsets.UTF_8).lines().forEach((line) ->
            {
                final Matcher matcher = RATE_LINE.matcher(line);
                if (matcher.matches())
                {
                    rates.put(matcher.group(4), matcher.group(3));
                    deltas.put(matcher.group(4), Long.parseLong(matcher.group(2).replace(",", "")) -
                        before.get(Integer.parseInt(matcher.group(1))));
                }
            });
            assertEquals(rpcs, deltas.get("client_requests_started"), second::toString);
            assertEquals("10.0/s", rates.get("client_requests_started"), second::toString);
            // The first RPCs of this test also open its sockets: the rate is the change over the half second.
            assertEquals(String.format(Locale.ROOT, "%.1f/s", deltas.get("sockets_open") * 2.0),
                rates.get("sockets_open"), second::toString);
        }
    }

    @Test
    void shouldFilterCountersByRegexInBothStyles()
    {
        final Output dashed = homaStat("--dir", driver.homaDirectoryName(), "--once", "--label", "packets_sent_.*");
        final Output aeronStyle = homaStat("--dir=" + driver.homaDirectoryName(), "--once", "label=packets_sent_.*");
        for (final Output output : List.of(dashed, aeronStyle))
        {
            final Map<String, Long> counters = counters(output.out);
            assertEquals(10, counters.size(), output.out);
            assertTrue(counters.keySet().stream().allMatch((label) -> label.startsWith("packets_sent_")), output.out);
        }

        final Output byId = homaStat("--dir", driver.homaDirectoryName(), "--once", "id=1|2", "type=0");
        assertEquals(2, counters(byId.out).size(), byId.out);
    }

    @Test
    void shouldRefreshTheGivenNumberOfTimes()
    {
        final Output output = homaStat("--dir", driver.homaDirectoryName(), "--count", "3", "--delay", "10ms");
        assertEquals(0, output.status, output.err);
        assertEquals(3, output.out.lines().filter((line) -> line.contains("Homa driver: CnC version")).count());
    }

    @Test
    void shouldFailClearlyWithoutDriver()
    {
        final Output output = homaStat("--dir", new File(driver.homaDirectoryName(), "nowhere").getPath(), "--once");
        assertEquals(2, output.status);
        assertTrue(output.err.contains("no Homa driver CnC file"), output.err);

        final Output badOption = homaStat("--frobnicate");
        assertEquals(1, badOption.status);
        assertTrue(badOption.err.contains("unknown option --frobnicate"), badOption.err);
    }

    @Test
    void shouldPrintNoErrorsForAHealthyDriver()
    {
        final Output output = errorStat("--dir", driver.homaDirectoryName());
        assertEquals(0, output.status, output.err);
        assertTrue(output.out.contains("0 distinct errors observed"), output.out);
    }

    @Test
    void shouldPrintErrorRecordedForUnknownCommand()
    {
        final int unknownCommandType = 999;
        final long errorsBefore = driver.counter(SystemCounterDescriptor.ERRORS);
        final MappedByteBuffer cnc = IoUtil.mapExistingFile(
            new File(driver.homaDirectoryName(), CncFileDescriptor.CNC_FILE), "cnc");
        try
        {
            final UnsafeBuffer metaData = CncFileDescriptor.metaDataBuffer(cnc);
            final ManyToOneRingBuffer toDriver =
                new ManyToOneRingBuffer(CncFileDescriptor.toDriverBuffer(cnc, metaData));
            final UnsafeBuffer command = new UnsafeBuffer(new byte[8]);
            for (int i = 0; i < 2; i++)
            {
                assertTrue(toDriver.write(unknownCommandType, command, 0, command.capacity()));
            }
        }
        finally
        {
            IoUtil.unmap(cnc);
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (driver.counter(SystemCounterDescriptor.ERRORS) < errorsBefore + 2)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("driver did not record the unknown command");
            }
            Thread.yield();
        }

        // Agrona's CountedErrorHandler counts before it records: the second observation may land just after.
        Output output = errorStat("--dir", driver.homaDirectoryName());
        while (!output.out.contains("2 observations from ") && System.nanoTime() - deadlineNs < 0)
        {
            Thread.yield();
            output = errorStat("--dir", driver.homaDirectoryName());
        }
        assertEquals(0, output.status, output.err);
        assertTrue(output.out.contains("unknown command type " + unknownCommandType), output.out);
        assertTrue(output.out.contains("2 observations from "), output.out);
        assertTrue(output.out.contains("java.lang.IllegalArgumentException"), output.out);
        assertTrue(output.out.contains("1 distinct error observed"), output.out);
    }

    private void doRpcs(final int count)
    {
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
        final UnsafeBuffer message = new UnsafeBuffer(new byte[100]);
        final int[] responses = new int[1];
        final MessageHandler serverHandler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                server.reply(id, message, 0, message.capacity());
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        final MessageHandler clientHandler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                responses[0]++;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                fail("RPC failed: " + errorCode);
            }
        };

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int i = 0; i < count; i++)
        {
            client.send(dest, message, 0, message.capacity(), i);
            while (responses[0] <= i)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    fail("no response to RPC " + i);
                }
                server.poll(serverHandler, 16);
                client.poll(clientHandler, 16);
                Thread.yield();
            }
        }
    }

    private static Map<String, Long> counters(final String output)
    {
        final Map<String, Long> counters = new HashMap<>();
        output.lines().forEach((line) ->
        {
            final Matcher matcher = COUNTER_LINE.matcher(line);
            if (matcher.matches())
            {
                counters.put(matcher.group(3), Long.parseLong(matcher.group(2).replace(",", "")));
            }
        });
        return counters;
    }

    private static Output homaStat(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = HomaStat.run(args, print(out), print(err));
        return new Output(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Output errorStat(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = ErrorStat.run(args, print(out), print(err));
        return new Output(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static PrintStream print(final ByteArrayOutputStream bytes)
    {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    private record Output(int status, String out, String err)
    {
    }
}
