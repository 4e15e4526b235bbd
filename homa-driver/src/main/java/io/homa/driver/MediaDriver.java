package io.homa.driver;

import io.homa.client.internal.CncFileDescriptor;
import io.homa.client.CommonContext;
import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.protocol.OutboundPackets;
import io.homa.driver.protocol.RecoverySettings;
import io.homa.driver.protocol.SchedulingSettings;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.driver.transport.FaultInjection;
import io.homa.driver.transport.FaultInjectionTransport;
import io.homa.driver.transport.PacketTransport;
import io.homa.driver.net.NicDiscovery;
import io.homa.driver.status.TransportCounters;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.IoUtil;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.ShutdownSignalBarrier;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastTransmitter;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.io.File;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The Homa media driver: owns the UDP transport, the protocol engine and the CnC file through which clients in
 * this or other processes open sockets and exchange RPCs. Launch it embedded ({@link #launchEmbedded()}, a random
 * directory, as tests and samples do) or standalone ({@link #main(String[])}).
 */
public final class MediaDriver implements AutoCloseable
{
    private final Context ctx;
    private final AgentRunner sharedRunner;
    private final AgentInvoker sharedInvoker;
    private final AgentRunner conductorRunner;
    private final AgentRunner senderRunner;
    private final AgentRunner receiverRunner;
    private final AgentRunner sharedNetworkRunner;
    // Built by the constructor from the concluded context, as Aeron's MediaDriver builds its agents.
    private DriverConductor conductor;
    private Receiver receiver;
    private Sender sender;
    private InboundAdapter inboundAdapter;
    private org.agrona.concurrent.Agent sharedAgent;
    private DirectDrive directDriver;
    private final java.util.ArrayList<AutoCloseable> wakeResources = new java.util.ArrayList<>();
    private final java.util.ArrayList<WakeupIdleStrategy> wakeStrategies = new java.util.ArrayList<>();
    private Thread shutdownHook;
    private CounterExports exports;
    private volatile boolean isStarted;
    private volatile boolean isClosed;
    private volatile boolean hasFailed;

    private MediaDriver(final Context ctx)
    {
        this.ctx = ctx;
        final ErrorHandler agentErrorHandler = this::onAgentError;
        AgentRunner shared = null;
        AgentInvoker invoker = null;
        AgentRunner conductor = null;
        AgentRunner sender = null;
        AgentRunner receiver = null;
        AgentRunner network = null;
        try
        {
            ctx.conclude();
            buildAgents();
            ctx.signalReady();
            switch (ctx.threadingMode())
            {
                case INVOKER -> invoker = new AgentInvoker(agentErrorHandler, null,
                    new CompositeAgent(this.receiver, conductorAgent(), this.sender));
                case SHARED -> shared = runner(ctx.sharedIdleStrategy(),
                    null != directDriver ? directDriver.lockedAgent() : sharedAgent, agentErrorHandler);
                case SHARED_NETWORK ->
                {
                    conductor = runner(ctx.conductorIdleStrategy(), conductorAgent(), agentErrorHandler);
                    network = runner(ctx.sharedNetworkIdleStrategy(), new CompositeAgent(this.receiver, this.sender),
                        agentErrorHandler);
                }
                case DEDICATED ->
                {
                    conductor = runner(ctx.conductorIdleStrategy(), conductorAgent(), agentErrorHandler);
                    sender = runner(ctx.senderIdleStrategy(), this.sender, agentErrorHandler);
                    receiver = runner(ctx.receiverIdleStrategy(), this.receiver, agentErrorHandler);
                }
            }
        }
        catch (final RuntimeException | Error ex)
        {
            // A failed start removes what it created (its directory and CnC file), never a live driver's.
            CloseHelper.quietCloseAll(wakeResources);
            ctx.closeAfterFailedStart();
            throw ex;
        }
        if (null != directDriver)
        {
            directDriver.fatalErrorHandler(agentErrorHandler);
        }
        sharedRunner = shared;
        sharedInvoker = invoker;
        conductorRunner = conductor;
        senderRunner = sender;
        receiverRunner = receiver;
        sharedNetworkRunner = network;
    }

    /**
     * Builds the engine and the agents from the concluded context (as Aeron's MediaDriver constructor does), and
     * wires each {@code wake} idle strategy to what its thread sleeps on.
     */
    private void buildAgents()
    {
        final Context c = ctx;
        final PacketTransport transport = c.transport;
        final OutboundPackets outbound = new OutboundPackets(new OneToOneRingBuffer(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(c.outboundBufferLength, 64))));
        final HomaEngine.Settings settings = new HomaEngine.Settings(
            c.unschedBytes, c.requestAckTicks, c.timerTickNs, c.socketEventBufferLength, c.socketPoolLength,
            c.socketSendRegionLength, c.socketMinBlockLength, transport.maxPacketLength(), c.scheduling);
        final ClientProxy clientProxy = new ClientProxy(
            new BroadcastTransmitter(CncFileDescriptor.toClientsBuffer(c.cncByteBuffer, c.cncMetaData)));
        final RecoverySettings recovery = new RecoverySettings(c.resendTicks, c.resendInterval, c.timeoutTicks,
            c.recentAcksTicks, c.recentAcksPerPeer, c.peerGcThreshold, c.peerIdleMinNs, c.peerIdleMaxNs,
            c.needAckIntervalTicks);
        final HomaEngine engine = new HomaEngine(new MappedSocketStore(c.homaDirectory()), settings, recovery,
            c.limits, outbound, clientProxy, c.systemCounters, c.eventLog);
        engine.acceptFreeze(c.freezeAccept);

        final CachedNanoClock cachedNanoClock = new CachedNanoClock();
        cachedNanoClock.update(c.nanoClock.nanoTime());
        final ClientLiveness clientLiveness = new ClientLiveness(c.clientLivenessTimeoutNs, engine, clientProxy,
            c.toDriver, c.systemCounters, c.eventLog, c.countersManager);
        engine.socketCounters(c.countersManager);
        conductor = new DriverConductor(c.toDriver, engine, transport, c.nanoClock, cachedNanoClock, c.epochClock,
            c.errorHandler, c.systemCounters, clientLiveness, clientProxy);
        InboundPackets inboundPackets = null;
        if (ThreadingMode.DEDICATED == c.threadingMode || ThreadingMode.SHARED_NETWORK == c.threadingMode)
        {
            // The receiver has a thread of its own: packets reach the engine through a ring.
            final InboundPackets inbound = new InboundPackets(c.inboundBufferLength, transport.maxPacketLength() + 1);
            inboundPackets = inbound;
            receiver = new Receiver(transport, engine, cachedNanoClock, c.errorHandler, c.systemCounters, inbound);
            inboundAdapter = new InboundAdapter(
                inbound, engine, c.nanoClock, cachedNanoClock, c.errorHandler, c.systemCounters);
        }
        else
        {
            receiver = new Receiver(transport, engine, cachedNanoClock, c.errorHandler, c.systemCounters);
            receiver.receiveInPlace(c.receiveInPlace);
        }
        sender = new Sender(outbound, transport, c.systemCounters);
        wireWakeups(outbound, inboundPackets);
    }

    /**
     * @return what the conductor's thread runs: the conductor, behind the inbound ring's adapter if the receiver
     * has its own thread.
     */
    private org.agrona.concurrent.Agent conductorAgent()
    {
        return null == inboundAdapter ? conductor : new CompositeAgent(inboundAdapter, conductor);
    }

    /**
     * Gives every {@code wake} idle strategy what its thread sleeps on (see {@link WakeupIdleStrategy}): the thread
     * that reads the to-driver ring sleeps on the CnC's FIFO, the one that receives on the transport's sockets, and
     * each thread fed by another driver thread on its doorbell, which that thread rings.
     */
    private void wireWakeups(final OutboundPackets outbound, final InboundPackets inbound)
    {
        final ThreadingMode threadingMode = ctx.threadingMode;
        if (ThreadingMode.INVOKER == threadingMode)
        {
            return;
        }
        final PacketTransport transport = ctx.transport;
        final int[] transportFds = transport.pollFds();
        final OneToOneRingBuffer outRing = outbound.ring();
        final ManyToOneRingBuffer commands = ctx.toDriver;
        final DriverConductor conductor = this.conductor;
        final java.util.function.BooleanSupplier sharedHasWork = () -> commands.size() > 0 || outRing.size() > 0;
        final java.util.function.LongSupplier sharedDeadlineNs =
            () -> Math.min(conductor.nextDeadlineNs(), transport.nextDeadlineNs());
        switch (threadingMode)
        {
            case SHARED ->
            {
                sharedAgent = new CompositeAgent(receiver, conductorAgent(), sender);
                if (null != wire(ctx.sharedIdleStrategy, transportFds, true, sharedHasWork, sharedDeadlineNs) &&
                    ctx.directDriveEnabled && SystemNanoClock.INSTANCE == ctx.nanoClock)
                {
                    directDriver = new DirectDrive(sharedAgent, (WakeupIdleStrategy)ctx.sharedIdleStrategy,
                        transportFds, ctx.wakeFifoFd, ctx.cncMetaData, sharedHasWork, sharedDeadlineNs,
                        ctx.errorHandler);
                }
            }
            case SHARED_NETWORK ->
            {
                receiver.conductorDoorbell(wire(ctx.conductorIdleStrategy, null, true,
                    () -> commands.size() > 0 || inbound.size() > 0, conductor::nextDeadlineNs));
                conductor.senderDoorbell(wire(ctx.sharedNetworkIdleStrategy, transportFds, false,
                    () -> outRing.size() > 0, transport::nextDeadlineNs), outRing);
            }
            case DEDICATED ->
            {
                receiver.conductorDoorbell(wire(ctx.conductorIdleStrategy, null, true,
                    () -> commands.size() > 0 || inbound.size() > 0, conductor::nextDeadlineNs));
                conductor.senderDoorbell(wire(ctx.senderIdleStrategy, new int[0], false,
                    () -> outRing.size() > 0, () -> Long.MAX_VALUE), outRing);
                wire(ctx.receiverIdleStrategy, transportFds, false, () -> false, transport::nextDeadlineNs);
            }
            default ->
            {
            }
        }
    }

    /**
     * @param fds the transport's descriptors for a thread that receives, null for the conductor's thread, an empty
     *            array for a thread that only other driver threads feed.
     * @return the thread's doorbell, or null when its strategy does not sleep (it polls: nobody need ring).
     */
    private WakeupIdleStrategy.Doorbell wire(
        final IdleStrategy strategy,
        final int[] fds,
        final boolean readsCommands,
        final java.util.function.BooleanSupplier hasWork,
        final java.util.function.LongSupplier nextDeadlineNs)
    {
        if (!(strategy instanceof WakeupIdleStrategy wakeup) || wakeup.isWired())
        {
            return null;
        }
        final io.homa.driver.net.Epoll epoll = new io.homa.driver.net.Epoll();
        final WakeupIdleStrategy.Doorbell doorbell = new WakeupIdleStrategy.Doorbell();
        wakeResources.add(doorbell);
        wakeResources.add(epoll);
        wakeStrategies.add(wakeup);
        epoll.watchWakeup(doorbell.eventFd());
        if (readsCommands)
        {
            epoll.watchWakeup(ctx.wakeFifoFd);
        }
        if (null != fds)
        {
            for (final int fd : fds)
            {
                epoll.watch(fd);
            }
        }
        wakeup.wire(ctx.nanoClock, epoll, doorbell, readsCommands ? ctx.cncMetaData : null, hasWork, nextDeadlineNs);
        return doorbell;
    }

    /**
     * Stops every sleeping driver thread from sleeping again and wakes it, so the agents stop promptly.
     */
    private void wakeForClose()
    {
        if (null != directDriver)
        {
            // Client threads stop driving first: the agents are about to close what a cycle touches.
            io.homa.client.internal.DirectDriver.Registry.unregister(ctx.homaDirectory(), directDriver);
            directDriver.close();
        }
        for (final WakeupIdleStrategy strategy : wakeStrategies)
        {
            strategy.closing();
        }
    }

    private AgentRunner runner(
        final IdleStrategy idleStrategy, final org.agrona.concurrent.Agent agent, final ErrorHandler errorHandler)
    {
        // No error counter: the driver's error handler counts every error once (the runner would count it again).
        return new AgentRunner(idleStrategy, errorHandler, null, agent);
    }

    /**
     * Starts a driver with the given settings.
     * A driver that deletes its directory on close ({@code homa.dir.delete.on.shutdown}, every embedded one) also
     * deletes it when the JVM exits without closing it (SIGTERM, {@code System.exit}), by a shutdown hook that
     * {@link #close()} removes. A start that fails removes the directory and files it created.
     *
     * @param ctx settings.
     * @return the running driver.
     * @throws ActiveDriverException if a live driver already owns the directory (which is left as it is).
     * @throws IllegalArgumentException for a setting that is refused, naming it.
     */
    public static MediaDriver launch(final Context ctx)
    {
        final MediaDriver driver = new MediaDriver(ctx);
        try
        {
            driver.start();
        }
        catch (final RuntimeException | Error ex)
        {
            driver.ctx.startFailed();
            driver.close();
            throw ex;
        }
        if (ctx.dirDeleteOnShutdown())
        {
            driver.addShutdownHook();
        }
        try
        {
            driver.exports = CounterExports.start(ctx.countersManager, ctx.homaDirectoryName(), ctx.jmxEnabled,
                ctx.prometheusAddress, ctx.prometheusPort);
        }
        catch (final RuntimeException ex)
        {
            driver.ctx.startFailed();
            driver.close();
            throw ex;
        }
        driver.logStarted();
        driver.isStarted = true;
        return driver;
    }

    private void addShutdownHook()
    {
        final File dir = ctx.homaDirectory();
        // Only the files: the agents may still be running on the mappings, which stay valid once the files go.
        final Thread hook = new Thread(() -> IoUtil.delete(dir, true), "homa-md-dir-delete");
        try
        {
            Runtime.getRuntime().addShutdownHook(hook);
            shutdownHook = hook;
        }
        catch (final IllegalStateException ex)
        {
            // Launched while the JVM exits: nothing will run the hook, close() still deletes the directory.
        }
    }

    private void removeShutdownHook()
    {
        final Thread hook = shutdownHook;
        if (null != hook)
        {
            shutdownHook = null;
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ex)
            {
                // The JVM is exiting: the hook runs anyway, and deleting twice is harmless.
            }
        }
    }

    /**
     * Starts a driver with settings from system properties.
     *
     * @return the running driver.
     */
    public static MediaDriver launch()
    {
        return launch(new Context());
    }

    /**
     * Starts a driver in a fresh random directory, deleted on close, on any free UDP port unless
     * {@code homa.udp.port} is set: what tests and samples use.
     *
     * @param ctx settings (its directory is replaced).
     * @return the running driver.
     */
    public static MediaDriver launchEmbedded(final Context ctx)
    {
        ctx.homaDirectoryName(CommonContext.generateRandomDirName());
        ctx.dirDeleteOnShutdown(true);
        ctx.isEmbedded = true;
        if (null == System.getProperty(Configuration.UDP_PORT_PROP_NAME) && !ctx.isUdpPortSet)
        {
            ctx.udpPort(0);
        }
        return launch(ctx);
    }

    /**
     * {@link #launchEmbedded(Context)} with settings from system properties.
     *
     * @return the running driver.
     */
    public static MediaDriver launchEmbedded()
    {
        return launchEmbedded(new Context());
    }

    /**
     * Standalone driver: loads the property files named on the command line (paths, URLs, or resources on the
     * class path such as the bundled {@code low-latency.properties} and {@code default.properties}), starts, and
     * runs until SIGINT or SIGTERM, then closes cleanly. {@code -Dhoma.print.configuration=true} prints the
     * settings it runs with. An argument that is not a property file (an option, a file that does not exist), a
     * refused setting or a failed start prints one line and exits with status 1 (see {@link PropertyFiles}).
     *
     * @param args property files.
     */
    public static void main(final String[] args)
    {
        StandaloneLogging.install();
        try
        {
            PropertyFiles.load(args);
        }
        catch (final RuntimeException ex)
        {
            DriverLog.error(PropertyFiles.oneLine(ex), null);
            System.exit(1);
            return;
        }
        boolean failed = false;
        String refusal = null;
        try (ShutdownSignalBarrier barrier = new ShutdownSignalBarrier())
        {
            MediaDriver launched = null;
            try
            {
                launched = launch(new Context().terminationHook(barrier::signal));
            }
            catch (final RuntimeException ex)
            {
                // Exit only once the barrier is closed: its shutdown hook waits for that.
                refusal = PropertyFiles.oneLine(ex);
            }
            if (null != launched)
            {
                try (MediaDriver driver = launched)
                {
                    barrier.await();
                    failed = driver.hasFailed();
                }
            }
        }
        if (null != refusal)
        {
            DriverLog.error(refusal, null);
            System.exit(1);
        }
        if (failed)
        {
            // Never a JVM without a driver in it: a supervisor sees the failure and can restart it.
            System.exit(1);
        }
    }

    /**
     * Whatever escapes an agent's duty cycle: recorded in the error log (and counted); an {@link Error} (an
     * exhausted heap, a stack overflow, a broken invariant) ends the driver, because an agent that goes on after
     * one, or a thread that died of one, would leave a driver whose heartbeat may still beat but which serves
     * nobody. In INVOKER mode the application's thread runs the agents, so the error is thrown on to it.
     */
    private void onAgentError(final Throwable throwable)
    {
        ctx.errorHandler.onError(throwable);
        if (!(throwable instanceof Error))
        {
            return;
        }
        final boolean isFirst = !hasFailed;
        hasFailed = true;
        if (isFirst)
        {
            // Before anything stops: a client's next check reads why instead of waiting out the heartbeat.
            ctx.recordFailure(throwable);
        }
        if (ThreadingMode.INVOKER == ctx.threadingMode())
        {
            throw (Error)throwable;
        }
        if (isFirst)
        {
            DriverLog.error(throwable + " escaped an agent; the driver shuts down", throwable);
            // Not on the agent's own thread: closing joins the agent threads.
            final Thread closer = new Thread(() ->
            {
                close();
                final Runnable hook = ctx.terminationHook;
                if (null != hook)
                {
                    hook.run();
                }
            }, "homa-md-failure");
            closer.start();
        }
    }

    private boolean isLifecycleInfo()
    {
        // An embedded driver is part of its application: its start and stop are DEBUG, a standalone one's INFO.
        return !ctx.isEmbedded;
    }

    private void logStarted()
    {
        final String address = ctx.udpAddress();
        final String line = "dir=" + homaDirectoryName() + " udp=" +
            (address.contains(":") ? "[" + address + "]" : address) + ":" + udpPort();
        if (isLifecycleInfo())
        {
            DriverLog.info(line);
            DriverLog.info(ctx.nicDescription().replaceFirst("^homa driver: ", ""));
            DriverLog.info("started: pid " + ProcessHandle.current().pid() + ", threading mode " +
                ctx.threadingMode() + ", event log " + (ctx.eventLogEnabled() ? "on" : "off"));
        }
        else
        {
            DriverLog.debug(line + " (embedded); " + ctx.nicDescription().replaceFirst("^homa driver: ", ""));
        }
    }

    private void logStopped()
    {
        if (!isStarted)
        {
            return;
        }
        final String line = hasFailed ? "shut down after a fatal error" : "shutdown";
        if (hasFailed)
        {
            DriverLog.warning(line + " (dir=" + homaDirectoryName() + ")");
        }
        else if (isLifecycleInfo())
        {
            DriverLog.info(line);
        }
        else
        {
            DriverLog.debug(line + " (embedded, dir=" + homaDirectoryName() + ")");
        }
    }

    /**
     * @return the JMX name of the driver's counters MBean ({@code homa.jmx.enabled}), or null if none.
     */
    public javax.management.ObjectName countersObjectName()
    {
        return null == exports ? null : exports.objectName();
    }

    /**
     * @return the port of the Prometheus endpoint ({@code homa.prometheus.port}; the real one if that was 0), or -1
     * if it is off.
     */
    public int prometheusPort()
    {
        return null == exports ? -1 : exports.prometheusPort();
    }

    /**
     * @return true if an {@link Error} escaped an agent, after which the driver closes itself.
     */
    public boolean hasFailed()
    {
        return hasFailed;
    }

    /**
     * Test seam for failures: the conductor's next duty cycle throws the given throwable, as a bug or an exhausted
     * heap would.
     *
     * @param failure what to throw.
     */
    public void failConductorOnce(final Throwable failure)
    {
        conductor.failOnce(failure);
        wakeAgents();
    }

    private void start()
    {
        if (null != sharedInvoker)
        {
            sharedInvoker.start();
        }
        startOnThread(sharedRunner, "homa-md-shared");
        if (null != directDriver)
        {
            io.homa.client.internal.DirectDriver.Registry.register(ctx.homaDirectory(), directDriver);
        }
        startOnThread(conductorRunner, "homa-md-conductor");
        startOnThread(sharedNetworkRunner, "homa-md-network");
        startOnThread(receiverRunner, "homa-md-receiver");
        startOnThread(senderRunner, "homa-md-sender");
    }

    private void startOnThread(final AgentRunner runner, final String threadName)
    {
        final java.util.BitSet cpus = ctx.driverCpuSet;
        if (null != runner)
        {
            AgentRunner.startOnThread(runner, r ->
            {
                final Runnable pinned = null == cpus ? r : () ->
                {
                    io.homa.driver.net.CpuAffinity.pinCurrentThread(cpus);
                    r.run();
                };
                final Thread thread = new Thread(pinned, threadName);
                thread.setDaemon(true);
                return thread;
            });
        }
    }

    /** A test seam's change takes effect at once: agents asleep in their idle strategy are woken. */
    private void wakeAgents()
    {
        for (final WakeupIdleStrategy strategy : wakeStrategies)
        {
            strategy.wake();
        }
    }

    /**
     * Test seam for hiccups: the conductor's next duty cycle (in SHARED mode the driver's only thread) sleeps for
     * the given time before it runs, as a driver thread descheduled, paused by a GC or stopped would. A sleeping
     * driver is woken first, so the stall starts at once.
     *
     * @param durationNs how long the driver stays silent.
     */
    public void stallConductorOnce(final long durationNs)
    {
        conductor.stallOnce(durationNs);
        wakeAgents();
    }

    /**
     * Test seam for shutdown: the sender's next packet with a payload waits on the sender's thread for the given time
     * after it was read from the outbound ring, its payload still in a client's send region, before it goes to the
     * transport. A {@link #close()} during that wait must not unmap the region before the sender has stopped.
     *
     * @param durationNs how long the packet waits.
     * @param onStalled  run on the sender's thread when the wait starts (a test's latch), or null.
     */
    public void stallSenderOnce(final long durationNs, final Runnable onStalled)
    {
        sender.stallOnce(durationNs, onStalled);
        wakeAgents();
    }

    /**
     * @return how many times the driver's threads went to sleep in the kernel so far (threads with the {@code wake}
     * idle strategy; 0 for others), for diagnostics such as the samples' summaries.
     */
    public long threadSleeps()
    {
        long sleeps = 0;
        for (final WakeupIdleStrategy strategy : wakeStrategies)
        {
            sleeps += strategy.sleeps();
        }
        return sleeps;
    }

    /**
     * Test seam for direct drive: like {@link #stallConductorOnce(long)}, but a sleeping driver is not woken, so the
     * stall comes in the next cycle whoever runs it: a client thread that sends to the sleeping driver runs that
     * cycle itself (see {@code homa.direct.drive}) and holds the driver for the whole stall.
     *
     * @param durationNs how long the next conductor cycle sleeps before it runs.
     */
    public void stallNextCycleOnce(final long durationNs)
    {
        conductor.stallOnce(durationNs);
    }

    /**
     * Test seam for direct drive: the next time a client thread hands this driver back to the driver's thread, it
     * stops half way for {@code durationNs}, as a client thread preempted there would (no effect without direct
     * drive).
     *
     * @param durationNs how long the hand-back stops half way.
     */
    public void pauseNextHandBackOnce(final long durationNs)
    {
        if (null != directDriver)
        {
            directDriver.pauseNextHandBackOnce(durationNs);
        }
    }

    /**
     * @return the invoker that runs the agents in INVOKER mode, else null.
     */
    public AgentInvoker sharedAgentInvoker()
    {
        return sharedInvoker;
    }

    /**
     * @return the settings the driver runs with.
     */
    public Context context()
    {
        return ctx;
    }

    /**
     * @return the driver directory.
     */
    public String homaDirectoryName()
    {
        return ctx.homaDirectoryName();
    }

    /**
     * @return the UDP port peers send to.
     */
    public int udpPort()
    {
        return ctx.transport.localPort();
    }

    /**
     * @return the IPv4 address peers send to, as an int; for an IPv6 driver the peer key of its own address.
     */
    public int udpAddressIpv4()
    {
        return ctx.transport.localIpv4();
    }

    /**
     * @param descriptor a system counter.
     * @return its current value.
     */
    public long counter(final SystemCounterDescriptor descriptor)
    {
        return ctx.systemCounters.get(descriptor).get();
    }

    /**
     * @param descriptor a transport counter (NIC facts, raw-IP and ICMP activity).
     * @return its current value.
     */
    public long counter(final io.homa.driver.status.TransportCounterDescriptor descriptor)
    {
        return ctx.transportCounters.get(descriptor).get();
    }

    /**
     * Stops the agents, closes every socket and the transport, and (if configured) deletes the directory.
     */
    public void close()
    {
        if (isClosed)
        {
            return;
        }
        isClosed = true;
        removeShutdownHook();
        // Before the CnC is unmapped: the exports read it.
        CloseHelper.quietClose(exports);
        wakeForClose();
        // As Aeron: receiving stops first, then sending, then the conductor, whose close unmaps every socket's send
        // region, which a sender still running could be reading payloads from.
        CloseHelper.closeAll(
            sharedRunner, sharedInvoker, receiverRunner, sharedNetworkRunner, senderRunner, conductorRunner);
        CloseHelper.quietCloseAll(wakeResources);
        ctx.close();
        logStopped();
    }

    /**
     * Driver settings, fluent like Aeron's (accessors without get/set), read from {@code homa.*} properties.
     */
    public static final class Context extends CommonContext implements AutoCloseable
    {
        private ThreadingMode threadingMode = Configuration.threadingMode();
        private String sharedIdleStrategyName =
            Configuration.idleStrategyName(Configuration.SHARED_IDLE_STRATEGY_PROP_NAME);
        private IdleStrategy sharedIdleStrategy;
        private boolean dirDeleteOnStart = Configuration.booleanValue(
            Configuration.DIR_DELETE_ON_START_PROP_NAME, Configuration.DIR_DELETE_ON_START_DEFAULT);
        private boolean dirDeleteOnShutdown = Configuration.booleanValue(
            Configuration.DIR_DELETE_ON_SHUTDOWN_PROP_NAME, Configuration.DIR_DELETE_ON_SHUTDOWN_DEFAULT);
        private String udpAddress =
            Configuration.stringValue(Configuration.UDP_ADDRESS_PROP_NAME, Configuration.UDP_ADDRESS_DEFAULT);
        private int udpPort = Configuration.intValue(Configuration.UDP_PORT_PROP_NAME, Configuration.UDP_PORT_DEFAULT);
        private boolean isUdpPortSet;
        private int mtuLength = Configuration.sizeAsInt(
            Configuration.MTU_LENGTH_PROP_NAME, Configuration.MTU_LENGTH_DEFAULT);
        private String transportName =
            Configuration.stringValue(Configuration.TRANSPORT_PROP_NAME, Configuration.TRANSPORT_DEFAULT);
        private boolean udpGro = Configuration.booleanValue(
            Configuration.UDP_GRO_PROP_NAME, Configuration.UDP_GRO_DEFAULT);
        private boolean hijackTcp = Configuration.booleanValue(
            Configuration.HIJACK_TCP_PROP_NAME, Configuration.HIJACK_TCP_DEFAULT);
        private int packetRingVersion = Configuration.intValue(
            Configuration.PACKET_RING_VERSION_PROP_NAME, Configuration.PACKET_RING_VERSION_DEFAULT);
        private int socketRcvbufLength = Configuration.sizeAsInt(
            Configuration.SOCKET_RCVBUF_PROP_NAME, Configuration.SOCKET_RCVBUF_DEFAULT);
        private int socketSndbufLength = Configuration.sizeAsInt(
            Configuration.SOCKET_SNDBUF_PROP_NAME, Configuration.SOCKET_SNDBUF_DEFAULT);
        private long timerTickNs = Configuration.durationNs(
            Configuration.TIMER_TICK_PROP_NAME, Configuration.TIMER_TICK_DEFAULT_NS);
        private int toDriverBufferLength = Configuration.ringLength(
            Configuration.TO_DRIVER_BUFFER_LENGTH_PROP_NAME, Configuration.TO_DRIVER_BUFFER_LENGTH_DEFAULT);
        private int toClientsBufferLength = Configuration.broadcastLength(
            Configuration.TO_CLIENTS_BUFFER_LENGTH_PROP_NAME, Configuration.TO_CLIENTS_BUFFER_LENGTH_DEFAULT);
        private int countersValuesBufferLength = Configuration.sizeAsInt(
            Configuration.COUNTERS_VALUES_BUFFER_LENGTH_PROP_NAME,
            Configuration.COUNTERS_VALUES_BUFFER_LENGTH_DEFAULT);
        private int errorBufferLength = Configuration.sizeAsInt(
            Configuration.ERROR_BUFFER_LENGTH_PROP_NAME, Configuration.ERROR_BUFFER_LENGTH_DEFAULT);
        private int socketEventBufferLength = Configuration.sizeAsInt(
            Configuration.SOCKET_EVENT_BUFFER_LENGTH_PROP_NAME, Configuration.SOCKET_EVENT_BUFFER_LENGTH_DEFAULT);
        private int socketPoolLength = Configuration.sizeAsInt(
            Configuration.SOCKET_POOL_LENGTH_PROP_NAME, Configuration.SOCKET_POOL_LENGTH_DEFAULT);
        private int socketSendRegionLength = Configuration.sizeAsInt(
            Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME, Configuration.SOCKET_SEND_REGION_LENGTH_DEFAULT);
        private int socketMinBlockLength = Configuration.sizeAsInt(
            Configuration.SOCKET_MIN_BLOCK_LENGTH_PROP_NAME, Configuration.SOCKET_MIN_BLOCK_LENGTH_DEFAULT);
        private int outboundBufferLength = Configuration.ringLength(
            Configuration.OUTBOUND_BUFFER_LENGTH_PROP_NAME, Configuration.OUTBOUND_BUFFER_LENGTH_DEFAULT);
        private int unschedBytes = Configuration.sizeAsInt(
            Configuration.UNSCHED_BYTES_PROP_NAME, Configuration.UNSCHED_BYTES_DEFAULT);
        private boolean isUnschedBytesSet = null != System.getProperty(Configuration.UNSCHED_BYTES_PROP_NAME);
        private int requestAckTicks = Configuration.intValue(
            Configuration.REQUEST_ACK_TICKS_PROP_NAME, Configuration.REQUEST_ACK_TICKS_DEFAULT);
        private SchedulingSettings scheduling;
        private int window = Configuration.sizeAsInt(Configuration.WINDOW_PROP_NAME, Configuration.WINDOW_DEFAULT);
        private int maxIncoming = Configuration.sizeAsInt(
            Configuration.MAX_INCOMING_PROP_NAME, Configuration.MAX_INCOMING_DEFAULT);
        private boolean isMaxIncomingSet = null != System.getProperty(Configuration.MAX_INCOMING_PROP_NAME);
        private long rttNs = Configuration.durationNs(Configuration.RTT_PROP_NAME, Configuration.RTT_DEFAULT_NS);
        private int maxOvercommit = Configuration.intValue(
            Configuration.MAX_OVERCOMMIT_PROP_NAME, Configuration.MAX_OVERCOMMIT_DEFAULT);
        private int grantFifoFraction = Configuration.intValue(
            Configuration.GRANT_FIFO_FRACTION_PROP_NAME, Configuration.GRANT_FIFO_FRACTION_DEFAULT);
        private int fifoGrantIncrement = Configuration.sizeAsInt(
            Configuration.FIFO_GRANT_INCREMENT_PROP_NAME, Configuration.FIFO_GRANT_INCREMENT_DEFAULT);
        private int linkMbps = Configuration.intValue(
            Configuration.LINK_MBPS_PROP_NAME, Configuration.LINK_MBPS_DEFAULT);
        private boolean isLinkMbpsSet = null != System.getProperty(Configuration.LINK_MBPS_PROP_NAME);
        private boolean isLinkSpeedKnown;
        private int numPriorities = Configuration.intValue(
            Configuration.NUM_PRIORITIES_PROP_NAME, Configuration.NUM_PRIORITIES_DEFAULT);
        private int[] unschedCutoffs = Configuration.parseCutoffs(Configuration.stringValue(
            Configuration.UNSCHED_CUTOFFS_PROP_NAME, Configuration.UNSCHED_CUTOFFS_DEFAULT));
        private long maxNicEstBacklogNs = TimeUnit.MICROSECONDS.toNanos(Configuration.intValue(
            Configuration.MAX_NIC_EST_BACKLOG_USECS_PROP_NAME, Configuration.MAX_NIC_EST_BACKLOG_USECS_DEFAULT));
        private int deferMinBytes = Configuration.sizeAsInt(
            Configuration.DEFER_MIN_BYTES_PROP_NAME, Configuration.DEFER_MIN_BYTES_DEFAULT);
        private int pacerFifoFraction = Configuration.intValue(
            Configuration.PACER_FIFO_FRACTION_PROP_NAME, Configuration.PACER_FIFO_FRACTION_DEFAULT);
        private String pacing = Configuration.stringValue(Configuration.PACING_PROP_NAME, Configuration.PACING_DEFAULT);
        private boolean printConfiguration = Configuration.booleanValue(
            Configuration.PRINT_CONFIGURATION_PROP_NAME, Configuration.PRINT_CONFIGURATION_DEFAULT);
        private int needAckIntervalTicks = Configuration.intValue(
            Configuration.NEED_ACK_INTERVAL_TICKS_PROP_NAME, Configuration.NEED_ACK_INTERVAL_TICKS_DEFAULT);
        private int resendTicks = Configuration.intValue(
            Configuration.RESEND_TICKS_PROP_NAME, Configuration.RESEND_TICKS_DEFAULT);
        private int resendInterval = Configuration.intValue(
            Configuration.RESEND_INTERVAL_PROP_NAME, Configuration.RESEND_INTERVAL_DEFAULT);
        private int timeoutTicks = Configuration.intValue(
            Configuration.TIMEOUT_TICKS_PROP_NAME, Configuration.TIMEOUT_TICKS_DEFAULT);
        private int recentAcksTicks = Configuration.intValue(
            Configuration.RECENT_ACKS_TICKS_PROP_NAME, Configuration.RECENT_ACKS_TICKS_DEFAULT);
        private int recentAcksPerPeer = Configuration.intValue(
            Configuration.RECENT_ACKS_PER_PEER_PROP_NAME, Configuration.RECENT_ACKS_PER_PEER_DEFAULT);
        private int peerGcThreshold = Configuration.intValue(
            Configuration.PEER_GC_THRESHOLD_PROP_NAME, Configuration.PEER_GC_THRESHOLD_DEFAULT);
        private long peerIdleMinNs = Configuration.durationNs(
            Configuration.PEER_IDLE_MIN_PROP_NAME, Configuration.PEER_IDLE_MIN_DEFAULT_NS);
        private long peerIdleMaxNs = Configuration.durationNs(
            Configuration.PEER_IDLE_MAX_PROP_NAME, Configuration.PEER_IDLE_MAX_DEFAULT_NS);
        private io.homa.driver.protocol.LimitSettings limits = Configuration.limitSettings();
        private final FaultInjection faultInjection = Configuration.faultInjection();
        private String conductorIdleStrategyName =
            Configuration.idleStrategyName(Configuration.CONDUCTOR_IDLE_STRATEGY_PROP_NAME);
        private String senderIdleStrategyName =
            Configuration.idleStrategyName(Configuration.SENDER_IDLE_STRATEGY_PROP_NAME);
        private String receiverIdleStrategyName =
            Configuration.idleStrategyName(Configuration.RECEIVER_IDLE_STRATEGY_PROP_NAME);
        private String sharedNetworkIdleStrategyName =
            Configuration.idleStrategyName(Configuration.SHARED_NETWORK_IDLE_STRATEGY_PROP_NAME);
        private IdleStrategy conductorIdleStrategy;
        private IdleStrategy senderIdleStrategy;
        private IdleStrategy receiverIdleStrategy;
        private IdleStrategy sharedNetworkIdleStrategy;
        private int inboundBufferLength = Configuration.sizeAsInt(
            Configuration.INBOUND_BUFFER_LENGTH_PROP_NAME, Configuration.INBOUND_BUFFER_LENGTH_DEFAULT);
        private long clientLivenessTimeoutNs = Configuration.durationNs(
            Configuration.CLIENT_LIVENESS_TIMEOUT_PROP_NAME, Configuration.CLIENT_LIVENESS_TIMEOUT_DEFAULT_NS);
        private boolean dirGroupAccess = Configuration.booleanValue(
            Configuration.DIR_GROUP_ACCESS_PROP_NAME, Configuration.DIR_GROUP_ACCESS_DEFAULT);
        private boolean eventLogEnabled = Configuration.booleanValue(
            Configuration.EVENT_LOG_ENABLED_PROP_NAME, Configuration.EVENT_LOG_ENABLED_DEFAULT);
        private int eventLogLength = Configuration.sizeAsInt(
            Configuration.EVENT_LOG_LENGTH_PROP_NAME, Configuration.EVENT_LOG_LENGTH_DEFAULT);
        private boolean freezeAccept = Configuration.booleanValue(
            Configuration.FREEZE_ACCEPT_PROP_NAME, Configuration.FREEZE_ACCEPT_DEFAULT);
        private boolean jmxEnabled = Configuration.booleanValue(
            Configuration.JMX_ENABLED_PROP_NAME, Configuration.JMX_ENABLED_DEFAULT);
        private int prometheusPort = Configuration.prometheusPort();
        private String prometheusAddress = Configuration.stringValue(
            Configuration.PROMETHEUS_ADDRESS_PROP_NAME, Configuration.PROMETHEUS_ADDRESS_DEFAULT);
        private NanoClock nanoClock;
        private EpochClock epochClock;

        // Built by conclude(); the agents are built by the MediaDriver constructor.
        private MappedByteBuffer cncByteBuffer;
        private UnsafeBuffer cncMetaData;
        private ManyToOneRingBuffer toDriver;
        private CountersManager countersManager;
        private SystemCounters systemCounters;
        private DistinctErrorLog errorLog;
        private AtomicCounter errorCounter;
        private ErrorHandler errorHandler;
        private ErrorHandler applicationErrorHandler;
        private boolean isEmbedded;
        private Runnable terminationHook;
        private PacketTransport transport;
        private java.util.function.UnaryOperator<PacketTransport> transportDecorator;
        private TransportCounters transportCounters;
        private NicDiscovery.Nic nic;
        private int[] resolvedNic;
        private EventLog eventLog;
        private boolean isConcluded;
        private int wakeFifoFd = -1;
        private boolean directDriveEnabled = Configuration.booleanValue(
            Configuration.DIRECT_DRIVE_PROP_NAME, Configuration.DIRECT_DRIVE_DEFAULT);
        private boolean receiveInPlace = Configuration.booleanValue(
            Configuration.RECEIVE_IN_PLACE_PROP_NAME, Configuration.RECEIVE_IN_PLACE_DEFAULT);
        private String driverCpus = Configuration.stringValue(
            Configuration.DRIVER_CPUS_PROP_NAME, Configuration.DRIVER_CPUS_DEFAULT);
        private java.util.BitSet driverCpuSet;
        private boolean isContextClosed;
        private boolean isDirectoryOwned;
        private boolean isStartFailed;

        /**
         * Validates and defaults the settings, prepares the directory and its files (CnC, event log, wake FIFO), the
         * counters and the error log, and opens the transport; the {@link MediaDriver} constructor then builds the
         * agents from what this made (as Aeron's does) and calls {@link #signalReady()}.
         */
        void conclude()
        {
            if (isConcluded)
            {
                throw new IllegalStateException("context already used by a driver");
            }
            isConcluded = true;
            deriveFromNetwork();
            validate();
            if (null == nanoClock)
            {
                nanoClock = SystemNanoClock.INSTANCE;
            }
            if (null == epochClock)
            {
                epochClock = SystemEpochClock.INSTANCE;
            }
            if (null == sharedIdleStrategy)
            {
                sharedIdleStrategy = Configuration.idleStrategy(
                    Configuration.SHARED_IDLE_STRATEGY_PROP_NAME, sharedIdleStrategyName, pollDurationNs());
            }
            concludeIdleStrategies();

            final InetAddress bindAddress;
            try
            {
                bindAddress = InetAddress.getByName(udpAddress);
            }
            catch (final UnknownHostException ex)
            {
                throw new io.homa.client.HomaProperties.ConfigurationException(Configuration.UDP_ADDRESS_PROP_NAME +
                    "=" + udpAddress + " is refused: an IPv4 or IPv6 address, or a host name this machine resolves");
            }
            Transports.checkAddressFamily(transportName, bindAddress);
            deriveForLoopback(bindAddress.isLoopbackAddress());

            prepareDirectory();
            createCnc();

            transportCounters = new TransportCounters(countersManager);
            nic = NicDiscovery.discover(bindAddress);
            // Explicit homa.link.mbps wins; else what the NIC says; else Linux's default (see Transports).
            resolvedNic = Transports.resolveNic(nic, mtuLength, isLinkMbpsSet ? linkMbps : 0, transportCounters);
            isLinkSpeedKnown = isLinkMbpsSet || nic.linkMbps() > 0;
            linkMbps = resolvedNic[1];
            transport = Transports.open(transportName, nic, bindAddress, udpPort, resolvedNic[0], socketRcvbufLength,
                socketSndbufLength, packetRingVersion, udpGro, hijackTcp, transportCounters);
            if (faultInjection.isActive())
            {
                transport = new FaultInjectionTransport(transport, faultInjection, nanoClock,
                    systemCounters.get(SystemCounterDescriptor.FAULT_DROPPED),
                    systemCounters.get(SystemCounterDescriptor.FAULT_DUPLICATED),
                    systemCounters.get(SystemCounterDescriptor.FAULT_DELAYED),
                    systemCounters.get(SystemCounterDescriptor.FAULT_CORRUPTED));
            }
            if (null != transportDecorator)
            {
                transport = transportDecorator.apply(transport);
            }
            cncMetaData.putInt(CncFileDescriptor.UDP_PORT_OFFSET, transport.localPort());
            // An IPv6 driver publishes its address and, where an IPv4 one puts its address, its own peer key.
            cncMetaData.putInt(CncFileDescriptor.UDP_ADDRESS_OFFSET, transport.localIpv4());
            if (bindAddress instanceof java.net.Inet6Address)
            {
                cncMetaData.putBytes(CncFileDescriptor.IPV6_ADDRESS_OFFSET, bindAddress.getAddress());
            }

            scheduling = schedulingSettings(bindAddress.isLoopbackAddress());
            // Real time, whatever clock the agents run on: the log's times are for people reading it.
            eventLog = eventLogEnabled ?
                EventLog.create(homaDirectory(), eventLogLength, SystemNanoClock.INSTANCE, epochClock,
                    new io.homa.driver.status.FileFreezeDumper(homaDirectory(), errorHandler)) :
                EventLog.disabled();
            if (ThreadingMode.INVOKER != threadingMode)
            {
                // What a sleeping driver thread wakes on when a client writes a command (see WakeupIdleStrategy).
                wakeFifoFd = io.homa.driver.net.Epoll.openFifo(
                    new File(homaDirectory(), CncFileDescriptor.WAKE_FIFO).getPath());
            }

            if (printConfiguration)
            {
                DriverLog.info("configuration " + this);
            }
        }

        /**
         * Tells clients the driver is ready, once the {@link MediaDriver} constructor has built the agents: they
         * treat CnC version 0 as "not ready", so it is written last.
         */
        void signalReady()
        {
            toDriver.consumerHeartbeatTime(epochClock.time());
            cncMetaData.putIntVolatile(CncFileDescriptor.VERSION_OFFSET, CncFileDescriptor.CNC_VERSION);
        }

        private void concludeIdleStrategies()
        {
            if (null == conductorIdleStrategy)
            {
                conductorIdleStrategy = Configuration.idleStrategy(
                    Configuration.CONDUCTOR_IDLE_STRATEGY_PROP_NAME, conductorIdleStrategyName, pollDurationNs());
            }
            if (null == senderIdleStrategy)
            {
                senderIdleStrategy = Configuration.idleStrategy(
                    Configuration.SENDER_IDLE_STRATEGY_PROP_NAME, senderIdleStrategyName, pollDurationNs());
            }
            if (null == receiverIdleStrategy)
            {
                receiverIdleStrategy = Configuration.idleStrategy(
                    Configuration.RECEIVER_IDLE_STRATEGY_PROP_NAME, receiverIdleStrategyName, pollDurationNs());
            }
            if (null == sharedNetworkIdleStrategy)
            {
                sharedNetworkIdleStrategy = Configuration.idleStrategy(
                    Configuration.SHARED_NETWORK_IDLE_STRATEGY_PROP_NAME, sharedNetworkIdleStrategyName,
                    pollDurationNs());
            }
        }

        private void deriveFromNetwork()
        {
            // Opt-in: Linux's numbers assume 25 Gbit/s and a few-µs RTT; other networks say theirs. Explicit wins.
            if (isNetworkGiven())
            {
                final int derived = Configuration.unschedBytesForNetwork(rttNs, linkMbps);
                if (!isUnschedBytesSet)
                {
                    unschedBytes = derived;
                }
                if (!isMaxIncomingSet)
                {
                    maxIncoming = Configuration.maxIncomingForNetwork(derived);
                }
            }
        }

        /**
         * @return true if {@code homa.rtt} and {@code homa.link.mbps} both describe the network (then the
         *         unscheduled bytes and max_incoming follow from them).
         */
        private boolean isNetworkGiven()
        {
            return rttNs > 0 && isLinkMbpsSet;
        }

        private void deriveForLoopback(final boolean isLoopback)
        {
            // Loopback's round trip is thread wake-ups, not a NIC's: see LOOPBACK_UNSCHED_BYTES. Explicit wins.
            if (isLoopback && !isUnschedBytesSet && !isNetworkGiven())
            {
                unschedBytes = Configuration.LOOPBACK_UNSCHED_BYTES;
                if (!isMaxIncomingSet)
                {
                    maxIncoming = Configuration.maxIncomingForNetwork(unschedBytes);
                }
            }
        }

        private void validate()
        {
            Transports.checkName(transportName);
            if (2 != packetRingVersion && 3 != packetRingVersion)
            {
                throw new io.homa.client.HomaProperties.ConfigurationException(
                    Configuration.PACKET_RING_VERSION_PROP_NAME + "=" + packetRingVersion + " is refused: 2 or 3");
            }
            if (!driverCpus.isBlank())
            {
                try
                {
                    driverCpuSet = io.homa.driver.net.CpuAffinity.parse(driverCpus);
                }
                catch (final IllegalArgumentException ex)
                {
                    throw new IllegalArgumentException(Configuration.DRIVER_CPUS_PROP_NAME + ": " + ex.getMessage());
                }
                final java.util.BitSet allowed = io.homa.driver.net.CpuAffinity.allowed();
                final java.util.BitSet outside = (java.util.BitSet)driverCpuSet.clone();
                outside.andNot(allowed);
                if (!outside.isEmpty())
                {
                    throw new IllegalArgumentException(Configuration.DRIVER_CPUS_PROP_NAME + " names CPUs this " +
                        "process may not use: " + outside + " (allowed: " + allowed + ")");
                }
            }
            requirePowerOfTwo(Configuration.SOCKET_POOL_LENGTH_PROP_NAME, socketPoolLength);
            requirePowerOfTwo(Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME, socketSendRegionLength);
            requirePowerOfTwo(Configuration.SOCKET_MIN_BLOCK_LENGTH_PROP_NAME, socketMinBlockLength);
            requirePowerOfTwo(Configuration.SOCKET_EVENT_BUFFER_LENGTH_PROP_NAME, socketEventBufferLength);
            if (socketPoolLength < 2 * io.homa.codecs.HomaWire.HOMA_MAX_MESSAGE_LENGTH)
            {
                throw new IllegalArgumentException(Configuration.SOCKET_POOL_LENGTH_PROP_NAME +
                    " must hold at least two maximum-length messages: " + socketPoolLength);
            }
            if (socketSendRegionLength < 2 * io.homa.codecs.HomaWire.HOMA_MAX_MESSAGE_LENGTH)
            {
                throw new IllegalArgumentException(Configuration.SOCKET_SEND_REGION_LENGTH_PROP_NAME +
                    " must hold at least two maximum-length messages: " + socketSendRegionLength);
            }
            if (timerTickNs <= 0)
            {
                throw new IllegalArgumentException(Configuration.TIMER_TICK_PROP_NAME + " must be > 0");
            }
            if (resendTicks <= 0 || resendInterval <= 0 || timeoutTicks <= 0 || recentAcksPerPeer <= 0)
            {
                throw new IllegalArgumentException(Configuration.RESEND_TICKS_PROP_NAME + ", " +
                    Configuration.RESEND_INTERVAL_PROP_NAME + ", " + Configuration.TIMEOUT_TICKS_PROP_NAME + " and " +
                    Configuration.RECENT_ACKS_PER_PEER_PROP_NAME + " must be > 0");
            }
            if (unschedBytes <= 0)
            {
                throw new IllegalArgumentException(Configuration.UNSCHED_BYTES_PROP_NAME + " must be > 0");
            }
            schedulingSettings(false).validate();
            Configuration.pacing(pacing, isLinkMbpsSet, false);
            if (udpPort < 0 || udpPort > 0xFFFF)
            {
                throw new IllegalArgumentException(Configuration.UDP_PORT_PROP_NAME + " out of range: " + udpPort);
            }
            requirePowerOfTwo(Configuration.INBOUND_BUFFER_LENGTH_PROP_NAME, inboundBufferLength);
            if (clientLivenessTimeoutNs <= 0)
            {
                throw new IllegalArgumentException(Configuration.CLIENT_LIVENESS_TIMEOUT_PROP_NAME + " must be > 0");
            }
            if (eventLogEnabled && (eventLogLength < 2 || !org.agrona.BitUtil.isPowerOfTwo(eventLogLength)))
            {
                throw new IllegalArgumentException(
                    Configuration.EVENT_LOG_LENGTH_PROP_NAME + " must be a power of two >= 2: " + eventLogLength);
            }
            if (prometheusPort < -1 || prometheusPort > 0xFFFF)
            {
                throw new IllegalArgumentException(Configuration.PROMETHEUS_PORT_PROP_NAME + "=" + prometheusPort +
                    " is refused: empty (off), 0 (any free port) or a port up to 65535");
            }
            if (0 != mtuLength && (mtuLength < 576 || mtuLength > 65_536))
            {
                throw new IllegalArgumentException(Configuration.MTU_LENGTH_PROP_NAME + " out of range: " + mtuLength);
            }
        }

        private static void requirePowerOfTwo(final String name, final int value)
        {
            if (!org.agrona.BitUtil.isPowerOfTwo(value))
            {
                throw new IllegalArgumentException(name + " must be a power of two: " + value);
            }
        }

        private void prepareDirectory()
        {
            final File dir = homaDirectory();
            final File cncFile = new File(dir, CncFileDescriptor.CNC_FILE);
            if (cncFile.exists() && cncFile.length() >= CncFileDescriptor.META_DATA_LENGTH)
            {
                final long heartbeatAgeMs = existingDriverHeartbeatAgeMs(cncFile);
                if (heartbeatAgeMs >= 0 && heartbeatAgeMs < TimeUnit.NANOSECONDS.toMillis(driverTimeoutNs()))
                {
                    throw new ActiveDriverException("active Homa driver in " + dir + " (heartbeat " +
                        heartbeatAgeMs + " ms ago)");
                }
            }
            // From here the directory is this driver's: a failed start or a close may delete it.
            isDirectoryOwned = true;
            if (dir.exists())
            {
                // A dead driver's directory: start clean (dirDeleteOnStart only matters for a live-looking one).
                IoUtil.delete(dir, false);
            }
            DriverFiles.createDirectory(dir, dirGroupAccess);
            DriverFiles.createDirectory(new File(dir, CncFileDescriptor.SOCKETS_DIR), dirGroupAccess);
        }

        private long existingDriverHeartbeatAgeMs(final File cncFile)
        {
            MappedByteBuffer cnc = null;
            try
            {
                cnc = IoUtil.mapExistingFile(cncFile, "cnc");
                final UnsafeBuffer meta = CncFileDescriptor.metaDataBuffer(cnc);
                if (CncFileDescriptor.CNC_VERSION != meta.getIntVolatile(CncFileDescriptor.VERSION_OFFSET) ||
                    cnc.capacity() < CncFileDescriptor.fileLength(meta))
                {
                    return -1;
                }
                final ManyToOneRingBuffer ring = new ManyToOneRingBuffer(
                    CncFileDescriptor.toDriverBuffer(cnc, meta));
                final long heartbeatMs = ring.consumerHeartbeatTime();
                return 0 == heartbeatMs || dirDeleteOnStart ? -1 : System.currentTimeMillis() - heartbeatMs;
            }
            catch (final RuntimeException ex)
            {
                return -1;
            }
            finally
            {
                if (null != cnc)
                {
                    IoUtil.unmap(cnc);
                }
            }
        }

        private void createCnc()
        {
            final int countersMetadataLength = countersValuesBufferLength * (CountersManager.METADATA_LENGTH /
                CountersManager.COUNTER_LENGTH);
            final long fileLength = CncFileDescriptor.computeFileLength(
                toDriverBufferLength, toClientsBufferLength, countersMetadataLength, countersValuesBufferLength,
                errorBufferLength);
            cncByteBuffer = DriverFiles.mapNewFile(new File(homaDirectory(), CncFileDescriptor.CNC_FILE), fileLength);
            cncMetaData = CncFileDescriptor.metaDataBuffer(cncByteBuffer);
            cncMetaData.putInt(CncFileDescriptor.TO_DRIVER_LENGTH_OFFSET, toDriverBufferLength);
            cncMetaData.putInt(CncFileDescriptor.TO_CLIENTS_LENGTH_OFFSET, toClientsBufferLength);
            cncMetaData.putInt(CncFileDescriptor.COUNTERS_METADATA_LENGTH_OFFSET, countersMetadataLength);
            cncMetaData.putInt(CncFileDescriptor.COUNTERS_VALUES_LENGTH_OFFSET, countersValuesBufferLength);
            cncMetaData.putInt(CncFileDescriptor.ERROR_LOG_LENGTH_OFFSET, errorBufferLength);
            cncMetaData.putLong(CncFileDescriptor.CLIENT_LIVENESS_TIMEOUT_OFFSET, clientLivenessTimeoutNs);
            cncMetaData.putLong(CncFileDescriptor.START_TIMESTAMP_OFFSET, epochClock.time());
            cncMetaData.putLong(CncFileDescriptor.PID_OFFSET, ProcessHandle.current().pid());
            // Start client ids at a random even value so a restarted driver never reuses recent ids.
            final long firstId = (ThreadLocalRandom.current().nextLong() & 0x3FFF_FFFF_FFFF_FFFEL) + 2;
            cncMetaData.putLongVolatile(CncFileDescriptor.NEXT_RPC_ID_OFFSET, firstId);

            toDriver = new ManyToOneRingBuffer(CncFileDescriptor.toDriverBuffer(cncByteBuffer, cncMetaData));
            countersManager = new CountersManager(
                CncFileDescriptor.countersMetaDataBuffer(cncByteBuffer, cncMetaData),
                CncFileDescriptor.countersValuesBuffer(cncByteBuffer, cncMetaData),
                StandardCharsets.US_ASCII);
            systemCounters = new SystemCounters(countersManager);
            errorCounter = systemCounters.get(SystemCounterDescriptor.ERRORS);
            errorLog = new DistinctErrorLog(
                CncFileDescriptor.errorLogBuffer(cncByteBuffer, cncMetaData), epochClock, StandardCharsets.US_ASCII);
            errorHandler = DriverLog.errorHandler(errorLog, errorCounter, applicationErrorHandler);
        }

        private SchedulingSettings schedulingSettings(final boolean isLoopback)
        {
            return new SchedulingSettings(window, maxIncoming, maxOvercommit, grantFifoFraction, fifoGrantIncrement,
                linkMbps, numPriorities, unschedCutoffs.clone(), maxNicEstBacklogNs, deferMinBytes, pacerFifoFraction,
                Configuration.pacing(pacing, isLinkMbpsSet || isLinkSpeedKnown, isLoopback));
        }

        /**
         * Marks a start that failed after {@link #conclude()}: {@link #close()} then deletes the directory.
         */
        void startFailed()
        {
            isStartFailed = true;
        }

        /**
         * Releases what a failed {@link #conclude()} built and deletes the directory and files it created (never
         * a directory it found a live driver in).
         */
        void closeAfterFailedStart()
        {
            startFailed();
            close();
        }

        /**
         * @return true once this driver has taken the directory for its own (a live driver's is never taken).
         */
        boolean isDirectoryOwned()
        {
            return isDirectoryOwned;
        }

        /**
         * Releases what conclude() built; deletes the directory if it is this driver's and either
         * {@code homa.dir.delete.on.shutdown} is set or the start failed.
         */
        public void close()
        {
            if (isContextClosed)
            {
                return;
            }
            isContextClosed = true;
            io.homa.driver.net.Epoll.closeFd(wakeFifoFd);
            CloseHelper.quietClose(transport);
            CloseHelper.quietClose(eventLog);
            if (null != cncByteBuffer)
            {
                IoUtil.unmap(cncByteBuffer);
            }
            if (isDirectoryOwned && (dirDeleteOnShutdown || isStartFailed))
            {
                IoUtil.delete(homaDirectory(), true);
            }
        }

        /**
         * Writes the driver-failure field of the CnC (status word and reason), once, while it is still mapped.
         */
        void recordFailure(final Throwable failure)
        {
            if (isContextClosed || null == cncMetaData)
            {
                return;
            }
            final String message = failure.getMessage();
            final String reason = failure instanceof CommandRingCorruptedError && null != message ?
                message : failure.toString();
            CncFileDescriptor.recordDriverFailure(cncMetaData, reason);
        }

        /**
         * {@inheritDoc}
         */
        @Override
        public Context homaDirectoryName(final String dirName)
        {
            super.homaDirectoryName(dirName);
            return this;
        }

        /**
         * {@inheritDoc}
         */
        @Override
        public Context driverTimeoutNs(final long timeoutNs)
        {
            super.driverTimeoutNs(timeoutNs);
            return this;
        }

        /**
         * @return threading mode.
         */
        public ThreadingMode threadingMode()
        {
            return threadingMode;
        }

        /**
         * @param mode threading mode.
         * @return this for a fluent API.
         */
        public Context threadingMode(final ThreadingMode mode)
        {
            this.threadingMode = mode;
            return this;
        }

        /**
         * @return whether client threads of this JVM may run the sleeping SHARED driver's cycle themselves.
         */
        public boolean directDrive()
        {
            return directDriveEnabled;
        }

        /**
         * @param enabled whether client threads of this JVM may run the sleeping SHARED driver's duty cycle
         *                (see {@link Configuration#DIRECT_DRIVE_PROP_NAME}).
         * @return this for a fluent API.
         */
        public Context directDrive(final boolean enabled)
        {
            this.directDriveEnabled = enabled;
            return this;
        }

        /**
         * @return whether UDP receives put in-order DATA payloads straight into the receive pool.
         */
        public boolean receiveInPlace()
        {
            return receiveInPlace;
        }

        /**
         * @param enabled whether UDP receives put in-order DATA payloads straight into the receive pool (see
         *                {@link Configuration#RECEIVE_IN_PLACE_PROP_NAME}).
         * @return this for a fluent API.
         */
        public Context receiveInPlace(final boolean enabled)
        {
            this.receiveInPlace = enabled;
            return this;
        }

        /**
         * @return the CPUs the agent threads are pinned to, {@code taskset -c} style; empty if not pinned
         * (see {@link Configuration#DRIVER_CPUS_PROP_NAME}).
         */
        public String driverCpus()
        {
            return driverCpus;
        }

        /**
         * @param cpus CPUs to pin the agent threads to, e.g. {@code "1"} or {@code "2-3"}; empty for none.
         * @return this for a fluent API.
         */
        public Context driverCpus(final String cpus)
        {
            this.driverCpus = null == cpus ? "" : cpus;
            return this;
        }

        /**
         * @return idle strategy of the shared agent thread.
         */
        public IdleStrategy sharedIdleStrategy()
        {
            return sharedIdleStrategy;
        }

        /**
         * @param idleStrategy idle strategy of the shared agent thread.
         * @return this for a fluent API.
         */
        public Context sharedIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.sharedIdleStrategy = idleStrategy;
            return this;
        }

        /**
         * @return delete the directory on close.
         */
        public boolean dirDeleteOnShutdown()
        {
            return dirDeleteOnShutdown;
        }

        /**
         * @param delete delete the directory on close.
         * @return this for a fluent API.
         */
        public Context dirDeleteOnShutdown(final boolean delete)
        {
            this.dirDeleteOnShutdown = delete;
            return this;
        }

        /**
         * @return take over a directory even when its heartbeat looks live.
         */
        public boolean dirDeleteOnStart()
        {
            return dirDeleteOnStart;
        }

        /**
         * @param delete take over a directory even when its heartbeat looks live.
         * @return this for a fluent API.
         */
        public Context dirDeleteOnStart(final boolean delete)
        {
            this.dirDeleteOnStart = delete;
            return this;
        }

        /**
         * @return the UDP bind address.
         */
        public String udpAddress()
        {
            return udpAddress;
        }

        /**
         * @param address the UDP bind address.
         * @return this for a fluent API.
         */
        public Context udpAddress(final String address)
        {
            this.udpAddress = address;
            return this;
        }

        /**
         * @return the UDP port (0 = any).
         */
        public int udpPort()
        {
            return udpPort;
        }

        /**
         * @param port the UDP port (0 = any).
         * @return this for a fluent API.
         */
        public Context udpPort(final int port)
        {
            this.udpPort = port;
            this.isUdpPortSet = true;
            return this;
        }

        /**
         * @return MTU (0 = discover).
         */
        public int mtuLength()
        {
            return mtuLength;
        }

        /**
         * @param length MTU (0 = discover).
         * @return this for a fluent API.
         */
        public Context mtuLength(final int length)
        {
            this.mtuLength = length;
            return this;
        }

        /**
         * @return {@code homa.transport}: udp or raw.
         */
        public String transportName()
        {
            return transportName;
        }

        /**
         * @param name {@code udp} or {@code raw} (IPv4 protocol 146; needs CAP_NET_RAW and its own address).
         * @return this for a fluent API.
         */
        public Context transportName(final String name)
        {
            this.transportName = name;
            return this;
        }

        /**
         * @return TPACKET version of the packet-ring transport (2 or 3).
         */
        public int packetRingVersion()
        {
            return packetRingVersion;
        }

        /**
         * @param gro let the kernel coalesce received datagrams (udp-batch, UDP GRO).
         * @return this for a fluent API.
         */
        public Context udpGro(final boolean gro)
        {
            this.udpGro = gro;
            return this;
        }

        /**
         * @return whether udp-batch asks for UDP GRO.
         */
        public boolean udpGro()
        {
            return udpGro;
        }

        /**
         * @param hijack send Homa as TCP-lookalike segments over raw IPv4, as Linux's {@code hijack_tcp}
         *               ({@code homa.hijack.tcp}).
         * @return this for a fluent API.
         */
        public Context hijackTcp(final boolean hijack)
        {
            this.hijackTcp = hijack;
            return this;
        }

        /**
         * @return whether raw IPv4 sends hijacked (TCP-lookalike) packets.
         */
        public boolean hijackTcp()
        {
            return hijackTcp;
        }

        /**
         * @param version 3 (RX in blocks) or 2 (RX frame by frame, lower latency).
         * @return this for a fluent API.
         */
        public Context packetRingVersion(final int version)
        {
            this.packetRingVersion = version;
            return this;
        }

        /**
         * @return what NIC discovery found, once the driver started.
         */
        public NicDiscovery.Nic nic()
        {
            return nic;
        }

        /**
         * @return the MTU in use (explicit, discovered or fallback), once the driver started.
         */
        public int resolvedMtu()
        {
            return resolvedNic[0];
        }

        /**
         * @return the link speed in use, Mb/s (explicit, discovered or fallback), once the driver started.
         */
        public int resolvedLinkMbps()
        {
            return resolvedNic[1];
        }

        /**
         * @return one line on the transport, the NIC and the MTU and speed chosen, once the driver started.
         */
        public String nicDescription()
        {
            return Transports.describe(transportName, nic, mtuLength, isLinkMbpsSet ? linkMbps : 0, resolvedNic);
        }

        /**
         * @param handler the application's error handler (as Aeron's {@code Context.errorHandler}): every error the
         *                driver meets (bad input it drops, an exception escaping an agent) is counted in
         *                {@code errors}, recorded in the CnC's error log, logged once per distinct error, then
         *                given to this handler on the agent's thread. It must not block; whatever it throws is
         *                logged and dropped.
         * @return this for a fluent API.
         */
        public Context errorHandler(final ErrorHandler handler)
        {
            this.applicationErrorHandler = handler;
            return this;
        }

        /**
         * @param enabled export the counters as a JMX MBean ({@code homa.jmx.enabled}).
         * @return this for a fluent API.
         */
        public Context jmxEnabled(final boolean enabled)
        {
            this.jmxEnabled = enabled;
            return this;
        }

        /**
         * @return true if the counters are exported over JMX.
         */
        public boolean jmxEnabled()
        {
            return jmxEnabled;
        }

        /**
         * @param port the Prometheus endpoint's port ({@code homa.prometheus.port}): -1 off (the property empty), 0
         *             any free port.
         * @return this for a fluent API.
         */
        public Context prometheusPort(final int port)
        {
            this.prometheusPort = port;
            return this;
        }

        /**
         * @return the Prometheus endpoint's configured port (-1 off).
         */
        public int prometheusPort()
        {
            return prometheusPort;
        }

        /**
         * @param address what the Prometheus endpoint listens on ({@code homa.prometheus.address}).
         * @return this for a fluent API.
         */
        public Context prometheusAddress(final String address)
        {
            this.prometheusAddress = address;
            return this;
        }

        /**
         * @return what the Prometheus endpoint listens on.
         */
        public String prometheusAddress()
        {
            return prometheusAddress;
        }

        /**
         * @return the application's error handler, or null (errors are then counted, recorded and logged only).
         */
        public ErrorHandler errorHandler()
        {
            return applicationErrorHandler;
        }

        /**
         * @return the Homa timer tick in ns.
         */
        public long timerTickNs()
        {
            return timerTickNs;
        }

        /**
         * @param tickNs the Homa timer tick.
         * @return this for a fluent API.
         */
        public Context timerTickNs(final long tickNs)
        {
            this.timerTickNs = tickNs;
            return this;
        }

        /**
         * @return per-socket receive pool length.
         */
        public int socketPoolLength()
        {
            return socketPoolLength;
        }

        /**
         * @param length per-socket receive pool length (power of two).
         * @return this for a fluent API.
         */
        public Context socketPoolLength(final int length)
        {
            this.socketPoolLength = length;
            return this;
        }

        /**
         * @return per-socket send region length.
         */
        public int socketSendRegionLength()
        {
            return socketSendRegionLength;
        }

        /**
         * @param length per-socket send region length (power of two).
         * @return this for a fluent API.
         */
        public Context socketSendRegionLength(final int length)
        {
            this.socketSendRegionLength = length;
            return this;
        }

        /**
         * @return bytes sent without grants.
         */
        public int unschedBytes()
        {
            return unschedBytes;
        }

        /**
         * @param bytes bytes sent without grants.
         * @return this for a fluent API.
         */
        public Context unschedBytes(final int bytes)
        {
            this.unschedBytes = bytes;
            this.isUnschedBytesSet = true;
            return this;
        }

        /**
         * @return fixed grant window in bytes, 0 for dynamic.
         */
        public int window()
        {
            return window;
        }

        /**
         * @param bytes fixed grant window in bytes, 0 for dynamic ({@code max_incoming / (active + 1)}).
         * @return this for a fluent API.
         */
        public Context window(final int bytes)
        {
            this.window = bytes;
            return this;
        }

        /**
         * @return cap on granted-but-unreceived bytes at this receiver.
         */
        public int maxIncoming()
        {
            return maxIncoming;
        }

        /**
         * @param bytes cap on granted-but-unreceived bytes at this receiver.
         * @return this for a fluent API.
         */
        public Context maxIncoming(final int bytes)
        {
            this.maxIncoming = bytes;
            this.isMaxIncomingSet = true;
            return this;
        }

        /**
         * @return the network's round-trip time, 0 if not given.
         */
        public long rttNs()
        {
            return rttNs;
        }

        /**
         * @param ns the network's round-trip time; with {@link #linkMbps(int)} it sets the defaults of
         *           {@link #unschedBytes()} (one RTT of link time) and {@link #maxIncoming()} (ten of them).
         * @return this for a fluent API.
         */
        public Context rttNs(final long ns)
        {
            this.rttNs = ns;
            return this;
        }

        /**
         * @return messages granted to at once.
         */
        public int maxOvercommit()
        {
            return maxOvercommit;
        }

        /**
         * @param count messages granted to at once, 1 to 8.
         * @return this for a fluent API.
         */
        public Context maxOvercommit(final int count)
        {
            this.maxOvercommit = count;
            return this;
        }

        /**
         * @return thousandths of the link given to FIFO grants.
         */
        public int grantFifoFraction()
        {
            return grantFifoFraction;
        }

        /**
         * @param fraction thousandths of the link given to FIFO grants, 0 (none) to 500.
         * @return this for a fluent API.
         */
        public Context grantFifoFraction(final int fraction)
        {
            this.grantFifoFraction = fraction;
            return this;
        }

        /**
         * @return bytes per FIFO grant.
         */
        public int fifoGrantIncrement()
        {
            return fifoGrantIncrement;
        }

        /**
         * @param bytes bytes per FIFO grant.
         * @return this for a fluent API.
         */
        public Context fifoGrantIncrement(final int bytes)
        {
            this.fifoGrantIncrement = bytes;
            return this;
        }

        /**
         * @return link speed in Mbit/s.
         */
        public int linkMbps()
        {
            return linkMbps;
        }

        /**
         * @param mbps link speed in Mbit/s; setting it lets {@code auto} pacing pace on a non-loopback address.
         * @return this for a fluent API.
         */
        public Context linkMbps(final int mbps)
        {
            this.linkMbps = mbps;
            this.isLinkMbpsSet = true;
            return this;
        }

        /**
         * @return priority levels in use.
         */
        public int numPriorities()
        {
            return numPriorities;
        }

        /**
         * @param count priority levels in use, 1 to 8.
         * @return this for a fluent API.
         */
        public Context numPriorities(final int count)
        {
            this.numPriorities = count;
            return this;
        }

        /**
         * @return this receiver's unscheduled cutoffs (a copy).
         */
        public int[] unschedCutoffs()
        {
            return unschedCutoffs.clone();
        }

        /**
         * @param cutoffs 8 cutoffs, entry i = largest message sent unscheduled at level i.
         * @return this for a fluent API.
         */
        public Context unschedCutoffs(final int[] cutoffs)
        {
            this.unschedCutoffs = cutoffs.clone();
            return this;
        }

        /**
         * @return NIC queue estimate beyond which DATA waits, in ns.
         */
        public long maxNicEstBacklogNs()
        {
            return maxNicEstBacklogNs;
        }

        /**
         * @param ns NIC queue estimate beyond which DATA waits.
         * @return this for a fluent API.
         */
        public Context maxNicEstBacklogNs(final long ns)
        {
            this.maxNicEstBacklogNs = ns;
            return this;
        }

        /**
         * @return messages with at most this many bytes left never wait in the pacer.
         */
        public int deferMinBytes()
        {
            return deferMinBytes;
        }

        /**
         * @param bytes messages with at most this many bytes left never wait in the pacer.
         * @return this for a fluent API.
         */
        public Context deferMinBytes(final int bytes)
        {
            this.deferMinBytes = bytes;
            return this;
        }

        /**
         * @return thousandths of transmit picks given to the oldest message.
         */
        public int pacerFifoFraction()
        {
            return pacerFifoFraction;
        }

        /**
         * @param fraction thousandths of transmit picks given to the oldest message.
         * @return this for a fluent API.
         */
        public Context pacerFifoFraction(final int fraction)
        {
            this.pacerFifoFraction = fraction;
            return this;
        }

        /**
         * @return pacing mode: auto, true or false.
         */
        public String pacing()
        {
            return pacing;
        }

        /**
         * @param mode {@code auto} (pace when the link speed is set and the address is not loopback), {@code true}
         *             or {@code false}.
         * @return this for a fluent API.
         */
        public Context pacing(final String mode)
        {
            this.pacing = mode;
            return this;
        }

        /**
         * @return the scheduling settings in effect, once the driver started.
         */
        public SchedulingSettings schedulingSettings()
        {
            return scheduling;
        }

        /**
         * Test seam (package-private): wraps the transport once it is open, outermost (a transport that refuses
         * sends or fails receives, to drive the agents' error paths).
         *
         * @param decorator given the opened transport, returns the one the agents use.
         * @return this for a fluent API.
         */
        Context transportDecorator(final java.util.function.UnaryOperator<PacketTransport> decorator)
        {
            this.transportDecorator = decorator;
            return this;
        }

        /**
         * @param clock the nano clock the agents read (tests may use a settable one).
         * @return this for a fluent API.
         */
        public Context nanoClock(final NanoClock clock)
        {
            this.nanoClock = clock;
            return this;
        }

        /**
         * @param clock the epoch clock for heartbeats and the error log.
         * @return this for a fluent API.
         */
        public Context epochClock(final EpochClock clock)
        {
            this.epochClock = clock;
            return this;
        }

        /**
         * @return idle strategy of the conductor thread (DEDICATED, SHARED_NETWORK).
         */
        public IdleStrategy conductorIdleStrategy()
        {
            return conductorIdleStrategy;
        }

        /**
         * @param idleStrategy idle strategy of the conductor thread (DEDICATED, SHARED_NETWORK).
         * @return this for a fluent API.
         */
        public Context conductorIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.conductorIdleStrategy = idleStrategy;
            return this;
        }

        /**
         * @return idle strategy of the sender thread (DEDICATED).
         */
        public IdleStrategy senderIdleStrategy()
        {
            return senderIdleStrategy;
        }

        /**
         * @param idleStrategy idle strategy of the sender thread (DEDICATED).
         * @return this for a fluent API.
         */
        public Context senderIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.senderIdleStrategy = idleStrategy;
            return this;
        }

        /**
         * @return idle strategy of the receiver thread (DEDICATED).
         */
        public IdleStrategy receiverIdleStrategy()
        {
            return receiverIdleStrategy;
        }

        /**
         * @param idleStrategy idle strategy of the receiver thread (DEDICATED).
         * @return this for a fluent API.
         */
        public Context receiverIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.receiverIdleStrategy = idleStrategy;
            return this;
        }

        /**
         * @return idle strategy of the sender-and-receiver thread (SHARED_NETWORK).
         */
        public IdleStrategy sharedNetworkIdleStrategy()
        {
            return sharedNetworkIdleStrategy;
        }

        /**
         * @param idleStrategy idle strategy of the sender-and-receiver thread (SHARED_NETWORK).
         * @return this for a fluent API.
         */
        public Context sharedNetworkIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.sharedNetworkIdleStrategy = idleStrategy;
            return this;
        }

        /**
         * @return receiver to conductor ring length (DEDICATED, SHARED_NETWORK).
         */
        public int inboundBufferLength()
        {
            return inboundBufferLength;
        }

        /**
         * @param length receiver to conductor ring length, a power of two.
         * @return this for a fluent API.
         */
        public Context inboundBufferLength(final int length)
        {
            this.inboundBufferLength = length;
            return this;
        }

        /**
         * @return how long a client may go without a keepalive before the driver frees its resources.
         */
        public long clientLivenessTimeoutNs()
        {
            return clientLivenessTimeoutNs;
        }

        /**
         * @param timeoutNs how long a client may go without a keepalive before the driver frees its resources.
         * @return this for a fluent API.
         */
        public Context clientLivenessTimeoutNs(final long timeoutNs)
        {
            this.clientLivenessTimeoutNs = timeoutNs;
            return this;
        }

        /**
         * @return true if the owner's group may read and write the driver's directory and files.
         */
        public boolean dirGroupAccess()
        {
            return dirGroupAccess;
        }

        /**
         * @param groupAccess let the owner's group read and write the driver's directory and files.
         * @return this for a fluent API.
         */
        public Context dirGroupAccess(final boolean groupAccess)
        {
            this.dirGroupAccess = groupAccess;
            return this;
        }

        /**
         * @param hook run (on a thread of its own) after the driver closed itself because an error escaped one of
         *             its agents; the standalone driver's hook makes it exit with status 1.
         * @return this for a fluent API.
         */
        public Context terminationHook(final Runnable hook)
        {
            this.terminationHook = hook;
            return this;
        }

        /**
         * @return what runs after the driver closed itself on a fatal error, or null.
         */
        public Runnable terminationHook()
        {
            return terminationHook;
        }

        /**
         * @return true if a FREEZE packet from the network may freeze the event log.
         */
        public boolean freezeAccept()
        {
            return freezeAccept;
        }

        /**
         * @param accept let a FREEZE packet from the network freeze the event log and dump it (debugging only:
         *               any peer that can reach the driver could do it).
         * @return this for a fluent API.
         */
        public Context freezeAccept(final boolean accept)
        {
            this.freezeAccept = accept;
            return this;
        }

        /**
         * @return true if the driver records protocol events in {@code events.dat}.
         */
        public boolean eventLogEnabled()
        {
            return eventLogEnabled;
        }

        /**
         * @param enabled record protocol events in {@code events.dat} of the driver directory.
         * @return this for a fluent API.
         */
        public Context eventLogEnabled(final boolean enabled)
        {
            this.eventLogEnabled = enabled;
            return this;
        }

        /**
         * @return events the log keeps.
         */
        public int eventLogLength()
        {
            return eventLogLength;
        }

        /**
         * @param length events the log keeps, a power of two (64 bytes each).
         * @return this for a fluent API.
         */
        public Context eventLogLength(final int length)
        {
            this.eventLogLength = length;
            return this;
        }

        /**
         * @return the event log, once the driver started (a disabled one if the log is off).
         */
        public EventLog eventLog()
        {
            return eventLog;
        }

        /**
         * @param print print the configuration when the driver starts.
         * @return this for a fluent API.
         */
        public Context printConfiguration(final boolean print)
        {
            this.printConfiguration = print;
            return this;
        }

        /**
         * @return the transport, once the driver started.
         */
        public PacketTransport transport()
        {
            return transport;
        }

        /**
         * @return the counters manager, once the driver started.
         */
        public CountersManager countersManager()
        {
            return countersManager;
        }

        /**
         * @return silent ticks before an RPC asks for retransmission.
         */
        public int resendTicks()
        {
            return resendTicks;
        }

        /**
         * @param ticks silent ticks before an RPC asks for retransmission.
         * @return this for a fluent API.
         */
        public Context resendTicks(final int ticks)
        {
            this.resendTicks = ticks;
            return this;
        }

        /**
         * @return ticks between RESENDs.
         */
        public int resendInterval()
        {
            return resendInterval;
        }

        /**
         * @param ticks ticks between RESENDs.
         * @return this for a fluent API.
         */
        public Context resendInterval(final int ticks)
        {
            this.resendInterval = ticks;
            return this;
        }

        /**
         * @return silent ticks before an RPC is aborted.
         */
        public int timeoutTicks()
        {
            return timeoutTicks;
        }

        /**
         * @param ticks silent ticks before an RPC is aborted.
         * @return this for a fluent API.
         */
        public Context timeoutTicks(final int ticks)
        {
            this.timeoutTicks = ticks;
            return this;
        }

        /**
         * @param ticks ticks between repeated NEED_ACKs (Linux: 1).
         * @return this for a fluent API.
         */
        public Context needAckIntervalTicks(final int ticks)
        {
            this.needAckIntervalTicks = ticks;
            return this;
        }

        /**
         * @return ticks a server remembers the id of an RPC that ran and ended.
         */
        public int recentAcksTicks()
        {
            return recentAcksTicks;
        }

        /**
         * @param ticks ticks a server remembers the id of an RPC that ran and ended.
         * @return this for a fluent API.
         */
        public Context recentAcksTicks(final int ticks)
        {
            this.recentAcksTicks = ticks;
            return this;
        }

        /**
         * @param limits bounds on the state peers and clients can make the driver hold ({@code homa.limit.*}).
         * @return this for a fluent API.
         */
        public Context limits(final io.homa.driver.protocol.LimitSettings limits)
        {
            this.limits = limits.validate();
            return this;
        }

        /**
         * @return bounds on the state peers and clients can make the driver hold.
         */
        public io.homa.driver.protocol.LimitSettings limits()
        {
            return limits;
        }

        /**
         * @param threshold above this many peers, idle ones go after the minimum idle time.
         * @return this for a fluent API.
         */
        public Context peerGcThreshold(final int threshold)
        {
            this.peerGcThreshold = threshold;
            return this;
        }

        /**
         * @param idleNs idle time after which an unused peer may be evicted when there are many.
         * @return this for a fluent API.
         */
        public Context peerIdleMinNs(final long idleNs)
        {
            this.peerIdleMinNs = idleNs;
            return this;
        }

        /**
         * @param idleNs idle time after which an unused peer is always evicted.
         * @return this for a fluent API.
         */
        public Context peerIdleMaxNs(final long idleNs)
        {
            this.peerIdleMaxNs = idleNs;
            return this;
        }

        /**
         * Faults to inject into arriving packets (from {@code homa.fault.*}); change it before launch. The transport
         * is decorated only if a fault is set.
         *
         * @return the fault-injection settings.
         */
        public FaultInjection faultInjection()
        {
            return faultInjection;
        }

        public String toString()
        {
            return "MediaDriver.Context{" +
                "dir=" + homaDirectoryName() +
                ", threadingMode=" + threadingMode +
                ", sharedIdleStrategy=" + sharedIdleStrategyName +
                ", conductorIdleStrategy=" + conductorIdleStrategyName +
                ", senderIdleStrategy=" + senderIdleStrategyName +
                ", receiverIdleStrategy=" + receiverIdleStrategyName +
                ", sharedNetworkIdleStrategy=" + sharedNetworkIdleStrategyName +
                ", udp=" + udpAddress + ":" + udpPort +
                ", transport=" + transportName +
                ", udpGro=" + udpGro +
                ", hijackTcp=" + hijackTcp +
                ", mtuLength=" + mtuLength +
                ", socketRcvbufLength=" + socketRcvbufLength +
                ", socketSndbufLength=" + socketSndbufLength +
                ", timerTickNs=" + timerTickNs +
                ", driverTimeoutNs=" + driverTimeoutNs() +
                ", clientLivenessTimeoutNs=" + clientLivenessTimeoutNs +
                ", dirDeleteOnStart=" + dirDeleteOnStart +
                ", dirDeleteOnShutdown=" + dirDeleteOnShutdown +
                ", dirGroupAccess=" + dirGroupAccess +
                ", toDriverBufferLength=" + toDriverBufferLength +
                ", toClientsBufferLength=" + toClientsBufferLength +
                ", countersValuesBufferLength=" + countersValuesBufferLength +
                ", errorBufferLength=" + errorBufferLength +
                ", socketEventBufferLength=" + socketEventBufferLength +
                ", socketPoolLength=" + socketPoolLength +
                ", socketSendRegionLength=" + socketSendRegionLength +
                ", socketMinBlockLength=" + socketMinBlockLength +
                ", outboundBufferLength=" + outboundBufferLength +
                ", inboundBufferLength=" + inboundBufferLength +
                ", unschedBytes=" + unschedBytes +
                ", requestAckTicks=" + requestAckTicks +
                ", resendTicks=" + resendTicks +
                ", resendInterval=" + resendInterval +
                ", timeoutTicks=" + timeoutTicks +
                ", faultInjection=" + faultInjection +
                ", rttNs=" + rttNs +
                ", window=" + window +
                ", maxIncoming=" + maxIncoming +
                ", maxOvercommit=" + maxOvercommit +
                ", grantFifoFraction=" + grantFifoFraction +
                ", fifoGrantIncrement=" + fifoGrantIncrement +
                ", linkMbps=" + linkMbps +
                ", numPriorities=" + numPriorities +
                ", unschedCutoffs=" + java.util.Arrays.toString(unschedCutoffs) +
                ", maxNicEstBacklogNs=" + maxNicEstBacklogNs +
                ", deferMinBytes=" + deferMinBytes +
                ", pacerFifoFraction=" + pacerFifoFraction +
                ", pacing=" + pacing +
                ", eventLogEnabled=" + eventLogEnabled +
                ", eventLogLength=" + eventLogLength +
                ", jmxEnabled=" + jmxEnabled +
                ", prometheus=" + (prometheusPort < 0 ? "off" : prometheusAddress + ":" + prometheusPort) +
                "}";
        }
    }
}
