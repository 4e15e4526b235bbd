package io.homa.samples;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.driver.Configuration;
import io.homa.driver.MediaDriver;
import io.homa.samples.tools.CncFileReader;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;

import java.io.File;

/**
 * The driver a sample talks to: its own embedded driver (the default) or a running driver's directory
 * ({@code --dir}), plus the client connection to it. Knows the UDP endpoint peers reach it on either way.
 */
public final class SampleDriver implements AutoCloseable
{
    private final MediaDriver driver;
    private final Homa homa;
    private final int udpAddressIpv4;
    private final int udpPort;

    private SampleDriver(final MediaDriver driver, final Homa homa, final int udpAddressIpv4, final int udpPort)
    {
        this.driver = driver;
        this.homa = homa;
        this.udpAddressIpv4 = udpAddressIpv4;
        this.udpPort = udpPort;
    }

    /**
     * Connects to the driver in {@code dir}, or launches an embedded one when {@code dir} is null.
     *
     * @param dir              a running driver's directory, or null to embed a driver.
     * @param embeddedUdpPort  UDP port of the embedded driver (0 = any free port).
     * @param embeddedIdleName idle strategy of the embedded driver's thread, or null for the configured one.
     * @return the connected driver.
     */
    public static SampleDriver open(final String dir, final int embeddedUdpPort, final String embeddedIdleName)
    {
        if (null != dir)
        {
            final int address;
            final int port;
            try (CncFileReader cnc = CncFileReader.map(new File(dir)))
            {
                address = cnc.udpAddressIpv4();
                port = cnc.udpPort();
            }
            final Homa homa = Homa.connect(new Homa.Context().homaDirectoryName(dir));
            return new SampleDriver(null, homa, address, port);
        }

        final MediaDriver.Context ctx = new MediaDriver.Context().udpPort(embeddedUdpPort);
        if (null != embeddedIdleName)
        {
            ctx.sharedIdleStrategy(Configuration.idleStrategy(embeddedIdleName));
        }
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx);
        try
        {
            final Homa homa = Homa.connect(new Homa.Context()
                .homaDirectoryName(driver.homaDirectoryName())
                .driverAgentInvoker(driver.sharedAgentInvoker()));
            return new SampleDriver(driver, homa, driver.udpAddressIpv4(), driver.udpPort());
        }
        catch (final RuntimeException ex)
        {
            driver.close();
            throw ex;
        }
    }

    /**
     * @return the client connection.
     */
    public Homa homa()
    {
        return homa;
    }

    /**
     * @return the embedded driver, or null when connected to a running one.
     */
    public MediaDriver embeddedDriver()
    {
        return driver;
    }

    /**
     * @return the driver's IPv4 address, as an int.
     */
    public int udpAddressIpv4()
    {
        return udpAddressIpv4;
    }

    /**
     * @return the driver's UDP port.
     */
    public int udpPort()
    {
        return udpPort;
    }

    /**
     * @param port a Homa port on this driver.
     * @return the address peers use to reach it.
     */
    public HomaAddress address(final int port)
    {
        return homa.driverAddress(port);
    }

    /**
     * @return true when the embedded driver runs in INVOKER mode (the sample's loop must drive it).
     */
    public boolean isInvoker()
    {
        return null != driver && null != driver.sharedAgentInvoker();
    }

    /**
     * Runs the embedded INVOKER driver's duty cycle once, if there is one.
     *
     * @return work done.
     */
    public int invoke()
    {
        final AgentInvoker invoker = null == driver ? null : driver.sharedAgentInvoker();
        return null == invoker ? 0 : invoker.invoke();
    }

    /**
     * @return a one-line description for the sample's banner.
     */
    public String describe()
    {
        final String endpoint = (null != homa.driverIpv6Address() ?
            "[" + HomaAddress.ipv6ToString(homa.driverIpv6Address().getAddress()) + "]" :
            HomaAddress.ipv4ToString(udpAddressIpv4)) + ":" + udpPort;
        return null == driver ?
            "driver in " + homa.context().homaDirectoryName() + " (UDP " + endpoint + ")" :
            "embedded driver (UDP " + endpoint + ", " + driver.context().threadingMode() + ")";
    }

    /**
     * Closes the connection, then the embedded driver if there is one.
     */
    public void close()
    {
        CloseHelper.closeAll(homa, driver);
    }
}
