package io.homa.client;

import org.agrona.DirectBuffer;

import java.util.Objects;

/**
 * Receives whole messages and failed RPCs from {@link HomaSocket#poll(MessageHandler, int)}.
 * <p>
 * The message bytes are read in place from the socket's receive pool: the buffer is valid only during the call,
 * unless the handler calls {@link HomaSocket#retain()}. Ids follow Linux: odd ids are requests (reply to them with
 * {@link HomaSocket#reply(long, DirectBuffer, int, int)}), even ids are responses to this socket's requests.
 * <p>
 * Either implement both methods, or make one from two lambdas with {@link #of(MessageListener, ErrorListener)};
 * both ways one handler, made once, serves every message without allocating.
 */
public interface MessageHandler extends MessageListener, ErrorListener
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

    /**
     * A handler from two lambdas, e.g. {@code MessageHandler.of((id, cookie, buffer, offset, length) -> ...,
     * (id, cookie, errorCode) -> ...)}. Make it once and reuse it: the calls themselves allocate nothing.
     *
     * @param onMessage gets each message.
     * @param onError   gets each failed RPC.
     * @return the handler.
     */
    static MessageHandler of(final MessageListener onMessage, final ErrorListener onError)
    {
        Objects.requireNonNull(onMessage, "onMessage");
        Objects.requireNonNull(onError, "onError");
        return new MessageHandler()
        {
            public void onMessage(
                final long id, final long cookie, final DirectBuffer buffer, final int offset, final int length)
            {
                onMessage.onMessage(id, cookie, buffer, offset, length);
            }

            public void onError(final long id, final long cookie, final int errorCode)
            {
                onError.onError(id, cookie, errorCode);
            }
        };
    }
}
