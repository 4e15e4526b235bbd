package io.homa.client;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where a request goes: the peer driver's IPv4 address and UDP port (a peer is what the transport sees) and the
 * Homa port of the server socket there. Immutable; make one per destination and reuse it.
 */
public final class HomaAddress
{
    private final int ipv4;
    private final int udpPort;
    private final int port;

    private HomaAddress(final int ipv4, final int udpPort, final int port)
    {
        this.ipv4 = ipv4;
        this.udpPort = udpPort;
        this.port = port;
    }

    /**
     * @param host    IPv4 address or name of the peer driver.
     * @param udpPort the peer driver's UDP port.
     * @param port    the Homa server port (1..65535).
     * @return the address.
     * @throws HomaException EINVAL for a bad host or port.
     */
    public static HomaAddress of(final String host, final int udpPort, final int port)
    {
        try
        {
            return of(InetAddress.getByName(host), udpPort, port);
        }
        catch (final UnknownHostException ex)
        {
            throw new HomaException(HomaError.EINVAL, "unknown host: " + host);
        }
    }

    /**
     * @param address IPv4 address of the peer driver.
     * @param udpPort the peer driver's UDP port.
     * @param port    the Homa server port (1..65535).
     * @return the address.
     * @throws HomaException EINVAL for a non-IPv4 address or a port out of range.
     */
    public static HomaAddress of(final InetAddress address, final int udpPort, final int port)
    {
        if (!(address instanceof Inet4Address))
        {
            throw new HomaException(HomaError.EINVAL, "only IPv4 peers are supported over UDP: " + address);
        }
        final byte[] b = address.getAddress();
        final int ipv4 = ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
        return of(ipv4, udpPort, port);
    }

    /**
     * @param ipv4    IPv4 address as an int (a.b.c.d = a &lt;&lt; 24 | ...).
     * @param udpPort the peer driver's UDP port (0 for a peer reached over raw IP).
     * @param port    the Homa server port.
     * @return the address.
     */
    public static HomaAddress of(final int ipv4, final int udpPort, final int port)
    {
        // 0 is how a raw-IP peer is named: protocol 146 has no transport port.
        if (udpPort < 0 || udpPort > 0xFFFF)
        {
            throw new HomaException(HomaError.EINVAL, "UDP port out of range 0..65535: " + udpPort);
        }
        if (port < 1 || port > 0xFFFF)
        {
            throw new HomaException(HomaError.EINVAL, "Homa port out of range 1..65535: " + port);
        }
        return new HomaAddress(ipv4, udpPort, port);
    }

    /**
     * @return the peer's IPv4 address as an int.
     */
    public int ipv4()
    {
        return ipv4;
    }

    /**
     * @return the peer driver's UDP port.
     */
    public int udpPort()
    {
        return udpPort;
    }

    /**
     * @return the Homa server port.
     */
    public int port()
    {
        return port;
    }

    /**
     * @param ipv4 an address as an int.
     * @return dotted form.
     */
    public static String ipv4ToString(final int ipv4)
    {
        return ((ipv4 >>> 24) & 0xFF) + "." + ((ipv4 >>> 16) & 0xFF) + "." + ((ipv4 >>> 8) & 0xFF) + "." + (ipv4 & 0xFF);
    }

    @Override
    public String toString()
    {
        return ipv4ToString(ipv4) + ":" + udpPort + "/" + port;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof HomaAddress that && ipv4 == that.ipv4 && udpPort == that.udpPort && port == that.port;
    }

    @Override
    public int hashCode()
    {
        return 31 * (31 * ipv4 + udpPort) + port;
    }
}
