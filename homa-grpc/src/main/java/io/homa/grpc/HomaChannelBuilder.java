package io.homa.grpc;

import io.grpc.ForwardingChannelBuilder2;
import io.grpc.ManagedChannelBuilder;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.ManagedChannelImplBuilder;
import io.homa.client.Homa;
import io.homa.client.HomaAddress;

import java.util.Objects;

/**
 * Builds a gRPC channel whose calls travel as Homa RPCs. Plaintext only: Homa carries no TLS.
 * <pre>{@code
 * ManagedChannel channel = HomaChannelBuilder.forAddress(HomaAddress.of("10.0.0.2", 4000, 50))
 *     .homa(homa)        // a connected Homa client (the channel does not close it)
 *     .build();
 * }</pre>
 * Without {@link #homa(Homa)}, the channel connects a client of its own to the driver that
 * {@link #homaContext(Homa.Context)} names (by default the one {@code new Homa.Context()} finds) and closes it
 * on shutdown.
 */
public final class HomaChannelBuilder extends ForwardingChannelBuilder2<HomaChannelBuilder>
{
    private final ManagedChannelImplBuilder delegate;
    private Homa homa;
    private Homa.Context homaContext;
    private boolean callerReceives = true;

    private HomaChannelBuilder(final HomaAddress address)
    {
        delegate = new ManagedChannelImplBuilder(new HomaSocketAddress(address),
            GrpcUtil.authorityFromHostAndPort(address.inetAddress().getHostAddress(), address.udpPort()),
            this::buildTransportFactory, null);
    }

    private HomaChannelBuilder(final String target)
    {
        delegate = new ManagedChannelImplBuilder(target, this::buildTransportFactory, null);
    }

    /**
     * @param address the server: its driver's host and UDP port, and its Homa port.
     * @return a builder.
     */
    public static HomaChannelBuilder forAddress(final HomaAddress address)
    {
        return new HomaChannelBuilder(Objects.requireNonNull(address, "address"));
    }

    /**
     * @param host     the server driver's host.
     * @param udpPort  its UDP port.
     * @param homaPort the gRPC server's Homa port there.
     * @return a builder.
     */
    public static HomaChannelBuilder forAddress(final String host, final int udpPort, final int homaPort)
    {
        return forAddress(HomaAddress.of(host, udpPort, homaPort));
    }

    /**
     * @param target {@code homa://host:udpPort/homaPort}.
     * @return a builder.
     * @throws IllegalArgumentException for another target.
     */
    public static HomaChannelBuilder forTarget(final String target)
    {
        HomaTarget.parse(target);
        return new HomaChannelBuilder(target);
    }

    /**
     * @param homa a connected Homa client whose sockets the channel's transports use; the channel does not close
     *             it.
     * @return this.
     */
    public HomaChannelBuilder homa(final Homa homa)
    {
        this.homa = Objects.requireNonNull(homa, "homa");
        return this;
    }

    /**
     * @param context how to connect the channel's own Homa client (used only without {@link #homa(Homa)}).
     * @return this.
     */
    public HomaChannelBuilder homaContext(final Homa.Context context)
    {
        this.homaContext = Objects.requireNonNull(context, "context");
        return this;
    }

    /**
     * Whether a blocking unary call (grpc-stub's blocking stubs) receives its response in the calling thread, on
     * a socket of its own, instead of through the channel's receiver thread: one thread wake-up fewer per call.
     * On by default; other calls always use the receiver thread.
     *
     * @param enabled true to let callers receive.
     * @return this.
     */
    public HomaChannelBuilder callerReceives(final boolean enabled)
    {
        this.callerReceives = enabled;
        return this;
    }

    @Override
    @SuppressWarnings("deprecation")
    protected ManagedChannelBuilder<?> delegate()
    {
        return delegate;
    }

    private HomaClientTransportFactory buildTransportFactory()
    {
        final Homa given = homa;
        if (null != given)
        {
            return new HomaClientTransportFactory(() -> given, false, callerReceives);
        }
        final Homa.Context context = null == homaContext ? new Homa.Context() : homaContext;
        return new HomaClientTransportFactory(() -> Homa.connect(context), true, callerReceives);
    }
}
