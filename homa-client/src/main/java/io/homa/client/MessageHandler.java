package io.homa.client;

import org.agrona.DirectBuffer;

/**
 * Receives whole messages and failed RPCs from {@link HomaSocket#poll(MessageHandler, int)}.
 * <p>
 * The message bytes are read in place from the socket's receive pool: the buffer is valid only during the call,
 * unless the handler calls {@link HomaSocket#retain()}. Ids follow Linux: odd ids are requests (reply to them with
 * {@link HomaSocket#reply(long, DirectBuffer, int, int)}), even ids are responses to this socket's requests.
 */
public interface MessageHandler
{
    /**
     * A whole request or response.
     *
     * @param id     the RPC id: odd for a request (the server RPC's handle), even for a response.
     * @param cookie the completion cookie given with the request (0 for requests).
     * @param buffer the receive pool.
     * @param offset where the message starts in the buffer.
     * @param length message length in bytes.
     */
    void onMessage(long id, long cookie, DirectBuffer buffer, int offset, int length);

    /**
     * A client RPC failed.
     *
     * @param id        the RPC id.
     * @param cookie    the completion cookie given with the request.
     * @param errorCode why, as a {@link HomaError} code (ETIMEDOUT, ENOTCONN, EHOSTUNREACH, ECANCELED, ...).
     */
    void onError(long id, long cookie, int errorCode);
}
