package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hiccup is not a dead peer: a driver whose thread stops for a second (descheduled, paused by a GC, stopped)
 * while RPCs to and from it are in flight must cost no RPC and run none twice, with the driver's default timers;
 * a peer that is gone for good is still reported. Two drivers on loopback, the stall injected through
 * {@link MediaDriver#stallConductorOnce(long)}, which stops the driver's only thread in SHARED mode.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HiccupTest
{
    private static final int SERVER_PORT = 77;
    private static final int RPCS = 400;
    private static final int OUTSTANDING = 16;
    private static final long STALL_NS = TimeUnit.SECONDS.toNanos(1);

    private MediaDriver clientDriver;
    private MediaDriver serverDriver;
    private Homa clientHoma;
    private Homa serverHoma;
    private Thread serverThread;
    private final AtomicBoolean running = new AtomicBoolean(true);

    @AfterEach
    void after() throws InterruptedException
    {
        running.set(false);
        if (null != serverThread)
        {
            serverThread.join(5_000);
        }
        CloseHelper.closeAll(clientHoma, serverHoma, clientDriver, serverDriver);
    }

    enum Side
    {
        SERVER, CLIENT
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void shouldCompleteEveryRpcExactlyOnceAcrossAOneSecondStall(final Side stalled) throws Exception
    {
        launch();
        final ConcurrentHashMap<Long, AtomicInteger> servedByCookie = new ConcurrentHashMap<>();
        final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
        startServer(server, servedByCookie);
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        final ConcurrentHashMap<Long, Integer> outstanding = new ConcurrentHashMap<>();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicReference<String> failure = new AtomicReference<>();
        final MessageHandler checker = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                final Integer expected = outstanding.remove(id);
                if (null == expected || expected != length || !matches(buffer, offset, length, cookie))
                {
                    failure.compareAndSet(null, "bad or duplicate response for RPC " + id + " (cookie " + cookie + ")");
                }
                completed.incrementAndGet();
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                failure.compareAndSet(null, HomaError.name(errorCode) + " for RPC " + id + " (cookie " + cookie + ")");
            }
        };

        final MediaDriver victim = Side.SERVER == stalled ? serverDriver : clientDriver;
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long sent = 0;
        boolean hasStalled = false;
        while (completed.get() < RPCS && null == failure.get() && System.nanoTime() - deadlineNs < 0)
        {
            if (sent < RPCS && outstanding.size() < OUTSTANDING)
            {
                // Short requests and long ones (granted), so the stall catches DATA, GRANTs, ACKs in flight.
                final int size = 0 == sent % 8 ? 300_000 : 8 + (int)((sent * 7919) % 20_000);
                final long id = client.send(dest, pattern(size, sent), 0, size, sent);
                outstanding.put(id, size);
                sent++;
                continue;
            }
            if (!hasStalled && sent >= RPCS / 4)
            {
                // Every RPC of the window is in flight now: stop the victim's thread for a second.
                victim.stallConductorOnce(STALL_NS);
                hasStalled = true;
            }
            client.receive(checker, TimeUnit.MILLISECONDS.toNanos(100));
        }

        assertNull(failure.get(), failure::get);
        assertTrue(hasStalled);
        assertEquals(RPCS, completed.get(), "RPCs completed");
        assertTrue(outstanding.isEmpty());
        assertEquals(RPCS, servedByCookie.size(), "requests served");
        servedByCookie.forEach((cookie, count) -> assertEquals(1, count.get(), "request " + cookie + " ran twice"));
        assertEquals(0, clientDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        assertEquals(0, serverDriver.counter(SystemCounterDescriptor.RPC_TIMEOUTS));
        System.out.printf("HiccupTest %s stalled 1 s: %d RPCs, client resends %d, server resends %d%n", stalled, RPCS,
            clientDriver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND),
            serverDriver.counter(SystemCounterDescriptor.PACKETS_SENT_RESEND));
    }

    @Test
    void shouldReportAPeerGoneForGoodWithinTheTimeout()
    {
        launch();
        final HomaSocket server = serverHoma.addSocket(SERVER_PORT);
        startServer(server, new ConcurrentHashMap<>());
        final HomaSocket client = clientHoma.addSocket();
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);
        final long warm = client.send(dest, pattern(100, 1), 0, 100, 1);
        final AtomicInteger errorCode = new AtomicInteger();
        final AtomicBoolean answered = new AtomicBoolean();
        final MessageHandler handler = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                answered.set(true);
            }

            public void onError(final long id, final long cookie, final int code)
            {
                errorCode.set(code);
            }
        };
        final long warmDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!answered.get() && System.nanoTime() - warmDeadlineNs < 0)
        {
            client.receive(handler, TimeUnit.MILLISECONDS.toNanos(100));
        }
        assertTrue(answered.get(), "first RPC " + warm);

        // The server's Homa is gone for good.
        running.set(false);
        // Closed, not stalled: a stall longer than the driver's close wait left its thread running on unmapped files.
        CloseHelper.closeAll(serverHoma, serverDriver);
        final long startNs = System.nanoTime();
        client.send(dest, pattern(100, 2), 0, 100, 2);
        final long deadlineNs = startNs + TimeUnit.SECONDS.toNanos(20);
        while (0 == errorCode.get() && System.nanoTime() - deadlineNs < 0)
        {
            client.receive(handler, TimeUnit.MILLISECONDS.toNanos(100));
        }
        final long reportedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        // Over UDP the closed port earns ICMP port-unreachable: ENOTCONN at once, as Linux fails an RPC on ICMP
        // (#17); without the ICMP (a host gone from the network) the client's timer says ETIMEDOUT.
        assertTrue(HomaError.ENOTCONN == errorCode.get() || HomaError.ETIMEDOUT == errorCode.get(),
            HomaError.name(errorCode.get()) + " after " + reportedMs + " ms");
        // The bound itself (timeout_ticks of the client's own timer) is measured, not asserted tightly here: on a
        // loaded machine the client's ticks run late. See the README's "Hiccups" section.
        System.out.printf("HiccupTest: dead peer reported with %s after %d ms (timeout %d ticks)%n",
            HomaError.name(errorCode.get()), reportedMs, Configuration.TIMEOUT_TICKS_DEFAULT);
        // Ticks run on a grid, and the cycle that creates the RPC runs a tick that is due after its commands: a tick
        // that runs late counts the new RPC at once, and the next grid tick comes less than a tick later. So the
        // error may come up to two ticks before timeout_ticks x tick (seen at 1,498 ms under bin/stress-suite),
        // never earlier.
        final long earliestMs = TimeUnit.NANOSECONDS.toMillis(
            (Configuration.TIMEOUT_TICKS_DEFAULT - 2) * Configuration.TIMER_TICK_DEFAULT_NS);
        assertTrue(HomaError.ENOTCONN == errorCode.get() || reportedMs >= earliestMs,
            "a timeout not before the timeout less two ticks: " + reportedMs + " ms");
    }

    private void launch()
    {
        // The defaults under test: no timer overrides.
        clientDriver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        serverDriver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
        serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
    }

    private void startServer(final HomaSocket server, final ConcurrentHashMap<Long, AtomicInteger> servedByCookie)
    {
        final MessageHandler echo = new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                servedByCookie.computeIfAbsent(buffer.getLong(offset), k -> new AtomicInteger()).incrementAndGet();
                server.reply(id, buffer, offset, length);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        serverThread = new Thread(() ->
        {
            while (running.get())
            {
                server.receive(echo, TimeUnit.MILLISECONDS.toNanos(50));
            }
        }, "hiccup-server");
        serverThread.setDaemon(true);
        serverThread.start();
    }

    /**
     * A message whose first 8 bytes are its cookie (so the server can count each request) and the rest a pattern.
     */
    private static UnsafeBuffer pattern(final int size, final long cookie)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Math.max(size, 8)]);
        for (int i = 0; i < size; i++)
        {
            buffer.putByte(i, (byte)(cookie * 31 + i));
        }
        if (size >= 8)
        {
            buffer.putLong(0, cookie);
        }
        return buffer;
    }

    private static boolean matches(final DirectBuffer buffer, final int offset, final int length, final long cookie)
    {
        if (length >= 8 && buffer.getLong(offset) != cookie)
        {
            return false;
        }
        for (int i = 8; i < length; i++)
        {
            if (buffer.getByte(offset + i) != (byte)(cookie * 31 + i))
            {
                return false;
            }
        }
        return true;
    }
}
