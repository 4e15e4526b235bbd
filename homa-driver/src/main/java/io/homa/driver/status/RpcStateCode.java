package io.homa.driver.status;

/**
 * The states of an RPC in the driver, the one list of them: the engine's RPCs hold one, the event log records its
 * {@link #code()}, tools print its name, and the live states map onto the control protocol's {@code RpcState}
 * (same codes, 1 to 5) for rpc-info answers. As HomaModule's {@code rpc->state}, seen from one side.
 */
public enum RpcStateCode
{
    /** In the engine's pool, not in use. */
    FREE(0),
    /** Client: the request is being sent. */
    CLIENT_OUTGOING(1),
    /** Client: the response is arriving. */
    CLIENT_INCOMING(2),
    /** Server: the request is arriving. */
    SERVER_INCOMING(3),
    /** Server: the request was delivered; the application has not replied yet. */
    SERVER_IN_SERVICE(4),
    /** Server: the response is being sent (or waits for the client's ack). */
    SERVER_OUTGOING(5),
    /** Ended; never seen on a live RPC. */
    DEAD(6);

    private static final RpcStateCode[] BY_CODE = values();

    private final int code;

    RpcStateCode(final int code)
    {
        this.code = code;
    }

    /**
     * @return the state's number in the event log and the control protocol.
     */
    public int code()
    {
        return code;
    }

    /**
     * @param code a state's number, e.g. from the event log.
     * @return its name, or {@code STATE_<code>} for a number no state has.
     */
    public static String nameOf(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code].name() : "STATE_" + code;
    }
}
