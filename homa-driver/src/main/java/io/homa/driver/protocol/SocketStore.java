package io.homa.driver.protocol;

import java.nio.ByteBuffer;

/**
 * Where a socket's memory (the layout of {@code SocketFileDescriptor}: rings, receive pool, send region) comes from:
 * a port, so the engine does no I/O of its own. The driver maps a file per socket that its client maps too
 * ({@code io.homa.driver.MappedSocketStore}); a simulator or a test uses plain direct memory
 * ({@link DirectSocketStore}).
 */
public interface SocketStore
{
    /**
     * Memory for a new socket.
     *
     * @param socketId    the socket.
     * @param lengthBytes bytes of zeroed, direct (native-addressable) memory.
     * @return the memory, position 0.
     * @throws RuntimeException if it cannot be had (the engine answers the client with ENOMEM).
     */
    ByteBuffer create(long socketId, long lengthBytes);

    /**
     * The socket has closed and no packet points into its memory any more: give it back.
     *
     * @param socketId the socket.
     * @param memory   what {@link #create} returned for it.
     */
    void release(long socketId, ByteBuffer memory);
}
