package io.homa.grpc;

import io.homa.client.HomaAddress;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Parses {@code homa://host:udpPort/homaPort} targets: the peer driver's host and UDP port, and the Homa port of
 * the gRPC server there.
 */
final class HomaTarget
{
    static final String SCHEME = "homa";

    private HomaTarget()
    {
    }

    static boolean isHomaTarget(final String target)
    {
        return null != target && target.regionMatches(true, 0, SCHEME + ":", 0, SCHEME.length() + 1);
    }

    /**
     * @throws IllegalArgumentException if the target is not of that form.
     */
    static HomaAddress parse(final String target)
    {
        try
        {
            return parse(new URI(target));
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalArgumentException("not a homa://host:udpPort/homaPort target: " + target, ex);
        }
    }

    static HomaAddress parse(final URI uri)
    {
        final String path = uri.getPath();
        if (!SCHEME.equalsIgnoreCase(uri.getScheme()) || null == uri.getHost() || uri.getPort() < 1 ||
            null == path || path.length() < 2)
        {
            throw new IllegalArgumentException("not a homa://host:udpPort/homaPort target: " + uri);
        }
        final int homaPort;
        try
        {
            homaPort = Integer.parseInt(path.substring(1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("the Homa port must be a number: " + uri, ex);
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        return HomaAddress.of(host, uri.getPort(), homaPort);
    }
}
