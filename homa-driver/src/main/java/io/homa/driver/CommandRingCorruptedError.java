package io.homa.driver;

/**
 * The to-driver ring breaks its own invariants (positions out of order or range, a record header that cannot be):
 * something wrote into the shared file outside the ring's protocol. The command path cannot be trusted again, so
 * this ends the driver as any {@link Error} escaping an agent does (recorded, closed, the standalone driver exits 1)
 * rather than leave a fresh heartbeat over a command path that serves nobody.
 */
public final class CommandRingCorruptedError extends Error
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was found.
     * @param cause   the ring's own failure, or null.
     */
    public CommandRingCorruptedError(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
