package io.homa.driver;

import org.agrona.DirectBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The receiver-to-conductor ring ({@link InboundPackets}): the receiver writes a packet into a claimed slot and
 * commits only its length; the conductor must see whole packets, in order, or nothing.
 * Results: packets the conductor read during the race, and a check (1 = all intact and in order).
 */
@JCStressTest
@Description("Inbound packet ring: receive into a claimed slot, commit, concurrent read")
@Outcome(id = { "0, 1", "1, 1", "2, 1" }, expect = ACCEPTABLE, desc = "whole packets, in order")
@Outcome(expect = FORBIDDEN, desc = "a torn, lost, repeated or reordered packet")
@State
public class InboundPacketsStress implements InboundPackets.PacketHandler
{
    private static final int LENGTH = 40;

    private final InboundPackets ring = new InboundPackets(1024, 100);
    private int seen;
    private boolean intact = true;

    @Actor
    public void receiver()
    {
        for (int packet = 1; packet <= 2; packet++)
        {
            final int offset = ring.claim();
            for (int i = 0; i < LENGTH; i++)
            {
                ring.buffer().putByte(offset + i, (byte)(packet * 10 + i));
            }
            ring.commit(LENGTH, packet, packet);
        }
    }

    @Actor
    public void conductor(final II_Result r)
    {
        r.r1 = ring.read(this, Integer.MAX_VALUE);
    }

    @Arbiter
    public void arbiter(final II_Result r)
    {
        ring.read(this, Integer.MAX_VALUE);
        r.r2 = intact && 2 == seen ? 1 : 0;
    }

    public void onPacket(
        final DirectBuffer buffer, final int offset, final int length, final int srcIpv4, final int srcPort)
    {
        seen++;
        if (LENGTH != length || seen != srcIpv4 || seen != srcPort)
        {
            intact = false;
            return;
        }
        for (int i = 0; i < LENGTH; i++)
        {
            if (buffer.getByte(offset + i) != (byte)(seen * 10 + i))
            {
                intact = false;
            }
        }
    }
}
