package io.homa.client;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.internal.DirectDriver;
import io.homa.client.internal.Wakeups;
import io.homa.client.internal.control.AbortRpcEncoder;
import io.homa.client.internal.control.AddSocketEncoder;
import io.homa.client.internal.control.BindSocketEncoder;
import io.homa.client.internal.control.ClientCloseEncoder;
import io.homa.client.internal.control.ClientKeepaliveEncoder;
import io.homa.client.internal.control.RemoveSocketEncoder;
import io.homa.client.internal.control.RpcInfoRequestEncoder;
import io.homa.client.internal.control.ResolveAddressEncoder;
import io.homa.client.internal.control.SendReplyEncoder;
import io.homa.client.internal.control.SendRequestEncoder;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * Turns client calls into commands on the to-driver ring, encoded in place (claim, write, commit).
 * <p>
 * Thread-safe: the ring takes many producers and each call uses encoders of its own thread.
 */
final class DriverProxy
{
    private static final ThreadLocal<Encoders> ENCODERS = ThreadLocal.withInitial(Encoders::new);

    private final RingBuffer toDriver;
    private final long clientId;
    private final long credential;
    private final AtomicBuffer cncMetaData;
    private final int wakeFd;
    private final DirectDriver directDriver;

    /**
     * @param toDriver    the CnC's to-driver ring.
     * @param clientId    this client.
     * @param credential  this client's secret, on every command: the driver acts in this client's name only with
     *                    it.
     * @param cncMetaData the CnC's metadata, where the driver says it sleeps (null: never ring).
     * @param wakeFd      the driver's wake-up FIFO opened for writing, or -1.
     * @param directDriver the driver in this JVM whose cycle this client may run, or null.
     */
    DriverProxy(
        final RingBuffer toDriver,
        final long clientId,
        final long credential,
        final AtomicBuffer cncMetaData,
        final int wakeFd,
        final DirectDriver directDriver)
    {
        this.directDriver = directDriver;
        this.toDriver = toDriver;
        this.clientId = clientId;
        this.credential = credential;
        this.cncMetaData = cncMetaData;
        this.wakeFd = wakeFd;
    }

    /**
     * @param clientId another client id.
     * @return a proxy on the same ring that writes commands in that id's name, with this client's credential
     *         (tests of stale and buggy clients).
     */
    DriverProxy withClientId(final long clientId)
    {
        return new DriverProxy(toDriver, clientId, credential, cncMetaData, wakeFd, directDriver);
    }

    /**
     * Publishes a command and wakes the driver if it sleeps. The fence orders the ring's release store before the
     * read of the sleeper count (a sleeper counts itself, then looks at the ring once more before it sleeps), so
     * either the driver sees the command or this sees the sleeper; the rung bit makes one client ring per sleep.
     */
    private void commit(final int index)
    {
        toDriver.commit(index);
        // A sleeping driver in this JVM: run its cycle here (the command goes out now, no wake-up on the way);
        // if another thread runs it, or it is awake, it reads the command itself.
        if (null != directDriver && directDriver.isDriverAsleep() && directDriver.tryDutyCycle() >= 0)
        {
            return;
        }
        wakeDriver();
    }

    void wakeDriver()
    {
        if (wakeFd < 0)
        {
            return;
        }
        java.lang.invoke.VarHandle.fullFence();
        while (true)
        {
            final int word = cncMetaData.getIntVolatile(CncFileDescriptor.DRIVER_SLEEPING_OFFSET);
            if (0 == (word & CncFileDescriptor.SLEEPERS_MASK) || 0 != (word & CncFileDescriptor.WAKE_RUNG))
            {
                return;
            }
            if (cncMetaData.compareAndSetInt(
                CncFileDescriptor.DRIVER_SLEEPING_OFFSET, word, word | CncFileDescriptor.WAKE_RUNG))
            {
                Wakeups.writeByte(wakeFd);
                return;
            }
        }
    }

    long nextCorrelationId()
    {
        return toDriver.nextCorrelationId();
    }

    boolean addSocket(final long correlationId)
    {
        final int index = toDriver.tryClaim(AddSocketEncoder.TEMPLATE_ID, AddSocketEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().addSocket.wrap(toDriver.buffer(), index)
            .correlationId(correlationId).clientId(clientId).credential(credential);
        commit(index);
        return true;
    }

    boolean removeSocket(final long correlationId, final long socketId)
    {
        final int index = toDriver.tryClaim(RemoveSocketEncoder.TEMPLATE_ID, RemoveSocketEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().removeSocket.wrap(toDriver.buffer(), index)
            .correlationId(correlationId).clientId(clientId).socketId(socketId).credential(credential);
        commit(index);
        return true;
    }

    boolean bindSocket(final long correlationId, final long socketId, final int port)
    {
        final int index = toDriver.tryClaim(BindSocketEncoder.TEMPLATE_ID, BindSocketEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().bindSocket.wrap(toDriver.buffer(), index)
            .correlationId(correlationId).clientId(clientId).socketId(socketId).port(port).credential(credential);
        commit(index);
        return true;
    }

    boolean sendRequest(
        final long socketId,
        final long rpcId,
        final long cookie,
        final int sendOffset,
        final int length,
        final int flags,
        final HomaAddress dest)
    {
        final int index = toDriver.tryClaim(SendRequestEncoder.TEMPLATE_ID, SendRequestEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().sendRequest.wrap(toDriver.buffer(), index)
            .socketId(socketId)
            .rpcId(rpcId)
            .completionCookie(cookie)
            .sendOffset(sendOffset)
            .length(length)
            .flags(flags)
            .destAddress(dest.ipv4())
            .destUdpPort(dest.udpPort())
            .destPort(dest.port())
            .clientId(clientId)
            .credential(credential);
        commit(index);
        return true;
    }

    boolean sendReply(final long socketId, final long rpcId, final int sendOffset, final int length)
    {
        final int index = toDriver.tryClaim(SendReplyEncoder.TEMPLATE_ID, SendReplyEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().sendReply.wrap(toDriver.buffer(), index)
            .socketId(socketId).rpcId(rpcId).sendOffset(sendOffset).length(length).clientId(clientId)
            .credential(credential);
        commit(index);
        return true;
    }

    boolean abortRpc(final long socketId, final long rpcId, final int error)
    {
        final int index = toDriver.tryClaim(AbortRpcEncoder.TEMPLATE_ID, AbortRpcEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().abortRpc.wrap(toDriver.buffer(), index)
            .socketId(socketId).rpcId(rpcId).errorCode(error).clientId(clientId).credential(credential);
        commit(index);
        return true;
    }

    boolean resolveAddress(final long correlationId, final long addressHigh, final long addressLow)
    {
        final int index = toDriver.tryClaim(ResolveAddressEncoder.TEMPLATE_ID, ResolveAddressEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().resolveAddress.wrap(toDriver.buffer(), index)
            .correlationId(correlationId).clientId(clientId).addressHigh(addressHigh).addressLow(addressLow)
            .credential(credential);
        commit(index);
        return true;
    }

    boolean keepalive()
    {
        final int index = toDriver.tryClaim(ClientKeepaliveEncoder.TEMPLATE_ID, ClientKeepaliveEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().keepalive.wrap(toDriver.buffer(), index).clientId(clientId).credential(credential);
        commit(index);
        return true;
    }

    boolean clientClose()
    {
        final int index = toDriver.tryClaim(ClientCloseEncoder.TEMPLATE_ID, ClientCloseEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().clientClose.wrap(toDriver.buffer(), index).clientId(clientId).credential(credential);
        commit(index);
        return true;
    }

    boolean rpcInfo(final long correlationId, final int port)
    {
        final int index = toDriver.tryClaim(RpcInfoRequestEncoder.TEMPLATE_ID, RpcInfoRequestEncoder.BLOCK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        ENCODERS.get().rpcInfo.wrap(toDriver.buffer(), index)
            .correlationId(correlationId).clientId(clientId).port(port).credential(credential);
        commit(index);
        return true;
    }

    AtomicBuffer buffer()
    {
        return toDriver.buffer();
    }

    private static final class Encoders
    {
        final AddSocketEncoder addSocket = new AddSocketEncoder();
        final RemoveSocketEncoder removeSocket = new RemoveSocketEncoder();
        final BindSocketEncoder bindSocket = new BindSocketEncoder();
        final SendRequestEncoder sendRequest = new SendRequestEncoder();
        final SendReplyEncoder sendReply = new SendReplyEncoder();
        final AbortRpcEncoder abortRpc = new AbortRpcEncoder();
        final ClientKeepaliveEncoder keepalive = new ClientKeepaliveEncoder();
        final ClientCloseEncoder clientClose = new ClientCloseEncoder();
        final RpcInfoRequestEncoder rpcInfo = new RpcInfoRequestEncoder();
        final ResolveAddressEncoder resolveAddress = new ResolveAddressEncoder();
    }
}
