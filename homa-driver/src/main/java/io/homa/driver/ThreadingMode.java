package io.homa.driver;

/**
 * How the driver's agents (conductor, sender, receiver) are mapped onto threads.
 */
public enum ThreadingMode
{
    /** All three agents share one thread: the best fit for a 2-core host. */
    SHARED,
    /** No driver threads: the application drives the agents through {@link MediaDriver#sharedAgentInvoker()}. */
    INVOKER,
    /**
     * Each agent has its own thread; packets pass between them through single-producer rings. Wants a core per
     * busy thread (with spinning idle strategies) to pay off.
     */
    DEDICATED,
    /** Sender and receiver share one thread, the conductor (protocol engine) has its own. */
    SHARED_NETWORK
}
