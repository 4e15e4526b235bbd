package io.homa.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ManagedChannelProvider;

import java.net.SocketAddress;
import java.util.Collection;
import java.util.Set;

/**
 * Lets {@code ManagedChannelBuilder.forTarget("homa://host:udpPort/homaPort")} (or {@code Grpc.newChannelBuilder}
 * with insecure credentials) build a Homa channel. It takes only {@link HomaSocketAddress}es, so it is chosen for
 * {@code homa:} targets alone; its priority is low so that it is never the default provider for other targets.
 */
public final class HomaChannelProvider extends ManagedChannelProvider
{
    /**
     * Made by the service loader.
     */
    public HomaChannelProvider()
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
    protected ManagedChannelBuilder<?> builderForAddress(final String name, final int port)
    {
        return null;
    }

    @Override
    protected ManagedChannelBuilder<?> builderForTarget(final String target)
    {
        return HomaTarget.isHomaTarget(target) ? HomaChannelBuilder.forTarget(target) : null;
    }

    @Override
    protected NewChannelBuilderResult newChannelBuilder(final String target, final ChannelCredentials creds)
    {
        if (!HomaTarget.isHomaTarget(target))
        {
            return NewChannelBuilderResult.error("not a homa:// target");
        }
        if (!(creds instanceof InsecureChannelCredentials))
        {
            return NewChannelBuilderResult.error("Homa channels are plaintext only: use InsecureChannelCredentials");
        }
        return NewChannelBuilderResult.channelBuilder(HomaChannelBuilder.forTarget(target));
    }

    @Override
    protected Collection<Class<? extends SocketAddress>> getSupportedSocketAddressTypes()
    {
        return Set.of(HomaSocketAddress.class);
    }
}
