package io.homa.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.ChannelLogger;
import io.grpc.internal.ClientTransportFactory;
import io.grpc.internal.ConnectionClientTransport;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.SharedResourceHolder;
import io.homa.client.Homa;

import java.net.SocketAddress;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * Makes the channel's transports, each on its own client socket of one Homa client.
 */
final class HomaClientTransportFactory implements ClientTransportFactory
{
    private final Supplier<Homa> connect;
    private final boolean ownsHoma;
    private final boolean callerReceives;
    private Homa homa;
    private final ScheduledExecutorService timer = SharedResourceHolder.get(GrpcUtil.TIMER_SERVICE);
    private boolean closed;

    /**
     * @param connect  gives the Homa client, on the first transport (so building an idle channel connects nothing).
     * @param ownsHoma whether {@link #close()} closes that client.
     * @param callerReceives whether blocking unary calls receive their response in the caller's thread.
     */
    HomaClientTransportFactory(final Supplier<Homa> connect, final boolean ownsHoma, final boolean callerReceives)
    {
        this.callerReceives = callerReceives;
        this.connect = connect;
        this.ownsHoma = ownsHoma;
    }

    private synchronized Homa homa()
    {
        if (null == homa)
        {
            if (closed)
            {
                throw new IllegalStateException("transport factory closed");
            }
            homa = connect.get();
        }
        return homa;
    }

    @Override
    public ConnectionClientTransport newClientTransport(
        final SocketAddress address, final ClientTransportOptions options, final ChannelLogger logger)
    {
        if (!(address instanceof HomaSocketAddress))
        {
            throw new IllegalArgumentException("not a Homa address: " + address);
        }
        return new HomaClientTransport(this::homa, (HomaSocketAddress)address, options.getAuthority(), callerReceives);
    }

    @Override
    public ScheduledExecutorService getScheduledExecutorService()
    {
        return timer;
    }

    @Override
    public SwapChannelCredentialsResult swapChannelCredentials(final ChannelCredentials channelCreds)
    {
        return null;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getSupportedSocketAddressTypes()
    {
        return Set.of(HomaSocketAddress.class);
    }

    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        SharedResourceHolder.release(GrpcUtil.TIMER_SERVICE, timer);
        if (ownsHoma && null != homa)
        {
            homa.close();
        }
    }
}
