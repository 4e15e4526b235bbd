package io.homa.systemtests;

import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code homa.driver.cpus}: the agent threads run pinned to the CPUs named, as the kernel reports them; a bad list is
 * refused at start with the property's name.
 */
class DriverCpusTest
{
    private MediaDriver driver;

    @AfterEach
    void tearDown()
    {
        CloseHelper.close(driver);
    }

    @Test
    void shouldPinEveryAgentThreadToTheCpusNamed() throws Exception
    {
        final List<String> before = agentThreadIds();
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.DEDICATED)
            .driverCpus("0"));
        // Agrona names an agent's thread before it starts and the thread pins itself before its first duty cycle,
        // so a loaded machine can show a named thread not yet pinned: wait (bounded) for all three to be pinned.
        final java.util.Map<String, String> seen = new java.util.TreeMap<>();
        final java.util.function.BooleanSupplier pinned = () ->
        {
            seen.clear();
            try
            {
                for (final String tid : agentThreadIds())
                {
                    if (!before.contains(tid))
                    {
                        seen.put(tid, cpusAllowed(tid));
                    }
                }
            }
            catch (final IOException | RuntimeException ex)
            {
                return false; // a thread ended between listing and reading
            }
            return 3 == seen.size() && seen.values().stream().allMatch("0"::equals);
        };
        final long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!pinned.getAsBoolean() && System.nanoTime() - deadlineNs < 0)
        {
            Thread.yield();
        }
        assertTrue(pinned.getAsBoolean(),
            "conductor, receiver and sender threads (and only they) pinned to CPU 0; new threads: " + seen);
    }

    @Test
    void shouldLeaveAgentThreadsUnpinnedByDefault() throws Exception
    {
        final String processCpus = cpusAllowed("self");
        final List<String> before = agentThreadIds();
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        final List<String> agents = awaitNewAgentThreads(before, 1);
        assertFalse(agents.isEmpty());
        for (final String tid : agents)
        {
            assertEquals(processCpus, cpusAllowed(tid), "thread " + tid);
        }
    }

    @Test
    void shouldRefuseABadCpuListNamingTheProperty()
    {
        for (final String bad : new String[]{ "x", "3-1", "1,", "4095" })
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> driver = MediaDriver.launchEmbedded(new MediaDriver.Context().driverCpus(bad)), bad);
            assertTrue(ex.getMessage().startsWith("homa.driver.cpus"), ex.getMessage());
        }
    }

    /**
     * The agent runner names its thread once it runs: waits (bounded) until {@code count} agent threads that were
     * not there {@code before} show up.
     */
    private static List<String> awaitNewAgentThreads(final List<String> before, final int count)
    {
        final List<String> agents = new ArrayList<>();
        TestUtil.await(() ->
        {
            agents.clear();
            try
            {
                agents.addAll(agentThreadIds());
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
            agents.removeAll(before);
            return agents.size() >= count;
        }, Thread::yield, 10_000, count + " new agent thread(s)");
        return agents;
    }

    /** Native ids of this JVM's driver agent threads (their names start with the agents' role names). */
    private static List<String> agentThreadIds() throws IOException
    {
        final List<String> ids = new ArrayList<>();
        final File[] tasks = new File("/proc/self/task").listFiles();
        if (null != tasks)
        {
            for (final File task : tasks)
            {
                try
                {
                    final String comm = Files.readString(new File(task, "comm").toPath()).trim();
                    if (comm.startsWith("homa-receiver") || comm.startsWith("homa-conductor") ||
                        comm.startsWith("homa-sender") || comm.startsWith("[homa-"))
                    {
                        ids.add(task.getName());
                    }
                }
                catch (final IOException ex)
                {
                    // the thread ended meanwhile
                }
            }
        }
        return ids;
    }

    private static String cpusAllowed(final String tid) throws IOException
    {
        final String status = Files.readString(new File(
            "self".equals(tid) ? "/proc/self/status" : "/proc/self/task/" + tid + "/status").toPath());
        return status.lines().filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
            .split(":")[1].trim();
    }
}
