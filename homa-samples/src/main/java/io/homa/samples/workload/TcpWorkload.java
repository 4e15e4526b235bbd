package io.homa.samples.workload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The same workload over TCP, for comparison, shaped like cp_node's TCP mode: every frame is
 * {@code length (int) | id (long) | payload}, the server echoes each request, {@code TCP_NODELAY} everywhere, and
 * the client keeps a pool of connections per server, each carrying one RPC at a time. An RPC waits for a free
 * connection, and its round trip counts from the moment it was due, as a Homa RPC's does.
 */
final class TcpWorkload
{
    static final int HEADER_LENGTH = 12;
    private static final long STOP = -1;

    private TcpWorkload()
    {
    }

    /**
     * Echo server: a thread per connection, until closed.
     */
    static final class Server implements AutoCloseable
    {
        private final ServerSocketChannel channel;
        private final List<SocketChannel> connections = new ArrayList<>();
        private final Thread acceptor;
        private volatile boolean running = true;

        Server(final String address, final int port)
        {
            try
            {
                channel = ServerSocketChannel.open();
                channel.bind(new InetSocketAddress(address, port), 1024);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("tcp server on " + address + ":" + port, ex);
            }
            acceptor = new Thread(this::accept, "tcp-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port()
        {
            return channel.socket().getLocalPort();
        }

        private void accept()
        {
            while (running)
            {
                try
                {
                    final SocketChannel connection = channel.accept();
                    connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    synchronized (connections)
                    {
                        connections.add(connection);
                    }
                    final Thread thread = new Thread(() -> serve(connection), "tcp-serve");
                    thread.setDaemon(true);
                    thread.start();
                }
                catch (final IOException ex)
                {
                    return;
                }
            }
        }

        private static void serve(final SocketChannel connection)
        {
            final ByteBuffer buffer = ByteBuffer.allocateDirect(HEADER_LENGTH + MessageSizeDistribution.MAX_LENGTH);
            try
            {
                while (true)
                {
                    buffer.clear().limit(HEADER_LENGTH);
                    if (!readFully(connection, buffer))
                    {
                        return;
                    }
                    final int length = buffer.getInt(0);
                    buffer.limit(HEADER_LENGTH + length);
                    if (!readFully(connection, buffer))
                    {
                        return;
                    }
                    buffer.flip();
                    while (buffer.hasRemaining())
                    {
                        connection.write(buffer);
                    }
                }
            }
            catch (final IOException ex)
            {
                // The client went away.
            }
        }

        public void close()
        {
            running = false;
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // closing
            }
            synchronized (connections)
            {
                for (final SocketChannel connection : connections)
                {
                    try
                    {
                        connection.close();
                    }
                    catch (final IOException ignore)
                    {
                        // closing
                    }
                }
            }
        }
    }

    /**
     * Client: {@code connections} workers per server take due RPCs from a queue.
     */
    static final class Client implements AutoCloseable
    {
        private final BlockingQueue<long[]> due;
        private final List<Thread> workers = new ArrayList<>();
        private final List<Slowdowns.Samples> samples = new ArrayList<>();
        private final List<SocketChannel> channels = new ArrayList<>();
        private final AtomicLong completed = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();

        Client(final List<InetSocketAddress> servers, final int connectionsPerServer, final int backlog)
        {
            due = new ArrayBlockingQueue<>(backlog);
            for (final InetSocketAddress server : servers)
            {
                for (int i = 0; i < connectionsPerServer; i++)
                {
                    final SocketChannel channel;
                    try
                    {
                        channel = SocketChannel.open(server);
                        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    }
                    catch (final IOException ex)
                    {
                        close();
                        throw new UncheckedIOException("tcp connect to " + server, ex);
                    }
                    channels.add(channel);
                    final Slowdowns.Samples mine = new Slowdowns.Samples();
                    samples.add(mine);
                    final Thread worker = new Thread(() -> work(channel, mine), "tcp-client");
                    worker.setDaemon(true);
                    workers.add(worker);
                }
            }
            workers.forEach(Thread::start);
        }

        /**
         * @param dueNs when the RPC was due (its round trip counts from here).
         * @param bytes request size.
         * @return false if the backlog is full (the RPC is skipped).
         */
        boolean offer(final long dueNs, final int bytes)
        {
            return due.offer(new long[]{ dueNs, bytes });
        }

        long completed()
        {
            return completed.get();
        }

        long failed()
        {
            return failed.get();
        }

        /**
         * Waits until every queued RPC is done or the time is up.
         *
         * @param timeoutNs the longest wait.
         * @param expected  RPCs offered.
         */
        void drain(final long timeoutNs, final long expected)
        {
            final long deadlineNs = System.nanoTime() + timeoutNs;
            while (completed.get() + failed.get() < expected && System.nanoTime() - deadlineNs < 0)
            {
                sleepMs(1);
            }
        }

        Slowdowns.Samples samples()
        {
            final Slowdowns.Samples all = new Slowdowns.Samples();
            synchronized (samples)
            {
                samples.forEach(all::addAll);
            }
            return all;
        }

        private void work(final SocketChannel channel, final Slowdowns.Samples mine)
        {
            final ByteBuffer out = ByteBuffer.allocateDirect(HEADER_LENGTH + MessageSizeDistribution.MAX_LENGTH);
            final ByteBuffer in = ByteBuffer.allocateDirect(HEADER_LENGTH + MessageSizeDistribution.MAX_LENGTH);
            long id = 0;
            try
            {
                while (true)
                {
                    final long[] rpc = due.poll(100, TimeUnit.MILLISECONDS);
                    if (null == rpc)
                    {
                        if (!channel.isOpen())
                        {
                            return;
                        }
                        continue;
                    }
                    if (STOP == rpc[0])
                    {
                        return;
                    }
                    final int bytes = (int)rpc[1];
                    out.clear();
                    out.putInt(bytes).putLong(++id);
                    out.limit(HEADER_LENGTH + bytes).position(HEADER_LENGTH + bytes).flip();
                    while (out.hasRemaining())
                    {
                        channel.write(out);
                    }
                    in.clear().limit(HEADER_LENGTH + bytes);
                    if (!readFully(channel, in) || in.getInt(0) != bytes || in.getLong(4) != id)
                    {
                        failed.incrementAndGet();
                        return;
                    }
                    final long rttNs = System.nanoTime() - rpc[0];
                    synchronized (samples)
                    {
                        mine.add(bytes, rttNs);
                    }
                    completed.incrementAndGet();
                }
            }
            catch (final IOException ex)
            {
                failed.incrementAndGet();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }

        public void close()
        {
            for (final SocketChannel channel : channels)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException ignore)
                {
                    // closing
                }
            }
            for (final Thread worker : workers)
            {
                worker.interrupt();
            }
        }
    }

    private static boolean readFully(final SocketChannel channel, final ByteBuffer buffer) throws IOException
    {
        while (buffer.hasRemaining())
        {
            if (channel.read(buffer) < 0)
            {
                return false;
            }
        }
        return true;
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
