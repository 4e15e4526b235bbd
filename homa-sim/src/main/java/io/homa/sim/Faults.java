package io.homa.sim;

import java.util.SplittableRandom;

/**
 * Loss, duplication and reordering on a link, drawn from the run's seed: a packet leaving the link is lost with
 * probability {@code loss}; a packet that survives is duplicated with probability {@code duplicate} (the copy
 * arrives just after it) and delayed by up to {@code reorderNs} with probability {@code reorder}, so packets sent
 * after it overtake it.
 *
 * @param loss      probability a packet is lost.
 * @param duplicate probability a packet arrives twice.
 * @param reorder   probability a packet is delayed.
 * @param reorderNs largest extra delay of a delayed packet.
 */
record Faults(double loss, double duplicate, double reorder, long reorderNs)
{
    /**
     * No faults.
     */
    static final Faults NONE = new Faults(0, 0, 0, 0);

    boolean isNone()
    {
        return 0 == loss && 0 == duplicate && 0 == reorder;
    }

    void apply(final Network network, final Packet packet, final Node peer, final long arrivalNs)
    {
        final SplittableRandom random = network.faultRandom();
        if (loss > 0 && random.nextDouble() < loss)
        {
            network.lost++;
            network.onDrop(packet);
            return;
        }
        long at = arrivalNs;
        if (reorder > 0 && random.nextDouble() < reorder)
        {
            network.reordered++;
            at += 1 + random.nextLong(Math.max(1, reorderNs));
        }
        if (duplicate > 0 && random.nextDouble() < duplicate)
        {
            network.duplicated++;
            final Packet copy = network.newPacket();
            copy.copyFrom(packet);
            network.deliver(copy, peer, at + 1);
        }
        network.deliver(packet, peer, at);
    }
}
