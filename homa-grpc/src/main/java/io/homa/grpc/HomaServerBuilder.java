package io.homa.grpc;

import io.grpc.ForwardingServerBuilder;
import io.grpc.ServerBuilder;
import io.grpc.internal.ServerImplBuilder;
import io.homa.client.Homa;

import java.io.File;
import java.util.Objects;

/**
 * Builds a gRPC server that takes its calls on a Homa port. Plaintext only: Homa carries no TLS.
 * <pre>{@code
 * Server server = HomaServerBuilder.forPort(50).homa(homa).addService(new GreeterImpl()).build().start();
 * }</pre>
 * Without {@link #homa(Homa)} the server connects a Homa client of its own (to the driver
 * {@link #homaContext(Homa.Context)} names, by default the one {@code new Homa.Context()} finds) and closes it
 * when it terminates.
 */
public final class HomaServerBuilder extends ForwardingServerBuilder<HomaServerBuilder>
{
    private final ServerImplBuilder delegate;
    private final int port;
    private Homa homa;
    private Homa.Context homaContext;

    private HomaServerBuilder(final int port)
    {
        if (port < 1 || port > 32767)
        {
            throw new IllegalArgumentException("a Homa server port is 1..32767: " + port);
        }
        this.port = port;
        delegate = new ServerImplBuilder((tracerFactories, metricRecorder) -> null != homa ?
            new HomaInternalServer(port, () -> homa, false, tracerFactories) :
            new HomaInternalServer(port,
                () -> Homa.connect(null == homaContext ? new Homa.Context() : homaContext), true, tracerFactories));
    }

    /**
     * @param homaPort the Homa server port (1..32767) to take calls on.
     * @return a builder.
     */
    public static HomaServerBuilder forPort(final int homaPort)
    {
        return new HomaServerBuilder(homaPort);
    }

    /**
     * @param homa a connected Homa client whose socket the server binds; the server does not close it.
     * @return this.
     */
    public HomaServerBuilder homa(final Homa homa)
    {
        this.homa = Objects.requireNonNull(homa, "homa");
        return this;
    }

    /**
     * @param context how to connect the server's own Homa client (used only without {@link #homa(Homa)}).
     * @return this.
     */
    public HomaServerBuilder homaContext(final Homa.Context context)
    {
        this.homaContext = Objects.requireNonNull(context, "context");
        return this;
    }

    /**
     * @return the Homa port.
     */
    public int port()
    {
        return port;
    }

    /**
     * Not supported: Homa carries no TLS.
     *
     * @throws UnsupportedOperationException always.
     */
    @Override
    public HomaServerBuilder useTransportSecurity(final File certChain, final File privateKey)
    {
        throw new UnsupportedOperationException("Homa transport is plaintext only");
    }

    @Override
    protected ServerBuilder<?> delegate()
    {
        return delegate;
    }
}
