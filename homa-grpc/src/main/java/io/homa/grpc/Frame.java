package io.homa.grpc;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One frame of the gRPC-over-Homa wire format (see the module README): grpc_homa's 21-byte header, then this
 * transport's 8-byte client key, then the initial metadata, the trailing metadata and the message. A Homa message
 * holds one frame, or (a response) several back to back.
 * <pre>
 *   be32 streamId | be32 sequenceNum | be32 initMdBytes | be32 trailMdBytes | be32 messageBytes | u8 flags
 *   be64 clientKey
 *   initMdBytes of metadata | trailMdBytes of metadata | messageBytes of message
 * </pre>
 * A metadata block is a run of entries {@code be32 keyLength, be32 valueLength, key, value}; binary ({@code -bin})
 * values are carried raw.
 */
final class Frame
{
    /** Header bytes before the client key: five be32 fields and the flags byte, as grpc_homa. */
    static final int GRPC_HOMA_HEADER_LENGTH = 21;
    /** Header with the client key. */
    static final int HEADER_LENGTH = GRPC_HOMA_HEADER_LENGTH + 8;
    /** Homa's largest message. */
    static final int MAX_HOMA_MESSAGE = 1_000_000;

    /** The frame carries initial metadata (request headers, or response headers). */
    static final int FLAG_INIT_MD = 1;
    /** The frame carries a whole message (possibly of zero bytes). */
    static final int FLAG_MESSAGE_COMPLETE = 2;
    /** The frame carries trailing metadata: from a server the status, from a client its half-close. */
    static final int FLAG_TRAIL_MD = 4;
    /** The frame travels in a Homa request (client to server). */
    static final int FLAG_REQUEST = 8;
    /** A response that carries nothing: it only completes a Homa RPC the server no longer needs. */
    static final int FLAG_EMPTY_RESPONSE = 16;
    /** The sender cancelled the stream. */
    static final int FLAG_CANCELLED = 32;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    final int streamId;
    final int sequence;
    final int flags;
    final long clientKey;
    /** Serialized metadata as alternating key and value byte arrays (null when absent). */
    final byte[][] initMd;
    final byte[][] trailMd;
    final byte[] message;

    Frame(final int streamId, final int sequence, final int flags, final long clientKey,
        final byte[][] initMd, final byte[][] trailMd, final byte[] message)
    {
        this.streamId = streamId;
        this.sequence = sequence;
        this.flags = flags;
        this.clientKey = clientKey;
        this.initMd = initMd;
        this.trailMd = trailMd;
        this.message = message;
    }

    boolean has(final int flag)
    {
        return 0 != (flags & flag);
    }

    /**
     * @return true for a request that carries nothing: the client only gives the server an RPC to answer.
     */
    boolean isPoll()
    {
        return 0 == (flags & (FLAG_INIT_MD | FLAG_MESSAGE_COMPLETE | FLAG_TRAIL_MD | FLAG_CANCELLED));
    }

    static int metadataLength(final byte[][] md)
    {
        if (null == md)
        {
            return 0;
        }
        int length = 0;
        for (final byte[] part : md)
        {
            length += part.length;
        }
        return length + 4 * md.length;   // a be32 length before each key and each value
    }

    /**
     * @return the encoded length of this frame.
     */
    int encodedLength()
    {
        return HEADER_LENGTH + metadataLength(initMd) + metadataLength(trailMd) + (null == message ? 0 : message.length);
    }

    /**
     * Writes the frame at {@code offset}.
     *
     * @return the offset after it.
     */
    int encode(final MutableDirectBuffer buffer, final int offset)
    {
        final int initLength = metadataLength(initMd);
        final int trailLength = metadataLength(trailMd);
        final int messageLength = null == message ? 0 : message.length;
        buffer.putInt(offset, streamId, BE);
        buffer.putInt(offset + 4, sequence, BE);
        buffer.putInt(offset + 8, initLength, BE);
        buffer.putInt(offset + 12, trailLength, BE);
        buffer.putInt(offset + 16, messageLength, BE);
        buffer.putByte(offset + 20, (byte)flags);
        buffer.putLong(offset + GRPC_HOMA_HEADER_LENGTH, clientKey, BE);
        int at = offset + HEADER_LENGTH;
        at = putMetadata(buffer, at, initMd);
        at = putMetadata(buffer, at, trailMd);
        if (messageLength > 0)
        {
            buffer.putBytes(at, message);
            at += messageLength;
        }
        return at;
    }

    private static int putMetadata(final MutableDirectBuffer buffer, final int offset, final byte[][] md)
    {
        int at = offset;
        if (null != md)
        {
            for (int i = 0; i + 1 < md.length; i += 2)
            {
                buffer.putInt(at, md[i].length, BE);
                buffer.putInt(at + 4, md[i + 1].length, BE);
                buffer.putBytes(at + 8, md[i]);
                buffer.putBytes(at + 8 + md[i].length, md[i + 1]);
                at += 8 + md[i].length + md[i + 1].length;
            }
        }
        return at;
    }

    /**
     * Decodes every frame of a Homa message, copying their contents out of {@code buffer}.
     *
     * @throws IllegalArgumentException for a malformed message.
     */
    static List<Frame> decodeAll(final DirectBuffer buffer, final int offset, final int length)
    {
        final List<Frame> frames = new ArrayList<>(1);
        int at = offset;
        final int end = offset + length;
        while (at < end)
        {
            if (end - at < HEADER_LENGTH)
            {
                throw new IllegalArgumentException("truncated frame header: " + (end - at) + " bytes");
            }
            final int streamId = buffer.getInt(at, BE);
            final int sequence = buffer.getInt(at + 4, BE);
            final int initLength = buffer.getInt(at + 8, BE);
            final int trailLength = buffer.getInt(at + 12, BE);
            final int messageLength = buffer.getInt(at + 16, BE);
            final int flags = buffer.getByte(at + 20) & 0xFF;
            final long clientKey = buffer.getLong(at + GRPC_HOMA_HEADER_LENGTH, BE);
            at += HEADER_LENGTH;
            if (initLength < 0 || trailLength < 0 || messageLength < 0 ||
                (long)initLength + trailLength + messageLength > end - at)
            {
                throw new IllegalArgumentException("frame lengths exceed the message: " + initLength + "/" +
                    trailLength + "/" + messageLength + " in " + (end - at));
            }
            final byte[][] initMd = 0 != (flags & FLAG_INIT_MD) ? getMetadata(buffer, at, initLength) : null;
            at += initLength;
            final byte[][] trailMd = 0 != (flags & FLAG_TRAIL_MD) ? getMetadata(buffer, at, trailLength) : null;
            at += trailLength;
            byte[] message = null;
            if (0 != (flags & FLAG_MESSAGE_COMPLETE))
            {
                message = new byte[messageLength];
                buffer.getBytes(at, message);
            }
            at += messageLength;
            frames.add(new Frame(streamId, sequence, flags, clientKey, initMd, trailMd, message));
        }
        return frames;
    }

    private static byte[][] getMetadata(final DirectBuffer buffer, final int offset, final int length)
    {
        final List<byte[]> parts = new ArrayList<>();
        int at = offset;
        final int end = offset + length;
        while (at < end)
        {
            if (end - at < 8)
            {
                throw new IllegalArgumentException("truncated metadata entry");
            }
            final int keyLength = buffer.getInt(at, BE);
            final int valueLength = buffer.getInt(at + 4, BE);
            at += 8;
            if (keyLength < 0 || valueLength < 0 || (long)keyLength + valueLength > end - at)
            {
                throw new IllegalArgumentException("metadata entry exceeds its block");
            }
            final byte[] key = new byte[keyLength];
            buffer.getBytes(at, key);
            at += keyLength;
            final byte[] value = new byte[valueLength];
            buffer.getBytes(at, value);
            at += valueLength;
            parts.add(key);
            parts.add(value);
        }
        return parts.toArray(new byte[0][]);
    }
}
