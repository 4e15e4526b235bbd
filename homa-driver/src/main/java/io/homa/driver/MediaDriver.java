package io.homa.driver;

import io.homa.client.CncFileDescriptor;
import io.homa.client.CommonContext;
import io.homa.driver.protocol.HomaEngine;
import io.homa.driver.protocol.OutboundPackets;
import io.homa.driver.status.SystemCounterDescriptor;
import io.homa.driver.status.SystemCounters;
import io.homa.driver.transport.PacketTransport;
import io.homa.driver.net.NicDiscovery;
import io.homa.driver.net.UdpSocket;
import io.homa.driver.status.TransportCounters;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.IoUtil;
import org.agrona.SystemUtil;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.CountedErrorHandler;
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
    private volatile boolean isClosed;

    private MediaDriver(final Context ctx)
    {
        this.ctx = ctx;
        try
        {
            ctx.conclude();
            final CompositeAgent agents = new CompositeAgent(ctx.receiver, ctx.conductor, ctx.sender);
            if (ThreadingMode.INVOKER == ctx.threadingMode())
            {
                sharedRunner = null;
                sharedInvoker = new AgentInvoker(ctx.errorHandler, ctx.errorCounter, agents);
            }
            else
            {
                sharedInvoker = null;
                sharedRunner = new AgentRunner(ctx.sharedIdleStrategy(), ctx.errorHandler, ctx.errorCounter, agents);
            }
        }
        catch (final RuntimeException ex)
        {
            ctx.close();
            throw ex;
        }
    }

    /**
     * Starts a driver with the given settings.
     *
     * @param ctx settings.
     * @return the running driver.
     * @throws ActiveDriverException if a live driver already owns the directory.
     */
    public static MediaDriver launch(final Context ctx)
    {
        final MediaDriver driver = new MediaDriver(ctx);
        driver.start();
        return driver;
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
     * Standalone driver: loads the property files named on the command line, starts, and runs until SIGINT or
     * SIGTERM.
     *
     * @param args property files.
     */
    public static void main(final String[] args)
    {
        SystemUtil.loadPropertiesFiles(args);
        try (ShutdownSignalBarrier barrier = new ShutdownSignalBarrier();
            MediaDriver driver = launch())
        {
            System.out.println("homa driver: dir=" + driver.homaDirectoryName() + " udp=" +
                driver.context().udpAddress() + ":" + driver.udpPort());
            System.out.println(driver.context().nicDescription());
            barrier.await();
            System.out.println("homa driver: shutdown");
        }
    }

    private void start()
    {
        if (null != sharedRunner)
        {
            AgentRunner.startOnThread(sharedRunner, r ->
            {
                final Thread thread = new Thread(r, "homa-md-shared");
                thread.setDaemon(true);
                return thread;
            });
        }
        else
        {
            sharedInvoker.start();
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
     * @return the IPv4 address peers send to, as an int.
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
        CloseHelper.closeAll(sharedRunner, sharedInvoker);
        ctx.close();
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
        private boolean dirDeleteOnStart = Boolean.getBoolean(Configuration.DIR_DELETE_ON_START_PROP_NAME);
        private boolean dirDeleteOnShutdown = Boolean.getBoolean(Configuration.DIR_DELETE_ON_SHUTDOWN_PROP_NAME);
        private String udpAddress =
            System.getProperty(Configuration.UDP_ADDRESS_PROP_NAME, Configuration.UDP_ADDRESS_DEFAULT);
        private int udpPort = Configuration.intValue(Configuration.UDP_PORT_PROP_NAME, Configuration.UDP_PORT_DEFAULT);
        private boolean isUdpPortSet;
        private int mtuLength = Configuration.sizeAsInt(
            Configuration.MTU_LENGTH_PROP_NAME, Configuration.MTU_LENGTH_DEFAULT);
        private String transportName =
            System.getProperty(Configuration.TRANSPORT_PROP_NAME, Configuration.TRANSPORT_DEFAULT);
        private int linkMbps = Configuration.intValue(
            Configuration.LINK_MBPS_PROP_NAME, Configuration.LINK_MBPS_DEFAULT);
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
        private int unschedBytes = Configuration.intValue(
            Configuration.UNSCHED_BYTES_PROP_NAME, Configuration.UNSCHED_BYTES_DEFAULT);
        private int requestAckTicks = Configuration.intValue(
            Configuration.REQUEST_ACK_TICKS_PROP_NAME, Configuration.REQUEST_ACK_TICKS_DEFAULT);
        private boolean printConfiguration = Boolean.getBoolean(Configuration.PRINT_CONFIGURATION_PROP_NAME);
        private NanoClock nanoClock;
        private EpochClock epochClock;

        // Built by conclude().
        private MappedByteBuffer cncByteBuffer;
        private UnsafeBuffer cncMetaData;
        private ManyToOneRingBuffer toDriver;
        private CountersManager countersManager;
        private SystemCounters systemCounters;
        private DistinctErrorLog errorLog;
        private AtomicCounter errorCounter;
        private ErrorHandler errorHandler;
        private PacketTransport transport;
        private TransportCounters transportCounters;
        private NicDiscovery.Nic nic;
        private int[] resolvedNic;
        private HomaEngine engine;
        private DriverConductor conductor;
        private Receiver receiver;
        private Sender sender;
        private boolean isConcluded;
        private boolean isContextClosed;

        /**
         * Validates the settings, prepares the directory and CnC file, opens the transport and builds the agents.
         * Called by {@link MediaDriver#launch(Context)}.
         */
        void conclude()
        {
            if (isConcluded)
            {
                throw new IllegalStateException("context already used by a driver");
            }
            isConcluded = true;
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
                sharedIdleStrategy = Configuration.idleStrategy(sharedIdleStrategyName);
            }

            prepareDirectory();
            createCnc();

            final InetAddress bindAddress;
            try
            {
                bindAddress = InetAddress.getByName(udpAddress);
            }
            catch (final UnknownHostException ex)
            {
                throw new IllegalArgumentException("bad " + Configuration.UDP_ADDRESS_PROP_NAME + ": " + udpAddress, ex);
            }
            transportCounters = new TransportCounters(countersManager);
            nic = NicDiscovery.discover(bindAddress instanceof java.net.Inet4Address ?
                UdpSocket.ipv4ToInt(bindAddress) : 0);
            resolvedNic = Transports.resolveNic(nic, mtuLength, linkMbps, transportCounters);
            transport = Transports.open(transportName, nic, bindAddress, udpPort, resolvedNic[0], socketRcvbufLength,
                socketSndbufLength, packetRingVersion, transportCounters);
            cncMetaData.putInt(CncFileDescriptor.UDP_PORT_OFFSET, transport.localPort());
            cncMetaData.putInt(CncFileDescriptor.UDP_ADDRESS_OFFSET, transport.localIpv4());

            final OutboundPackets outbound = new OutboundPackets(
                new OneToOneRingBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(outboundBufferLength, 64))));
            final HomaEngine.Settings settings = new HomaEngine.Settings(
                unschedBytes, requestAckTicks, timerTickNs, socketEventBufferLength, socketPoolLength,
                socketSendRegionLength, socketMinBlockLength, transport.maxPacketLength());
            final ClientProxy clientProxy = new ClientProxy(
                new BroadcastTransmitter(CncFileDescriptor.toClientsBuffer(cncByteBuffer, cncMetaData)));
            engine = new HomaEngine(homaDirectory(), settings, outbound, clientProxy, systemCounters);

            final CachedNanoClock cachedNanoClock = new CachedNanoClock();
            cachedNanoClock.update(nanoClock.nanoTime());
            conductor = new DriverConductor(toDriver, engine, transport, nanoClock, cachedNanoClock, epochClock,
                errorHandler, systemCounters);
            receiver = new Receiver(transport, engine, cachedNanoClock, errorHandler, systemCounters);
            sender = new Sender(outbound, transport, systemCounters);

            // Clients treat version 0 as "not ready": write it last.
            toDriver.consumerHeartbeatTime(epochClock.time());
            cncMetaData.putIntVolatile(CncFileDescriptor.VERSION_OFFSET, CncFileDescriptor.CNC_VERSION);

            if (printConfiguration)
            {
                System.out.println(this);
                System.out.println(nicDescription());
            }
        }

        private void validate()
        {
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
            if (unschedBytes <= 0)
            {
                throw new IllegalArgumentException(Configuration.UNSCHED_BYTES_PROP_NAME + " must be > 0");
            }
            if (udpPort < 0 || udpPort > 0xFFFF)
            {
                throw new IllegalArgumentException(Configuration.UDP_PORT_PROP_NAME + " out of range: " + udpPort);
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
            if (dir.exists())
            {
                // A dead driver's directory: start clean (dirDeleteOnStart only matters for a live-looking one).
                IoUtil.delete(dir, false);
            }
            IoUtil.ensureDirectoryExists(dir, "homa directory");
            IoUtil.ensureDirectoryExists(new File(dir, CncFileDescriptor.SOCKETS_DIR), "sockets directory");
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
            cncByteBuffer = IoUtil.mapNewFile(
                new File(homaDirectory(), CncFileDescriptor.CNC_FILE), fileLength, true);
            cncMetaData = CncFileDescriptor.metaDataBuffer(cncByteBuffer);
            cncMetaData.putInt(CncFileDescriptor.TO_DRIVER_LENGTH_OFFSET, toDriverBufferLength);
            cncMetaData.putInt(CncFileDescriptor.TO_CLIENTS_LENGTH_OFFSET, toClientsBufferLength);
            cncMetaData.putInt(CncFileDescriptor.COUNTERS_METADATA_LENGTH_OFFSET, countersMetadataLength);
            cncMetaData.putInt(CncFileDescriptor.COUNTERS_VALUES_LENGTH_OFFSET, countersValuesBufferLength);
            cncMetaData.putInt(CncFileDescriptor.ERROR_LOG_LENGTH_OFFSET, errorBufferLength);
            cncMetaData.putLong(CncFileDescriptor.CLIENT_LIVENESS_TIMEOUT_OFFSET, driverTimeoutNs());
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
            errorHandler = new CountedErrorHandler(
                (throwable) ->
                {
                    if (!errorLog.record(throwable))
                    {
                        System.err.println("homa driver: error log full, dropping: " + throwable);
                    }
                },
                errorCounter);
        }

        /**
         * Releases what conclude() built.
         */
        public void close()
        {
            if (isContextClosed)
            {
                return;
            }
            isContextClosed = true;
            CloseHelper.quietClose(transport);
            if (null != cncByteBuffer)
            {
                IoUtil.unmap(cncByteBuffer);
            }
            if (dirDeleteOnShutdown)
            {
                IoUtil.delete(homaDirectory(), true);
            }
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
         * @param version 3 (RX in blocks) or 2 (RX frame by frame, lower latency).
         * @return this for a fluent API.
         */
        public Context packetRingVersion(final int version)
        {
            this.packetRingVersion = version;
            return this;
        }

        /**
         * @return link speed in Mb/s as configured (0 = discover); see {@link #resolvedLinkMbps()}.
         */
        public int linkMbps()
        {
            return linkMbps;
        }

        /**
         * @param mbps link speed in Mb/s; 0 = ask the NIC, falling back to {@link Configuration#LINK_MBPS_FALLBACK}.
         * @return this for a fluent API.
         */
        public Context linkMbps(final int mbps)
        {
            this.linkMbps = mbps;
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
            return Transports.describe(transportName, nic, mtuLength, linkMbps, resolvedNic);
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

        public String toString()
        {
            return "MediaDriver.Context{" +
                "dir=" + homaDirectoryName() +
                ", threadingMode=" + threadingMode +
                ", sharedIdleStrategy=" + sharedIdleStrategyName +
                ", udp=" + udpAddress + ":" + udpPort +
                ", transport=" + transportName +
                ", mtuLength=" + mtuLength +
                ", linkMbps=" + linkMbps +
                ", timerTickNs=" + timerTickNs +
                ", socketPoolLength=" + socketPoolLength +
                ", socketSendRegionLength=" + socketSendRegionLength +
                ", unschedBytes=" + unschedBytes +
                ", requestAckTicks=" + requestAckTicks +
                "}";
        }
    }
}
