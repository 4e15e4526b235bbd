package io.homa.client;

import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import io.homa.driver.status.SystemCounterDescriptor;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Commands name what they act on and the client they come from; the driver acts only on sockets that client owns
 * (through a real driver and real clients, one of them writing commands in its own name about another's socket, or
 * in a made-up client's name). Lives in the client's package to reach its command proxy: this is a buggy client's
 * view of the ring, not a public API.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RogueClientTest
{
    private static final int SERVER_PORT = 713;
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(10);

    private MediaDriver driver;
    private Homa victim;
    private Homa rogue;
    private int responses;

    private final MessageHandler echo = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            server.reply(id, buffer, offset, length);
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };
    private final MessageHandler counter = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            responses++;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };
    private HomaSocket server;

    /**
     * One driver, the victim with a server socket and a client socket (returned), and the rogue client.
     */
    private HomaSocket launchVictimAndRogue()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        victim = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        rogue = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        server = victim.addSocket(SERVER_PORT);
        return victim.addSocket();
    }

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(rogue, victim, driver);
    }

    @Test
    void shouldRefuseCommandsAboutAnotherClientsSocket()
    {
        final HomaSocket client = launchVictimAndRogue();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        // A request in service at the victim's server, then the rogue's commands about the victim's sockets.
        client.send(dest, new UnsafeBuffer(new byte[100]), 0, 100, 1);
        final long[] requestId = { 0 };
        assertTrue(server.receive(new MessageHandler()
        {
            public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                final int length)
            {
                requestId[0] = id;
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
            }
        }, WAIT_NS) > 0);
        final DriverProxy proxy = rogue.driverProxy();
        rogue.offerCommand(() -> proxy.sendReply(server.socketId(), requestId[0], 0, 10));
        rogue.offerCommand(() -> proxy.abortRpc(client.socketId(), 0, HomaError.ECANCELED));
        rogue.offerCommand(() -> proxy.sendRequest(client.socketId(), 1_000_002, 0, 0, 10, 0, dest));
        awaitCounter(SystemCounterDescriptor.COMMAND_REFUSALS, 3);

        // Nothing happened to the victim: its request is still in service, its client RPCs still run.
        server.reply(requestId[0], new UnsafeBuffer(new byte[20]), 0, 20);
        assertTrue(client.receive(counter, WAIT_NS) > 0);
        client.send(dest, new UnsafeBuffer(new byte[100]), 0, 100, 2);
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (responses < 2 && System.nanoTime() < deadlineNs)
        {
            server.poll(echo, 16);
            client.poll(counter, 16);
        }
        assertEquals(2, responses);
        assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENT_RPCS_FAILED));
    }

    @Test
    void shouldNotMakeAClientOfAMadeUpIdThatRemovesASocket()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        victim = Homa.connect(new Homa.Context().homaDirectoryName(driver.homaDirectoryName()));
        final HomaSocket socket = victim.addSocket();
        final long clientsBefore = driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE);

        final DriverProxy madeUp = victim.driverProxy().withClientId(0x7E57_0000_0000_0001L);
        victim.offerCommand(() -> madeUp.removeSocket(madeUp.nextCorrelationId(), socket.socketId()));
        // Commands are taken in ring order: once this one is answered, the made-up one has been handled.
        final HomaSocket later = victim.addSocket();
        assertEquals(clientsBefore, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE), "no phantom client");
        assertEquals(2, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN), "the victim's socket stays");
        assertTrue(later.port() > 0 && !socket.isClosed());
    }

    @Test
    void shouldRefuseAForgedCloseOrRemovalInAnotherClientsName()
    {
        final HomaSocket client = launchVictimAndRogue();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        // The rogue knows the victim's id (ids are handed out in sequence) but not its credential.
        final DriverProxy forged = rogue.driverProxy().withClientId(victim.clientId());
        rogue.offerCommand(forged::clientClose);
        rogue.offerCommand(forged::keepalive);
        rogue.offerCommand(() -> forged.removeSocket(forged.nextCorrelationId(), server.socketId()));
        awaitCounter(SystemCounterDescriptor.COMMAND_REFUSALS, 3);
        assertEquals(2, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE), "the victim is still connected");
        assertEquals(2, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN), "and keeps its sockets");
        assertTrue(errorLog().contains("ClientClose in the name of client " + victim.clientId() +
            " without its credential, refused"), errorLog());

        // The victim keeps working.
        client.send(dest, new UnsafeBuffer(new byte[100]), 0, 100, 1);
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (responses < 1 && System.nanoTime() < deadlineNs)
        {
            server.poll(echo, 16);
            client.poll(counter, 16);
        }
        assertEquals(1, responses);
        assertTrue(victim.addSocket().port() > 0);

        // Its own close is taken: the credential is its.
        victim.close();
        awaitCounterBelow(SystemCounterDescriptor.CLIENTS_ACTIVE, 2);
        assertEquals(0, driver.counter(SystemCounterDescriptor.SOCKETS_OPEN));
    }

    private String errorLog()
    {
        final java.io.File cncFile = new java.io.File(driver.homaDirectoryName(), CncFileDescriptor.CNC_FILE);
        final java.nio.MappedByteBuffer cnc = org.agrona.IoUtil.mapExistingFile(cncFile, "cnc");
        try
        {
            final StringBuilder text = new StringBuilder();
            org.agrona.concurrent.errors.ErrorLogReader.read(
                CncFileDescriptor.errorLogBuffer(cnc, CncFileDescriptor.metaDataBuffer(cnc)),
                (count, firstMs, lastMs, encodedException) -> text.append(encodedException).append('\n'));
            return text.toString();
        }
        finally
        {
            org.agrona.IoUtil.unmap(cnc);
        }
    }

    private void awaitCounterBelow(final SystemCounterDescriptor descriptor, final long value)
    {
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (driver.counter(descriptor) >= value)
        {
            assertTrue(System.nanoTime() < deadlineNs, descriptor.label() + " = " + driver.counter(descriptor));
            Thread.onSpinWait();
        }
    }

    private void awaitCounter(final SystemCounterDescriptor descriptor, final long value)
    {
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (driver.counter(descriptor) < value)
        {
            assertTrue(System.nanoTime() < deadlineNs, descriptor.label() + " = " + driver.counter(descriptor));
            Thread.onSpinWait();
        }
        assertEquals(value, driver.counter(descriptor));
    }
}
