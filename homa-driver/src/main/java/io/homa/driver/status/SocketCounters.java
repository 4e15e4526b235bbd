package io.homa.driver.status;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * One socket's counters in the CnC, so {@code homa-stat}, JMX and Prometheus show traffic by socket: allocated
 * when the socket opens, freed when it closes. Labels are {@code <name> socket=<id> port=<port> client=<id>} (see
 * {@link ScopedCounterLabels}); a bind renames them to the new port.
 */
public final class SocketCounters implements AutoCloseable
{
    /** Counter type id of per-socket counters. */
    public static final int SOCKET_COUNTER_TYPE_ID = 3;

    /** Names of the per-socket counters, in allocation order. */
    public static final String[] NAMES = {
        "socket_messages_sent", "socket_bytes_sent", "socket_messages_received", "socket_bytes_received",
        "socket_rpc_errors" };

    private final CountersManager manager;
    private final long socketId;
    private final long clientId;
    private final AtomicCounter[] counters = new AtomicCounter[NAMES.length];
    /** Messages (requests and responses) this socket's application handed to the driver to send. */
    public final AtomicCounter messagesSent;
    /** Their bytes. */
    public final AtomicCounter bytesSent;
    /** Whole messages delivered to this socket's application. */
    public final AtomicCounter messagesReceived;
    /** Their bytes. */
    public final AtomicCounter bytesReceived;
    /** Client RPCs of this socket that completed with an error. */
    public final AtomicCounter rpcErrors;

    /**
     * @param manager  where to allocate them (the CnC's).
     * @param socketId the socket.
     * @param clientId its client.
     * @param port     its Homa port now.
     */
    public SocketCounters(final CountersManager manager, final long socketId, final long clientId, final int port)
    {
        this.manager = manager;
        this.socketId = socketId;
        this.clientId = clientId;
        int allocated = 0;
        try
        {
            for (; allocated < NAMES.length; allocated++)
            {
                counters[allocated] = manager.newCounter(label(NAMES[allocated], port), SOCKET_COUNTER_TYPE_ID,
                    (buffer) ->
                    {
                        buffer.putLong(0, socketId);
                        buffer.putLong(8, clientId);
                    });
            }
        }
        catch (final RuntimeException ex)
        {
            for (int i = 0; i < allocated; i++)
            {
                counters[i].close();
            }
            throw ex;
        }
        messagesSent = counters[0];
        bytesSent = counters[1];
        messagesReceived = counters[2];
        bytesReceived = counters[3];
        rpcErrors = counters[4];
    }

    private String label(final String name, final int port)
    {
        return ScopedCounterLabels.label(name, "socket", socketId, "port", port, "client", clientId);
    }

    /**
     * The socket was bound to another port: the labels say so.
     *
     * @param port the new port.
     */
    public void port(final int port)
    {
        for (int i = 0; i < NAMES.length; i++)
        {
            manager.setCounterLabel(counters[i].id(), label(NAMES[i], port));
        }
    }

    /**
     * Frees the counters (the socket closed).
     */
    public void close()
    {
        for (final AtomicCounter counter : counters)
        {
            counter.close();
        }
    }
}
