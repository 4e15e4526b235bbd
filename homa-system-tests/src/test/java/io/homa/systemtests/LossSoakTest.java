package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.samples.workload.MessageSizeDistribution;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.homa.driver.status.SystemCounterDescriptor.BUFFER_WAITING_RPCS;
import static io.homa.driver.status.SystemCounterDescriptor.RPCS_ACTIVE;
import static io.homa.systemtests.TestUtil.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Randomised soak: W4-sized RPCs between two drivers over loopback while both drivers' fault injection drops 5 %,
 * duplicates 5 % and reorders 5 % of arriving DATA and control packets. Every RPC must complete exactly once with
 * the right bytes, no request may run twice, and both drivers must end with no RPC state.
 * <p>
 * The RPC timeout is raised for the soak: on a shared 2-core machine a driver thread can be descheduled long enough
 * for 100 ms of silence, and timeouts have their own deterministic test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LossSoakTest
{
    private static final int SERVER_PORT = 800;
    private static final int HEADER = 8;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    @Test
    void shouldCompleteEveryRpcExactlyOnceUnderLossDuplicationAndReordering()
    {
        soak(3_000, 32, 64 * 1024 * 1024, 11);
    }

    @Test
    void shouldCompleteEveryRpcExactlyOnceWithFarTooSmallReceivePoolUnderLoss()
    {
        soak(400, 32, 2 * 1024 * 1024, 12);
    }

    private void soak(final int rpcs, final int concurrency, final int poolLength, final long seed)
    {
        final MediaDriver clientDriver = launch(seed * 2, poolLength);
        final MediaDriver serverDriver = launch(seed * 2 + 1, poolLength);
        final HomaSocket client = connect(clientDriver).addSocket();
        final HomaSocket server = connect(serverDriver).addSocket(SERVER_PORT);
        final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), SERVER_PORT);

        final MessageSizeDistribution w4 = MessageSizeDistribution.workload("w4");
        final SplittableRandom random = new SplittableRandom(seed);
        final int[] sizes = new int[rpcs];
        long requestBytes = 0;
        for (int i = 0; i < rpcs; i++)
        {
            sizes[i] = Math.max(HEADER, w4.sample(random));
            requestBytes += sizes[i];
        }

        final Server handler = new Server(server, rpcs);
        final Client responses = new Client(sizes);
        final UnsafeBuffer request = new UnsafeBuffer(new byte[MessageSizeDistribution.MAX_LENGTH]);
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + TimeUnit.SECONDS.toNanos(90);
        int sent = 0;
        while (responses.completed < rpcs)
        {
            while (sent < rpcs && sent - responses.completed < concurrency)
            {
                fill(request, sent, sizes[sent]);
                client.send(dest, request, 0, sizes[sent], sent);
                sent++;
            }
            server.poll(handler, 64);
            client.poll(responses, 64);
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("soak stuck: " + responses.completed + "/" + rpcs + " done, " + sent + " sent; client " +
                    nonZero(clientDriver) + " server " + nonZero(serverDriver));
            }
        }
        final long elapsedNs = System.nanoTime() - startNs;

        assertEquals(rpcs, responses.completed);
        assertEquals(rpcs, responses.done.cardinality(), "each RPC completed once");
        assertEquals(0, responses.errors);
        assertEquals(0, responses.badBytes, "responses with wrong bytes");
        assertEquals(rpcs, handler.executed.cardinality());
        assertEquals(0, handler.duplicates, "requests run twice");
        assertEquals(0, handler.badBytes, "requests with wrong bytes");

        // Acks (piggy-backed, or ACK answering NEED_ACK, all under loss) free every server RPC.
        await(() -> 0 == serverDriver.counter(RPCS_ACTIVE) && 0 == clientDriver.counter(RPCS_ACTIVE),
            () ->
            {
                server.poll(handler, 16);
                client.poll(responses, 16);
            }, 20_000, "no RPC state left: client " + nonZero(clientDriver) + " server " + nonZero(serverDriver));
        assertEquals(0, serverDriver.counter(BUFFER_WAITING_RPCS));
        assertEquals(0, handler.duplicates);

        final long faultDrops = sum(SystemCounterDescriptor.FAULT_DROPPED, clientDriver, serverDriver);
        final long faultDups = sum(SystemCounterDescriptor.FAULT_DUPLICATED, clientDriver, serverDriver);
        final long faultDelays = sum(SystemCounterDescriptor.FAULT_DELAYED, clientDriver, serverDriver);
        final long resent = sum(SystemCounterDescriptor.RESENT_PACKETS, clientDriver, serverDriver);
        final long resends = sum(SystemCounterDescriptor.PACKETS_SENT_RESEND, clientDriver, serverDriver);
        assertTrue(faultDrops > 0 && faultDups > 0 && faultDelays > 0, "faults were injected");
        System.out.printf(
            "loss soak: %d RPCs (pool %d B), %d request bytes + %d response bytes, %.1f s; injected drops %d, " +
            "duplicates %d, reorders %d; RESENDs sent %d, DATA retransmitted %d, restarts %d, late copies dropped " +
            "%d, waited for buffers %d; client %s; server %s%n",
            rpcs, poolLength, requestBytes, requestBytes, elapsedNs / 1e9, faultDrops, faultDups, faultDelays, resends,
            resent, sum(SystemCounterDescriptor.RPC_RESTARTS, clientDriver, serverDriver),
            sum(SystemCounterDescriptor.ACKED_RPC_DROPS, clientDriver, serverDriver),
            sum(SystemCounterDescriptor.BUFFER_ALLOC_FAILURES, clientDriver, serverDriver),
            nonZero(clientDriver), nonZero(serverDriver));
    }

    private MediaDriver launch(final long seed, final int poolLength)
    {
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .socketPoolLength(poolLength)
            .timeoutTicks(5_000);
        ctx.faultInjection()
            .seed(seed)
            .dataDropRate(0.05).controlDropRate(0.05)
            .dataDuplicateRate(0.05).controlDuplicateRate(0.05)
            .dataReorderRate(0.05).controlReorderRate(0.05)
            .reorderDelayNs(TimeUnit.MILLISECONDS.toNanos(1));
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

    private static long sum(final SystemCounterDescriptor descriptor, final MediaDriver a, final MediaDriver b)
    {
        return a.counter(descriptor) + b.counter(descriptor);
    }

    private static String nonZero(final MediaDriver driver)
    {
        final StringBuilder sb = new StringBuilder("{");
        for (final SystemCounterDescriptor d : SystemCounterDescriptor.values())
        {
            final long value = driver.counter(d);
            if (0 != value && !d.label().endsWith("_ns") && !d.label().startsWith("bytes"))
            {
                sb.append(d.label()).append('=').append(value).append(' ');
            }
        }
        return sb.append('}').toString();
    }

    /** Request bytes: the RPC's sequence number, then a pattern seeded by it. */
    static void fill(final UnsafeBuffer buffer, final int seq, final int length)
    {
        buffer.putLong(0, seq, ByteOrder.LITTLE_ENDIAN);
        for (int i = HEADER; i < length; i++)
        {
            buffer.putByte(i, (byte)(i * 31 + seq));
        }
    }

    static boolean matches(final DirectBuffer buffer, final int offset, final int seq, final int length)
    {
        if (buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN) != seq)
        {
            return false;
        }
        for (int i = HEADER; i < length; i++)
        {
            if (buffer.getByte(offset + i) != (byte)(i * 31 + seq))
            {
                return false;
            }
        }
        return true;
    }

    static final class Server implements MessageHandler
    {
        private final HomaSocket socket;
        private final int rpcs;
        final BitSet executed = new BitSet();
        int duplicates;
        int badBytes;

        Server(final HomaSocket socket, final int rpcs)
        {
            this.socket = socket;
            this.rpcs = rpcs;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final long seq = buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN);
            if (seq < 0 || seq >= rpcs || !matches(buffer, offset, (int)seq, length))
            {
                badBytes++;
            }
            else if (executed.get((int)seq))
            {
                duplicates++;
            }
            else
            {
                executed.set((int)seq);
            }
            socket.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            fail("server error " + errorCode);
        }
    }

    static final class Client implements MessageHandler
    {
        private final int[] sizes;
        final BitSet done = new BitSet();
        int completed;
        int errors;
        int badBytes;

        Client(final int[] sizes)
        {
            this.sizes = sizes;
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final int seq = (int)cookie;
            if (length != sizes[seq] || !matches(buffer, offset, seq, length) || done.get(seq))
            {
                badBytes++;
            }
            done.set(seq);
            completed++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            errors++;
            completed++;
        }
    }
}
