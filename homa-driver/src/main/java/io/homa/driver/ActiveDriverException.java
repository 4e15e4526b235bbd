package io.homa.driver;

/**
 * A live driver already owns the directory: its heartbeat is fresh.
 */
public class ActiveDriverException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message which directory and how fresh the heartbeat is.
     */
    public ActiveDriverException(final String message)
    {
        super(message);
    }
}
