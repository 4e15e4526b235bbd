package io.homa.client;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Zero-copy send: space claimed in a socket's mapped send region with {@link HomaSocket#tryClaim(int, SendClaim)},
 * written in place by the application, then committed as a request or a reply (or aborted). The bytes are never
 * copied on the client side; the driver reads them from the region. Reusable: one instance per thread, no
 * allocation per message. Not thread-safe; do not close the socket while holding a claim.
 */
public final class SendClaim
{
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private HomaSocket socket;
    private int sendOffset = -1;
    private int length;

    /**
     * @return the claimed bytes: index 0 is the message's first byte, {@link #length()} bytes in all.
     * @throws IllegalStateException if nothing is claimed.
     */
    public MutableDirectBuffer buffer()
    {
        ensureClaimed();
        return view;
    }

    /**
     * @return the message length claimed.
     */
    public int length()
    {
        return length;
    }

    /**
     * @return true while space is claimed and neither committed nor aborted.
     */
    public boolean isClaimed()
    {
        return sendOffset >= 0;
    }

    /**
     * Sends the claimed bytes as a request.
     *
     * @param dest   the server.
     * @param cookie given back with the response or failure.
     * @return the RPC id (even).
     */
    public long commitRequest(final HomaAddress dest, final long cookie)
    {
        return commitRequest(dest, cookie, 0);
    }

    /**
     * Sends the claimed bytes as a request.
     *
     * @param dest   the server.
     * @param cookie given back with the response or failure.
     * @param flags  0 or {@link HomaSocket#FLAG_PRIVATE}.
     * @return the RPC id (even).
     * @throws HomaException EINVAL for a null destination or unknown flags (the claim stays), ESHUTDOWN.
     */
    public long commitRequest(final HomaAddress dest, final long cookie, final int flags)
    {
        ensureClaimed();
        if (null == dest)
        {
            throw new HomaException(HomaError.EINVAL, "destination is null");
        }
        if (0 != (flags & ~HomaSocket.FLAG_PRIVATE))
        {
            throw new HomaException(HomaError.EINVAL, "unknown send flags: 0x" + Integer.toHexString(flags));
        }
        socket.checkDestination(dest);
        final HomaSocket socket = this.socket;
        final int offset = sendOffset;
        reset();
        socket.ensureOpenOrFree(offset);
        return socket.submitRequest(dest, offset, length, cookie, flags);
    }

    /**
     * Sends the claimed bytes as the response of a request this socket received.
     *
     * @param id the request's id (odd).
     * @throws HomaException EINVAL for an id that names no request this socket received and has not answered
     *                       (the claim stays), ESHUTDOWN.
     */
    public void commitReply(final long id)
    {
        ensureClaimed();
        socket.checkReplyTarget(id);
        final HomaSocket socket = this.socket;
        final int offset = sendOffset;
        reset();
        socket.ensureOpenOrFree(offset);
        socket.submitReply(id, offset, length);
    }

    /**
     * Gives the claimed space back without sending.
     */
    public void abort()
    {
        if (sendOffset >= 0)
        {
            final HomaSocket socket = this.socket;
            final int offset = sendOffset;
            reset();
            socket.freeSendBlock(offset);
        }
    }

    void claimed(final HomaSocket socket, final UnsafeBuffer region, final int sendOffset, final int length)
    {
        this.socket = socket;
        this.sendOffset = sendOffset;
        this.length = length;
        view.wrap(region, sendOffset, length);
    }

    private void reset()
    {
        sendOffset = -1;
        view.wrap(0, 0);
    }

    private void ensureClaimed()
    {
        if (sendOffset < 0)
        {
            throw new IllegalStateException("nothing claimed");
        }
    }
}
