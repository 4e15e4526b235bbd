package io.homa.driver.protocol;

import org.agrona.concurrent.AtomicBuffer;

/**
 * Where the engine puts the packets it sends: a port, so the same engine runs over the driver's ring to the sender
 * ({@link OutboundPackets}) or a simulated network. A record is claimed, its packet written into {@link #buffer()}
 * at {@code index + OutboundPackets.PREFIX_LENGTH} and committed; the sink sends records in order, and reports in
 * {@link #consumerPosition()} how far it has got, so that memory a packet points into is released only after it.
 */
public interface PacketSink
{
    /**
     * Claims room for one packet written whole into the record.
     *
     * @param packetLength packet bytes.
     * @param ipv4         destination address.
     * @param port         destination port.
     * @param tos          IP TOS byte.
     * @param type         Homa packet type.
     * @return index of the record (pass to {@link #commit(int)}), or a value &le; 0 when the sink is full.
     */
    int claim(int packetLength, int ipv4, int port, int tos, int type);

    /**
     * Claims room for a packet header whose payload stays where it is (the socket's send region).
     *
     * @param headerLength   header bytes written into the record.
     * @param ipv4           destination address.
     * @param port           destination port.
     * @param tos            IP TOS byte.
     * @param type           Homa packet type.
     * @param payloadAddress native address of the payload.
     * @param payloadLength  payload bytes.
     * @return index of the record, or a value &le; 0 when the sink is full.
     */
    int claim(int headerLength, int ipv4, int port, int tos, int type, long payloadAddress, int payloadLength);

    /**
     * @param index a claimed record, now written.
     */
    void commit(int index);

    /**
     * @return the buffer records are written into.
     */
    AtomicBuffer buffer();

    /**
     * @return position after the last record committed.
     */
    long producerPosition();

    /**
     * @return position after the last record the sink has finished with (sent, or dropped for good).
     */
    long consumerPosition();

    /**
     * @return bytes committed and not yet sent.
     */
    int backlogBytes();

    /**
     * @return the sink's capacity in bytes.
     */
    int capacity();

    /**
     * @return the largest packet a record takes.
     */
    int maxPacketLength();
}
