package io.homa.sim;

import io.homa.client.HomaError;
import io.homa.codecs.HomaWire;
import io.homa.driver.protocol.RecoverySettings;
import io.homa.driver.status.SystemCounterDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Locale;
import java.util.function.BooleanSupplier;

import static io.homa.driver.status.SystemCounterDescriptor.ACKED_RPC_DROPS;
import static io.homa.driver.status.SystemCounterDescriptor.DUPLICATE_DATA;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_RCVD_DATA;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_BUSY;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_GRANT;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_NEED_ACK;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_RESEND;
import static io.homa.driver.status.SystemCounterDescriptor.PACKETS_SENT_RPC_UNKNOWN;
import static io.homa.driver.status.SystemCounterDescriptor.RESENT_PACKETS;
import static io.homa.driver.status.SystemCounterDescriptor.RPCS_ACTIVE;
import static io.homa.driver.status.SystemCounterDescriptor.RPC_RESTARTS;
import static io.homa.driver.status.SystemCounterDescriptor.RPC_TIMEOUTS;
import static io.homa.driver.status.SystemCounterDescriptor.SERVER_RESPONSES_DONE;
import static io.homa.driver.status.SystemCounterDescriptor.SERVER_RPC_DISCARDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loss-recovery scenarios of {@code LossRecoveryTest} (homa-system-tests) on the simulator: two real engines,
 * host 0 the client and host 1 the server, one echo RPC, chosen packets lost (by type and index, where they
 * arrive) or copied by {@link DropRules}, Linux's timer settings (1 ms tick, RESEND after 5 silent ticks, timeout
 * after 100). Virtual time, so each scenario takes the protocol's own milliseconds (printed, and bounded where the
 * protocol fixes them) and a few milliseconds of wall time; messages are cut into 1,500-byte packets with Linux's
 * 40,000 unscheduled bytes, so a request past that also needs GRANTs, which the real-time test avoided.
 */
class LossScenarioTest
{
    private static final int CLIENT = 0;
    private static final int SERVER = 1;
    private static final long MS = 1_000_000L;
    /** Payload of a full DATA packet here. */
    private static final int PAYLOAD = 1_500 - Packet.IP_UDP_OVERHEAD - HomaWire.DATA_HEADER_LENGTH;
    /** Unscheduled and scheduled bytes both: 41 packets. */
    private static final int MESSAGE = 60_000;
    private static final int PACKETS = (MESSAGE + PAYLOAD - 1) / PAYLOAD;

    private Simulation sim;
    private String name;

    @org.junit.jupiter.api.BeforeEach
    void before(final TestInfo info)
    {
        name = info.getDisplayName();
    }

    @AfterEach
    void after()
    {
        if (null != sim)
        {
            sim.close();
        }
    }

    private static SimSettings twoHosts()
    {
        return new SimSettings().hosts(2).load(0).echo(true).perHostCounters(true).durationNs(0)
            .poolBytes(1 << 20).sendRegionBytes(1 << 20);
    }

    private Simulation start(final SimSettings settings)
    {
        sim = new Simulation(settings).build();
        return sim;
    }

    private long counter(final int host, final SystemCounterDescriptor descriptor)
    {
        return sim.counter(host, descriptor);
    }

    private void runUntil(final BooleanSupplier condition, final long limitNs, final String what)
    {
        assertTrue(sim.runUntil(condition, limitNs), what + " by " + limitNs / MS + " ms of virtual time (now " +
            sim.nowNs() / 1e6 + " ms; client " + sim.host(CLIENT).engine.activeRpcCount() + " RPCs, server " +
            sim.host(SERVER).engine.activeRpcCount() + ")");
    }

    /**
     * One echo RPC to the end: the reply is in, the server ran the request once, and neither side keeps state.
     *
     * @return virtual ns until the reply was in.
     */
    private long runOneRpc(final int size)
    {
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, size, 0);
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "reply");
        assertTrue(messages.doneNs(m) > 0, "completed, not failed: error " + messages.errorCode(m));
        final long doneNs = messages.doneNs(m) - messages.startNs(m);
        assertEquals(1, messages.serverRuns(m), "the server's application ran the request once");
        awaitNoRpcState();
        report(doneNs);
        return doneNs;
    }

    private void awaitNoRpcState()
    {
        runUntil(() -> 0 == counter(SERVER, RPCS_ACTIVE) && 0 == counter(CLIENT, RPCS_ACTIVE), sim.nowNs() + 1_000 * MS,
            "no RPC state left");
    }

    private void report(final long ns)
    {
        System.out.printf(Locale.ROOT, "%s: %.3f ms virtual (all state gone at %.3f ms), %d events%n", name, ns / 1e6,
            sim.nowNs() / 1e6, sim.network().events);
    }

    @Test
    void shouldTakeTheUnloadedTimeWithoutLoss()
    {
        start(twoHosts());
        final long ns = runOneRpc(MESSAGE);
        // Twice the message through two 10 Gbit/s links, GRANTs on the way: well under a millisecond.
        assertTrue(ns < MS / 4, "no loss, no wait: " + ns);
        assertEquals(0, counter(SERVER, PACKETS_SENT_RESEND) + counter(CLIENT, PACKETS_SENT_RESEND));
        assertTrue(counter(SERVER, PACKETS_SENT_GRANT) > 0, "the request past 40,000 bytes was granted");
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 13, 26, 40 })
    void shouldRecoverLostDataPacketOfRequest(final int lostIndex)
    {
        // 0 and 13: unscheduled; 26 and 40 (the last): scheduled.
        start(twoHosts());
        sim.drops().drop(SERVER, HomaWire.DATA, lostIndex);
        final long ns = runOneRpc(MESSAGE);
        assertEquals(1, sim.drops().dropped);
        assertTrue(counter(SERVER, PACKETS_SENT_RESEND) >= 1, "the server asked for the gap");
        assertTrue(counter(CLIENT, RESENT_PACKETS) >= 1, "the client resent it");
        // The gap is asked for after 5 silent ticks (1 ms each), not before.
        assertTrue(ns >= 4 * MS && ns < 8 * MS, "RESEND after resend_ticks: " + ns);
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 20, 40 })
    void shouldRecoverLostDataPacketOfResponse(final int lostIndex)
    {
        start(twoHosts());
        sim.drops().drop(CLIENT, HomaWire.DATA, lostIndex);
        final long ns = runOneRpc(MESSAGE);
        assertEquals(1, sim.drops().dropped);
        assertTrue(counter(CLIENT, PACKETS_SENT_RESEND) >= 1);
        assertTrue(counter(SERVER, RESENT_PACKETS) >= 1);
        // Sooner than a lost request packet: the server's NEED_ACK, a tick after its reply went out, makes the
        // client ask for the gap at once.
        assertTrue(ns >= MS && ns < 8 * MS, "RESEND after a tick or resend_ticks: " + ns);
    }

    @Test
    void shouldRecoverFromLostGrants()
    {
        // Every GRANT to the client is lost for the first 3 ms: the request stops at its unscheduled bytes while the
        // server believes more is granted; after 5 silent ticks the server's RESEND for the granted range lets the
        // client go on (the GRANTs get through again by then).
        start(twoHosts());
        sim.drops().dropEvery(CLIENT, HomaWire.GRANT);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 4 * MESSAGE, 0);
        sim.advanceTo(3 * MS);
        assertEquals(0, messages.doneNs(m), "stalled");
        assertTrue(sim.drops().dropped >= 1, "grants lost: " + sim.drops().dropped);
        sim.drops().clear(CLIENT);
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "reply");
        assertTrue(messages.doneNs(m) > 0);
        assertEquals(1, messages.serverRuns(m));
        awaitNoRpcState();
        assertTrue(counter(SERVER, PACKETS_SENT_RESEND) >= 1, "the stalled server asked");
        // A RESEND beyond what the client thinks is granted means lost GRANTs: it raises the grant and answers
        // BUSY, and the bytes go as ordinary DATA, not as retransmissions.
        assertTrue(counter(CLIENT, PACKETS_SENT_BUSY) >= 1, "the client answered BUSY");
        assertEquals(0, counter(CLIENT, RESENT_PACKETS), "nothing it had sent was missing");
        final long ns = messages.doneNs(m) - messages.startNs(m);
        assertTrue(ns >= 4 * MS && ns < 8 * MS, "recovered by the timer: " + ns);
        report(ns);
    }

    @Test
    void shouldRestartRequestWhoseEveryPacketWasLost()
    {
        // The server never hears of the RPC: the client's RESEND gets RPC_UNKNOWN and it sends the request again.
        start(twoHosts());
        sim.drops().drop(SERVER, HomaWire.DATA, 0, 1);
        runOneRpc(2 * PAYLOAD);
        assertEquals(2, sim.drops().dropped);
        assertTrue(counter(SERVER, PACKETS_SENT_RPC_UNKNOWN) >= 1);
        assertTrue(counter(CLIENT, RPC_RESTARTS) >= 1);
    }

    @Test
    void shouldRecoverResponseWhoseEveryPacketWasLost()
    {
        start(twoHosts());
        sim.drops().drop(CLIENT, HomaWire.DATA, 0, 1);
        runOneRpc(2 * PAYLOAD);
        assertEquals(2, sim.drops().dropped);
        assertTrue(counter(CLIENT, PACKETS_SENT_RESEND) >= 1);
        assertTrue(counter(SERVER, RESENT_PACKETS) >= 2);
    }

    @Test
    void shouldKeepServerStateUntilAckArrivesAfterLostAck()
    {
        start(twoHosts());
        sim.drops().drop(SERVER, HomaWire.ACK, 0);
        runOneRpc(100);
        assertEquals(1, sim.drops().dropped, "the first ACK was lost");
        assertTrue(counter(SERVER, PACKETS_SENT_NEED_ACK) >= 2, "so the server asked again");
        assertEquals(1, counter(SERVER, SERVER_RESPONSES_DONE), "and the second ACK ended its RPC");
    }

    @Test
    void shouldRecoverLostResend()
    {
        start(twoHosts());
        sim.drops().drop(SERVER, HomaWire.DATA, 2).drop(CLIENT, HomaWire.RESEND, 0);
        final long ns = runOneRpc(3 * PAYLOAD);
        assertEquals(2, sim.drops().dropped);
        assertTrue(counter(SERVER, PACKETS_SENT_RESEND) >= 2, "a second RESEND after the lost one");
        assertTrue(ns >= 9 * MS, "two resend intervals: " + ns);
    }

    @Test
    void shouldKeepWaitingForSlowServerAfterLostBusy()
    {
        start(twoHosts());
        sim.host(SERVER).application.holdRequests = true;
        sim.drops().drop(CLIENT, HomaWire.BUSY, 0);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 100, 0);
        // The server application sits on the request; the client asks (RESEND), the server says BUSY, the first
        // BUSY is lost, the client asks again; 300 ms is three times the timeout, which the BUSYs hold off.
        runUntil(() -> counter(SERVER, PACKETS_SENT_BUSY) >= 2 && 1 == sim.host(SERVER).application.heldCount(),
            1_000 * MS, "two BUSYs");
        sim.advanceTo(300 * MS);
        assertEquals(0, counter(CLIENT, RPC_TIMEOUTS), "no timeout while the server answers BUSY");
        assertEquals(0, messages.doneNs(m));
        sim.host(SERVER).application.releaseHeld(sim.nowNs());
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "reply");
        assertTrue(messages.doneNs(m) > 0);
        assertEquals(1, sim.drops().dropped);
        awaitNoRpcState();
        report(messages.doneNs(m) - messages.startNs(m));
    }

    @Test
    void shouldRestartRequestWhenServerRestarts()
    {
        start(twoHosts());
        sim.host(SERVER).application.holdRequests = true;
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 3_000, 0);
        runUntil(() -> 1 == sim.host(SERVER).application.heldCount(), 1_000 * MS, "request at the first server");

        // The server dies with the RPC in service; a fresh engine takes its address and port.
        sim.restartHost(SERVER);
        sim.host(SERVER).application.holdRequests = false;
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "reply from the restarted server");
        assertTrue(messages.doneNs(m) > 0);
        assertEquals(2, messages.serverRuns(m), "once by each server: the first never answered");
        assertTrue(counter(SERVER, PACKETS_SENT_RPC_UNKNOWN) >= 1, "the new server did not know the RPC");
        assertTrue(counter(CLIENT, RPC_RESTARTS) >= 1);
        report(messages.doneNs(m) - messages.startNs(m));
    }

    @Test
    void shouldTimeOutRpcToSilentServerWithEtimedout()
    {
        start(twoHosts());
        sim.drops().silence(SERVER);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 100, 0);
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "ETIMEDOUT");
        assertEquals(-1, messages.doneNs(m));
        assertEquals(HomaError.ETIMEDOUT, messages.errorCode(m));
        assertEquals(1, counter(CLIENT, RPC_TIMEOUTS));
        // RESEND(0, -1) at 5, 10, ... 95 silent ticks, ETIMEDOUT at 100.
        assertTrue(counter(CLIENT, PACKETS_SENT_RESEND) >= 2);
        assertEquals(0, counter(CLIENT, RPCS_ACTIVE));
        assertTrue(sim.nowNs() >= 99 * MS && sim.nowNs() <= 102 * MS, "timeout_ticks 100: " + sim.nowNs());
        report(sim.nowNs());
    }

    @Test
    void shouldDiscardServerRpcWhenClientAnswersRpcUnknown()
    {
        // The request's middle packet is lost and the client abandons the RPC: the server's RESEND gets RPC_UNKNOWN.
        // A long resend delay at the server, so the abort surely comes before its first RESEND.
        final RecoverySettings d = RecoverySettings.defaults();
        start(twoHosts().hostRecovery(SERVER, new RecoverySettings(50, d.resendInterval(), 100, d.recentAckTicks(),
            d.recentAcksPerPeer(), d.peerGcThreshold(), d.peerIdleMinNs(), d.peerIdleMaxNs(),
            d.needAckIntervalTicks())));
        sim.drops().drop(SERVER, HomaWire.DATA, 1);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 3 * PAYLOAD, 0);
        runUntil(() -> 2 == counter(SERVER, PACKETS_RCVD_DATA), 1_000 * MS, "two of three request packets");
        sim.abort(m, HomaError.ECANCELED);
        runUntil(() -> 0 != messages.doneNs(m), sim.nowNs() + MS, "ECANCELED");
        assertEquals(HomaError.ECANCELED, messages.errorCode(m));
        runUntil(() -> 1 == counter(SERVER, SERVER_RPC_DISCARDS), 1_000 * MS, "server discard");
        awaitNoRpcState();
        assertEquals(0, messages.serverRuns(m));
        assertTrue(counter(CLIENT, PACKETS_SENT_RPC_UNKNOWN) >= 1);
        assertTrue(sim.nowNs() >= 49 * MS, "the server's first RESEND after 50 ticks: " + sim.nowNs());
        report(sim.nowNs());
    }

    @Test
    void shouldTimeOutBothSidesWhenControlPacketsNeverReachClient()
    {
        // Every control packet to the client is lost (GRANTs, BUSYs, RESENDs): the request stops at its unscheduled
        // bytes, the server's RESENDs go unanswered until it discards the RPC, the client hears nothing and times out.
        start(twoHosts());
        sim.drops().dropControl(CLIENT);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, MESSAGE, 0);
        runUntil(() -> 1 == counter(SERVER, SERVER_RPC_DISCARDS), 1_000 * MS, "the server's timeout");
        final long serverNs = sim.nowNs();
        runUntil(() -> 0 != messages.doneNs(m), 1_000 * MS, "the client's timeout");
        System.out.printf(Locale.ROOT, "server discarded at %.3f ms, client failed at %.3f ms%n", serverNs / 1e6,
            sim.nowNs() / 1e6);
        assertEquals(HomaError.ETIMEDOUT, messages.errorCode(m));
        assertEquals(1, counter(SERVER, RPC_TIMEOUTS));
        assertEquals(1, counter(CLIENT, RPC_TIMEOUTS));
        assertEquals(0, messages.serverRuns(m));
        awaitNoRpcState();
        // Each side counts 100 silent ticks at least once; the client's probes keep the server's RPC alive (it
        // answers them with BUSYs the client never hears), so neither outlasts two timeouts.
        assertTrue(sim.nowNs() >= 99 * MS && sim.nowNs() <= 200 * MS, "timeout_ticks 100: " + sim.nowNs());
        report(sim.nowNs());
    }

    @Test
    void shouldNotRunRequestTwiceWhenCopyArrivesAfterRpcWasAcked()
    {
        // Every DATA reaching the server arrives again 50 ms later, long after the RPC completed and was acked.
        start(twoHosts());
        sim.drops().copyLate(SERVER, HomaWire.DATA, 50 * MS);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 500, 0);
        runUntil(() -> 1 == counter(SERVER, ACKED_RPC_DROPS), 1_000 * MS, "late copy dropped");
        sim.advanceTo(sim.nowNs() + 10 * MS);
        assertTrue(messages.doneNs(m) > 0);
        assertEquals(1, counter(SERVER, SERVER_RESPONSES_DONE));
        assertEquals(1, messages.serverRuns(m), "handler ran once");
        assertEquals(0, counter(SERVER, RPCS_ACTIVE));
        assertTrue(sim.nowNs() >= 50 * MS);
        report(sim.nowNs());
    }

    @Test
    void shouldRunLateCopyAgainWithoutRecentAcksWhichShowsTheHoleIsReal()
    {
        // Control for the test above: remembering acked ids for one tick only re-opens Linux's at-most-once hole.
        start(twoHosts().recentAckTicks(1));
        sim.drops().copyLate(SERVER, HomaWire.DATA, 50 * MS);
        final Messages messages = sim.messages();
        final int m = sim.send(CLIENT, SERVER, 500, 0);
        runUntil(() -> 2 == messages.serverRuns(m), 1_000 * MS, "the late copy to run again");
        assertEquals(0, counter(SERVER, ACKED_RPC_DROPS));
        report(sim.nowNs());
    }

    @Test
    void shouldDeliverOnceWhenEveryPacketIsDuplicatedAndManyReordered()
    {
        start(twoHosts().duplicate(1.0).reorder(0.3).seed(11));
        runOneRpc(4 * MESSAGE);
        assertTrue(sim.network().duplicated > 2 * 4 * PACKETS, "every packet twice: " + sim.network().duplicated);
        assertTrue(sim.network().reordered > 0);
        assertTrue(counter(SERVER, DUPLICATE_DATA) > 0 && counter(CLIENT, DUPLICATE_DATA) > 0,
            "both sides saw copies and dropped them");
    }
}
