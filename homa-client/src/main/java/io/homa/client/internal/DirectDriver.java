package io.homa.client.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * A driver in this JVM whose duty cycle a client thread may run itself while the driver's own thread sleeps, as a
 * Linux system call runs the protocol in the caller's context: a thread blocked in {@code receive} drives the
 * driver and sleeps on its sockets (so an arriving packet wakes the waiting thread itself, not the driver's thread
 * and then the waiting thread), and a {@code send} to a sleeping driver transmits at once instead of waking it.
 * One thread at a time runs the cycle (a lock); the others wait as usual. An embedded driver in SHARED mode
 * registers itself here, and {@link io.homa.client.Homa#connect} finds it by directory.
 */
public interface DirectDriver
{
    /**
     * Runs one duty cycle on this thread if no other thread runs the driver now.
     *
     * @return work done, or -1 if another thread holds the driver (nothing was run).
     */
    int tryDutyCycle();

    /**
     * Runs the driver on this thread until {@code done} holds or the deadline passes, sleeping on the driver's
     * sockets and wake-ups between cycles.
     *
     * @param done       checked after each cycle.
     * @param deadlineNs {@code System.nanoTime()} deadline.
     * @return false if another thread holds the driver (nothing was run: the caller waits its own way).
     */
    boolean driveUntil(BooleanSupplier done, long deadlineNs);

    /**
     * @return true while the driver's own thread sleeps in the kernel (a cycle run here then saves waking it).
     */
    boolean isDriverAsleep();

    /**
     * The drivers of this JVM by the canonical path of their directory.
     */
    final class Registry
    {
        private static final ConcurrentHashMap<String, DirectDriver> DRIVERS = new ConcurrentHashMap<>();

        private Registry()
        {
        }

        /**
         * @param directory a driver directory.
         * @param driver    its driver, running in this JVM.
         */
        public static void register(final java.io.File directory, final DirectDriver driver)
        {
            DRIVERS.put(key(directory), driver);
        }

        /**
         * @param directory a driver directory.
         * @param driver    the driver that registered it (no other is removed).
         */
        public static void unregister(final java.io.File directory, final DirectDriver driver)
        {
            DRIVERS.remove(key(directory), driver);
        }

        /**
         * @param directory a driver directory.
         * @return its driver if it runs in this JVM and allows direct driving, else null.
         */
        public static DirectDriver find(final java.io.File directory)
        {
            return DRIVERS.get(key(directory));
        }

        private static String key(final java.io.File directory)
        {
            try
            {
                return directory.getCanonicalPath();
            }
            catch (final java.io.IOException ex)
            {
                return directory.getAbsolutePath();
            }
        }
    }
}
