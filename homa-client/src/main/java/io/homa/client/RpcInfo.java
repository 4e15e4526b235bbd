package io.homa.client;

/**
 * One live RPC as the driver saw it when asked, with the fields Linux's {@code HOMAIOCINFO} reports
 * ({@code struct homa_rpc_info}) plus the timer's view. A snapshot: the RPC moves on as soon as it is taken.
 *
 * @param id               Linux's id: even on the client side, the client's id | 1 on the server side.
 * @param applicationId    the id the application uses: a client RPC's id, or the odd handle a server got with
 *                         the request and replies with.
 * @param completionCookie the cookie given to send (client RPCs); 0 for server RPCs.
 * @param localPort        the Homa port of the socket the RPC belongs to.
 * @param peerIpv4         the other side's IPv4 address.
 * @param peerUdpPort      the other side's UDP port (its driver).
 * @param peerPort         the other side's Homa port.
 * @param state            where the RPC is.
 * @param flags            {@link #FLAG_BUFFER_STALL}, {@link #FLAG_PRIVATE}, {@link #FLAG_RX_READY}.
 * @param txLength         length of the outgoing message, -1 if there is none yet (a server before its reply).
 * @param txSent           bytes of it transmitted at least once.
 * @param txGranted        bytes of it the receiver lets this side send (unscheduled bytes included).
 * @param txPriority       level of scheduled DATA, from the latest GRANT.
 * @param rxLength         length of the incoming message, -1 while unknown (nothing of the response arrived).
 * @param rxRemaining      bytes of it not received yet.
 * @param rxGaps           ranges missing below the highest byte received.
 * @param rxGapBytes       bytes in those ranges.
 * @param rxGranted        bytes of it the sender may send (unscheduled bytes included).
 * @param silentTicks      timer ticks without a sign of life from the peer.
 * @param resends          RESEND packets this side sent for the RPC.
 * @param retransmits      DATA packets this side sent again for it.
 */
public record RpcInfo(
    long id,
    long applicationId,
    long completionCookie,
    int localPort,
    int peerIpv4,
    int peerUdpPort,
    int peerPort,
    State state,
    int flags,
    int txLength,
    int txSent,
    int txGranted,
    int txPriority,
    int rxLength,
    int rxRemaining,
    int rxGaps,
    int rxGapBytes,
    int rxGranted,
    int silentTicks,
    int resends,
    int retransmits)
{
    /** The incoming message waits for receive-pool space (Linux HOMA_RPC_BUF_STALL). */
    public static final int FLAG_BUFFER_STALL = 1;
    /** A client RPC sent with {@link HomaSocket#FLAG_PRIVATE} (Linux HOMA_RPC_PRIVATE). */
    public static final int FLAG_PRIVATE = 2;
    /** The incoming message is complete and waits for room in the socket's event ring (Linux HOMA_RPC_RX_READY). */
    public static final int FLAG_RX_READY = 4;

    /**
     * Where an RPC is, from this host's side.
     */
    public enum State
    {
        /** Client: sending the request. */
        CLIENT_OUTGOING,
        /** Client: request sent, receiving the response. */
        CLIENT_INCOMING,
        /** Server: receiving the request. */
        SERVER_INCOMING,
        /** Server: the application has the request and has not replied. */
        SERVER_IN_SERVICE,
        /** Server: sending the response, then waiting for the client's ack. */
        SERVER_OUTGOING,
        /** A state this client version does not know. */
        UNKNOWN
    }

    /**
     * @return true for this host's side of an RPC it started (even id).
     */
    public boolean isClient()
    {
        return 0 == (id & 1);
    }

    /**
     * @return the other side as an address to send to.
     * @throws HomaException EINVAL if a port is 0 (a peer that sent from port 0).
     */
    public HomaAddress peer()
    {
        return HomaAddress.of(peerIpv4, peerUdpPort, peerPort);
    }

    /**
     * @return the other side as {@code a.b.c.d:udpPort/port}.
     */
    public String peerToString()
    {
        return HomaAddress.ipv4ToString(peerIpv4) + ":" + peerUdpPort + "/" + peerPort;
    }

    /**
     * @return bytes of the incoming message received so far (0 while its length is unknown).
     */
    public int rxReceived()
    {
        return rxLength < 0 ? 0 : rxLength - rxRemaining;
    }
}
