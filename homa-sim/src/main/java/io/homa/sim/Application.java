package io.homa.sim;

import io.homa.client.internal.control.MessageEventDecoder;
import io.homa.client.internal.control.RpcErrorEventDecoder;
import io.homa.samples.workload.MessageSizeDistribution;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntArrayList;
import org.agrona.collections.LongArrayQueue;
import org.agrona.concurrent.MessageHandler;

import java.util.SplittableRandom;

/**
 * A host's application, open loop: messages arrive as a Poisson process (mean gap chosen so the host's uplink
 * carries the configured share of its rate in DATA packets, headers included), with sizes from the workload and a
 * destination drawn uniformly from the other hosts. Each message is a Homa request; its first 8 bytes carry its
 * number. One-way (as the paper's simulations): the message is done when the server's application has it, and the
 * server answers with 1 byte so the RPC ends. Echo: the server sends the request back, and the RPC is done when
 * the reply reaches the client. A message the send region has no room for waits for released blocks (its wait
 * counts in its latency), without holding up smaller ones that fit: Linux Homa has no send region, and a short
 * message there never waits for a long one's buffer.
 */
final class Application implements MessageHandler, SimEvent
{
    /**
     * What every host's application shares: settings, workload, the message table and the counters.
     */
    static final class Shared
    {
        final SimSettings settings;
        final MessageSizeDistribution sizes;
        final Messages messages = new Messages();
        final Stats stats = new Stats();
        final double meanGapNs;
        long duplicateDeliveries;

        Shared(final SimSettings settings, final MessageSizeDistribution sizes, final double meanWireBytes)
        {
            this.settings = settings;
            this.sizes = sizes;
            final double directions = settings.isEcho ? 2 : 1;
            meanGapNs = settings.load > 0 ?
                meanWireBytes * 8e9 * directions / (settings.load * settings.hostLinkBps) : Double.POSITIVE_INFINITY;
        }
    }

    private static final int MIN_MESSAGE = Long.BYTES;

    final Shared shared;
    private final SimHost host;
    private final SplittableRandom random;
    private final MessageEventDecoder message = new MessageEventDecoder();
    private final RpcErrorEventDecoder error = new RpcErrorEventDecoder();
    private final IntArrayList pendingRequests = new IntArrayList();
    private final LongArrayQueue pendingReplyHandles = new LongArrayQueue();
    private final LongArrayQueue pendingReplyNumbers = new LongArrayQueue();
    private long nextRpcId = 2;
    private int lastMessage = -1;
    /** Server side: keep requests without answering them until {@link #releaseHeld} (a slow server). */
    boolean holdRequests;
    private final LongArrayQueue heldHandles = new LongArrayQueue();
    private final LongArrayQueue heldNumbers = new LongArrayQueue();
    final MessageHandler releaseHandler;

    Application(final SimHost host, final Shared shared)
    {
        this.host = host;
        this.shared = shared;
        this.random = new SplittableRandom(shared.settings.seed * 0x9E37_79B9L + host.index + 1);
        releaseHandler = (msgTypeId, buffer, index, length) -> host.freeSend(buffer.getInt(index));
    }

    /**
     * Schedules the first arrival.
     */
    void start()
    {
        scheduleNext(0);
    }

    private void scheduleNext(final long nowNs)
    {
        if (Double.isInfinite(shared.meanGapNs))
        {
            return;
        }
        final double gap = -Math.log(1.0 - random.nextDouble()) * shared.meanGapNs;
        final long at = nowNs + Math.max(1, Math.round(gap));
        if (at < shared.settings.durationNs)
        {
            host.network.schedule(at, this);
        }
    }

    /**
     * A message arrives at this application.
     */
    public void onEvent(final long nowNs)
    {
        final int hosts = shared.settings.hosts;
        int dst = random.nextInt(hosts - 1);
        if (dst >= host.index)
        {
            dst++;
        }
        final int size = Math.max(MIN_MESSAGE, shared.sizes.sample(random));
        lastMessage = shared.messages.add(nowNs, size, host.index, dst);
        if (!sendRequest(lastMessage))
        {
            shared.stats.sendRegionWaits++;
            pendingRequests.addInt(lastMessage);
        }
        scheduleNext(nowNs);
        host.service(nowNs);
    }

    /**
     * Sends a message already in the table (a test's chosen message), or queues it for send-region space.
     */
    void sendNow(final int messageNumber, final long nowNs)
    {
        if (!sendRequest(messageNumber))
        {
            shared.stats.sendRegionWaits++;
            pendingRequests.addInt(messageNumber);
        }
        host.service(nowNs);
    }

    /**
     * @return requests held at this server.
     */
    int heldCount()
    {
        return heldHandles.size();
    }

    /**
     * Answers every held request, in order.
     */
    void releaseHeld(final long nowNs)
    {
        holdRequests = false;
        while (!heldHandles.isEmpty())
        {
            pendingReplyHandles.addLong(heldHandles.pollLong());
            pendingReplyNumbers.addLong(heldNumbers.pollLong());
        }
        host.service(nowNs);
    }

    public int traceKind()
    {
        return 4;
    }

    public void trace(final Trace trace)
    {
        trace.add(((long)host.index << 32) | shared.messages.count());
    }

    private boolean sendRequest(final int messageNumber)
    {
        final Messages messages = shared.messages;
        final int size = messages.size(messageNumber);
        final int offset = host.allocateSend(size);
        if (offset < 0)
        {
            return false;
        }
        host.sendRegion.putLong(offset, messageNumber);
        final long rpcId = nextRpcId;
        nextRpcId += 2;
        messages.rpcId(messageNumber, rpcId);
        host.engine.onSendRequest(host.socketId, SimHost.CLIENT_ID, rpcId, messageNumber, offset, size, 0,
            Network.ipv4Of(messages.dst(messageNumber)), SimHost.UDP_PORT, SimHost.SERVER_PORT);
        return true;
    }

    private boolean sendReply(final long handle, final int messageNumber)
    {
        final int size = shared.settings.isEcho ? shared.messages.size(messageNumber) : 1;
        final int offset = host.allocateSend(size);
        if (offset < 0)
        {
            return false;
        }
        if (size >= MIN_MESSAGE)
        {
            host.sendRegion.putLong(offset, messageNumber);
        }
        host.engine.onSendReply(host.socketId, SimHost.CLIENT_ID, handle, offset, size);
        return true;
    }

    /**
     * Sends what waited for send-region space, in order, while there is room.
     *
     * @return messages sent.
     */
    int retryPending(final long nowNs)
    {
        int sent = 0;
        while (!pendingReplyHandles.isEmpty())
        {
            if (!sendReply(pendingReplyHandles.peekLong(), (int)pendingReplyNumbers.peekLong()))
            {
                return sent;
            }
            pendingReplyHandles.pollLong();
            pendingReplyNumbers.pollLong();
            sent++;
        }
        // Oldest first, each that fits now.
        for (int i = 0; i < pendingRequests.size(); )
        {
            if (sendRequest(pendingRequests.getInt(i)))
            {
                pendingRequests.removeAt(i);
                sent++;
            }
            else
            {
                i++;
            }
        }
        return sent;
    }

    /**
     * An event from the socket's event ring: a whole message, or an RPC's failure.
     */
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final long nowNs = host.nowNs();
        if (MessageEventDecoder.TEMPLATE_ID == msgTypeId)
        {
            message.wrap(buffer, index, MessageEventDecoder.BLOCK_LENGTH, MessageEventDecoder.SCHEMA_VERSION);
            final long rpcId = message.rpcId();
            final int poolOffset = message.poolOffset();
            final int messageLength = message.length();
            if (1 == (rpcId & 1))
            {
                // A request, at the server.
                final int number = (int)host.pool.getLong(poolOffset);
                host.returnPoolBlock(poolOffset);
                shared.messages.onServerRun(number);
                if (!shared.settings.isEcho)
                {
                    complete(number, messageLength, nowNs);
                }
                if (holdRequests)
                {
                    heldHandles.addLong(rpcId);
                    heldNumbers.addLong(number);
                }
                else if (!pendingReplyHandles.isEmpty() || !sendReply(rpcId, number))
                {
                    shared.stats.sendRegionWaits++;
                    pendingReplyHandles.addLong(rpcId);
                    pendingReplyNumbers.addLong(number);
                }
            }
            else
            {
                // A reply, at the client.
                final int number = (int)message.completionCookie();
                host.returnPoolBlock(poolOffset);
                if (shared.settings.isEcho)
                {
                    complete(number, messageLength, nowNs);
                }
            }
        }
        else if (RpcErrorEventDecoder.TEMPLATE_ID == msgTypeId)
        {
            error.wrap(buffer, index, RpcErrorEventDecoder.BLOCK_LENGTH, RpcErrorEventDecoder.SCHEMA_VERSION);
            shared.messages.fail((int)error.completionCookie(), error.errorCode());
        }
    }

    private void complete(final int number, final int messageLength, final long nowNs)
    {
        if (messageLength != shared.messages.size(number))
        {
            throw new IllegalStateException("message " + number + " arrived with " + messageLength + " bytes, sent " +
                shared.messages.size(number));
        }
        if (shared.messages.complete(number, nowNs))
        {
            shared.stats.deliveredBytes += messageLength;
        }
        else
        {
            shared.duplicateDeliveries++;
        }
    }
}
