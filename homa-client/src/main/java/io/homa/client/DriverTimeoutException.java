package io.homa.client;

/**
 * The media driver did not answer or its heartbeat went stale: the driver is gone or stuck.
 */
public class DriverTimeoutException extends HomaException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was being waited for.
     */
    public DriverTimeoutException(final String message)
    {
        super(HomaError.ETIMEDOUT, message);
    }
}
