package io.homa.client;

/**
 * A Homa call failed; {@link #errorCode()} says why with a Linux errno value (see {@link HomaError}).
 */
public class HomaException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int errorCode;

    /**
     * @param errorCode a {@link HomaError} code.
     * @param message   what went wrong, for a person.
     */
    public HomaException(final int errorCode, final String message)
    {
        super(HomaError.name(errorCode) + ": " + message);
        this.errorCode = errorCode;
    }

    /**
     * @return the {@link HomaError} code.
     */
    public int errorCode()
    {
        return errorCode;
    }

    /**
     * @return the code's errno name, e.g. "ETIMEDOUT".
     */
    public String errorName()
    {
        return HomaError.name(errorCode);
    }
}
