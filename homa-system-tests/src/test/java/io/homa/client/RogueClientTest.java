package io.homa.client;

import io.homa.client.internal.CncFileDescriptor;
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

    @Test
    void shouldRefuseEveryCommandKindInAnotherClientsNameWithoutItsCredential()
    {
        final HomaSocket client = launchVictimAndRogue();
        final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);

        // The victim's request in service at its server: its client RPC is outstanding, its server RPC unanswered.
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
        final long requestsStarted = driver.counter(SystemCounterDescriptor.CLIENT_REQUESTS_STARTED);

        // The rogue names the victim and the victim's own sockets, so only the credential tells them apart.
        final long victimId = victim.clientId();
        final DriverProxy forged = rogue.driverProxy().withClientId(victimId);
        rogue.offerCommand(() -> forged.sendReply(server.socketId(), requestId[0], 0, 10));
        rogue.offerCommand(() -> forged.abortRpc(client.socketId(), 0, HomaError.ECANCELED));
        rogue.offerCommand(() -> forged.sendRequest(client.socketId(), 1_000_002, 0, 0, 10, 0, dest));
        assertEperm(() -> rogue.awaitCommand(id -> forged.bindSocket(id, client.socketId(), SERVER_PORT + 1)));
        assertEperm(() -> rogue.awaitCommand(id -> forged.rpcInfo(id, 0)));
        assertEperm(() -> rogue.awaitCommand(id -> forged.resolveAddress(id, 0x2001_0db8_0000_0000L, 1)));
        awaitCounter(SystemCounterDescriptor.COMMAND_REFUSALS, 6);
        final String log = errorLog();
        for (final String kind : new String[]{
            "SendReply", "AbortRpc", "SendRequest", "BindSocket", "RpcInfoRequest", "ResolveAddress" })
        {
            assertTrue(log.contains(kind + " in the name of client " + victimId + " without its credential, refused"),
                kind + ": " + log);
        }
        assertEquals(requestsStarted, driver.counter(SystemCounterDescriptor.CLIENT_REQUESTS_STARTED), "no request");
        assertEquals(0, driver.counter(SystemCounterDescriptor.SERVER_RESPONSES_STARTED), "no reply");

        // The victim keeps working: its request was neither answered nor aborted, the port was not bound for it.
        server.reply(requestId[0], new UnsafeBuffer(new byte[20]), 0, 20);
        assertTrue(client.receive(counter, WAIT_NS) > 0);
        assertEquals(1, responses);
        assertEquals(0, driver.counter(SystemCounterDescriptor.CLIENT_RPCS_FAILED));
        assertTrue(client.port() >= 32768, "still a client port: " + client.port());
        assertEquals(SERVER_PORT + 1, victim.addSocket(SERVER_PORT + 1).port());
        assertEquals(2, driver.counter(SystemCounterDescriptor.CLIENTS_ACTIVE));

        // The rogue's own commands, with its own id, still go through.
        assertEquals(SERVER_PORT + 2, rogue.addSocket(SERVER_PORT + 2).port());
    }

    private static void assertEperm(final Runnable call)
    {
        final HomaException ex = org.junit.jupiter.api.Assertions.assertThrows(HomaException.class, call::run);
        assertEquals(HomaError.EPERM, ex.errorCode(), ex.getMessage());
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
