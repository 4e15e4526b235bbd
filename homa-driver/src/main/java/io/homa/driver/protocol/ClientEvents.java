package io.homa.driver.protocol;

import io.homa.client.internal.control.OnRpcInfoEncoder;

/**
 * The engine's answers to client commands: a port, so the engine answers the driver's clients through the CnC
 * broadcast ({@code io.homa.driver.ClientProxy}) or a simulated application directly. Messages and errors of RPCs
 * go through each socket's event ring, not through here.
 */
public interface ClientEvents
{
    /**
     * A socket is open.
     *
     * @param correlationId the command's.
     * @param socketId      the new socket.
     * @param port          its port.
     */
    void onSocketReady(long correlationId, long socketId, int port);

    /**
     * A command succeeded.
     *
     * @param correlationId the command's.
     */
    void onOperationSuccess(long correlationId);

    /**
     * A command failed.
     *
     * @param correlationId the command's.
     * @param errorCode     a {@code HomaError} errno.
     * @param message       what went wrong, for people.
     */
    void onError(long correlationId, int errorCode, String message);

    /**
     * @return how many RPC entries one rpc-info answer can carry.
     */
    int maxRpcInfoEntries();

    /**
     * Starts an rpc-info answer; fill the returned entries, then {@link #transmitRpcInfo()}.
     *
     * @param correlationId the command's.
     * @param total         live RPCs matched (may exceed count).
     * @param poolFreeBytes the socket's free pool bytes, or -1 for every socket.
     * @param count         entries that follow.
     * @return the entries' encoder.
     */
    OnRpcInfoEncoder.RpcsEncoder rpcInfo(long correlationId, int total, long poolFreeBytes, int count);

    /**
     * Sends the rpc-info answer started by {@link #rpcInfo}.
     */
    void transmitRpcInfo();
}
