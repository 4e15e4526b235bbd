package io.homa.systemtests;

import io.homa.client.Homa;
import io.homa.client.HomaAddress;
import io.homa.client.HomaSocket;
import io.homa.client.MessageHandler;
import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot paths allocate nothing: in INVOKER mode one thread runs the driver's agents, the server and the client,
 * so the JVM's per-thread allocation counter covers every layer (client send, command ring, engine, outbound ring,
 * sender, FFM UDP socket, receiver, receive pool, event ring, poll, reply, acks), with the event log recording.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SteadyStateAllocationTest
{
    private static final int SERVER_PORT = 600;

    @Test
    void shouldNotAllocatePerRpcInSteadyState()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        MediaDriver driver = null;
        Homa homa = null;
        try
        {
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .threadingMode(ThreadingMode.INVOKER)
                .eventLogEnabled(true));
            homa = Homa.connect(new Homa.Context()
                .homaDirectoryName(driver.homaDirectoryName())
                .driverAgentInvoker(driver.sharedAgentInvoker()));
            final HomaSocket server = homa.addSocket(SERVER_PORT);
            final HomaSocket client = homa.addSocket();
            final HomaAddress dest = HomaAddress.of(driver.udpAddressIpv4(), driver.udpPort(), SERVER_PORT);
            final Loop loop = new Loop(driver.sharedAgentInvoker(), server, client, dest);

            // Sizes from one packet to several (the 100 KB message is two loopback packets and straddles
            // unsched_bytes), so segmentation, reassembly and acks all run.
            final int[] sizes = { 100, 1_400, 100_000 };
            loop.run(20_000, sizes);

            // JIT recompilations can allocate transiently; steady state is a window of RPCs with (almost)
            // nothing allocated. Measure successive windows until one is clean.
            final long threadId = Thread.currentThread().threadId();
            final int rpcsPerWindow = 5_000;
            final StringBuilder windows = new StringBuilder();
            double bestBytesPerRpc = Double.MAX_VALUE;
            for (int window = 0; window < 8 && bestBytesPerRpc > 0.5; window++)
            {
                final long before = threads.getThreadAllocatedBytes(threadId);
                loop.run(rpcsPerWindow, sizes);
                final double bytesPerRpc =
                    (double)(threads.getThreadAllocatedBytes(threadId) - before) / rpcsPerWindow;
                windows.append(String.format("%.3f ", bytesPerRpc));
                bestBytesPerRpc = Math.min(bestBytesPerRpc, bytesPerRpc);
            }

            assertTrue(loop.completed >= 20_000 + rpcsPerWindow);
            assertTrue(driver.context().eventLog().position() > 10L * loop.completed, "events recorded");
            assertTrue(bestBytesPerRpc <= 0.5, "bytes allocated per RPC in each window: " + windows);
        }
        finally
        {
            CloseHelper.closeAll(homa, driver);
        }
    }

    static final class Loop implements MessageHandler
    {
        private final AgentInvoker invoker;
        private final HomaSocket server;
        private final HomaSocket client;
        private final HomaAddress dest;
        private final UnsafeBuffer request = new UnsafeBuffer(new byte[100_000]);
        private final MessageHandler echo;
        int completed;
        private boolean done;

        Loop(final AgentInvoker invoker, final HomaSocket server, final HomaSocket client, final HomaAddress dest)
        {
            this.invoker = invoker;
            this.server = server;
            this.client = client;
            this.dest = dest;
            this.echo = new MessageHandler()
            {
                public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
                    final int length)
                {
                    server.reply(id, buffer, offset, Math.min(length, 64));
                }

                public void onError(final long id, final long cookie, final int errorCode)
                {
                    throw new IllegalStateException("server error " + errorCode);
                }
            };
        }

        void run(final int count, final int[] sizes)
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int i = 0; i < count; i++)
            {
                done = false;
                client.send(dest, request, 0, sizes[i % sizes.length], i);
                while (!done)
                {
                    invoker.invoke();
                    server.poll(echo, 16);
                    client.poll(this, 16);
                    if (System.nanoTime() - deadlineNs > 0)
                    {
                        throw new IllegalStateException("stuck at RPC " + i);
                    }
                }
            }
        }

        public void onMessage(final long id, final long cookie, final DirectBuffer buffer, final int offset,
            final int length)
        {
            completed++;
            done = true;
        }

        public void onError(final long id, final long cookie, final int errorCode)
        {
            throw new IllegalStateException("client error " + errorCode);
        }
    }
}
