package io.homa.grpc;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.ServerProvider;

/**
 * Registers {@link HomaServerBuilder} with grpc's service loader. Its priority is low, so
 * {@code ServerBuilder.forPort} keeps choosing a TCP server when one is on the class path; ask for Homa by
 * {@link HomaServerBuilder#forPort(int)}.
 */
public final class HomaServerProvider extends ServerProvider
{
    /**
     * Made by the service loader.
     */
    public HomaServerProvider()
    {
    }

    @Override
    protected boolean isAvailable()
    {
        return true;
    }

    @Override
    protected int priority()
    {
        return 1;
    }

    @Override
    protected ServerBuilder<?> builderForPort(final int port)
    {
        return HomaServerBuilder.forPort(port);
    }

    @Override
    protected NewServerBuilderResult newServerBuilderForPort(final int port, final ServerCredentials creds)
    {
        if (!(creds instanceof InsecureServerCredentials))
        {
            return NewServerBuilderResult.error("Homa servers are plaintext only: use InsecureServerCredentials");
        }
        return NewServerBuilderResult.serverBuilder(HomaServerBuilder.forPort(port));
    }
}
