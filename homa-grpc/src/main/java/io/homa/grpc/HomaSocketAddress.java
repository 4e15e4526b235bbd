package io.homa.grpc;

import io.homa.client.HomaAddress;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * A Homa server as a {@link SocketAddress}: the peer's driver (host and UDP port) and the Homa port there.
 */
public final class HomaSocketAddress extends SocketAddress
{
    private static final long serialVersionUID = 1L;

    private final transient HomaAddress address;
    private final String text;

    /**
     * @param address the Homa server.
     */
    public HomaSocketAddress(final HomaAddress address)
    {
        this.address = Objects.requireNonNull(address, "address");
        this.text = address.toString();
    }

    /**
     * @return the Homa address.
     */
    public HomaAddress homaAddress()
    {
        return address;
    }

    @Override
    public String toString()
    {
        return text;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof HomaSocketAddress && ((HomaSocketAddress)o).address.equals(address);
    }

    @Override
    public int hashCode()
    {
        return address.hashCode();
    }
}
