package io.homa.grpc;

import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.driver.MediaDriver;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wire format and the error mapping, through the real path (drivers, clients, UDP on loopback) wherever a
 * call is involved.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HomaTransportTest
{
    private static final int PORT = 60;
    private static HomaPair pair;
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    /** Echoes; "sleep" waits until cancelled; "big:N" answers N bytes; streams echo each message back. */
    private static final class Service extends SimpleServiceGrpc.SimpleServiceImplBase
    {
        final CountDownLatch cancelled = new CountDownLatch(1);
        final CountDownLatch notReady = new CountDownLatch(1);
        final AtomicInteger sentBeforeNotReady = new AtomicInteger(-1);
        final AtomicInteger sentTotal = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger clientMessages = new AtomicInteger();

        /** Takes nothing until {@link #release} opens, then everything; answers with how many it took. */
        @Override
        public StreamObserver<SimpleRequest> clientStreamingRpc(final StreamObserver<SimpleResponse> responses)
        {
            final io.grpc.stub.ServerCallStreamObserver<SimpleResponse> observer =
                (io.grpc.stub.ServerCallStreamObserver<SimpleResponse>)responses;
            observer.disableAutoRequest();
            final Thread releaser = new Thread(() ->
            {
                try
                {
                    if (release.await(20, TimeUnit.SECONDS))
                    {
                        observer.request(Integer.MAX_VALUE);
                    }
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
            releaser.setDaemon(true);
            releaser.start();
            return new StreamObserver<>()
            {
                @Override
                public void onNext(final SimpleRequest value)
                {
                    clientMessages.incrementAndGet();
                }

                @Override
                public void onError(final Throwable t)
                {
                }

                @Override
                public void onCompleted()
                {
                    responses.onNext(SimpleResponse.newBuilder()
                        .setResponseMessage(Integer.toString(clientMessages.get())).build());
                    responses.onCompleted();
                }
            };
        }

        @Override
        public void unaryRpc(final SimpleRequest request, final StreamObserver<SimpleResponse> responses)
        {
            final String text = request.getRequestMessage();
            if (text.equals("sleep"))
            {
                Context.current().addListener((context) -> cancelled.countDown(), Runnable::run);
                return;
            }
            final String answer = text.startsWith("big:") ? "x".repeat(Integer.parseInt(text.substring(4))) : text;
            responses.onNext(SimpleResponse.newBuilder().setResponseMessage(answer).build());
            responses.onCompleted();
        }

        @Override
        public void serverStreamingRpc(final SimpleRequest request, final StreamObserver<SimpleResponse> responses)
        {
            if (request.getRequestMessage().equals("flow"))
            {
                // 100 messages of 100 KB, each written only while the stream is ready.
                final io.grpc.stub.ServerCallStreamObserver<SimpleResponse> observer =
                    (io.grpc.stub.ServerCallStreamObserver<SimpleResponse>)responses;
                final int[] sent = {0};
                final Runnable drain = () ->
                {
                    while (observer.isReady() && sent[0] < 100)
                    {
                        observer.onNext(SimpleResponse.newBuilder()
                            .setResponseMessage(sent[0] + ":" + "f".repeat(100_000)).build());
                        sent[0]++;
                        sentTotal.set(sent[0]);
                    }
                    if (100 == sent[0])
                    {
                        observer.onCompleted();
                        sent[0]++;
                    }
                    else if (sent[0] < 100 && sentBeforeNotReady.compareAndSet(-1, sent[0]))
                    {
                        notReady.countDown();
                    }
                };
                observer.setOnReadyHandler(drain);
                drain.run();
                return;
            }
            final int count = Integer.parseInt(request.getRequestMessage());
            for (int i = 0; i < count; i++)
            {
                responses.onNext(SimpleResponse.newBuilder().setResponseMessage("m" + i).build());
            }
            responses.onCompleted();
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(final StreamObserver<SimpleResponse> responses)
        {
            Context.current().addListener((context) -> cancelled.countDown(), Runnable::run);
            return new StreamObserver<>()
            {
                @Override
                public void onNext(final SimpleRequest value)
                {
                    responses.onNext(SimpleResponse.newBuilder().setResponseMessage(value.getRequestMessage()).build());
                }

                @Override
                public void onError(final Throwable t)
                {
                }

                @Override
                public void onCompleted()
                {
                    responses.onCompleted();
                }
            };
        }
    }

    @BeforeAll
    static void launchDrivers()
    {
        pair = new HomaPair();
    }

    @AfterAll
    static void closeDrivers()
    {
        if (null != pair)
        {
            pair.close();
        }
    }

    @AfterEach
    void stop() throws InterruptedException
    {
        for (final ManagedChannel channel : channels)
        {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (final Server server : servers)
        {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private Service serve() throws IOException
    {
        final Service service = new Service();
        servers.add(HomaServerBuilder.forPort(PORT).homa(pair.serverHoma).addService(service).build().start());
        return service;
    }

    private SimpleServiceGrpc.SimpleServiceBlockingStub stub(final int port)
    {
        final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(port)).homa(pair.clientHoma).build();
        channels.add(channel);
        return SimpleServiceGrpc.newBlockingStub(channel);
    }

    private static SimpleRequest request(final String text)
    {
        return SimpleRequest.newBuilder().setRequestMessage(text).build();
    }

    @Test
    void shouldLayOutGrpcHomasHeaderBigEndianWithTheFlagsByteAt20()
    {
        final byte[][] md = {"k".getBytes(StandardCharsets.US_ASCII), "vv".getBytes(StandardCharsets.US_ASCII)};
        final Frame frame = new Frame(0x01020304, 7, Frame.FLAG_INIT_MD | Frame.FLAG_MESSAGE_COMPLETE |
            Frame.FLAG_REQUEST, 0x1122334455667788L, md, null, new byte[]{9, 8, 7});
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[frame.encodedLength()]);

        assertEquals(buffer.capacity(), frame.encode(buffer, 0));
        assertEquals(21 + 8 + (8 + 1 + 2) + 3, buffer.capacity());
        assertEquals(0x01020304, buffer.getInt(0, ByteOrder.BIG_ENDIAN));
        assertEquals(7, buffer.getInt(4, ByteOrder.BIG_ENDIAN));
        assertEquals(11, buffer.getInt(8, ByteOrder.BIG_ENDIAN));   // initMdBytes
        assertEquals(0, buffer.getInt(12, ByteOrder.BIG_ENDIAN));   // trailMdBytes
        assertEquals(3, buffer.getInt(16, ByteOrder.BIG_ENDIAN));   // messageBytes
        assertEquals(1 | 2 | 8, buffer.getByte(20));
        assertEquals(0x1122334455667788L, buffer.getLong(21, ByteOrder.BIG_ENDIAN));
        assertEquals(1, buffer.getInt(29, ByteOrder.BIG_ENDIAN));   // key length
        assertEquals(2, buffer.getInt(33, ByteOrder.BIG_ENDIAN));   // value length
        assertEquals('k', buffer.getByte(37));

        final Frame decoded = Frame.decodeAll(buffer, 0, buffer.capacity()).get(0);
        assertEquals(frame.streamId, decoded.streamId);
        assertEquals(frame.sequence, decoded.sequence);
        assertEquals(frame.flags, decoded.flags);
        assertEquals(frame.clientKey, decoded.clientKey);
        assertArrayEquals(md, decoded.initMd);
        assertNull(decoded.trailMd);
        assertArrayEquals(frame.message, decoded.message);
    }

    @Test
    void shouldCarryBinaryHeadersRawAndRejectTruncatedFrames()
    {
        final Metadata metadata = new Metadata();
        final byte[] raw = {0, (byte)0xFF, 10, 13};
        metadata.put(Metadata.Key.of("blob-bin", Metadata.BINARY_BYTE_MARSHALLER), raw);
        final Frame frame = new Frame(1, 0, Frame.FLAG_INIT_MD, 5, Wire.serialize(metadata), null, null);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[frame.encodedLength()]);
        frame.encode(buffer, 0);

        final int valueAt = Frame.HEADER_LENGTH + 8 + "blob-bin".length();
        final byte[] onWire = new byte[raw.length];
        buffer.getBytes(valueAt, onWire);
        assertArrayEquals(raw, onWire, "a -bin value goes as its bytes, not base64");
        assertArrayEquals(raw, Wire.metadata(Frame.decodeAll(buffer, 0, buffer.capacity()).get(0).initMd)
            .get(Metadata.Key.of("blob-bin", Metadata.BINARY_BYTE_MARSHALLER)));
        assertThrows(IllegalArgumentException.class, () -> Frame.decodeAll(buffer, 0, buffer.capacity() - 1));
    }

    @Test
    void shouldMapHomaErrnosAsGrpcUsersExpect()
    {
        assertEquals(Status.Code.UNAVAILABLE, Wire.statusOfErrno(io.homa.client.HomaError.ENOTCONN, "x").getCode());
        assertEquals(Status.Code.UNAVAILABLE,
            Wire.statusOfErrno(io.homa.client.HomaError.EHOSTUNREACH, "x").getCode());
        assertEquals(Status.Code.UNAVAILABLE, Wire.statusOfErrno(io.homa.client.HomaError.ETIMEDOUT, "x").getCode());
        assertEquals(Status.Code.CANCELLED, Wire.statusOfErrno(io.homa.client.HomaError.ECANCELED, "x").getCode());
        assertEquals(Status.Code.UNAVAILABLE,
            Wire.statusOf(new io.homa.client.DriverTimeoutException("gone"), "x").getCode());
    }

    @Test
    void shouldFailWithUnavailableWhenNothingListensAtThePort()
    {
        final StatusRuntimeException ex =
            assertThrows(StatusRuntimeException.class, () -> stub(PORT + 1).unaryRpc(request("hello")));

        assertEquals(Status.Code.UNAVAILABLE, ex.getStatus().getCode(), ex::toString);
        assertTrue(ex.getStatus().getDescription().contains("ENOTCONN"), ex::toString);
    }

    @Test
    void shouldRefuseARequestOverHomasLimitWithResourceExhausted() throws IOException
    {
        serve();
        final SimpleServiceGrpc.SimpleServiceBlockingStub stub = stub(PORT);

        final StatusRuntimeException ex = assertThrows(StatusRuntimeException.class,
            () -> stub.unaryRpc(request("y".repeat(1_000_000))));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, ex.getStatus().getCode(), ex::toString);
        // Just under the limit with the framing still goes through.
        final String fits = "z".repeat(999_000);
        assertEquals(fits, stub.unaryRpc(request(fits)).getResponseMessage());
    }

    @Test
    void shouldEndACallWhoseResponseIsOverHomasLimitWithResourceExhausted() throws IOException
    {
        serve();
        final SimpleServiceGrpc.SimpleServiceBlockingStub stub = stub(PORT);

        final StatusRuntimeException ex =
            assertThrows(StatusRuntimeException.class, () -> stub.unaryRpc(request("big:1000000")));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, ex.getStatus().getCode(), ex::toString);
        assertEquals(500_000, stub.unaryRpc(request("big:500000")).getResponseMessage().length());
    }

    @Test
    void shouldEndWithDeadlineExceededAndCancelTheServersCall() throws Exception
    {
        final Service service = serve();
        final SimpleServiceGrpc.SimpleServiceBlockingStub stub = stub(PORT);

        final StatusRuntimeException ex = assertThrows(StatusRuntimeException.class,
            () -> stub.withDeadlineAfter(200, TimeUnit.MILLISECONDS).unaryRpc(request("sleep")));

        assertEquals(Status.Code.DEADLINE_EXCEEDED, ex.getStatus().getCode(), ex::toString);
        assertTrue(service.cancelled.await(10, TimeUnit.SECONDS), "the server's call was not cancelled");
        assertEquals("after", stub.unaryRpc(request("after")).getResponseMessage());
    }

    @Test
    void shouldEndWithDeadlineExceededThroughTheReceiverThreadToo() throws Exception
    {
        final Service service = serve();
        final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(PORT)).homa(pair.clientHoma)
            .callerReceives(false).build();
        channels.add(channel);
        final SimpleServiceGrpc.SimpleServiceBlockingStub stub = SimpleServiceGrpc.newBlockingStub(channel);

        final StatusRuntimeException ex = assertThrows(StatusRuntimeException.class,
            () -> stub.withDeadlineAfter(200, TimeUnit.MILLISECONDS).unaryRpc(request("sleep")));

        assertEquals(Status.Code.DEADLINE_EXCEEDED, ex.getStatus().getCode(), ex::toString);
        assertTrue(service.cancelled.await(10, TimeUnit.SECONDS), "the server's call was not cancelled");
        assertEquals("after", stub.unaryRpc(request("after")).getResponseMessage());
        final ManagedChannel nowhere = HomaChannelBuilder.forAddress(pair.server(PORT + 1)).homa(pair.clientHoma)
            .callerReceives(false).build();
        channels.add(nowhere);
        final StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
            () -> SimpleServiceGrpc.newBlockingStub(nowhere).unaryRpc(request("x")));
        assertEquals(Status.Code.UNAVAILABLE, none.getStatus().getCode(), none::toString);
    }

    @Test
    void shouldAnswerManyConcurrentBlockingCallersBothWays() throws Exception
    {
        serve();
        final SimpleServiceGrpc.SimpleServiceBlockingStub stub = stub(PORT);
        final List<Thread> threads = new ArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicInteger answered = new AtomicInteger();
        for (int t = 0; t < 8; t++)
        {
            final int caller = t;
            final Thread thread = new Thread(() ->
            {
                try
                {
                    for (int i = 0; i < 50; i++)
                    {
                        final String text = caller + "/" + i;
                        assertEquals(text, stub.unaryRpc(request(text)).getResponseMessage());
                        answered.incrementAndGet();
                    }
                }
                catch (final Throwable t2)
                {
                    failure.compareAndSet(null, t2);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (final Thread thread : threads)
        {
            thread.join(20_000);
        }
        assertNull(failure.get());
        assertEquals(400, answered.get());
    }

    @Test
    void shouldCancelAStreamAtTheServerWhenTheClientCancels() throws Exception
    {
        final Service service = serve();
        final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(PORT)).homa(pair.clientHoma).build();
        channels.add(channel);
        final CountDownLatch first = new CountDownLatch(1);
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        final StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel).bidiStreamingRpc(
            new StreamObserver<>()
            {
                @Override
                public void onNext(final SimpleResponse value)
                {
                    first.countDown();
                }

                @Override
                public void onError(final Throwable t)
                {
                    error.set(t);
                    done.countDown();
                }

                @Override
                public void onCompleted()
                {
                    done.countDown();
                }
            });
        requests.onNext(request("one"));
        assertTrue(first.await(10, TimeUnit.SECONDS));

        requests.onError(Status.CANCELLED.withDescription("enough").asRuntimeException());

        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(error.get()).getCode());
        assertTrue(service.cancelled.await(10, TimeUnit.SECONDS), "the server's call was not cancelled");
    }

    @Test
    void shouldStreamManyServerMessagesInOrder() throws IOException
    {
        serve();
        final Iterator<SimpleResponse> responses = stub(PORT).serverStreamingRpc(request("500"));

        for (int i = 0; i < 500; i++)
        {
            assertEquals("m" + i, responses.next().getResponseMessage());
        }
        assertFalse(responses.hasNext());
    }

    @Test
    void shouldHoldTheServerBackWhileTheClientTakesNothing() throws Exception
    {
        final Service service = serve();
        final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(PORT)).homa(pair.clientHoma).build();
        channels.add(channel);
        final List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch closed = new CountDownLatch(1);
        final AtomicReference<Status> status = new AtomicReference<>();
        final io.grpc.ClientCall<SimpleRequest, SimpleResponse> call =
            channel.newCall(SimpleServiceGrpc.getServerStreamingRpcMethod(), io.grpc.CallOptions.DEFAULT);
        call.start(new io.grpc.ClientCall.Listener<>()
        {
            @Override
            public void onMessage(final SimpleResponse message)
            {
                final String text = message.getResponseMessage();
                received.add(text.substring(0, text.indexOf(':')));
            }

            @Override
            public void onClose(final Status s, final Metadata trailers)
            {
                status.set(s);
                closed.countDown();
            }
        }, new Metadata());
        call.sendMessage(request("flow"));
        call.halfClose();

        // Nothing requested: the server must find its stream not ready well before its 10 MB are out.
        assertTrue(service.notReady.await(10, TimeUnit.SECONDS), "the server's stream never became not ready");
        assertTrue(service.sentBeforeNotReady.get() < 60, () -> "sent " + service.sentBeforeNotReady.get());
        // And it stays held back: the client stops asking (no RPC of it left at the server), so the server, which
        // can only answer a client's RPC, has nothing to send its messages in.
        awaitCondition(() -> 0 == pair.clientDriver.counter(SystemCounterDescriptor.RPCS_ACTIVE),
            "the client to stop asking the server");
        assertTrue(service.sentTotal.get() < 60, () -> "sent " + service.sentTotal.get() + " of 100 unrequested");
        assertEquals(List.of(), received);

        call.request(Integer.MAX_VALUE);

        assertTrue(closed.await(20, TimeUnit.SECONDS));
        assertTrue(status.get().isOk(), status::toString);
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++)
        {
            expected.add(Integer.toString(i));
        }
        assertEquals(expected, received);
    }

    @Test
    void shouldHoldTheClientBackWhileTheServerTakesNothing() throws Exception
    {
        final Service service = serve();
        final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(PORT)).homa(pair.clientHoma).build();
        channels.add(channel);
        final CountDownLatch notReady = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<String> answer = new AtomicReference<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final AtomicInteger sent = new AtomicInteger();
        final AtomicInteger sentWhenNotReady = new AtomicInteger(-1);
        final String chunk = "c".repeat(100_000);
        final long requestsBefore = pair.serverDriver.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE);
        SimpleServiceGrpc.newStub(channel).clientStreamingRpc(
            new io.grpc.stub.ClientResponseObserver<SimpleRequest, SimpleResponse>()
            {
                private boolean completed;

                @Override
                public void beforeStart(final io.grpc.stub.ClientCallStreamObserver<SimpleRequest> requests)
                {
                    // 100 messages of 100 KB, each written only while the stream is ready.
                    requests.setOnReadyHandler(() ->
                    {
                        while (requests.isReady() && sent.get() < 100)
                        {
                            requests.onNext(request(chunk));
                            sent.incrementAndGet();
                        }
                        if (100 == sent.get() && !completed)
                        {
                            completed = true;
                            requests.onCompleted();
                        }
                        else if (sent.get() < 100 && sentWhenNotReady.compareAndSet(-1, sent.get()))
                        {
                            notReady.countDown();
                        }
                    });
                }

                @Override
                public void onNext(final SimpleResponse value)
                {
                    answer.set(value.getResponseMessage());
                }

                @Override
                public void onError(final Throwable t)
                {
                    error.set(t);
                    done.countDown();
                }

                @Override
                public void onCompleted()
                {
                    done.countDown();
                }
            });

        // The server requests nothing: the client's stream must find itself not ready before its 10 MB are out.
        assertTrue(notReady.await(10, TimeUnit.SECONDS), () -> "never not ready; sent " + sent.get());
        // Every RPC of the full window has reached the server, which holds them unanswered: only an answer could
        // make the stream ready again.
        awaitCondition(() -> pair.serverDriver.counter(SystemCounterDescriptor.SERVER_REQUESTS_DONE) - requestsBefore >=
            sent.get(),
            "the server to hold every request sent");
        assertTrue(sent.get() < 100, () -> "sent " + sent.get() + " of 100 to a server that took none");
        assertEquals(0, service.clientMessages.get());

        service.release.countDown();

        assertTrue(done.await(20, TimeUnit.SECONDS));
        assertNull(error.get());
        assertEquals("100", answer.get());
    }

    @Test
    void shouldFindTheHomaChannelForAHomaTargetOnly() throws IOException
    {
        serve();
        final HomaAddress server = pair.server(PORT);
        final String target = "homa://127.0.0.1:" + server.udpPort() + "/" + PORT;
        final ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
        channels.add(channel);
        // The channel found through the registry has a Homa client of its own (the default Homa directory is
        // not this test's), so it is only built here; a call goes through HomaChannelBuilder.forTarget below.
        assertTrue(channel.toString().contains("homa"), channel::toString);

        final ManagedChannel byTarget = HomaChannelBuilder.forTarget(target).homa(pair.clientHoma).build();
        channels.add(byTarget);
        assertEquals("via target",
            SimpleServiceGrpc.newBlockingStub(byTarget).unaryRpc(request("via target")).getResponseMessage());

        final ManagedChannel tcp = ManagedChannelBuilder.forTarget("dns:///localhost:1").usePlaintext().build();
        channels.add(tcp);
        assertFalse(tcp.toString().contains("Homa"), tcp::toString);
        // A target without a scheme still goes to DNS (the default scheme is the top resolver's), not to homa.
        final ManagedChannel bare = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", 1)
            .usePlaintext().build();
        channels.add(bare);
        assertFalse(bare.toString().contains("homa"), bare::toString);
        assertThrows(IllegalArgumentException.class, () -> HomaChannelBuilder.forTarget("dns:///localhost:1"));
    }

    @Test
    void shouldBePlaintextOnly()
    {
        assertThrows(UnsupportedOperationException.class,
            () -> HomaServerBuilder.forPort(PORT).useTransportSecurity(new java.io.File("c"), new java.io.File("k")));
        final RuntimeException tls = assertThrows(io.grpc.ManagedChannelRegistry.ProviderNotFoundException.class,
            () -> Grpc.newChannelBuilder("homa://127.0.0.1:1/1", TlsChannelCredentials.create()));
        assertTrue(tls.getMessage().contains("plaintext only"), tls::getMessage);
    }

    @Test
    void shouldFailWithUnavailableWhenTheClientsDriverIsGone() throws Exception
    {
        serve();
        final MediaDriver driver = MediaDriver.launchEmbedded();
        final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName())
            .driverTimeoutNs(TimeUnit.SECONDS.toNanos(3)));   // short, yet past a loaded machine's stalls
        try
        {
            final ManagedChannel channel = HomaChannelBuilder.forAddress(pair.server(PORT)).homa(homa).build();
            channels.add(channel);
            final SimpleServiceGrpc.SimpleServiceBlockingStub stub = SimpleServiceGrpc.newBlockingStub(channel);
            assertEquals("alive", stub.unaryRpc(request("alive")).getResponseMessage());

            driver.close();

            final StatusRuntimeException ex = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).unaryRpc(request("sleep")));
            assertEquals(Status.Code.UNAVAILABLE, ex.getStatus().getCode(), ex::toString);
        }
        finally
        {
            homa.close();
            driver.close();
        }
    }

    /** Waits, bounded by 10 s, for a condition that the transport's state makes true: no sleep as synchronisation. */
    private static void awaitCondition(final java.util.function.BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "timed out waiting for " + what);
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
        }
    }
}
