package io.homa.samples;

import io.homa.codecs.HomaWire;
import io.homa.codecs.PacketClassifier;
import io.homa.codecs.PacketWriter;
import io.homa.codecs.RejectReason;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Shows the wire codec end to end: encodes one packet of every type, prints its bytes, then classifies and
 * decodes it again as a receiver would. Run with
 * {@code java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp homa-samples.jar io.homa.samples.CodecDemo}.
 */
public final class CodecDemo
{
    private static final int CLIENT_PORT = 0x8000;
    private static final int SERVER_PORT = 4000;
    private static final long CLIENT_ID = 42;
    private static final long SERVER_ID = CLIENT_ID ^ 1;
    private static final int DEMO_PAYLOAD_LENGTH = 16;

    private CodecDemo()
    {
    }

    /**
     * Entry point.
     *
     * @param args ignored.
     */
    public static void main(final String[] args)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        final PacketWriter writer = new PacketWriter();

        int length = writer.data(
            buffer, 0, CLIENT_PORT, SERVER_PORT, CLIENT_ID, 100_000, 40_000, 40, SERVER_PORT, 1, false, 1424);
        for (int i = 0; i < DEMO_PAYLOAD_LENGTH; i++)
        {
            buffer.putByte(length + i, (byte)('a' + i));
        }
        show(buffer, length + DEMO_PAYLOAD_LENGTH, false);

        length = writer.grant(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID, 60_000, 3);
        show(buffer, length, false);

        length = writer.resend(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID, 0, -1, 7);
        show(buffer, length, false);

        length = writer.rpcUnknown(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID);
        show(buffer, length, false);

        length = writer.busy(buffer, 0, CLIENT_PORT, SERVER_PORT, CLIENT_ID);
        show(buffer, length, false);

        length = writer.cutoffs(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID, HomaWire.defaultCutoffs(), 1);
        show(buffer, length, false);

        length = writer.freeze(buffer, 0, SERVER_PORT, 0, 0);
        show(buffer, length, false);

        length = writer.needAck(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID);
        show(buffer, length, false);

        length = writer.ack(
            buffer, 0, CLIENT_PORT, SERVER_PORT, CLIENT_ID, 2, new long[]{ 38, 40 }, new int[]{ SERVER_PORT, 4001 });
        show(buffer, length, false);

        length = writer.portUnreachable(buffer, 0, SERVER_PORT, CLIENT_PORT, SERVER_ID);
        show(buffer, length, true);
    }

    private static void show(final DirectBuffer buffer, final int length, final boolean overUdp)
    {
        final int type = PacketClassifier.classify(buffer, 0, length, overUdp);
        final String name = type > 0 ? HomaWire.typeName(type) : "REJECTED " + RejectReason.name(type);

        System.out.printf("%-16s %3d B  %s%n", name, length, hex(buffer, length));
        System.out.printf("%-16s        %s%n", "", fields(type, buffer, length));
    }

    private static String fields(final int type, final DirectBuffer buffer, final int length)
    {
        final StringBuilder builder = new StringBuilder()
            .append("sport=").append(HomaWire.sport(buffer, 0))
            .append(" dport=").append(HomaWire.dport(buffer, 0))
            .append(" id=").append(HomaWire.senderId(buffer, 0));

        switch (type)
        {
            case HomaWire.DATA:
                builder.append(" msgLen=").append(HomaWire.messageLength(buffer, 0))
                    .append(" incoming=").append(HomaWire.incoming(buffer, 0))
                    .append(" offset=").append(HomaWire.dataOffset(buffer, 0))
                    .append(" payload=").append(length - HomaWire.DATA_HEADER_LENGTH)
                    .append(" ack=").append(HomaWire.ackClientId(buffer, 0))
                    .append('@').append(HomaWire.ackServerPort(buffer, 0))
                    .append(" cutoffVersion=").append(HomaWire.cutoffVersion(buffer, 0))
                    .append(" retransmit=").append(HomaWire.retransmit(buffer, 0));
                break;

            case HomaWire.GRANT:
                builder.append(" grantOffset=").append(HomaWire.grantOffset(buffer, 0))
                    .append(" priority=").append(HomaWire.grantPriority(buffer, 0));
                break;

            case HomaWire.RESEND:
            {
                final long resendLength = HomaWire.resendLength(buffer, 0);
                builder.append(" resendOffset=").append(HomaWire.resendOffset(buffer, 0))
                    .append(" resendLength=").append(HomaWire.RESEND_ALL == resendLength ? "ALL" : resendLength)
                    .append(" priority=").append(HomaWire.resendPriority(buffer, 0, length));
                break;
            }

            case HomaWire.CUTOFFS:
                builder.append(" cutoffs=[");
                for (int i = 0; i < HomaWire.HOMA_MAX_PRIORITIES; i++)
                {
                    builder.append(0 == i ? "" : ",").append(HomaWire.cutoff(buffer, 0, i));
                }
                builder.append("] version=").append(HomaWire.cutoffsVersion(buffer, 0));
                break;

            case HomaWire.ACK:
            {
                final int numAcks = HomaWire.numAcks(buffer, 0);
                builder.append(" numAcks=").append(numAcks).append(" acks=[");
                for (int i = 0; i < numAcks; i++)
                {
                    builder.append(0 == i ? "" : ",")
                        .append(HomaWire.ackClientId(buffer, 0, i)).append('@')
                        .append(HomaWire.ackServerPort(buffer, 0, i));
                }
                builder.append(']');
                break;
            }

            default:
                break;
        }

        return builder.toString();
    }

    private static String hex(final DirectBuffer buffer, final int length)
    {
        final StringBuilder builder = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++)
        {
            builder.append(String.format("%02x", buffer.getByte(i) & 0xFF));
        }
        return builder.toString();
    }
}
