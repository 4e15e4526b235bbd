package io.homa.grpc;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.homa.client.HomaAddress;

import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Resolves {@code homa://host:udpPort/homaPort} to one {@link HomaSocketAddress}, so that
 * {@code ManagedChannelBuilder.forTarget("homa://...")} finds the Homa channel provider (the only one that takes
 * that address type).
 */
public final class HomaNameResolverProvider extends NameResolverProvider
{
    /**
     * Made by the service loader.
     */
    public HomaNameResolverProvider()
    {
    }

    @Override
    protected boolean isAvailable()
    {
        return true;
    }

    /**
     * Below DNS's 5: the registry's default scheme (for targets without one, such as "host:port") is that of its
     * highest-priority resolver, and it must stay DNS.
     */
    @Override
    protected int priority()
    {
        return 1;
    }

    @Override
    public String getDefaultScheme()
    {
        return HomaTarget.SCHEME;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes()
    {
        return Set.of(HomaSocketAddress.class);
    }

    @Override
    public NameResolver newNameResolver(final URI targetUri, final NameResolver.Args args)
    {
        if (!HomaTarget.SCHEME.equalsIgnoreCase(targetUri.getScheme()))
        {
            return null;
        }
        final HomaAddress address = HomaTarget.parse(targetUri);
        final String authority = targetUri.getAuthority();
        return new NameResolver()
        {
            @Override
            public String getServiceAuthority()
            {
                return authority;
            }

            @Override
            public void start(final Listener2 listener)
            {
                listener.onResult2(ResolutionResult.newBuilder()
                    .setAddressesOrError(io.grpc.StatusOr.fromValue(
                        List.of(new EquivalentAddressGroup(new HomaSocketAddress(address)))))
                    .build());
            }

            @Override
            public void shutdown()
            {
            }
        };
    }

    @Override
    public String toString()
    {
        return "HomaNameResolverProvider";
    }

}
