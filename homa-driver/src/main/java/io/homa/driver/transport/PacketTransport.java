package io.homa.driver.transport;

import io.homa.client.HomaError;

/**
 * Moves whole Homa packets between this driver and its peers. A peer is what the transport sees: for UDP an
 * IPv4 address plus a UDP port; over raw IPv6 a key its {@link Ipv6AddressTable} gave the address, port 0. Implementations are non-blocking and allocate nothing per packet; later
 * transports (raw IP, packet rings, batching, fault injection) plug in here.
 */
public interface PacketTransport extends AutoCloseable
{
    /**
     * Sends one packet.
     *
     * @param address  native address of the packet's first byte.
     * @param length   packet length.
     * @param ipv4     destination address.
     * @param port     destination port (transport-specific; UDP port for UDP).
     * @param tos      IP TOS byte for this packet (Homa priority &lt;&lt; 5).
     * @return bytes sent; 0 when the transport would block (try again later); negative -errno on failure.
     */
    int send(long address, int length, int ipv4, int port, int tos);

    /**
     * Sends one packet gathered from two pieces: a header built by the engine and a payload that stays in the
     * socket's send region, so the payload's only copy on the send side is the kernel's.
     *
     * @param headerAddress  native address of the header.
     * @param headerLength   header length.
     * @param payloadAddress native address of the payload.
     * @param payloadLength  payload length (0 for none).
     * @param ipv4           destination address.
     * @param port           destination port.
     * @param tos            IP TOS byte.
     * @return bytes sent; 0 when the transport would block; negative -errno on failure.
     */
    int send(long headerAddress, int headerLength, long payloadAddress, int payloadLength, int ipv4, int port, int tos);

    /**
     * Receives one packet if one is waiting.
     *
     * @param address  native address to write it to.
     * @param capacity bytes available there.
     * @return packet length; -1 when none is waiting; another negative -errno on failure.
     */
    int receive(long address, int capacity);

    /**
     * @return true if {@link #receiveScattered} works (receive in place: see the engine's receive hint).
     */
    default boolean canReceiveScattered()
    {
        return false;
    }

    /**
     * Receives one packet if one is waiting, scattered over three ranges in order: its first {@code headerLength}
     * bytes, then up to {@code hintLength} into the hinted range, then the rest.
     *
     * @return packet length (as {@link #receive}); -1 when none is waiting; another negative -errno on failure.
     */
    default int receiveScattered(
        final long headerAddress,
        final int headerLength,
        final long hintAddress,
        final int hintLength,
        final long restAddress,
        final int restLength)
    {
        throw new UnsupportedOperationException("no scattered receive");
    }

    /**
     * @return source address of the last packet received.
     */
    int lastSourceIpv4();

    /**
     * @return source port of the last packet received.
     */
    int lastSourcePort();

    /**
     * @return IP TOS byte of the last packet received.
     */
    int lastTos();

    /**
     * @return true if the last packet received did not fit and was cut.
     */
    boolean lastTruncated();

    /**
     * @return the local IPv4 address.
     */
    int localIpv4();

    /**
     * @return the local port.
     */
    int localPort();

    /**
     * The descriptors that become readable when this transport has something to receive (packets, ICMP reports):
     * what an idle driver thread sleeps on. Asked once, when the driver wires its threads.
     *
     * @return the descriptors; none for a transport that cannot wake a sleeper (its receiver then polls).
     */
    default int[] pollFds()
    {
        return new int[0];
    }

    /**
     * When the transport next has work that no descriptor announces (a held-back packet falling due).
     *
     * @return a {@code System.nanoTime()}-based time, or {@link Long#MAX_VALUE} for none.
     */
    default long nextDeadlineNs()
    {
        return Long.MAX_VALUE;
    }

    /**
     * @return the largest Homa packet (header + payload) this transport carries in one piece.
     */
    int maxPacketLength();

    /**
     * @return packets the kernel dropped on receive since the transport opened, or -1 if unknown.
     */
    long receiveDrops();

    /**
     * The port a peer is known by on this transport, given the one a client named: UDP keeps it; raw IP has no
     * transport port, so every peer there is (address, 0) whatever the client passed.
     *
     * @param port the port a client named for a peer.
     * @return the port to key the peer with.
     */
    default int peerPort(final int port)
    {
        return port;
    }

    /**
     * The peer key of an IPv6 address, made if it has none: how a transport that speaks IPv6 names such peers to
     * the engine and the control protocol, which know peers by 32-bit keys (see {@link Ipv6AddressTable}).
     * Called on the conductor's thread, for clients; a transport without IPv6 refuses.
     *
     * @param high first eight bytes of the address, network order.
     * @param low  last eight bytes.
     * @return the key (in 0.0.0.0/8), or -EAFNOSUPPORT without IPv6, -EINVAL for an address that is not a
     * unicast peer, -ENOMEM when no more keys can be made.
     */
    default int ipv6PeerKey(final long high, final long low)
    {
        return -HomaError.EAFNOSUPPORT;
    }

    /**
     * Reports peers the network says cannot be reached (ICMP destination-unreachable about our packets, or a send
     * the kernel refused as unreachable), so their RPCs fail fast instead of timing out. Non-blocking.
     *
     * @param handler told about each report.
     * @return reports handled.
     */
    default int pollUnreachable(final UnreachableHandler handler)
    {
        return 0;
    }

    /**
     * Whether {@code send} only queues packets (pointing at the caller's memory) for {@link #flush()} to hand to
     * the kernel in batches. The caller must then flush before it releases that memory. A batching transport
     * returns 0 from {@code send} ("try later") only when it holds none of the caller's memory any more.
     *
     * @return true for a batching transport.
     */
    default boolean isBatching()
    {
        return false;
    }

    /**
     * Hands queued packets to the kernel; what the kernel cannot take now is copied into the transport's own
     * memory and retried by the next flush.
     *
     * @return packets handed over.
     */
    default int flush()
    {
        return 0;
    }

    /**
     * @return true if packets arrive only through {@link #receiveBatch()} ({@link #receive} never returns one).
     */
    default boolean isBatchReceiveOnly()
    {
        return false;
    }

    /**
     * @return how many packets {@link #receiveBatch()} may return at once; 0 when only {@code receive} exists.
     */
    default int receiveBatchLimit()
    {
        return 0;
    }

    /**
     * Receives waiting packets, without blocking, into memory the transport owns; they stay valid until the
     * next call. Read each with the {@code batch*} accessors.
     *
     * @return packets received (0 if none), or -errno.
     */
    default int receiveBatch()
    {
        return 0;
    }

    /**
     * @param i packet index, less than the count {@link #receiveBatch()} returned.
     * @return native address of its first byte.
     */
    default long batchAddress(final int i)
    {
        throw new UnsupportedOperationException();
    }

    /**
     * @param i packet index.
     * @return its length.
     */
    default int batchLength(final int i)
    {
        throw new UnsupportedOperationException();
    }

    /**
     * @param i packet index.
     * @return its source address.
     */
    default int batchSourceIpv4(final int i)
    {
        throw new UnsupportedOperationException();
    }

    /**
     * @param i packet index.
     * @return its source port.
     */
    default int batchSourcePort(final int i)
    {
        throw new UnsupportedOperationException();
    }

    /**
     * @param i packet index.
     * @return true if it did not fit its slot and was cut.
     */
    default boolean batchTruncated(final int i)
    {
        throw new UnsupportedOperationException();
    }

    /**
     * Receives unreachability reports from {@link #pollUnreachable(UnreachableHandler)}.
     */
    @FunctionalInterface
    interface UnreachableHandler
    {
        /**
         * @param ipv4      the peer's address.
         * @param port      the peer's transport port (0 over raw IP).
         * @param homaPort  the Homa port that has no socket, or 0 when the whole peer is unreachable.
         * @param errorCode what the matching client RPCs fail with (ENOTCONN, EHOSTUNREACH, EPROTONOSUPPORT, or
         *                  EAFNOSUPPORT for a peer of the other address family).
         */
        void onUnreachable(int ipv4, int port, int homaPort, int errorCode);
    }

    /**
     * Closes the transport.
     */
    void close();
}
