package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Two embedded INVOKER drivers on one driven clock, a server socket on one and a client socket on the other, run
 * from the test's thread over UDP on loopback: the harness of tests that count timer ticks through the real path.
 * A "dead" client is one whose driver the pump stops running ({@link #isClientAlive}).
 */
final class DrivenPair implements AutoCloseable
{
    static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Driver time per pump: 20 us, so a 1 ms tick is 50 pumps. */
    static final long PUMP_NS = 20_000;
    static final long WAIT_MS = 60_000;

    final ManualNanoClock clock = new ManualNanoClock();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final int serverPort;
    private final MessageHandler serverHandler;
    private final MessageHandler clientHandler;
    private AgentInvoker serverInvoker;
    private AgentInvoker clientInvoker;
    MediaDriver serverDriver;
    MediaDriver clientDriver;
    HomaSocket server;
    HomaSocket client;
    boolean isClientAlive = true;
    /** How long the client's Homa waits for its driver: shorter for a test that closes that driver. */
    long clientDriverTimeoutNs = new Homa.Context().driverTimeoutNs();

    DrivenPair(final int serverPort, final MessageHandler serverHandler, final MessageHandler clientHandler)
    {
        this.serverPort = serverPort;
        this.serverHandler = serverHandler;
        this.clientHandler = clientHandler;
    }

    void start(final MediaDriver.Context serverContext, final MediaDriver.Context clientContext)
    {
        serverDriver = launch(serverContext);
        serverInvoker = serverDriver.sharedAgentInvoker();
        server = connect(serverDriver).addSocket(serverPort);
        clientDriver = launch(clientContext);
        clientInvoker = clientDriver.sharedAgentInvoker();
        client = connect(clientDriver, clientDriverTimeoutNs).addSocket();
    }

    HomaAddress dest()
    {
        return HomaAddress.of(serverDriver.udpAddressIpv4(), serverDriver.udpPort(), serverPort);
    }

    private MediaDriver launch(final MediaDriver.Context ctx)
    {
        final MediaDriver driver = MediaDriver.launchEmbedded(ctx
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(clock)
            .timerTickNs(TICK_NS));
        closeables.add(driver);
        return driver;
    }

    /**
     * Another client of a driver of the pair, closed with it.
     */
    Homa connect(final MediaDriver driver)
    {
        return connect(driver, new Homa.Context().driverTimeoutNs());
    }

    private Homa connect(final MediaDriver driver, final long driverTimeoutNs)
    {
        final Homa homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverTimeoutNs(driverTimeoutNs)
            .driverAgentInvoker(driver.sharedAgentInvoker()));
        closeables.add(homa);
        return homa;
    }

    void pump()
    {
        serverInvoker.invoke();
        server.poll(serverHandler, 16);
        if (isClientAlive)
        {
            clientInvoker.invoke();
            client.poll(clientHandler, 16);
        }
        clock.advanceNs(PUMP_NS);
    }

    void pumpUntil(final BooleanSupplier done, final String what)
    {
        TestUtil.await(done, this::pump, WAIT_MS, what);
    }

    void pumpTicks(final int ticks)
    {
        final long untilNs = clock.nanoTime() + ticks * TICK_NS;
        while (clock.nanoTime() - untilNs < 0)
        {
            pump();
        }
    }

    public void close()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }
}
