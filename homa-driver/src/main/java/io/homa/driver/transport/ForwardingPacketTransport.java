package io.homa.driver.transport;

/**
 * Base for decorators (fault injection, tracing): forwards every call, including the optional ones a plain
 * {@code implements PacketTransport} would silently default. That matters: a decorator that kept the default
 * {@link #isBatching()} (false) over a batching transport would never flush it, and one that kept the default
 * {@link #receiveBatchLimit()} (0) would hide its packets. Override what the decorator changes.
 */
public abstract class ForwardingPacketTransport implements PacketTransport
{
    /** The transport underneath. */
    protected final PacketTransport delegate;

    /**
     * @param delegate the transport underneath.
     */
    protected ForwardingPacketTransport(final PacketTransport delegate)
    {
        this.delegate = delegate;
    }

    /**
     * {@inheritDoc}
     */
    public int send(final long address, final int length, final int ipv4, final int port, final int tos)
    {
        return delegate.send(address, length, ipv4, port, tos);
    }

    /**
     * {@inheritDoc}
     */
    public int send(
        final long headerAddress,
        final int headerLength,
        final long payloadAddress,
        final int payloadLength,
        final int ipv4,
        final int port,
        final int tos)
    {
        return delegate.send(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos);
    }

    /**
     * {@inheritDoc}
     */
    public int ipv6PeerKey(final long high, final long low)
    {
        return delegate.ipv6PeerKey(high, low);
    }

    /**
     * {@inheritDoc}
     */
    public int receive(final long address, final int capacity)
    {
        return delegate.receive(address, capacity);
    }

    /**
     * {@inheritDoc}
     */
    public boolean canReceiveScattered()
    {
        return delegate.canReceiveScattered();
    }

    /**
     * {@inheritDoc}
     */
    public int receiveScattered(
        final long headerAddress,
        final int headerLength,
        final long hintAddress,
        final int hintLength,
        final long restAddress,
        final int restLength)
    {
        return delegate.receiveScattered(headerAddress, headerLength, hintAddress, hintLength, restAddress, restLength);
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourceIpv4()
    {
        return delegate.lastSourceIpv4();
    }

    /**
     * {@inheritDoc}
     */
    public int lastSourcePort()
    {
        return delegate.lastSourcePort();
    }

    /**
     * {@inheritDoc}
     */
    public int lastTos()
    {
        return delegate.lastTos();
    }

    /**
     * {@inheritDoc}
     */
    public boolean lastTruncated()
    {
        return delegate.lastTruncated();
    }

    /**
     * {@inheritDoc}
     */
    public int localIpv4()
    {
        return delegate.localIpv4();
    }

    /**
     * {@inheritDoc}
     */
    public int[] pollFds()
    {
        return delegate.pollFds();
    }

    /**
     * {@inheritDoc}
     */
    public long nextDeadlineNs()
    {
        return delegate.nextDeadlineNs();
    }

    /**
     * {@inheritDoc}
     */
    public int localPort()
    {
        return delegate.localPort();
    }

    /**
     * {@inheritDoc}
     */
    public int maxPacketLength()
    {
        return delegate.maxPacketLength();
    }

    /**
     * {@inheritDoc}
     */
    public long receiveDrops()
    {
        return delegate.receiveDrops();
    }

    /**
     * {@inheritDoc}
     */
    public int peerPort(final int port)
    {
        return delegate.peerPort(port);
    }

    /**
     * {@inheritDoc}
     */
    public int pollUnreachable(final UnreachableHandler handler)
    {
        return delegate.pollUnreachable(handler);
    }

    /**
     * {@inheritDoc}
     */
    public boolean isBatching()
    {
        return delegate.isBatching();
    }

    /**
     * {@inheritDoc}
     */
    public int flush()
    {
        return delegate.flush();
    }

    /**
     * {@inheritDoc}
     */
    public boolean isBatchReceiveOnly()
    {
        return delegate.isBatchReceiveOnly();
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatchLimit()
    {
        return delegate.receiveBatchLimit();
    }

    /**
     * {@inheritDoc}
     */
    public int receiveBatch()
    {
        return delegate.receiveBatch();
    }

    /**
     * {@inheritDoc}
     */
    public long batchAddress(final int i)
    {
        return delegate.batchAddress(i);
    }

    /**
     * {@inheritDoc}
     */
    public int batchLength(final int i)
    {
        return delegate.batchLength(i);
    }

    /**
     * {@inheritDoc}
     */
    public int batchSourceIpv4(final int i)
    {
        return delegate.batchSourceIpv4(i);
    }

    /**
     * {@inheritDoc}
     */
    public int batchSourcePort(final int i)
    {
        return delegate.batchSourcePort(i);
    }

    /**
     * {@inheritDoc}
     */
    public boolean batchTruncated(final int i)
    {
        return delegate.batchTruncated(i);
    }

    /**
     * {@inheritDoc}
     */
    public void close()
    {
        delegate.close();
    }
}
