package io.homa.client;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * Where a request goes: the peer driver's address and UDP port (a peer is what the transport sees) and the Homa
 * port of the server socket there. Immutable; make one per destination and reuse it.
 * <p>
 * An IPv4 peer is its address. An IPv6 peer (raw IP over IPv6) is a 32-bit key the local driver gave its address,
 * in 0.0.0.0/8, so it only means something to clients of that driver: get one from
 * {@link Homa#address(InetAddress, int, int)}, which asks the driver, or {@link Homa#driverAddress(int)}.
 */
public final class HomaAddress
{
    private final int ipv4;
    private final int udpPort;
    private final int port;
    private final Inet6Address ipv6;
    private final long resolver;

    private HomaAddress(
        final int ipv4, final int udpPort, final int port, final Inet6Address ipv6, final long resolver)
    {
        this.ipv4 = ipv4;
        this.udpPort = udpPort;
        this.port = port;
        this.ipv6 = ipv6;
        this.resolver = resolver;
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
     * @throws HomaException            EINVAL for a port out of range.
     * @throws IllegalArgumentException for an IPv6 address: only a driver can name those (see the class comment).
     */
    public static HomaAddress of(final InetAddress address, final int udpPort, final int port)
    {
        if (!(address instanceof Inet4Address))
        {
            throw new IllegalArgumentException("IPv6 peer " + ipv6ToString(address.getAddress()) +
                ": the driver names IPv6 peers; use Homa.address(InetAddress, udpPort, port) of a client of an " +
                "IPv6 driver (homa.transport=raw with an IPv6 homa.udp.address)");
        }
        final byte[] b = address.getAddress();
        final int ipv4 = ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
        return of(ipv4, udpPort, port);
    }

    /**
     * An IPv6 peer as a driver named it.
     *
     * @param key      the peer key the driver gave the address.
     * @param address  the address.
     * @param udpPort  the peer driver's transport port (0 over raw IP).
     * @param port     the Homa server port.
     * @param resolver which driver gave the key ({@link Homa#driverInstance()}).
     * @return the address.
     */
    static HomaAddress ofIpv6(
        final int key, final Inet6Address address, final int udpPort, final int port, final long resolver)
    {
        final HomaAddress checked = of(key, udpPort, port);
        return new HomaAddress(checked.ipv4, udpPort, port, address, resolver);
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
        return new HomaAddress(ipv4, udpPort, port, null, 0);
    }

    /**
     * @return the peer's IPv4 address as an int, or for an IPv6 peer the key the driver knows it by.
     */
    public int ipv4()
    {
        return ipv4;
    }

    /**
     * @return true for an IPv6 peer named by a driver.
     */
    public boolean isIpv6()
    {
        return null != ipv6;
    }

    /**
     * @return the peer's address: IPv6 where the driver named it, else the IPv4 address.
     */
    public InetAddress inetAddress()
    {
        if (null != ipv6)
        {
            return ipv6;
        }
        try
        {
            return InetAddress.getByAddress(
                new byte[]{ (byte)(ipv4 >>> 24), (byte)(ipv4 >>> 16), (byte)(ipv4 >>> 8), (byte)ipv4 });
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * @return which driver gave an IPv6 peer its key ({@link Homa#driverInstance()}), 0 for IPv4.
     */
    long resolver()
    {
        return resolver;
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

    /**
     * @param address 16 bytes (4 are taken as IPv4).
     * @return the RFC 5952 text: lower-case hex groups, the longest run of two or more zero groups as "::".
     */
    public static String ipv6ToString(final byte[] address)
    {
        if (4 == address.length)
        {
            return ipv4ToString(((address[0] & 0xFF) << 24) | ((address[1] & 0xFF) << 16) |
                ((address[2] & 0xFF) << 8) | (address[3] & 0xFF));
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; )
        {
            int j = i;
            while (j < 8 && 0 == group(address, j))
            {
                j++;
            }
            if (j - i > bestLength)
            {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        final StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && ':' != text.charAt(text.length() - 1))
            {
                text.append(':');
            }
            text.append(Integer.toHexString(group(address, i)));
        }
        return text.toString();
    }

    private static int group(final byte[] address, final int i)
    {
        return (address[2 * i] & 0xFF) << 8 | (address[2 * i + 1] & 0xFF);
    }

    @Override
    public String toString()
    {
        return null != ipv6 ? "[" + ipv6ToString(ipv6.getAddress()) + "]:" + udpPort + "/" + port :
            ipv4ToString(ipv4) + ":" + udpPort + "/" + port;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof HomaAddress that && ipv4 == that.ipv4 && udpPort == that.udpPort && port == that.port &&
            resolver == that.resolver && Objects.equals(ipv6, that.ipv6);
    }

    @Override
    public int hashCode()
    {
        return 31 * (31 * ipv4 + udpPort) + port;
    }
}
