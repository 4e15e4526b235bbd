package io.homa.driver.protocol;

import io.homa.codecs.HomaWire;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.LongArrayQueue;
import org.agrona.collections.Long2ObjectHashMap;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * Open sockets by id and by port, client-port allocation, the clients to wake at the end of a cycle, and the
 * send blocks (and closed sockets) whose release waits until the sender has sent every packet that points into them
 * (HomaModule's homa_sock.c).
 */
final class SocketTable
{
    final Long2ObjectHashMap<DriverSocket> socketsById = new Long2ObjectHashMap<>();
    final Int2ObjectHashMap<DriverSocket> socketsByPort = new Int2ObjectHashMap<>();
    final ArrayList<DriverSocket> sockets = new ArrayList<>();

    /**
     * @return sockets the client holds open (a scan: only socket creation asks, and sockets are bounded).
     */
    int socketCount(final long clientId)
    {
        int count = 0;
        for (int i = 0, size = sockets.size(); i < size; i++)
        {
            if (sockets.get(i).clientId == clientId)
            {
                count++;
            }
        }
        return count;
    }
    /** Sockets that published events while a client thread slept on them: woken once at the end of a cycle. */
    final ArrayList<DriverSocket> socketsToWake = new ArrayList<>();
    private long nextSocketId = 1;
    private int nextClientPort = HomaWire.HOMA_MIN_DEFAULT_PORT;
    final ArrayDeque<DriverSocket> deferredSockets = new ArrayDeque<>();
    private final IntArrayQueue deferredOffsets = new IntArrayQueue(64, Integer.MIN_VALUE);
    private final LongArrayQueue deferredPositions = new LongArrayQueue(64, Long.MIN_VALUE);
    private static final int CLOSE_SOCKET = -1;
    private final PacketSink outbound;

    SocketTable(
        final PacketSink outbound)
    {
        this.outbound = outbound;
    }

    /**
     * @return an id no socket of this driver has had.
     */
    long newSocketId()
    {
        return nextSocketId++;
    }

    int allocateClientPort()
    {
        for (int i = 0; i < 0x8000; i++)
        {
            final int port = nextClientPort;
            nextClientPort = port >= 0xFFFF ? HomaWire.HOMA_MIN_DEFAULT_PORT : port + 1;
            if (!socketsByPort.containsKey(port))
            {
                return port;
            }
        }
        return -1;
    }

    /**
     * Gives a send block back to its client once no queued packet points into it any more.
     */
    void releaseSendBlock(final DriverSocket socket, final int sendOffset)
    {
        if (sendOffset >= 0)
        {
            deferUntilSent(socket, sendOffset);
        }
    }

    private void deferUntilSent(final DriverSocket socket, final int sendOffsetOrClose)
    {
        if (deferredSockets.isEmpty() && outbound.consumerPosition() >= outbound.producerPosition())
        {
            completeDeferred(socket, sendOffsetOrClose);
            return;
        }
        deferredSockets.addLast(socket);
        deferredOffsets.addInt(sendOffsetOrClose);
        deferredPositions.addLong(outbound.producerPosition());
    }

    int drainDeferred()
    {
        int work = 0;
        final long sentPosition = outbound.consumerPosition();
        while (!deferredSockets.isEmpty() && deferredPositions.peekLong() <= sentPosition)
        {
            deferredPositions.pollLong();
            completeDeferred(deferredSockets.pollFirst(), deferredOffsets.pollInt());
            work++;
        }
        return work;
    }

    private static void completeDeferred(final DriverSocket socket, final int sendOffsetOrClose)
    {
        if (CLOSE_SOCKET == sendOffsetOrClose)
        {
            socket.close();
        }
        else if (!socket.isClosed())
        {
            socket.releaseSendBlock(sendOffsetOrClose);
        }
    }

    /**
     * Wakes the client threads that sleep on sockets this cycle published to (one system call per socket).
     */
    public void wakeSleepingClients()
    {
        for (int i = 0, size = socketsToWake.size(); i < size; i++)
        {
            socketsToWake.get(i).wakeWaiters();
        }
        socketsToWake.clear();
    }

    /**
     * Adds a socket just created.
     */
    void add(final DriverSocket socket)
    {
        socketsById.put(socket.socketId, socket);
        socketsByPort.put(socket.port, socket);
        sockets.add(socket);
    }

    /**
     * Forgets a closing socket; its memory goes once no queued packet points into its send region.
     */
    void remove(final DriverSocket socket)
    {
        socketsById.remove(socket.socketId);
        socketsByPort.remove(socket.port);
        sockets.remove(socket);
        deferUntilSent(socket, CLOSE_SOCKET);
    }

    /**
     * Completes every deferred release now: for a close, once the agents have stopped and nothing will be sent.
     */
    void releaseAllDeferred()
    {
        while (!deferredSockets.isEmpty())
        {
            deferredPositions.pollLong();
            completeDeferred(deferredSockets.pollFirst(), deferredOffsets.pollInt());
        }
    }
}
