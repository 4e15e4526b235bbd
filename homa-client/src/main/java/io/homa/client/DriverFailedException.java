package io.homa.client;

/**
 * The media driver ended on a fatal error (for instance a corrupt to-driver ring) and said why in the CnC before it
 * stopped; {@link #reason()} is what it wrote. A {@link DriverTimeoutException} (same errno, ETIMEDOUT), so code
 * that already treats "the driver is gone" (a catch of DriverTimeoutException, a server loop that ends on it) goes on
 * working unchanged, and only code that wants the cause needs to know this type.
 */
public final class DriverFailedException extends DriverTimeoutException
{
    private static final long serialVersionUID = 1L;

    private final String reason;

    /**
     * @param reason    what the driver wrote before it stopped.
     * @param directory the driver directory, for the message.
     */
    public DriverFailedException(final String reason, final String directory)
    {
        super("the driver in " + directory + " failed: " + reason);
        this.reason = reason;
    }

    /**
     * @return what the driver wrote before it stopped.
     */
    public String reason()
    {
        return reason;
    }
}
