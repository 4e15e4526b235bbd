package io.homa.grpc.examples;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.driver.MediaDriver;
import io.homa.grpc.HomaChannelBuilder;
import io.homa.grpc.HomaServerBuilder;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * gRPC hello-world over Homa: a server that greets each name it is sent and a client that sends some, each side
 * on an embedded media driver of its own as two hosts would be. The service is grpc-java's pre-generated
 * {@code SimpleService} (from grpc-testing-proto), so no protoc step is needed.
 */
public final class GrpcHello
{
    private static final int GREETER_PORT = 50;

    private GrpcHello()
    {
    }

    /**
     * The service: answers "Hello, NAME".
     */
    static final class Greeter extends SimpleServiceGrpc.SimpleServiceImplBase
    {
        @Override
        public void unaryRpc(final SimpleRequest request, final StreamObserver<SimpleResponse> responses)
        {
            responses.onNext(SimpleResponse.newBuilder()
                .setResponseMessage("Hello, " + request.getRequestMessage()).build());
            responses.onCompleted();
        }
    }

    /**
     * @param args the names to greet (two by default).
     * @throws IOException if the server cannot bind its Homa port.
     * @throws InterruptedException if interrupted while stopping.
     */
    public static void main(final String[] args) throws IOException, InterruptedException
    {
        final String[] names = 0 == args.length ? new String[]{"world", "Homa"} : args;
        try (MediaDriver serverDriver = MediaDriver.launchEmbedded();
             MediaDriver clientDriver = MediaDriver.launchEmbedded();
             Homa serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
             Homa clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName())))
        {
            final Server server = HomaServerBuilder.forPort(GREETER_PORT)
                .homa(serverHoma)
                .addService(new Greeter())
                .build()
                .start();
            // The server's driver took a free UDP port: the target names it, and the Homa port behind it.
            final ManagedChannel channel = HomaChannelBuilder
                .forAddress(HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), GREETER_PORT))
                .homa(clientHoma)
                .build();
            try
            {
                final SimpleServiceGrpc.SimpleServiceBlockingStub greeter = SimpleServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS);
                for (final String name : names)
                {
                    final SimpleResponse response =
                        greeter.unaryRpc(SimpleRequest.newBuilder().setRequestMessage(name).build());
                    System.out.println("greeting: " + response.getResponseMessage());
                }
            }
            finally
            {
                channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
                server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
