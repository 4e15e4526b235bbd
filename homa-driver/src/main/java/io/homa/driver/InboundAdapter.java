package io.homa.driver;

import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Runs on the conductor's thread ahead of the {@link DriverConductor} when the Receiver has a thread of its own:
 * hands each packet of the {@link InboundPackets} ring to the engine, in ring memory.
 */
final class InboundAdapter implements Agent, InboundPackets.PacketHandler
{
    private static final int PACKET_LIMIT = 64;

    private final InboundPackets inbound;
    private final HomaEngine engine;
    private final NanoClock nanoClock;
    private final CachedNanoClock cachedNanoClock;
    private final ErrorHandler errorHandler;
    private final AtomicCounter discards;
    private long nowNs;

    InboundAdapter(
        final InboundPackets inbound,
        final HomaEngine engine,
        final NanoClock nanoClock,
        final CachedNanoClock cachedNanoClock,
        final ErrorHandler errorHandler,
        final SystemCounters counters)
    {
        this.inbound = inbound;
        this.engine = engine;
        this.nanoClock = nanoClock;
        this.cachedNanoClock = cachedNanoClock;
        this.errorHandler = errorHandler;
        this.discards = counters.get(SystemCounterDescriptor.PACKET_DISCARDS);
    }

    public String roleName()
    {
        return "homa-inbound";
    }

    public int doWork()
    {
        if (0 == inbound.size())
        {
            engine.inboundBacklogged(false);
            return 0;
        }
        // The conductor's cached clock may be an idle period old; packets get the time they are handled.
        nowNs = nanoClock.nanoTime();
        cachedNanoClock.update(nowNs);
        final int packets = inbound.read(this, PACKET_LIMIT);
        // Silence from peers does not count while packets queue on our side (the RPC timer reads this).
        engine.inboundBacklogged(packets >= PACKET_LIMIT);
        return packets;
    }

    public void onPacket(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort)
    {
        try
        {
            engine.onPacket(buffer, offset, length, srcIpv4, srcPort, nowNs);
        }
        catch (final Exception ex)
        {
            discards.incrementRelease();
            errorHandler.onError(ex);
        }
    }

    public void onUnreachable(final int ipv4, final int port, final int homaPort, final int errorCode)
    {
        try
        {
            engine.onPeerUnreachable(ipv4, port, homaPort, errorCode);
        }
        catch (final Exception ex)
        {
            errorHandler.onError(ex);
        }
    }
}
