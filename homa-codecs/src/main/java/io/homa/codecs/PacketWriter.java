package io.homa.codecs;

import io.homa.codecs.wire.AckEncoder;
import io.homa.codecs.wire.BusyEncoder;
import io.homa.codecs.wire.CommonHeaderEncoder;
import io.homa.codecs.wire.CutoffsEncoder;
import io.homa.codecs.wire.DataHeaderEncoder;
import io.homa.codecs.wire.FreezeEncoder;
import io.homa.codecs.wire.GrantEncoder;
import io.homa.codecs.wire.HomaAckEncoder;
import io.homa.codecs.wire.NeedAckEncoder;
import io.homa.codecs.wire.PacketType;
import io.homa.codecs.wire.PortUnreachableEncoder;
import io.homa.codecs.wire.ResendEncoder;
import io.homa.codecs.wire.RpcUnknownEncoder;
import org.agrona.MutableDirectBuffer;

import static io.homa.codecs.HomaWire.DOFF_CONTROL;
import static io.homa.codecs.HomaWire.DOFF_DATA;
import static io.homa.codecs.HomaWire.FLAGS;
import static io.homa.codecs.HomaWire.HOMA_MAX_ACKS;
import static io.homa.codecs.HomaWire.RESEND_ALL;
import static io.homa.codecs.HomaWire.URGENT;

/**
 * Writes complete Homa headers with the SBE-generated flyweights, following Linux's sender conventions so
 * that a Linux receiver (or a NIC tuned for hijacked TCP) sees exactly what it would from another Linux host:
 * flags 0x06, urgent 0xB97D, window 0, checksum 0, ack[3] 0, doff 0x50 for control and 0xE0 for DATA,
 * sequence 0 in control packets.
 * <p>
 * Every byte of the header is written, so the target need not be zeroed first. Nothing is allocated. Not
 * thread-safe: keep one instance per sending thread.
 */
public final class PacketWriter
{
    private final DataHeaderEncoder dataEncoder = new DataHeaderEncoder();
    private final GrantEncoder grantEncoder = new GrantEncoder();
    private final ResendEncoder resendEncoder = new ResendEncoder();
    private final RpcUnknownEncoder rpcUnknownEncoder = new RpcUnknownEncoder();
    private final BusyEncoder busyEncoder = new BusyEncoder();
    private final CutoffsEncoder cutoffsEncoder = new CutoffsEncoder();
    private final FreezeEncoder freezeEncoder = new FreezeEncoder();
    private final NeedAckEncoder needAckEncoder = new NeedAckEncoder();
    private final AckEncoder ackEncoder = new AckEncoder();
    private final PortUnreachableEncoder portUnreachableEncoder = new PortUnreachableEncoder();

    /**
     * DATA header. The true offset goes in both sequence and seg.offset, as Linux does for retransmissions,
     * so that receivers with or without the 0xFFFFFFFF rule agree. The caller copies the payload to
     * {@code offset + 56}.
     *
     * @param buffer        to write into.
     * @param offset        of the Homa header.
     * @param sport         sender's port.
     * @param dport         receiver's port.
     * @param senderId      RPC id on this host.
     * @param messageLength total bytes in the message.
     * @param incoming      bytes that will be sent without further grants (or end of a resent range).
     * @param ackClientId   piggy-backed ack client id, 0 for none.
     * @param ackServerPort piggy-backed ack server port.
     * @param cutoffVersion version of the receiver's cutoffs in use, 0 if none received.
     * @param retransmit    true if sent in response to a RESEND.
     * @param dataOffset    offset in the message of the first payload byte.
     * @return header length, {@link HomaWire#DATA_HEADER_LENGTH}.
     */
    public int data(
        final MutableDirectBuffer buffer,
        final int offset,
        final int sport,
        final int dport,
        final long senderId,
        final int messageLength,
        final int incoming,
        final long ackClientId,
        final int ackServerPort,
        final int cutoffVersion,
        final boolean retransmit,
        final int dataOffset)
    {
        final DataHeaderEncoder encoder = dataEncoder.wrap(buffer, offset);
        common(encoder.common(), sport, dport, dataOffset & 0xFFFF_FFFFL, PacketType.DATA, DOFF_DATA, senderId);
        encoder
            .messageLength(messageLength & 0xFFFF_FFFFL)
            .incoming(incoming & 0xFFFF_FFFFL);
        encoder.ack()
            .clientId(ackClientId)
            .serverPort(ackServerPort);
        encoder
            .cutoffVersion(cutoffVersion)
            .retransmit((short)(retransmit ? 1 : 0))
            .putPad((short)0, (short)0, (short)0)
            .segOffset(dataOffset & 0xFFFF_FFFFL);

        return DataHeaderEncoder.BLOCK_LENGTH;
    }

    /**
     * GRANT: the receiver lets the sender transmit everything below {@code grantOffset}.
     *
     * @param buffer      to write into.
     * @param offset      of the Homa header.
     * @param sport       sender's port.
     * @param dport       receiver's port.
     * @param senderId    RPC id on this host.
     * @param grantOffset absolute offset below which the peer may send.
     * @param priority    for the scheduled DATA, 0 to 7.
     * @return header length, {@link HomaWire#GRANT_LENGTH}.
     */
    public int grant(
        final MutableDirectBuffer buffer,
        final int offset,
        final int sport,
        final int dport,
        final long senderId,
        final int grantOffset,
        final int priority)
    {
        final GrantEncoder encoder = grantEncoder.wrap(buffer, offset);
        control(encoder.common(), sport, dport, PacketType.GRANT, senderId);
        encoder
            .grantOffset(grantOffset & 0xFFFF_FFFFL)
            .priority((short)priority);

        return GrantEncoder.BLOCK_LENGTH;
    }

    /**
     * RESEND in the full module's 37-byte form.
     *
     * @param buffer       to write into.
     * @param offset       of the Homa header.
     * @param sport        sender's port.
     * @param dport        receiver's port.
     * @param senderId     RPC id on this host.
     * @param resendOffset first byte to retransmit.
     * @param resendLength bytes to retransmit, or -1 for "everything you have sent".
     * @param priority     for the retransmitted DATA, 0 to 7.
     * @return header length, {@link HomaWire#RESEND_LENGTH}.
     */
    public int resend(
        final MutableDirectBuffer buffer,
        final int offset,
        final int sport,
        final int dport,
        final long senderId,
        final int resendOffset,
        final int resendLength,
        final int priority)
    {
        final ResendEncoder encoder = resendEncoder.wrap(buffer, offset);
        control(encoder.common(), sport, dport, PacketType.RESEND, senderId);
        encoder
            .resendOffset(resendOffset & 0xFFFF_FFFFL)
            .resendLength(-1 == resendLength ? RESEND_ALL : resendLength & 0xFFFF_FFFFL)
            .priority((short)priority);

        return ResendEncoder.BLOCK_LENGTH;
    }

    /**
     * RPC_UNKNOWN: no such RPC here.
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    sender's port.
     * @param dport    receiver's port.
     * @param senderId the RPC id as this host would know it.
     * @return header length, {@link HomaWire#RPC_UNKNOWN_LENGTH}.
     */
    public int rpcUnknown(
        final MutableDirectBuffer buffer, final int offset, final int sport, final int dport, final long senderId)
    {
        control(rpcUnknownEncoder.wrap(buffer, offset).common(), sport, dport, PacketType.RPC_UNKNOWN, senderId);
        return RpcUnknownEncoder.BLOCK_LENGTH;
    }

    /**
     * BUSY: alive, deliberately not sending.
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    sender's port.
     * @param dport    receiver's port.
     * @param senderId RPC id on this host.
     * @return header length, {@link HomaWire#BUSY_LENGTH}.
     */
    public int busy(
        final MutableDirectBuffer buffer, final int offset, final int sport, final int dport, final long senderId)
    {
        control(busyEncoder.wrap(buffer, offset).common(), sport, dport, PacketType.BUSY, senderId);
        return BusyEncoder.BLOCK_LENGTH;
    }

    /**
     * NEED_ACK: the server asks the client to ack a completed RPC.
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    sender's port.
     * @param dport    receiver's port.
     * @param senderId RPC id on this host.
     * @return header length, {@link HomaWire#NEED_ACK_LENGTH}.
     */
    public int needAck(
        final MutableDirectBuffer buffer, final int offset, final int sport, final int dport, final long senderId)
    {
        control(needAckEncoder.wrap(buffer, offset).common(), sport, dport, PacketType.NEED_ACK, senderId);
        return NeedAckEncoder.BLOCK_LENGTH;
    }

    /**
     * FREEZE: debugging aid; Linux sends it with dport 0 and sender id 0.
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    sender's port.
     * @param dport    receiver's port.
     * @param senderId RPC id, usually 0.
     * @return header length, {@link HomaWire#FREEZE_LENGTH}.
     */
    public int freeze(
        final MutableDirectBuffer buffer, final int offset, final int sport, final int dport, final long senderId)
    {
        control(freezeEncoder.wrap(buffer, offset).common(), sport, dport, PacketType.FREEZE, senderId);
        return FreezeEncoder.BLOCK_LENGTH;
    }

    /**
     * PORT_UNREACHABLE: our UDP framing's replacement for ICMP port unreachable. Never send over IP 146.
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    the port that had no socket.
     * @param dport    the sender's port.
     * @param senderId the RPC id from the offending packet.
     * @return header length, {@link HomaWire#PORT_UNREACHABLE_LENGTH}.
     */
    public int portUnreachable(
        final MutableDirectBuffer buffer, final int offset, final int sport, final int dport, final long senderId)
    {
        control(
            portUnreachableEncoder.wrap(buffer, offset).common(), sport, dport, PacketType.PORT_UNREACHABLE, senderId);
        return PortUnreachableEncoder.BLOCK_LENGTH;
    }

    /**
     * CUTOFFS: the receiver's unscheduled priority cutoffs, written as given (entry 0 included).
     *
     * @param buffer   to write into.
     * @param offset   of the Homa header.
     * @param sport    sender's port.
     * @param dport    receiver's port.
     * @param senderId RPC id on this host.
     * @param cutoffs  exactly 8 entries, index = priority.
     * @param version  of these cutoffs.
     * @return header length, {@link HomaWire#CUTOFFS_LENGTH}.
     * @throws IllegalArgumentException if {@code cutoffs} does not have 8 entries.
     */
    public int cutoffs(
        final MutableDirectBuffer buffer,
        final int offset,
        final int sport,
        final int dport,
        final long senderId,
        final int[] cutoffs,
        final int version)
    {
        final int count = CutoffsEncoder.unschedCutoffsLength();
        if (count != cutoffs.length)
        {
            throw new IllegalArgumentException("cutoffs must have " + count + " entries: " + cutoffs.length);
        }

        final CutoffsEncoder encoder = cutoffsEncoder.wrap(buffer, offset);
        control(encoder.common(), sport, dport, PacketType.CUTOFFS, senderId);
        for (int i = 0; i < count; i++)
        {
            encoder.unschedCutoffs(i, cutoffs[i] & 0xFFFF_FFFFL);
        }
        encoder.cutoffVersion(version);

        return CutoffsEncoder.BLOCK_LENGTH;
    }

    /**
     * ACK: always 80 bytes; slots at and beyond {@code numAcks} are zeroed.
     *
     * @param buffer      to write into.
     * @param offset      of the Homa header.
     * @param sport       sender's port.
     * @param dport       receiver's port.
     * @param senderId    the RPC id also acked by this packet.
     * @param numAcks     used slots, 0 to 5.
     * @param clientIds   client ids, at least {@code numAcks} entries.
     * @param serverPorts server ports, at least {@code numAcks} entries.
     * @return header length, {@link HomaWire#ACK_LENGTH}.
     * @throws IllegalArgumentException if {@code numAcks} is negative, above 5, or longer than the arrays.
     */
    public int ack(
        final MutableDirectBuffer buffer,
        final int offset,
        final int sport,
        final int dport,
        final long senderId,
        final int numAcks,
        final long[] clientIds,
        final int[] serverPorts)
    {
        if (numAcks < 0 || numAcks > HOMA_MAX_ACKS || numAcks > clientIds.length || numAcks > serverPorts.length)
        {
            throw new IllegalArgumentException("numAcks out of range: " + numAcks);
        }

        final AckEncoder encoder = ackEncoder.wrap(buffer, offset);
        control(encoder.common(), sport, dport, PacketType.ACK, senderId);
        encoder.numAcks(numAcks);
        for (int i = 0; i < HOMA_MAX_ACKS; i++)
        {
            final boolean used = i < numAcks;
            slot(encoder, i)
                .clientId(used ? clientIds[i] : 0L)
                .serverPort(used ? serverPorts[i] : 0);
        }

        return AckEncoder.BLOCK_LENGTH;
    }

    private static HomaAckEncoder slot(final AckEncoder encoder, final int index)
    {
        switch (index)
        {
            case 0:
                return encoder.ack0();
            case 1:
                return encoder.ack1();
            case 2:
                return encoder.ack2();
            case 3:
                return encoder.ack3();
            default:
                return encoder.ack4();
        }
    }

    private static void control(
        final CommonHeaderEncoder common, final int sport, final int dport, final PacketType type, final long senderId)
    {
        common(common, sport, dport, 0L, type, DOFF_CONTROL, senderId);
    }

    private static void common(
        final CommonHeaderEncoder common,
        final int sport,
        final int dport,
        final long sequence,
        final PacketType type,
        final int doff,
        final long senderId)
    {
        common
            .sport(sport)
            .dport(dport)
            .sequence(sequence)
            .putAck((short)0, (short)0, (short)0)
            .type(type)
            .doff((short)doff)
            .flags((short)FLAGS)
            .window(0)
            .checksum(0)
            .urgent(URGENT)
            .senderId(senderId);
    }
}
