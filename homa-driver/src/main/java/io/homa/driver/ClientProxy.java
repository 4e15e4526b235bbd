package io.homa.driver;

import io.homa.client.internal.control.OnClientTimeoutEncoder;
import io.homa.client.internal.control.OnErrorEncoder;
import io.homa.client.internal.control.OnOperationSuccessEncoder;
import io.homa.client.internal.control.OnRpcInfoEncoder;
import io.homa.client.internal.control.OnPeerAddressEncoder;
import io.homa.client.internal.control.OnSocketReadyEncoder;
import io.homa.driver.protocol.ClientEvents;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.broadcast.BroadcastTransmitter;

/**
 * Answers client commands on the to-clients broadcast. Responses are encoded into one reused buffer.
 */
public final class ClientProxy implements ClientEvents
{
    private final BroadcastTransmitter transmitter;
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(512);
    private final OnSocketReadyEncoder socketReady = new OnSocketReadyEncoder();
    private final OnOperationSuccessEncoder success = new OnOperationSuccessEncoder();
    private final OnErrorEncoder error = new OnErrorEncoder();
    private final OnClientTimeoutEncoder clientTimeout = new OnClientTimeoutEncoder();
    private final OnRpcInfoEncoder rpcInfo = new OnRpcInfoEncoder();
    private final int maxRpcInfoEntries;
    private final OnPeerAddressEncoder peerAddress = new OnPeerAddressEncoder();

    /**
     * @param transmitter the to-clients broadcast.
     */
    public ClientProxy(final BroadcastTransmitter transmitter)
    {
        this.transmitter = transmitter;
        // One broadcast message at most: a snapshot never laps a reader that keeps up with single answers.
        final int room = transmitter.maxMsgLength() - OnRpcInfoEncoder.BLOCK_LENGTH -
            OnRpcInfoEncoder.RpcsEncoder.sbeHeaderSize();
        maxRpcInfoEntries = Math.max(0, Math.min(room / OnRpcInfoEncoder.RpcsEncoder.sbeBlockLength(), 0xFFFF));
    }

    /**
     * @param correlationId the command's correlation id.
     * @param socketId      the new socket.
     * @param port          its port.
     */
    public void onSocketReady(final long correlationId, final long socketId, final int port)
    {
        socketReady.wrap(buffer, 0).correlationId(correlationId).socketId(socketId).port(port);
        transmitter.transmit(OnSocketReadyEncoder.TEMPLATE_ID, buffer, 0, OnSocketReadyEncoder.BLOCK_LENGTH);
    }

    /**
     * @param correlationId the command's correlation id.
     */
    public void onOperationSuccess(final long correlationId)
    {
        success.wrap(buffer, 0).correlationId(correlationId);
        transmitter.transmit(
            OnOperationSuccessEncoder.TEMPLATE_ID, buffer, 0, OnOperationSuccessEncoder.BLOCK_LENGTH);
    }

    /**
     * @param correlationId the command's correlation id.
     * @param errorCode     a Linux errno value.
     * @param message       what went wrong.
     */
    public void onError(final long correlationId, final int errorCode, final String message)
    {
        error.wrap(buffer, 0).correlationId(correlationId).errorCode(errorCode).errorMessage(message);
        transmitter.transmit(OnErrorEncoder.TEMPLATE_ID, buffer, 0, error.encodedLength());
    }

    /**
     * @return most RPCs one {@code OnRpcInfo} answer holds.
     */
    public int maxRpcInfoEntries()
    {
        return maxRpcInfoEntries;
    }

    /**
     * Starts an {@code OnRpcInfo} answer; fill each entry with {@code next()}, then {@link #transmitRpcInfo()}.
     *
     * @param correlationId  the command's correlation id.
     * @param totalRpcs      RPCs that matched.
     * @param poolAvailBytes free receive-pool bytes of the socket asked for, or -1.
     * @param count          entries that follow, at most {@link #maxRpcInfoEntries()}.
     * @return the entries' encoder.
     */
    public OnRpcInfoEncoder.RpcsEncoder rpcInfo(
        final long correlationId, final int totalRpcs, final long poolAvailBytes, final int count)
    {
        rpcInfo.wrap(buffer, 0).correlationId(correlationId).totalRpcs(totalRpcs).poolAvailBytes(poolAvailBytes);
        return rpcInfo.rpcsCount(count);
    }

    /**
     * Sends the answer {@link #rpcInfo} started.
     */
    public void transmitRpcInfo()
    {
        transmitter.transmit(OnRpcInfoEncoder.TEMPLATE_ID, buffer, 0, rpcInfo.encodedLength());
    }

    /**
     * @param correlationId the ResolveAddress command's correlation id.
     * @param address       the peer address (key) the driver knows the IPv6 address by.
     */
    public void onPeerAddress(final long correlationId, final int address)
    {
        peerAddress.wrap(buffer, 0).correlationId(correlationId).peerAddress(address);
        transmitter.transmit(OnPeerAddressEncoder.TEMPLATE_ID, buffer, 0, OnPeerAddressEncoder.BLOCK_LENGTH);
    }

    /**
     * @param clientId a client the driver timed out.
     */
    public void onClientTimeout(final long clientId)
    {
        clientTimeout.wrap(buffer, 0).clientId(clientId);
        transmitter.transmit(OnClientTimeoutEncoder.TEMPLATE_ID, buffer, 0, OnClientTimeoutEncoder.BLOCK_LENGTH);
    }
}
