package io.homa.grpc;

import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalInstrumented;
import io.grpc.ServerStreamTracer;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.InternalServer;
import io.grpc.internal.ServerListener;
import io.grpc.internal.SharedResourceHolder;
import io.homa.client.Homa;
import io.homa.client.HomaSocket;

import java.io.IOException;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The listening side: binds the Homa port and makes the one {@link HomaServerTransport} that serves it.
 */
final class HomaInternalServer implements InternalServer
{
    private final int port;
    private final Supplier<Homa> homaSupplier;
    private final boolean ownsHoma;
    private final List<? extends ServerStreamTracer.Factory> tracerFactories;
    private Homa homa;
    private ScheduledExecutorService timer;
    private ServerListener listener;
    private boolean shutdown;

    HomaInternalServer(
        final int port,
        final Supplier<Homa> homaSupplier,
        final boolean ownsHoma,
        final List<? extends ServerStreamTracer.Factory> tracerFactories)
    {
        this.port = port;
        this.homaSupplier = homaSupplier;
        this.ownsHoma = ownsHoma;
        this.tracerFactories = tracerFactories;
    }

    @Override
    public void start(final ServerListener listener) throws IOException
    {
        this.listener = listener;
        final HomaSocket socket;
        try
        {
            homa = homaSupplier.get();
            socket = homa.addSocket(port);
        }
        catch (final RuntimeException ex)
        {
            if (ownsHoma && null != homa)
            {
                homa.close();
            }
            throw new IOException("cannot bind Homa port " + port + ": " + ex.getMessage(), ex);
        }
        timer = SharedResourceHolder.get(GrpcUtil.TIMER_SERVICE);
        final HomaServerTransport transport = new HomaServerTransport(socket, timer, tracerFactories, this::terminated);
        transport.start(listener.transportCreated(transport));
    }

    private void terminated()
    {
        if (ownsHoma && null != homa)
        {
            homa.close();
        }
    }

    @Override
    public synchronized void shutdown()
    {
        if (shutdown)
        {
            return;
        }
        shutdown = true;
        if (null != timer)
        {
            timer = SharedResourceHolder.release(GrpcUtil.TIMER_SERVICE, timer);
        }
        if (null != listener)
        {
            listener.serverShutdown();
        }
    }

    @Override
    public SocketAddress getListenSocketAddress()
    {
        return new PortOnly(port);
    }

    @Override
    public InternalInstrumented<SocketStats> getListenSocketStats()
    {
        return null;
    }

    @Override
    public List<? extends SocketAddress> getListenSocketAddresses()
    {
        return List.of(getListenSocketAddress());
    }

    @Override
    public List<InternalInstrumented<SocketStats>> getListenSocketStatsList()
    {
        return List.of();
    }

    /**
     * The listen address: a Homa port of this host's driver.
     */
    private static final class PortOnly extends SocketAddress
    {
        private static final long serialVersionUID = 1L;
        private final int port;

        PortOnly(final int port)
        {
            this.port = port;
        }

        @Override
        public String toString()
        {
            return "homa port " + port;
        }
    }
}
