package io.homa.grpc.bench;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.driver.MediaDriver;
import io.homa.grpc.HomaChannelBuilder;
import io.homa.grpc.HomaServerBuilder;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Unary gRPC calls over Homa against grpc-netty (TCP) on loopback, in one run: the same service, stubs and
 * messages, each transport's server and client in this JVM (Homa with an embedded media driver per side, as two
 * hosts would have). Cases: 100 B request / 100 B response with one call outstanding, the same with 16 callers,
 * and 500 KB each way with one outstanding. Rounds alternate the transports, each round starting with the next
 * one, so that drift in the machine's load hits all of them alike. Prints p50 / p99 / p99.9 in µs, calls/s, the Homa/netty ratios and the load average.
 * <p>
 * Usage: {@code GrpcBenchmark [--seconds S] [--rounds R]} (defaults 2 and 3: seconds per measured case and round).
 */
public final class GrpcBenchmark
{
    private static final int HOMA_PORT = 50;

    private GrpcBenchmark()
    {
    }

    /** Echoes the request's text. */
    static final class Echo extends SimpleServiceGrpc.SimpleServiceImplBase
    {
        @Override
        public void unaryRpc(final SimpleRequest request, final StreamObserver<SimpleResponse> responses)
        {
            responses.onNext(SimpleResponse.newBuilder().setResponseMessage(request.getRequestMessage()).build());
            responses.onCompleted();
        }
    }

    private record Result(Histogram histogram, long calls, long elapsedNs)
    {
        double callsPerSecond()
        {
            return calls * 1e9 / elapsedNs;
        }
    }

    /**
     * @param args {@code --seconds S}, {@code --rounds R}.
     * @throws Exception if a server cannot start or a call fails.
     */
    public static void main(final String[] args) throws Exception
    {
        double seconds = 2;
        int rounds = 3;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--help", "-h" ->
                {
                    System.out.println("usage: grpc-bench [--seconds S] [--rounds R]  (unary gRPC: Homa vs netty)");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        final long caseNs = (long)(seconds * 1e9);
        System.out.println("load average at start: " + loadAverage());
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName())))
        {
            final Server homaServer = HomaServerBuilder.forPort(HOMA_PORT).homa(serverHoma).directExecutor()
                .addService(new Echo()).build().start();
            final Server nettyServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .directExecutor().addService(new Echo()).build().start();
            final ManagedChannel homa = HomaChannelBuilder
                .forAddress(HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), HOMA_PORT))
                .homa(clientHoma).build();
            final ManagedChannel homaReceiver = HomaChannelBuilder
                .forAddress(HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), HOMA_PORT))
                .homa(clientHoma).callerReceives(false).build();
            final ManagedChannel netty = NettyChannelBuilder
                .forAddress("127.0.0.1", ((InetSocketAddress)nettyServer.getListenSockets().get(0)).getPort())
                .usePlaintext().build();
            try
            {
                final String small = "x".repeat(100);
                final String large = "y".repeat(500_000);
                // Warm both paths up (JIT, buffers) before anything counts.
                final List<ManagedChannel> channels = List.of(homa, homaReceiver, netty);
                // "homa": blocking calls receive in the caller's thread (the default); "homa-rt": through the
                // channel's receiver thread, as every non-blocking call does.
                final List<String> names = List.of("homa", "homa-rt", "netty");
                for (final ManagedChannel channel : channels)
                {
                    run(channel, small, 1, caseNs / 2);
                    run(channel, large, 1, caseNs / 4);
                }

                raw(serverHoma, clientHoma, serverDriver, 100, caseNs / 2);
                report("unary 100 B / 100 B, 1 outstanding", names, channels, small, 1, caseNs, rounds);
                report("unary 100 B / 100 B, 16 callers", names, channels, small, 16, caseNs, rounds);
                report("unary 500 KB / 500 KB, 1 outstanding", names, channels, large, 1, caseNs, rounds);
            }
            finally
            {
                homa.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                homaReceiver.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                netty.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                homaServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                nettyServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        System.out.println("load average at end: " + loadAverage());
    }

    /**
     * The floor under the Homa transport: the same 100 B round trip as a bare Homa RPC on the same drivers
     * ({@code HomaSocket.call} to a {@code HomaServer} echo), no gRPC.
     */
    private static void raw(
        final Homa serverHoma, final Homa clientHoma, final MediaDriver serverDriver, final int size, final long ns)
    {
        final int port = HOMA_PORT + 1;
        try (io.homa.client.HomaServer echo = io.homa.client.HomaServer.start(serverHoma, port,
            (request, offset, length, response) ->
            {
                response.putBytes(0, request, offset, length);
                return length;
            });
             io.homa.client.HomaSocket socket = clientHoma.addSocket())
        {
            final HomaAddress dest = HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), port);
            final org.agrona.concurrent.UnsafeBuffer request = new org.agrona.concurrent.UnsafeBuffer(new byte[size]);
            final Histogram histogram = new Histogram(3);
            long calls = 0;
            final long startNs = System.nanoTime();
            long now = startNs;
            while (now - startNs < ns)
            {
                socket.call(dest, request, 0, size, TimeUnit.SECONDS.toNanos(10));
                final long after = System.nanoTime();
                if (now - startNs > ns / 4)
                {
                    histogram.recordValue(after - now);
                    calls++;
                }
                now = after;
            }
            System.out.println();
            System.out.println("bare Homa RPC " + size + " B / " + size + " B, 1 outstanding (no gRPC; load average " +
                loadAverage() + ")");
            line("homa", new Result(histogram, calls, (now - startNs) * 3 / 4));
        }
    }

    private static void report(
        final String name,
        final List<String> names,
        final List<ManagedChannel> channels,
        final String text,
        final int callers,
        final long caseNs,
        final int rounds) throws InterruptedException
    {
        final int n = channels.size();
        final Histogram[] histograms = new Histogram[n];
        final long[] calls = new long[n];
        final long[] elapsed = new long[n];
        for (int i = 0; i < n; i++)
        {
            histograms[i] = new Histogram(3);
        }
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < n; k++)
            {
                final int i = (k + round) % n;   // each round starts with the next transport: no fixed position
                final Result result = run(channels.get(i), text, callers, caseNs / rounds);
                histograms[i].add(result.histogram);
                calls[i] += result.calls;
                elapsed[i] += result.elapsedNs;
            }
        }
        System.out.println();
        System.out.println(name + " (load average " + loadAverage() + ")");
        System.out.printf(Locale.ROOT, "  %-10s %10s %10s %10s %12s %10s%n", "", "p50 µs", "p99 µs", "p99.9 µs",
            "calls/s", "calls");
        final Result[] results = new Result[n];
        for (int i = 0; i < n; i++)
        {
            results[i] = new Result(histograms[i], calls[i], elapsed[i]);
            line(names.get(i), results[i]);
        }
        final Result netty = results[n - 1];
        for (int i = 0; i < n - 1; i++)
        {
            System.out.printf(Locale.ROOT, "  %s/netty: p50 %.2fx, p99 %.2fx, calls/s %.2fx%n", names.get(i),
                ratio(results[i], netty, 50), ratio(results[i], netty, 99),
                results[i].callsPerSecond() / netty.callsPerSecond());
        }
    }

    private static double ratio(final Result a, final Result b, final double percentile)
    {
        return (double)a.histogram.getValueAtPercentile(percentile) / b.histogram.getValueAtPercentile(percentile);
    }

    private static void line(final String transport, final Result result)
    {
        final Histogram histogram = result.histogram;
        System.out.printf(Locale.ROOT, "  %-10s %10.1f %10.1f %10.1f %12.0f %10d%n", transport,
            histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(99) / 1000.0,
            histogram.getValueAtPercentile(99.9) / 1000.0, result.callsPerSecond(), result.calls);
    }

    /**
     * Runs blocking unary calls from {@code callers} threads for {@code durationNs}.
     */
    private static Result run(final ManagedChannel channel, final String text, final int callers, final long durationNs)
        throws InterruptedException
    {
        final SimpleRequest request = SimpleRequest.newBuilder().setRequestMessage(text).build();
        final Histogram[] histograms = new Histogram[callers];
        final long[] calls = new long[callers];
        final RuntimeException[] failures = new RuntimeException[callers];
        final List<Thread> threads = new ArrayList<>(callers);
        final long startNs = System.nanoTime();
        final long endNs = startNs + durationNs;
        for (int c = 0; c < callers; c++)
        {
            final int caller = c;
            histograms[c] = new Histogram(3);
            final Thread thread = new Thread(() ->
            {
                final SimpleServiceGrpc.SimpleServiceBlockingStub stub = SimpleServiceGrpc.newBlockingStub(channel);
                try
                {
                    long now = System.nanoTime();
                    while (now < endNs)
                    {
                        final SimpleResponse response =
                            stub.withDeadlineAfter(10, TimeUnit.SECONDS).unaryRpc(request);
                        final long after = System.nanoTime();
                        if (response.getResponseMessage().length() != text.length())
                        {
                            throw new IllegalStateException("wrong response length");
                        }
                        histograms[caller].recordValue(after - now);
                        calls[caller]++;
                        now = after;
                    }
                }
                catch (final RuntimeException ex)
                {
                    failures[caller] = ex;
                }
            }, "grpc-bench-caller-" + c);
            threads.add(thread);
            thread.start();
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        final long elapsedNs = System.nanoTime() - startNs;
        final Histogram all = new Histogram(3);
        long total = 0;
        for (int c = 0; c < callers; c++)
        {
            if (null != failures[c])
            {
                throw failures[c];
            }
            all.add(histograms[c]);
            total += calls[c];
        }
        return new Result(all, total, elapsedNs);
    }

    private static String loadAverage()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2] + " (" + Runtime.getRuntime().availableProcessors() +
                " CPUs)";
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }
}
