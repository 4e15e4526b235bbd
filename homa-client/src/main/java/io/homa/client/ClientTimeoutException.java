package io.homa.client;

/**
 * The driver timed this client out (no keepalive within the client liveness timeout, e.g. after a long pause) and
 * freed its sockets; the client cannot be used any more.
 */
public class ClientTimeoutException extends HomaException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened.
     */
    public ClientTimeoutException(final String message)
    {
        super(HomaError.ETIMEDOUT, message);
    }
}
