package io.homa.driver.protocol;

import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The engine's counters (HomaModule's homa_metrics), looked up once: each part of the engine counts through these
 * fields. The per-type packet counters stay in {@link SystemCounters}.
 */
final class EngineMetrics
{
    final AtomicCounter shortPackets;
    final AtomicCounter unknownTypes;
    final AtomicCounter packetDiscards;
    final AtomicCounter unknownRpcs;
    final AtomicCounter duplicateData;
    final AtomicCounter dataReceivedInPlace;
    final AtomicCounter droppedNoBufs;
    final AtomicCounter replyUnknown;
    /** Conductor-side: the outbound ring had no room (the sender owns control_xmit_errors: one writer each). */
    final AtomicCounter controlRingFull;
    final AtomicCounter bytesRcvd;
    final AtomicCounter sentMsgBytes;
    final AtomicCounter clientRequestsStarted;
    final AtomicCounter clientResponsesDone;
    final AtomicCounter serverRequestsDone;
    final AtomicCounter serverResponsesStarted;
    final AtomicCounter serverResponsesDone;
    final AtomicCounter clientRpcsFailed;
    final AtomicCounter socketsOpen;
    final AtomicCounter rpcsActive;
    final AtomicCounter acksPiggybacked;
    final AtomicCounter resentPackets;
    final AtomicCounter rpcTimeouts;
    final AtomicCounter serverRpcDiscards;
    final AtomicCounter bufferAllocFailures;
    final AtomicCounter bufferWaitingRpcs;
    final AtomicCounter rpcRestarts;
    final AtomicCounter ackedRpcDrops;
    final AtomicCounter unearnedLimitWaits;
    final AtomicCounter peerRpcLimitDrops;
    final AtomicCounter waitingRpcLimitDrops;
    final AtomicCounter peerLimitDrops;
    final AtomicCounter socketLimitRefusals;
    final AtomicCounter timerControlLimitSkips;
    final AtomicCounter freezesRefused;
    final AtomicCounter commandRefusals;
    final AtomicCounter needAckTimeouts;
    final AtomicCounter unreachableServerRpcs;
    final AtomicCounter peersActive;
    final AtomicCounter peerEvictions;
    final AtomicCounter rpcInfoRequests;
    final AtomicCounter eventLogFreezes;

    EngineMetrics(final SystemCounters counters)
    {
        shortPackets = counters.get(SystemCounterDescriptor.SHORT_PACKETS);
        unknownTypes = counters.get(SystemCounterDescriptor.UNKNOWN_PACKET_TYPES);
        packetDiscards = counters.get(SystemCounterDescriptor.PACKET_DISCARDS);
        unknownRpcs = counters.get(SystemCounterDescriptor.UNKNOWN_RPCS);
        duplicateData = counters.get(SystemCounterDescriptor.DUPLICATE_DATA);
        dataReceivedInPlace = counters.get(SystemCounterDescriptor.DATA_RECEIVED_IN_PLACE);
        droppedNoBufs = counters.get(SystemCounterDescriptor.DROPPED_DATA_NO_BUFS);
        replyUnknown = counters.get(SystemCounterDescriptor.REPLY_UNKNOWN_RPCS);
        controlRingFull = counters.get(SystemCounterDescriptor.CONTROL_RING_FULL);
        bytesRcvd = counters.get(SystemCounterDescriptor.BYTES_RCVD);
        sentMsgBytes = counters.get(SystemCounterDescriptor.SENT_MSG_BYTES);
        clientRequestsStarted = counters.get(SystemCounterDescriptor.CLIENT_REQUESTS_STARTED);
        clientResponsesDone = counters.get(SystemCounterDescriptor.CLIENT_RESPONSES_DONE);
        serverRequestsDone = counters.get(SystemCounterDescriptor.SERVER_REQUESTS_DONE);
        serverResponsesStarted = counters.get(SystemCounterDescriptor.SERVER_RESPONSES_STARTED);
        serverResponsesDone = counters.get(SystemCounterDescriptor.SERVER_RESPONSES_DONE);
        clientRpcsFailed = counters.get(SystemCounterDescriptor.CLIENT_RPCS_FAILED);
        socketsOpen = counters.get(SystemCounterDescriptor.SOCKETS_OPEN);
        rpcsActive = counters.get(SystemCounterDescriptor.RPCS_ACTIVE);
        acksPiggybacked = counters.get(SystemCounterDescriptor.ACKS_PIGGYBACKED);
        resentPackets = counters.get(SystemCounterDescriptor.RESENT_PACKETS);
        rpcTimeouts = counters.get(SystemCounterDescriptor.RPC_TIMEOUTS);
        serverRpcDiscards = counters.get(SystemCounterDescriptor.SERVER_RPC_DISCARDS);
        bufferAllocFailures = counters.get(SystemCounterDescriptor.BUFFER_ALLOC_FAILURES);
        bufferWaitingRpcs = counters.get(SystemCounterDescriptor.BUFFER_WAITING_RPCS);
        rpcRestarts = counters.get(SystemCounterDescriptor.RPC_RESTARTS);
        ackedRpcDrops = counters.get(SystemCounterDescriptor.ACKED_RPC_DROPS);
        unearnedLimitWaits = counters.get(SystemCounterDescriptor.UNEARNED_LIMIT_WAITS);
        peerRpcLimitDrops = counters.get(SystemCounterDescriptor.PEER_RPC_LIMIT_DROPS);
        waitingRpcLimitDrops = counters.get(SystemCounterDescriptor.WAITING_RPC_LIMIT_DROPS);
        peerLimitDrops = counters.get(SystemCounterDescriptor.PEER_LIMIT_DROPS);
        socketLimitRefusals = counters.get(SystemCounterDescriptor.SOCKET_LIMIT_REFUSALS);
        timerControlLimitSkips = counters.get(SystemCounterDescriptor.TIMER_CONTROL_LIMIT_SKIPS);
        freezesRefused = counters.get(SystemCounterDescriptor.FREEZES_REFUSED);
        commandRefusals = counters.get(SystemCounterDescriptor.COMMAND_REFUSALS);
        needAckTimeouts = counters.get(SystemCounterDescriptor.NEED_ACK_TIMEOUTS);
        unreachableServerRpcs = counters.get(SystemCounterDescriptor.UNREACHABLE_SERVER_RPCS);
        peersActive = counters.get(SystemCounterDescriptor.PEERS_ACTIVE);
        peerEvictions = counters.get(SystemCounterDescriptor.PEER_EVICTIONS);
        rpcInfoRequests = counters.get(SystemCounterDescriptor.RPC_INFO_REQUESTS);
        eventLogFreezes = counters.get(SystemCounterDescriptor.EVENT_LOG_FREEZES);
    }
}
