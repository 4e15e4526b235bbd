package io.homa.sim;

/**
 * Something that happens at a point of virtual time: a packet reaching a node, a link finishing a packet, a host's
 * timer, an application's next message.
 */
interface SimEvent
{
    /**
     * @param nowNs the virtual time it happens at.
     */
    void onEvent(long nowNs);

    /**
     * @return a small code naming the kind of event, for the trace.
     */
    int traceKind();

    /**
     * Adds what identifies this event to the trace (called just before {@link #onEvent}).
     *
     * @param trace the trace.
     */
    void trace(Trace trace);
}
