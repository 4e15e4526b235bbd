package io.homa.sim;

/**
 * A host or a switch: where a link delivers packets.
 */
interface Node
{
    /**
     * @return the node's number, unique in the network (hosts first).
     */
    int nodeId();

    /**
     * A packet has arrived whole (store and forward).
     *
     * @param packet the packet; the node owns it now.
     * @param nowNs  virtual time.
     */
    void receive(Packet packet, long nowNs);
}
