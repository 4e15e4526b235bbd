package io.homa.grpc;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.driver.MediaDriver;

/**
 * Two hosts on loopback, as the examples have them: an embedded media driver per side, a Homa client on each.
 */
final class HomaPair implements AutoCloseable
{
    final MediaDriver serverDriver;
    final MediaDriver clientDriver;
    final Homa serverHoma;
    final Homa clientHoma;

    HomaPair()
    {
        serverDriver = MediaDriver.launchEmbedded();
        clientDriver = MediaDriver.launchEmbedded();
        serverHoma = Homa.connect(new Homa.Context().homaDirectoryName(serverDriver.homaDirectoryName()));
        clientHoma = Homa.connect(new Homa.Context().homaDirectoryName(clientDriver.homaDirectoryName()));
    }

    /**
     * @return the address of Homa port {@code port} on the server side.
     */
    HomaAddress server(final int port)
    {
        return HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), port);
    }

    @Override
    public void close()
    {
        clientHoma.close();
        serverHoma.close();
        clientDriver.close();
        serverDriver.close();
    }
}
