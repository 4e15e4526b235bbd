package io.homa.client;

/**
 * The failure half of a {@link MessageHandler}, as a lambda: a client RPC that ended without a response.
 */
@FunctionalInterface
public interface ErrorListener
{
    /**
     * A client RPC failed.
     *
     * @param id        the RPC id.
     * @param cookie    the completion cookie given with the request.
     * @param errorCode why, as a {@link HomaError} code (ETIMEDOUT, ENOTCONN, EHOSTUNREACH, ECANCELED, ...).
     */
    void onError(long id, long cookie, int errorCode);
}
