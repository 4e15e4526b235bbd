package io.homa.driver;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketWriter;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.transport.ForwardingPacketTransport;
import io.homa.driver.transport.PacketTransport;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two ways a control packet fails to leave are counted apart, each by one writer (#16): the sender counts what
 * the transport refused in {@code control_xmit_errors}; the engine (the conductor's thread) counts what found the
 * outbound ring to the sender full in {@code control_ring_full}. A real driver in INVOKER mode with a real client,
 * its UDP transport wrapped by one that refuses control packets or takes no packet at all (a socket whose kernel
 * buffer stays full); the test thread decides when the agents run, so every count is exact. Lives in the driver's
 * package for its transport seam.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlCountersTest
{
    private static final int SERVER_PORT = 714;
    /** An errno the kernel gives for a send it will not make (EACCES, as for a broadcast without SO_BROADCAST). */
    private static final int EACCES = 13;

    private final ManualClock clock = new ManualClock();
    private MediaDriver driver;
    private Homa homa;
    private Gate gate;

    private final MessageHandler ignore = new MessageHandler()
    {
        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
        }
    };

    @AfterEach
    void after()
    {
        CloseHelper.closeAll(homa, driver);
        System.clearProperty(Configuration.OUTBOUND_BUFFER_LENGTH_PROP_NAME);
    }

    @Test
    void shouldCountEveryControlPacketTheTransportRefusesInControlXmitErrorsOnly()
    {
        final HomaSocket[] sockets = launch();
        final HomaSocket server = sockets[0];
        final HomaSocket client = sockets[1];
        final AgentInvoker invoker = driver.sharedAgentInvoker();
        gate.refuseControl = true;

        // A request of several times unsched_bytes: the server must GRANT for the rest (refused), then, hearing
        // nothing more, asks with RESENDs (refused too), while the client's DATA goes through.
        client.send(HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT),
            new UnsafeBuffer(new byte[500_000]), 0, 500_000, 1);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (gate.refused[HomaWire.RESEND] < 20 && System.nanoTime() - deadlineNs < 0)
        {
            invoker.invoke();
            server.poll(ignore, 16);
            client.poll(ignore, 16);
            clock.advanceNs(100_000);
        }

        assertTrue(gate.refused[HomaWire.GRANT] > 0, "GRANTs refused: " + gate.describe());
        assertTrue(gate.refused[HomaWire.RESEND] >= 20, "RESENDs refused: " + gate.describe());
        assertTrue(gate.sentData > 0, "DATA went out: " + gate.describe());
        assertEquals(gate.refusedControl(), counter(SystemCounterDescriptor.CONTROL_XMIT_ERRORS), gate.describe());
        assertEquals(0, counter(SystemCounterDescriptor.CONTROL_RING_FULL), gate.describe());
        assertEquals(0, counter(SystemCounterDescriptor.DATA_XMIT_ERRORS), gate.describe());
        System.out.println("control packets refused by the transport: " + gate.describe());
    }

    @Test
    void shouldCountControlPacketsThatFindTheOutboundRingFullInControlRingFullOnly() throws Exception
    {
        // A small ring to the sender: a few hundred control packets fill it.
        System.setProperty(Configuration.OUTBOUND_BUFFER_LENGTH_PROP_NAME, "64k");
        launch();
        final AgentInvoker invoker = driver.sharedAgentInvoker();
        gate.isBlocked = true;

        // Nothing leaves (the transport would block: each packet stays in the ring for the sender's next cycle),
        // while a peer sends RESENDs for RPCs that do not exist: each one's RPC_UNKNOWN goes into the ring until it
        // is full, and is counted in control_ring_full after that.
        final int resends = 3_000;
        final PacketWriter writer = new PacketWriter();
        final ByteBuffer packet = ByteBuffer.allocateDirect(HomaWire.RESEND_LENGTH);
        final UnsafeBuffer packetView = new UnsafeBuffer(packet);
        final InetSocketAddress driverAddress = new InetSocketAddress(
            InetAddress.getByAddress(ipv4Bytes(driver.udpAddressIpv4())), driver.udpPort());
        try (DatagramChannel peer = DatagramChannel.open())
        {
            peer.bind(new InetSocketAddress(driverAddress.getAddress(), 0));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 0; i < resends; i++)
            {
                writer.resend(packetView, 0, 40_000, SERVER_PORT, 1_000_000 + 2L * i, 0, -1, 7);
                packet.clear();
                peer.send(packet, driverAddress);
                // A few at a time, so that the kernel's socket buffer drops none.
                while (counter(SystemCounterDescriptor.PACKETS_RCVD_RESEND) < i + 1 - 50 &&
                    System.nanoTime() - deadlineNs < 0)
                {
                    invoker.invoke();
                }
            }
            while (counter(SystemCounterDescriptor.PACKETS_RCVD_RESEND) < resends && System.nanoTime() - deadlineNs < 0)
            {
                invoker.invoke();
            }
        }
        assertEquals(resends, counter(SystemCounterDescriptor.PACKETS_RCVD_RESEND));
        assertEquals(resends, counter(SystemCounterDescriptor.UNKNOWN_RPCS));

        final long ringFull = counter(SystemCounterDescriptor.CONTROL_RING_FULL);
        assertTrue(gate.wouldBlock > 0, "the sender tried: " + gate.describe());
        assertTrue(ringFull > 0 && ringFull < resends, "control_ring_full " + ringFull + ", control_xmit_errors " +
            counter(SystemCounterDescriptor.CONTROL_XMIT_ERRORS));
        System.out.println(resends + " RESENDs while the transport would block: " + ringFull +
            " RPC_UNKNOWNs found the ring full");
        assertEquals(0, counter(SystemCounterDescriptor.CONTROL_XMIT_ERRORS), "a full ring is not a refusal");

        // The kernel takes packets again: what the ring held goes out, and with what found it full that is one
        // RPC_UNKNOWN per RESEND.
        gate.isBlocked = false;
        for (int i = 0; i < 1_000; i++)
        {
            invoker.invoke();
        }
        assertEquals(resends - ringFull, counter(SystemCounterDescriptor.PACKETS_SENT_RPC_UNKNOWN), gate.describe());
        assertEquals(ringFull, counter(SystemCounterDescriptor.CONTROL_RING_FULL));
        assertEquals(0, counter(SystemCounterDescriptor.CONTROL_XMIT_ERRORS), gate.describe());
    }

    private static byte[] ipv4Bytes(final int ipv4)
    {
        return new byte[]{ (byte)(ipv4 >>> 24), (byte)(ipv4 >>> 16), (byte)(ipv4 >>> 8), (byte)ipv4 };
    }

    private HomaSocket[] launch()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.INVOKER)
            .nanoClock(clock)
            // Keepalives go by the wall clock, the driver's liveness check by this one, moved faster.
            .clientLivenessTimeoutNs(TimeUnit.HOURS.toNanos(1))
            .transportDecorator((transport) -> gate = new Gate(transport)));
        homa = Homa.connect(new Homa.Context()
            .homaDirectoryName(driver.homaDirectoryName())
            .driverAgentInvoker(driver.sharedAgentInvoker()));
        return new HomaSocket[]{ homa.addSocket(SERVER_PORT), homa.addSocket() };
    }

    private long counter(final SystemCounterDescriptor descriptor)
    {
        return driver.counter(descriptor);
    }

    /**
     * The real transport behind a gate: passes everything, refuses control packets with an errno, or takes
     * nothing (returns 0: the kernel would block). Counts what it did, by type. Touched only by the agents'
     * thread, which in INVOKER mode is the test's.
     */
    static final class Gate extends ForwardingPacketTransport
    {
        volatile boolean refuseControl;
        volatile boolean isBlocked;
        final long[] refused = new long[256];
        private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        long sentData;
        long wouldBlock;

        Gate(final PacketTransport delegate)
        {
            super(delegate);
        }

        public int send(final long address, final int length, final int ipv4, final int port, final int tos)
        {
            view.wrap(address, length);
            final int type = HomaWire.type(view, 0);
            final int gated = gate(type);
            return 1 == gated ? delegate.send(address, length, ipv4, port, tos) : gated;
        }

        public int send(final long headerAddress, final int headerLength, final long payloadAddress,
            final int payloadLength, final int ipv4, final int port, final int tos)
        {
            view.wrap(headerAddress, headerLength);
            final int type = HomaWire.type(view, 0);
            final int gated = gate(type);
            return 1 == gated ?
                delegate.send(headerAddress, headerLength, payloadAddress, payloadLength, ipv4, port, tos) : gated;
        }

        /**
         * @return 1 to pass the packet on, else what send returns instead.
         */
        private int gate(final int type)
        {
            if (isBlocked)
            {
                wouldBlock++;
                return 0;
            }
            if (HomaWire.DATA == type)
            {
                sentData++;
                return 1;
            }
            if (refuseControl)
            {
                refused[type]++;
                return -EACCES;
            }
            return 1;
        }

        long refusedControl()
        {
            long sum = 0;
            for (final long n : refused)
            {
                sum += n;
            }
            return sum;
        }

        String describe()
        {
            return "refused GRANT " + refused[HomaWire.GRANT] + ", RESEND " + refused[HomaWire.RESEND] +
                ", all control " + refusedControl() + "; DATA sent " + sentData + "; would block " + wouldBlock;
        }
    }

    static final class ManualClock implements NanoClock
    {
        private volatile long nowNs = TimeUnit.SECONDS.toNanos(1);

        public long nanoTime()
        {
            return nowNs;
        }

        void advanceNs(final long ns)
        {
            nowNs += ns;
        }
    }
}
