package io.homa.grpc;

import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;

/**
 * grpc-java's own interop client cases and TestService implementation (from grpc-interop-testing), set up on a
 * Homa server and channel. Not a test class itself: {@link GrpcInteropTest} runs its cases.
 */
final class HomaInteropCases extends AbstractInteropTest
{
    private final HomaPair pair;
    private final int port;

    HomaInteropCases(final HomaPair pair, final int port)
    {
        this.pair = pair;
        this.port = port;
    }

    @Override
    protected ServerBuilder<?> getServerBuilder()
    {
        return HomaServerBuilder.forPort(port).homa(pair.serverHoma).maxInboundMessageSize(MAX_MESSAGE_SIZE);
    }

    @Override
    protected ManagedChannelBuilder<?> createChannelBuilder()
    {
        return HomaChannelBuilder.forAddress(pair.server(port)).homa(pair.clientHoma)
            .maxInboundMessageSize(MAX_MESSAGE_SIZE);
    }

    @Override
    protected boolean metricsExpected()
    {
        // The census module is not on this class path: the cases check calls, not recorded metrics.
        return false;
    }
}
