package io.homa.client;

import org.agrona.SystemUtil;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * Settings a driver and its clients must agree on: where the driver directory is and how long to wait for a
 * driver before calling it dead. Making one refuses, with one line, a {@code homa.*} system property that no
 * setting has and a value that does not parse (see {@link HomaProperties}).
 */
public class CommonContext
{
    /** Property naming the driver directory. */
    public static final String HOMA_DIR_PROP_NAME = "homa.dir";
    /** Property: how long without a driver heartbeat (or answer) before a client gives up on the driver. */
    public static final String DRIVER_TIMEOUT_PROP_NAME = "homa.driver.timeout";
    /** Default driver timeout. */
    public static final long DRIVER_TIMEOUT_DEFAULT_NS = TimeUnit.SECONDS.toNanos(10);

    /**
     * Property: how long a thread that just did work (a driver thread after a packet or command, a client thread
     * from the start of a blocking call) polls before it sleeps in the kernel until something wakes it. Linux
     * Homa's {@code poll_usecs} plays this part in {@code homa_wait_for_message}.
     */
    public static final String POLL_DURATION_PROP_NAME = "homa.poll.duration";
    /** Default poll duration: Linux's 50 µs. */
    public static final long POLL_DURATION_DEFAULT_NS = TimeUnit.MICROSECONDS.toNanos(50);

    /**
     * Default directory: {@code /dev/shm/homa-<user>} where /dev/shm exists (memory-backed, like Aeron's),
     * else {@code <java.io.tmpdir>/homa-<user>}.
     */
    public static final String HOMA_DIR_DEFAULT;

    static
    {
        final String user = System.getProperty("user.name", "default").replaceAll("[^A-Za-z0-9_.-]", "_");
        final File shm = new File("/dev/shm");
        final String base = shm.isDirectory() && shm.canWrite() ? shm.getPath() : SystemUtil.tmpDirName();
        HOMA_DIR_DEFAULT = new File(base, "homa-" + user).getPath();
    }

    {
        // Before any value is read: a misspelt name is refused rather than its setting silently left at default.
        HomaProperties.checkNames();
    }

    private String homaDirectoryName = HomaProperties.string(HOMA_DIR_PROP_NAME, HOMA_DIR_DEFAULT);
    private long driverTimeoutNs = HomaProperties.durationNs(DRIVER_TIMEOUT_PROP_NAME, DRIVER_TIMEOUT_DEFAULT_NS);
    private long pollDurationNs = HomaProperties.durationNs(POLL_DURATION_PROP_NAME, POLL_DURATION_DEFAULT_NS);

    /**
     * @return how long a thread polls after work (or from the start of a blocking call) before it sleeps, in ns.
     */
    public long pollDurationNs()
    {
        return pollDurationNs;
    }

    /**
     * @param durationNs how long to poll before sleeping; 0 sleeps at once.
     * @return this for a fluent API.
     */
    public CommonContext pollDurationNs(final long durationNs)
    {
        if (durationNs < 0)
        {
            throw new IllegalArgumentException(POLL_DURATION_PROP_NAME + " must not be negative: " + durationNs);
        }
        this.pollDurationNs = durationNs;
        return this;
    }

    /**
     * @return the driver directory.
     */
    public String homaDirectoryName()
    {
        return homaDirectoryName;
    }

    /**
     * @param dirName the driver directory.
     * @return this for a fluent API.
     */
    public CommonContext homaDirectoryName(final String dirName)
    {
        this.homaDirectoryName = dirName;
        return this;
    }

    /**
     * @return how long without a driver heartbeat before the driver is taken for dead, in ns.
     */
    public long driverTimeoutNs()
    {
        return driverTimeoutNs;
    }

    /**
     * @param timeoutNs how long without a driver heartbeat before the driver is taken for dead.
     * @return this for a fluent API.
     */
    public CommonContext driverTimeoutNs(final long timeoutNs)
    {
        this.driverTimeoutNs = timeoutNs;
        return this;
    }

    /**
     * @return the directory as a file.
     */
    public File homaDirectory()
    {
        return new File(homaDirectoryName);
    }

    /**
     * @return a fresh random directory name under the default base, for embedded drivers and tests.
     */
    public static String generateRandomDirName()
    {
        return HOMA_DIR_DEFAULT + "-" + Long.toHexString(System.nanoTime()) + "-" +
            Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt());
    }
}
