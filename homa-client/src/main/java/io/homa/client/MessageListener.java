package io.homa.client;

import org.agrona.DirectBuffer;

/**
 * The message half of a {@link MessageHandler}, as a lambda: a whole request or response, read in place.
 * Combine one with an {@link ErrorListener} by {@link MessageHandler#of(MessageListener, ErrorListener)}, or give
 * one to {@link HomaSocket#call(HomaAddress, DirectBuffer, int, int, long, MessageListener)}.
 */
@FunctionalInterface
public interface MessageListener
{
    /**
     * A whole request or response; the bytes are valid only during the call (see {@link MessageHandler}).
     *
     * @param id     the RPC id: odd for a request, even for a response.
     * @param cookie the completion cookie given with the request (0 for requests).
     * @param buffer the receive pool.
     * @param offset where the message starts in the buffer.
     * @param length message length in bytes.
     */
    void onMessage(long id, long cookie, DirectBuffer buffer, int offset, int length);
}
