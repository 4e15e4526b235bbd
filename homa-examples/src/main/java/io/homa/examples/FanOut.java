package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaError;
import io.homa.client.HomaException;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A request fan-out: three shard servers (each on its own embedded driver) each sum the squares of their part
 * of 1..N; the client sends all three requests at once, gathers the three answers as they come (the cookie names
 * the shard) and prints the total, which must be N(N+1)(2N+1)/6.
 */
public final class FanOut
{
    private static final int SHARD_PORT = 5000;
    private static final int SHARDS = 3;

    private FanOut()
    {
    }

    /**
     * @param args N (1000 by default).
     * @throws InterruptedException if interrupted while the shard threads stop.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final long n = 0 == args.length ? 1000 : Long.parseLong(args[0]);
        final List<AutoCloseable> resources = new ArrayList<>();
        final List<Thread> shardThreads = new ArrayList<>();
        final List<HomaSocket> shardSockets = new ArrayList<>();
        try
        {
            final HomaAddress[] shards = new HomaAddress[SHARDS];
            for (int i = 0; i < SHARDS; i++)
            {
                final MediaDriver driver = MediaDriver.launchEmbedded();
                resources.add(driver);
                final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
                resources.add(homa);
                final HomaSocket socket = homa.addSocket(SHARD_PORT);
                shardSockets.add(socket);
                final Thread thread = new Thread(() -> serve(socket), "shard-" + i);
                thread.start();
                shardThreads.add(thread);
                shards[i] = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SHARD_PORT);
            }

            final MediaDriver clientDriver = MediaDriver.launchEmbedded();
            resources.add(clientDriver);
            final Homa clientHoma = Homa.connect(
                new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
            resources.add(clientHoma);
            final HomaSocket client = clientHoma.addSocket();

            final UnsafeBuffer request = new UnsafeBuffer(new byte[2 * Long.BYTES]);
            for (int i = 0; i < SHARDS; i++)
            {
                request.putLong(0, 1 + i * n / SHARDS);        // from, inclusive
                request.putLong(Long.BYTES, (i + 1) * n / SHARDS);   // to, inclusive
                client.send(shards[i], request, 0, request.capacity(), i);   // the cookie names the shard
            }

            final long[] partial = new long[SHARDS];
            final int[] answered = {0};
            final MessageHandler gather = new MessageHandler()
            {
                public void onMessage(
                    final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
                {
                    partial[(int)cookie] = buffer.getLong(offset);
                    answered[0]++;
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                    throw new HomaException(errorCode, "shard " + cookie);
                }
            };
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (answered[0] < SHARDS && System.nanoTime() - deadlineNs < 0)
            {
                client.receive(gather, deadlineNs - System.nanoTime());
            }
            if (answered[0] < SHARDS)
            {
                throw new HomaException(HomaError.ETIMEDOUT, answered[0] + " of " + SHARDS + " shards answered");
            }
            long total = 0;
            for (int i = 0; i < SHARDS; i++)
            {
                System.out.println("shard " + i + ": " + partial[i]);
                total += partial[i];
            }
            System.out.println("sum of squares 1.." + n + " = " + total);
        }
        finally
        {
            shardSockets.forEach(HomaSocket::shutdown);   // wakes the shard threads with ESHUTDOWN
            for (final Thread thread : shardThreads)
            {
                thread.join();
            }
            resources.reversed().forEach(CloseHelper::quietClose);
        }
    }

    private static void serve(final HomaSocket socket)
    {
        final UnsafeBuffer response = new UnsafeBuffer(new byte[Long.BYTES]);
        final MessageHandler sumOfSquares = new MessageHandler()
        {
            public void onMessage(
                final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
            {
                long sum = 0;
                for (long k = buffer.getLong(offset); k <= buffer.getLong(offset + Long.BYTES); k++)
                {
                    sum += k * k;
                }
                response.putLong(0, sum);
                socket.reply(id, response, 0, Long.BYTES);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        };
        try
        {
            while (true)
            {
                socket.receive(sumOfSquares, TimeUnit.SECONDS.toNanos(1));
            }
        }
        catch (final HomaException ex)
        {
            if (HomaError.ESHUTDOWN != ex.errorCode())
            {
                throw ex;
            }
        }
    }
}
