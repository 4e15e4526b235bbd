package io.homa.grpc;

import io.grpc.InternalMetadata;
import io.grpc.InternalStatus;
import io.grpc.Metadata;
import io.grpc.Status;
import io.homa.client.ClientTimeoutException;
import io.homa.client.DriverTimeoutException;
import io.homa.client.HomaError;
import io.homa.client.HomaException;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Metadata and status conversions shared by the client and server sides, and the errno to status mapping.
 */
final class Wire
{
    /** The method, in the request's initial metadata: "/service/method". */
    static final byte[] PATH = ":path".getBytes(StandardCharsets.US_ASCII);

    private Wire()
    {
    }

    /**
     * @return the metadata as alternating key and value byte arrays, {@code first} (a key and a value) first.
     */
    static byte[][] serialize(final Metadata metadata, final byte[]... first)
    {
        final byte[][] entries = null == metadata ? new byte[0][] : InternalMetadata.serialize(metadata);
        if (0 == first.length)
        {
            return entries;
        }
        final byte[][] all = new byte[first.length + entries.length][];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(entries, 0, all, first.length, entries.length);
        return all;
    }

    static Metadata metadata(final byte[][] entries)
    {
        return null == entries || 0 == entries.length ? new Metadata() : InternalMetadata.newMetadata(entries);
    }

    /**
     * @return the value of the pseudo-header {@code key}, or null.
     */
    static String pseudoHeader(final byte[][] entries, final byte[] key)
    {
        for (int i = 0; i + 1 < entries.length; i += 2)
        {
            if (Arrays.equals(entries[i], key))
            {
                return new String(entries[i + 1], StandardCharsets.US_ASCII);
            }
        }
        return null;
    }

    /**
     * @return {@code entries} without the pseudo-headers (keys starting with ':').
     */
    static byte[][] withoutPseudoHeaders(final byte[][] entries)
    {
        int count = 0;
        for (int i = 0; i + 1 < entries.length; i += 2)
        {
            if (entries[i].length > 0 && ':' == entries[i][0])
            {
                count++;
            }
        }
        if (0 == count)
        {
            return entries;
        }
        final byte[][] rest = new byte[entries.length - 2 * count][];
        int at = 0;
        for (int i = 0; i + 1 < entries.length; i += 2)
        {
            if (!(entries[i].length > 0 && ':' == entries[i][0]))
            {
                rest[at++] = entries[i];
                rest[at++] = entries[i + 1];
            }
        }
        return rest;
    }

    /**
     * @return trailers carrying the status (grpc-status, grpc-message) beside the application's.
     */
    static byte[][] trailers(final Status status, final Metadata trailers)
    {
        final Metadata all = new Metadata();
        if (null != trailers)
        {
            all.merge(trailers);
        }
        all.discardAll(InternalStatus.CODE_KEY);
        all.discardAll(InternalStatus.MESSAGE_KEY);
        all.put(InternalStatus.CODE_KEY, status);
        if (null != status.getDescription())
        {
            all.put(InternalStatus.MESSAGE_KEY, status.getDescription());
        }
        return InternalMetadata.serialize(all);
    }

    /**
     * Takes the status out of received trailers (which keep the rest).
     */
    static Status statusOf(final Metadata trailers)
    {
        final Status code = trailers.get(InternalStatus.CODE_KEY);
        final String message = trailers.get(InternalStatus.MESSAGE_KEY);
        trailers.discardAll(InternalStatus.CODE_KEY);
        trailers.discardAll(InternalStatus.MESSAGE_KEY);
        if (null == code)
        {
            return Status.INTERNAL.withDescription("trailers without grpc-status");
        }
        return null == message ? code : code.withDescription(message);
    }

    /**
     * The status of a Homa RPC that failed with {@code errorCode}.
     */
    static Status statusOfErrno(final int errorCode, final String what)
    {
        final String description = what + ": Homa " + HomaError.name(errorCode);
        return switch (errorCode)
        {
            case HomaError.ENOTCONN, HomaError.EHOSTUNREACH, HomaError.ETIMEDOUT, HomaError.ESHUTDOWN,
                 HomaError.EAGAIN -> Status.UNAVAILABLE.withDescription(description);
            case HomaError.ECANCELED -> Status.CANCELLED.withDescription(description);
            case HomaError.EINVAL -> Status.INTERNAL.withDescription(description);
            default -> Status.UNKNOWN.withDescription(description);
        };
    }

    /**
     * The status of an exception from the Homa client API.
     */
    static Status statusOf(final RuntimeException ex, final String what)
    {
        if (ex instanceof DriverTimeoutException || ex instanceof ClientTimeoutException)
        {
            return Status.UNAVAILABLE.withDescription(what + ": Homa driver gone: " + ex.getMessage()).withCause(ex);
        }
        if (ex instanceof HomaException)
        {
            return statusOfErrno(((HomaException)ex).errorCode(), what).withCause(ex);
        }
        return Status.INTERNAL.withDescription(what).withCause(ex);
    }
}
