package io.homa.samples.tools;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.EventLogDescriptor;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventDumpTest
{
    private static final int SERVER_PORT = 97;

    @TempDir
    Path tempDir;

    private MediaDriver driver;
    private Homa homa;
    /** The INVOKER-mode driver's duty cycle, run by the test thread; null for a driver with its own threads. */
    private AgentInvoker invoker;

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    private void launch(final MediaDriver.Context ctx)
    {
        driver = MediaDriver.launch(ctx.eventLogEnabled(true).udpPort(0));
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
    }

    /**
     * A driver whose duty cycle the test thread runs (INVOKER) on a clock that never moves: no timer fires, so the
     * log holds exactly the events of the RPC itself (no RESEND, no retransmission) however busy the machine is.
     */
    private void launchDriven(final MediaDriver.Context ctx)
    {
        final long frozenNs = TimeUnit.SECONDS.toNanos(1);
        driver = MediaDriver.launchEmbedded(ctx.eventLogEnabled(true).udpPort(0)
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(() -> frozenNs));
        invoker = driver.sharedAgentInvoker();
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(invoker));
    }

    @Test
    void shouldPrintOneDecodedLinePerEventOldestFirstAndFilter()
    {
        launchDriven(new MediaDriver.Context()
            .homaDirectoryName(tempDir.resolve("live").toString())
            .dirDeleteOnShutdown(true));
        final long id = oneRpc(1_000);
        final String dir = driver.homaDirectoryName();

        final Output all = eventDump("--dir", dir);
        assertEquals(0, all.status, all.err);
        final List<String> lines = all.out.lines().toList();
        assertTrue(lines.get(0).startsWith("# Homa event log of driver PID " + ProcessHandle.current().pid() + " in " +
            dir), all.out);
        assertTrue(lines.get(0).endsWith("recording"), all.out);
        assertTrue(lines.get(1).matches(" +0\\.000 +\\+0\\.000 #1 .*"), all.out);
        double previous = 0;
        for (final String line : lines.subList(1, lines.size() - 1))
        {
            final double us = Double.parseDouble(line.trim().split("\\s+")[0]);
            assertTrue(us >= previous, "times oldest first:\n" + all.out);
            previous = us;
        }
        assertTrue(all.out.contains(" RPC_CREATED       id " + id + " local "), all.out);
        assertTrue(all.out.matches("(?s).* DATA_OUT +id " + id + " local \\d+ peer 127\\.0\\.0\\.1:" +
            driver.udpPort() + "/" + SERVER_PORT + " offset 0 length 1000 message 1000 priority \\d\n.*"), all.out);
        assertTrue(all.out.matches("(?s).* DATA_IN +id " + (id | 1) + " local " + SERVER_PORT +
            " peer .* offset 0 length 1000 message 1000 incoming 1000\n.*"), all.out);
        assertTrue(lines.get(lines.size() - 1).matches("# (\\d+) of \\1 events shown"), all.out);

        final Output oneRpc = eventDump("--dir", dir, "--rpc", Long.toString(id | 1));
        final List<String> rpcLines = eventLines(oneRpc.out);
        assertTrue(rpcLines.size() >= 8, oneRpc.out);
        assertTrue(rpcLines.stream()
            .allMatch((l) -> l.contains(" id " + id + " ") || l.contains(" id " + (id | 1) + " ")), oneRpc.out);

        // One packet each way, each logged where it leaves and where it arrives; the clock stands still, so nothing
        // is sent again.
        final Output data = eventDump("--dir", dir, "--type", "DATA_.*");
        final List<String> dataLines = eventLines(data.out);
        assertEquals(4, dataLines.size(), data.out);
        assertEquals(2, dataLines.stream().filter((l) -> l.contains(" DATA_OUT ")).count(), data.out);
        assertEquals(2, dataLines.stream().filter((l) -> l.contains(" DATA_IN ")).count(), data.out);
        assertTrue(dataLines.stream().noneMatch((l) -> l.contains("retransmit")), data.out);

        final Output newest = eventDump("--dir", dir, "--last", "3");
        assertEquals(3, eventLines(newest.out).size(), newest.out);
        assertTrue(newest.out.contains("# 3 of 3 events shown"), newest.out);

        final Output notFrozen = eventDump("--dir", dir, "--unfreeze", "--last", "1");
        assertTrue(notFrozen.out.contains("# the log was not frozen"), notFrozen.out);
    }

    @Test
    void shouldReadTheLogOfADeadDriverAndUnfreezeALiveOne() throws Exception
    {
        final String dir = tempDir.resolve("dead").toString();
        launch(new MediaDriver.Context().homaDirectoryName(dir).dirDeleteOnShutdown(false).freezeAccept(true));
        final long id = oneRpc(100);

        // FREEZE from a raw UDP socket, as Linux's homa_freeze_peers sends it (dport 0, id 0).
        final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(HomaWire.FREEZE_LENGTH));
        new PacketWriter().freeze(packet, 0, 1234, 0, 0);
        try (DatagramChannel channel = DatagramChannel.open())
        {
            channel.send(packet.byteBuffer().duplicate().clear(), new InetSocketAddress("127.0.0.1", driver.udpPort()));
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        final File dump = new File(dir, EventLogDescriptor.DUMP_FILE_PREFIX + "1.txt");
        while (0 == driver.counter(SystemCounterDescriptor.EVENT_LOG_FREEZES) || !dump.exists())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("no freeze");
            }
            Thread.sleep(1);
        }

        final Output frozen = eventDump("--dir", dir, "--type", "FREEZE_IN|LOG_FROZEN", "--unfreeze");
        assertEquals(0, frozen.status, frozen.err);
        assertTrue(frozen.out.lines().findFirst().orElseThrow().endsWith("frozen (freeze 1)"), frozen.out);
        final List<String> lines = eventLines(frozen.out);
        assertEquals(2, lines.size(), frozen.out);
        assertTrue(lines.get(0).contains(" FREEZE_IN         local 0 peer 127.0.0.1:"), frozen.out);
        assertTrue(lines.get(0).endsWith("/1234"), frozen.out);
        assertTrue(lines.get(1).endsWith(" freeze 1"), frozen.out);
        assertTrue(frozen.out.contains("# unfrozen: the driver records again"), frozen.out);

        // Recording again from the next tick (which records LOG_RESUMED): a second RPC shows up; then the driver
        // dies and its log stays readable.
        while (!eventDump("--dir", dir, "--type", "LOG_RESUMED").out.contains(" LOG_RESUMED "))
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("not recording again");
            }
            Thread.sleep(1);
        }
        final long second = oneRpc(100);
        CloseHelper.closeAll(homa, driver);
        homa = null;
        driver = null;
        final Output dead = eventDump("--file", new File(dir, EventLogDescriptor.EVENT_LOG_FILE).getPath(),
            "--type", "RPC_CREATED");
        assertEquals(0, dead.status, dead.err);
        final List<String> created = eventLines(dead.out);
        assertTrue(created.stream().anyMatch((l) -> l.contains(" id " + id + " ")), dead.out);
        assertTrue(created.stream().anyMatch((l) -> l.contains(" id " + second + " ")), dead.out);
        assertTrue(dead.out.lines().findFirst().orElseThrow().endsWith("recording"), dead.out);
    }

    @Test
    void shouldFailClearlyWithoutALog()
    {
        final Output none = eventDump("--dir", tempDir.resolve("nowhere").toString());
        assertEquals(2, none.status);
        assertTrue(none.err.contains("no event log at"), none.err);

        final Output bad = eventDump("--rpc", "x");
        assertEquals(1, bad.status);

        final Output help = eventDump("--help");
        assertEquals(0, help.status);
        assertTrue(help.out.contains("homa-events [options]"), help.out);
    }

    private long oneRpc(final int length)
    {
        final HomaSocket server = homa.addSocket(SERVER_PORT);
        final HomaSocket client = homa.addSocket();
        try
        {
            final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
            final UnsafeBuffer message = new UnsafeBuffer(new byte[length]);
            final long id = client.send(dest, message, 0, length, 1);
            final boolean[] done = { false };
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!done[0])
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    fail("no response");
                }
                server.poll(new MessageHandler()
                {
                    public void onMessage(final long rpcId, final long cookie, final DirectBuffer buffer,
                        final int offset, final int messageLength)
                    {
                        server.reply(rpcId, buffer, offset, messageLength);
                    }

                    public void onError(final long rpcId, final long cookie, final int errorCode)
                    {
                    }
                }, 16);
                client.poll(new MessageHandler()
                {
                    public void onMessage(final long rpcId, final long cookie, final DirectBuffer buffer,
                        final int offset, final int messageLength)
                    {
                        done[0] = true;
                    }

                    public void onError(final long rpcId, final long cookie, final int errorCode)
                    {
                        fail("error " + errorCode);
                    }
                }, 16);
                if (null != invoker)
                {
                    invoker.invoke();
                }
                else
                {
                    Thread.yield();
                }
            }
            return id;
        }
        finally
        {
            client.close();
            server.close();
        }
    }

    private static List<String> eventLines(final String output)
    {
        return output.lines().filter((line) -> !line.startsWith("#")).toList();
    }

    private static Output eventDump(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = EventDump.run(args, print(out), print(err));
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
