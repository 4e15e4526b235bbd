package io.homa.samples.tools;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RpcStatTest
{
    private static final int SERVER_PORT = 98;
    private static final int LENGTH = 3_000;

    private MediaDriver driver;
    private Homa homa;
    private HomaSocket server;
    private HomaSocket client;
    private long heldId;
    private int responses;

    @BeforeEach
    void before()
    {
        driver = MediaDriver.launchEmbedded();
        homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        server = homa.addSocket(SERVER_PORT);
        client = homa.addSocket();
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
    }

    @Test
    void shouldListARequestTheServerHoldsThenNoneOnceTheRpcIsDone()
    {
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
        final long id = client.send(dest, new UnsafeBuffer(new byte[LENGTH]), 0, LENGTH, 9);
        awaitCondition(() -> 0 != heldId, "request at the server");

        final Output held = rpcStat("--dir", driver.homaDirectoryName());
        assertEquals(0, held.status, held.err);
        final List<String> lines = held.out.lines().toList();
        assertTrue(lines.get(0).contains("Homa driver " + driver.homaDirectoryName() + ", UDP 127.0.0.1:" +
            driver.udpPort() + ": 2 RPCs (all ports)"), held.out);
        assertTrue(lines.get(1).startsWith("ID "), held.out);
        assertTrue(lines.get(1).contains("STATE"), held.out);
        // The server socket's port sorts first; its RPC has the request, no response yet.
        final String[] serverRow = lines.get(2).trim().split("\\s+");
        assertEquals(List.of(Long.toString(id | 1), Long.toString(heldId), Integer.toString(SERVER_PORT),
            "127.0.0.1:" + driver.udpPort() + "/" + client.port(), "SERVER_IN_SERVICE", "-", "-", "-", "-",
            Integer.toString(LENGTH), "0", "0", Integer.toString(LENGTH)),
            List.of(serverRow).subList(0, 13), held.out);
        final String[] clientRow = lines.get(3).trim().split("\\s+");
        assertEquals(List.of(Long.toString(id), Long.toString(id), Integer.toString(client.port()),
            "127.0.0.1:" + driver.udpPort() + "/" + SERVER_PORT, "CLIENT_OUTGOING", Integer.toString(LENGTH),
            Integer.toString(LENGTH), Integer.toString(LENGTH)),
            List.of(clientRow).subList(0, 8), held.out);
        assertEquals(4, lines.size(), held.out);

        final Output serverOnly = rpcStat("--dir", driver.homaDirectoryName(), "--port", Integer.toString(SERVER_PORT));
        assertTrue(serverOnly.out.contains(": 1 RPC (port " + SERVER_PORT + ", receive pool "), serverOnly.out);
        assertEquals(3, serverOnly.out.lines().count(), serverOnly.out);
        assertTrue(serverOnly.out.contains("SERVER_IN_SERVICE"), serverOnly.out);

        server.reply(heldId, new UnsafeBuffer(new byte[10]), 0, 10);
        awaitCondition(() -> 1 == responses, "response");
        // The server RPC goes once the client's ack arrives (a NEED_ACK follows a couple of ticks later).
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Output done = rpcStat("--dir", driver.homaDirectoryName());
        while (!done.out.contains(": 0 RPCs (all ports)"))
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("RPCs still listed:\n" + done.out);
            }
            pollBoth();
            done = rpcStat("--dir", driver.homaDirectoryName());
        }
        assertEquals(2, done.out.lines().count(), done.out);
    }

    @Test
    void shouldRefreshWithWatchAndFailClearlyWithoutDriver()
    {
        final Output watched = rpcStat("--dir", driver.homaDirectoryName(), "--watch", "10ms", "--count", "3");
        assertEquals(0, watched.status, watched.err);
        assertEquals(3, Pattern.compile("Homa driver .*: 0 RPCs").matcher(watched.out).results().count(), watched.out);

        final Output noDriver = rpcStat("--dir", new File(driver.homaDirectoryName(), "nowhere").getPath());
        assertEquals(2, noDriver.status);
        assertTrue(noDriver.err.contains("no Homa driver CnC file"), noDriver.err);

        final Output badPort = rpcStat("--port", "70000");
        assertEquals(1, badPort.status);
        assertTrue(badPort.err.contains("--port out of range"), badPort.err);

        final Output help = rpcStat("--help");
        assertEquals(0, help.status);
        assertTrue(help.out.contains("rpc-stat [options]"), help.out);
    }

    private void awaitCondition(final java.util.function.BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("timed out waiting for " + what);
            }
            pollBoth();
            Thread.yield();
        }
    }

    private void pollBoth()
    {
        server.poll(new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                heldId = id;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                fail("server error " + errorCode);
            }
        }, 16);
        client.poll(new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                responses++;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                fail("client error " + errorCode);
            }
        }, 16);
    }

    private static Output rpcStat(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = RpcStat.run(args, print(out), print(err));
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
