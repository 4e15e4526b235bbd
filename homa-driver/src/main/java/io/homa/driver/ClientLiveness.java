package io.homa.driver;

import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.ScopedCounterLabels;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * The driver's side of client liveness, run by the conductor: every command that names a client (keepalives
 * above all) refreshes it; a client silent for the liveness timeout — killed, hung, partitioned from the CnC — is
 * timed out: its sockets close, which ends their RPCs and frees their receive pools and send regions, and the
 * client is told on the broadcast in case it was only slow.
 * <p>
 * A client that dies between claiming and committing a record on the to-driver ring would block every other
 * client's commands; when the ring's consumer position has not moved for the liveness timeout while records wait,
 * the stuck record is skipped (as Aeron does).
 * <p>
 * A client's life is visible three ways: the event log records {@link EventType#CLIENT_CONNECTED},
 * {@link EventType#CLIENT_CLOSED} and {@link EventType#CLIENT_TIMEOUT} (rpc id = the client's id), the driver log
 * says so ({@link DriverLog}), and while connected it has its own {@code client_keepalives client=<id>} counter in
 * the CnC (keepalives and socket commands; its sends and replies count per socket).
 */
final class ClientLiveness
{
    private static final long NULL_TIME = Long.MIN_VALUE;
    /** Counter type id of per-client counters (labels {@code <name> client=<id>}). */
    static final int CLIENT_COUNTER_TYPE_ID = 2;

    private final long livenessTimeoutNs;
    private final long checkIntervalNs;
    private final HomaEngine engine;
    private final ClientProxy clientProxy;
    private final RingBuffer toDriver;
    private final Long2LongHashMap lastSeenNs = new Long2LongHashMap(NULL_TIME);
    /** The credential each client registered with (its first command): only its holder refreshes or closes it. */
    private final Long2LongHashMap credentials = new Long2LongHashMap(0);
    private final LongArrayList expired = new LongArrayList();
    private final AtomicCounter clientsActive;
    private final AtomicCounter clientTimeouts;
    private final AtomicCounter unblocks;
    private final org.agrona.collections.LongLongConsumer collectExpired = this::collectExpired;
    private final EventLog events;
    private final CountersManager countersManager;
    /** Per-client command counters; a client gets none when the counters section is full. */
    private final Long2ObjectHashMap<AtomicCounter> commandCounters = new Long2ObjectHashMap<>();

    private long nextCheckNs;
    private long checkNowNs;
    private long lastConsumerPosition = -1;
    private long consumerPositionChangedNs;

    ClientLiveness(
        final long livenessTimeoutNs,
        final HomaEngine engine,
        final ClientProxy clientProxy,
        final RingBuffer toDriver,
        final SystemCounters counters)
    {
        this(livenessTimeoutNs, engine, clientProxy, toDriver, counters, EventLog.disabled(), null);
    }

    ClientLiveness(
        final long livenessTimeoutNs,
        final HomaEngine engine,
        final ClientProxy clientProxy,
        final RingBuffer toDriver,
        final SystemCounters counters,
        final EventLog events,
        final CountersManager countersManager)
    {
        this.events = events;
        this.countersManager = countersManager;
        this.livenessTimeoutNs = livenessTimeoutNs;
        this.checkIntervalNs = Math.max(1, Math.min(livenessTimeoutNs / 10, 1_000_000_000L));
        this.engine = engine;
        this.clientProxy = clientProxy;
        this.toDriver = toDriver;
        this.clientsActive = counters.get(SystemCounterDescriptor.CLIENTS_ACTIVE);
        this.clientTimeouts = counters.get(SystemCounterDescriptor.CLIENT_TIMEOUTS);
        this.unblocks = counters.get(SystemCounterDescriptor.COMMAND_RING_UNBLOCKS);
    }

    /**
     * A command from this client arrived: it is alive. The first one registers the client with its credential.
     *
     * @param clientId   the client.
     * @param credential what the command carries.
     * @param nowNs      current time.
     * @return false, refreshing nothing, if the client is known with another credential.
     */
    boolean onClientActivity(final long clientId, final long credential, final long nowNs)
    {
        final long known = credentials.get(clientId);
        if (0 != known && known != credential)
        {
            return false;
        }
        if (NULL_TIME == lastSeenNs.put(clientId, nowNs))
        {
            credentials.put(clientId, credential);
            clientsActive.incrementRelease();
            onConnected(clientId);
        }
        countCommand(clientId);
        return true;
    }

    /**
     * @param clientId   the client a command names.
     * @param credential what the command carries.
     * @return true if the client is known and the credential is not its own: the command is not from it.
     */
    boolean isForged(final long clientId, final long credential)
    {
        final long known = credentials.get(clientId);
        return 0 != known && known != credential;
    }

    /**
     * @param clientId the client.
     * @return true if the client is connected now.
     */
    boolean isKnown(final long clientId)
    {
        return lastSeenNs.containsKey(clientId);
    }

    /**
     * A command from a client that only a known client sends (bind, remove, snapshots): refreshes it, but does not
     * make a client out of an id nobody registered (a stale or made-up id would otherwise linger as a phantom).
     *
     * @param clientId the client.
     * @param nowNs    current time.
     */
    void onKnownClientActivity(final long clientId, final long nowNs)
    {
        if (lastSeenNs.containsKey(clientId))
        {
            lastSeenNs.put(clientId, nowNs);
            countCommand(clientId);
        }
    }

    /**
     * The client closed itself.
     *
     * @param clientId the client.
     */
    void onClientClose(final long clientId)
    {
        credentials.remove(clientId);
        if (NULL_TIME != lastSeenNs.remove(clientId))
        {
            clientsActive.decrementRelease();
            final long commands = freeCounters(clientId);
            events.record(EventType.CLIENT_CLOSED, clientId, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            DriverLog.debug("client " + clientId + " closed (" + commands + " keepalives and socket commands)");
        }
    }

    /**
     * @return clients known now.
     */
    int clientCount()
    {
        return lastSeenNs.size();
    }

    /**
     * Times out silent clients and unblocks a stuck command ring, at most every tenth of the timeout.
     *
     * @param nowNs current time.
     * @return work done.
     */
    /**
     * @return when the next check is due.
     */
    long nextCheckNs()
    {
        return nextCheckNs;
    }

    int doWork(final long nowNs)
    {
        if (nowNs - nextCheckNs < 0)
        {
            return 0;
        }
        nextCheckNs = nowNs + checkIntervalNs;
        int work = checkCommandRing(nowNs);

        checkNowNs = nowNs;
        lastSeenNs.forEachLong(collectExpired);
        for (int i = 0, size = expired.size(); i < size; i++)
        {
            final long clientId = expired.getLong(i);
            final long silentNs = nowNs - lastSeenNs.remove(clientId);
            credentials.remove(clientId);
            final int sockets = engine.socketCount();
            engine.onClientClose(clientId);
            final long commands = freeCounters(clientId);
            events.record(EventType.CLIENT_TIMEOUT, clientId, 0, 0, 0, 0, 0, sockets - engine.socketCount(),
                (int)Math.min(Integer.MAX_VALUE, silentNs / 1_000_000), 0, 0);
            DriverLog.warning("client " + clientId + " timed out (silent " + silentNs / 1_000_000 +
                " ms, homa.client.liveness.timeout " + livenessTimeoutNs / 1_000_000 + " ms): its " +
                (sockets - engine.socketCount()) + " sockets closed, " + commands + " keepalives and socket commands seen");
            clientProxy.onClientTimeout(clientId);
            // Counted once everything is freed, so a reader that sees the count sees the freed state.
            clientsActive.decrementRelease();
            clientTimeouts.incrementRelease();
            work++;
        }
        expired.clear();
        return work;
    }

    private void onConnected(final long clientId)
    {
        if (null != countersManager)
        {
            try
            {
                commandCounters.put(clientId, countersManager.newCounter(
                    ScopedCounterLabels.label("client_keepalives", "client", clientId), CLIENT_COUNTER_TYPE_ID,
                    (buffer) -> buffer.putLong(0, clientId)));
            }
            catch (final IllegalStateException ex)
            {
                // The counters section is full (homa.counters.buffer.length): the client works, uncounted.
            }
        }
        events.record(EventType.CLIENT_CONNECTED, clientId, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        DriverLog.debug("client " + clientId + " connected");
    }

    private void countCommand(final long clientId)
    {
        final AtomicCounter counter = commandCounters.get(clientId);
        if (null != counter)
        {
            counter.incrementRelease();
        }
    }

    /**
     * @return the commands the client's counter saw (0 if it had none).
     */
    private long freeCounters(final long clientId)
    {
        final AtomicCounter counter = commandCounters.remove(clientId);
        if (null == counter)
        {
            return 0;
        }
        final long commands = counter.get();
        counter.close();
        return commands;
    }

    private void collectExpired(final long clientId, final long seenNs)
    {
        if (checkNowNs - seenNs > livenessTimeoutNs)
        {
            expired.addLong(clientId);
        }
    }

    private int checkCommandRing(final long nowNs)
    {
        final long consumerPosition = toDriver.consumerPosition();
        if (consumerPosition != lastConsumerPosition)
        {
            lastConsumerPosition = consumerPosition;
            consumerPositionChangedNs = nowNs;
            return 0;
        }
        if (toDriver.producerPosition() > consumerPosition && nowNs - consumerPositionChangedNs > livenessTimeoutNs)
        {
            if (toDriver.unblock())
            {
                unblocks.incrementRelease();
                consumerPositionChangedNs = nowNs;
                return 1;
            }
        }
        return 0;
    }
}
