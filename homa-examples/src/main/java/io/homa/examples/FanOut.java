package io.homa.examples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaServer;
import io.homa.client.HomaSocket;
import io.homa.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A request fan-out: three shard servers (each on its own embedded driver) each sum the squares of their part of
 * 1..N; the client sends the three requests at once as asynchronous calls, waits for all three futures and prints
 * the total, which must be N(N+1)(2N+1)/6.
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
     */
    public static void main(final String[] args)
    {
        final long n = 0 == args.length ? 1000 : Long.parseLong(args[0]);
        final List<AutoCloseable> resources = new ArrayList<>();
        try
        {
            final HomaAddress[] shards = new HomaAddress[SHARDS];
            for (int i = 0; i < SHARDS; i++)
            {
                final MediaDriver driver = MediaDriver.launchEmbedded();
                resources.add(driver);
                final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
                resources.add(homa);
                resources.add(HomaServer.start(homa, SHARD_PORT, (request, offset, length, response) ->
                {
                    long sum = 0;
                    for (long k = request.getLong(offset); k <= request.getLong(offset + Long.BYTES); k++)
                    {
                        sum += k * k;
                    }
                    response.putLong(0, sum);
                    return Long.BYTES;
                }));
                shards[i] = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SHARD_PORT);
            }
            final MediaDriver clientDriver = MediaDriver.launchEmbedded();
            resources.add(clientDriver);
            final Homa clientHoma =
                Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
            resources.add(clientHoma);
            final HomaSocket client = clientHoma.addSocket();

            final List<CompletableFuture<DirectBuffer>> answers = new ArrayList<>();
            final UnsafeBuffer request = new UnsafeBuffer(new byte[2 * Long.BYTES]);
            for (int i = 0; i < SHARDS; i++)
            {
                request.putLong(0, 1 + i * n / SHARDS);              // from, inclusive
                request.putLong(Long.BYTES, (i + 1) * n / SHARDS);   // to, inclusive
                // The request is copied before callAsync returns, so the buffer can be reused at once.
                answers.add(client.callAsync(shards[i], request, 0, request.capacity(), TimeUnit.SECONDS.toNanos(5)));
            }
            CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).join();

            long total = 0;
            for (int i = 0; i < SHARDS; i++)
            {
                final long part = answers.get(i).join().getLong(0);
                System.out.println("shard " + i + ": " + part);
                total += part;
            }
            System.out.println("sum of squares 1.." + n + " = " + total);
        }
        finally
        {
            CloseHelper.closeAll(resources.reversed());
        }
    }
}
