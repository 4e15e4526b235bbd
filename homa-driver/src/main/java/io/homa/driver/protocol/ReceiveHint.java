package io.homa.driver.protocol;

import org.agrona.DirectBuffer;

/**
 * Receive in place: where the next DATA payload most likely belongs, so the transport can have the kernel scatter
 * the datagram (header into the receive buffer, payload straight into a receive-pool block) and the engine's copy
 * into the pool disappears. The guess is the next bytes of the message that got the last DATA, while that message
 * arrived in order (no gaps: nothing beyond its received end may be overwritten). On loopback a 1 MB echo moves its
 * payload through user space three times per direction (into the send region, out of the kernel, into the pool);
 * a right guess makes it two.
 * <p>
 * A wrong guess loses nothing: the guessed bytes were not received yet, the message is not complete, so no reader
 * sees them, and the payload is copied from where it landed to where it belongs (the one copy it always had).
 * Single-threaded: the engine's thread asks, receives and handles the packet before asking again.
 */
final class ReceiveHint
{
    private Rpc lastDataRpc;
    /** The guessed range: read through this reference, not the RPC, which the packet itself may end. */
    private DirectBuffer guessPool;
    private int guessIndex;
    /** For the packet being handled: how many payload bytes sit in the guessed pool range (0: none). */
    private int pieceLength;

    /**
     * @param rpc the RPC whose DATA was just taken.
     */
    void dataArrived(final Rpc rpc)
    {
        lastDataRpc = rpc;
    }

    /**
     * Makes a guess for the next receive.
     *
     * @param maxPayloadLength the largest DATA payload the transport can carry.
     * @return bytes available at {@link #address()} (0: no guess, receive as usual).
     */
    int prepare(final int maxPayloadLength)
    {
        guessPool = null;
        final Rpc rpc = lastDataRpc;
        if (null == rpc || (Rpc.SERVER_INCOMING != rpc.state && Rpc.CLIENT_INCOMING != rpc.state) ||
            rpc.isDeliveryPending || null == rpc.socket)
        {
            return 0;
        }
        final IncomingMessage rx = rpc.rx;
        if (!rx.isInitialised() || rx.isComplete() || 0 != rx.gapCount() || rx.poolOffset() < 0)
        {
            return 0;
        }
        final int next = rx.recvEnd();
        guessPool = rpc.socket.poolBuffer;
        guessIndex = rx.poolOffset() + next;
        return Math.min(rx.length() - next, maxPayloadLength);
    }

    /**
     * @return native address of the guessed range (valid after {@link #prepare} returned more than 0).
     */
    long address()
    {
        return guessPool.addressOffset() + guessIndex;
    }

    /**
     * The packet about to be handled has its first {@code length} payload bytes in the guessed range (the rest,
     * if any, follow the header in the receive buffer).
     */
    void landed(final int length)
    {
        pieceLength = length;
    }

    /**
     * @return true while the packet being handled has payload bytes in the guessed range, not behind its header.
     */
    boolean hasLanded()
    {
        return pieceLength > 0;
    }

    /**
     * The packet is handled: payloads are in their buffers again.
     */
    void clear()
    {
        pieceLength = 0;
    }

    /**
     * Puts a DATA payload into its pool block, from wherever it landed.
     *
     * @param pool          the destination socket's pool.
     * @param poolIndex     where the payload goes in it.
     * @param buffer        the packet's buffer.
     * @param payloadIndex  where the payload starts in it (what did not land in the guessed range starts here).
     * @param payloadLength payload bytes.
     * @return true if the payload was already where it belongs (a right guess: no copy).
     */
    boolean copyPayload(
        final org.agrona.MutableDirectBuffer pool,
        final int poolIndex,
        final DirectBuffer buffer,
        final int payloadIndex,
        final int payloadLength)
    {
        final int inGuess = Math.min(pieceLength, payloadLength);
        boolean inPlace = false;
        if (inGuess > 0)
        {
            inPlace = guessPool == pool && guessIndex == poolIndex;
            if (!inPlace)
            {
                // A wrong guess: move the bytes from where they landed (may overlap in the same block: a memmove).
                pool.putBytes(poolIndex, guessPool, guessIndex, inGuess);
            }
        }
        if (payloadLength > inGuess)
        {
            pool.putBytes(poolIndex + inGuess, buffer, payloadIndex, payloadLength - inGuess);
            inPlace = false;
        }
        return inPlace;
    }
}
