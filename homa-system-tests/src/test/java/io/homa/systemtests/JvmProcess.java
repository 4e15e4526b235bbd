package io.homa.systemtests;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Java program in a JVM of its own, on the test class path, with the flags Agrona and FFM need. Its output
 * (stdout and stderr) is collected line by line; every wait is bounded. The child stops by itself when its
 * standard input closes, so it cannot outlive the test JVM.
 */
final class JvmProcess implements AutoCloseable
{
    /** coreutils {@code env}, which can reset signals to their default action before it runs the JVM. */
    private static final String ENV = "/usr/bin/env";
    private static final boolean ENV_RESETS_SIGNALS = envResetsSignals();

    private final String name;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private JvmProcess(final String name, final Process process)
    {
        this.name = name;
        this.process = process;
        reader = new Thread(this::readOutput, "output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    static JvmProcess start(
        final String name, final Class<?> mainClass, final List<String> systemProperties, final String... args)
    {
        final List<String> command = new ArrayList<>();
        if (ENV_RESETS_SIGNALS)
        {
            // A suite started in the background of a script inherits SIGINT ignored, and a JVM keeps an inherited
            // ignored SIGINT ignored: the child would never see the signals the tests send it.
            command.add(ENV);
            command.add("--default-signal=INT,TERM,HUP");
        }
        command.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        command.add("--add-opens");
        command.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-Djava.net.preferIPv4Stack=true");
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.addAll(systemProperties);
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        try
        {
            return new JvmProcess(name, new ProcessBuilder(command).redirectErrorStream(true).start());
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start " + name, ex);
        }
    }

    private void readOutput()
    {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while (null != (line = in.readLine()))
            {
                synchronized (lines)
                {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        }
        catch (final IOException ignore)
        {
            // The process went away.
        }
    }

    /**
     * Waits for a line of output that matches.
     */
    String awaitLine(final Predicate<String> match, final long timeoutMs)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lines)
        {
            int next = 0;
            while (true)
            {
                for (; next < lines.size(); next++)
                {
                    if (match.test(lines.get(next)))
                    {
                        return lines.get(next);
                    }
                }
                final long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0)
                {
                    fail(name + ": no matching output within " + timeoutMs + " ms; output so far:\n" +
                        String.join("\n", lines));
                }
                try
                {
                    lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(leftNs)));
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    fail("interrupted");
                }
            }
        }
    }

    String awaitLineStartingWith(final String prefix, final long timeoutMs)
    {
        return awaitLine(line -> line.startsWith(prefix), timeoutMs);
    }

    String output()
    {
        synchronized (lines)
        {
            return String.join("\n", lines);
        }
    }

    long pid()
    {
        return process.pid();
    }

    Process process()
    {
        return process;
    }

    /**
     * @return the exit code, failing the test if the process is still running after the timeout.
     */
    int awaitExit(final long timeoutMs)
    {
        try
        {
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
            {
                fail(name + " still running after " + timeoutMs + " ms; output:\n" + output());
            }
            reader.join(2_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        return process.exitValue();
    }

    private static boolean envResetsSignals()
    {
        try
        {
            final Process probe = new ProcessBuilder(ENV, "--default-signal=INT", "true")
                .redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return 0 == probe.waitFor();
        }
        catch (final IOException ex)
        {
            return false;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Sends a signal by name (INT, TERM, KILL) with the system's kill command.
     */
    void signal(final String signal)
    {
        try
        {
            final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || 0 != kill.exitValue())
            {
                fail("kill -" + signal + " " + process.pid() + " failed");
            }
        }
        catch (final IOException | InterruptedException ex)
        {
            fail("kill -" + signal + ": " + ex);
        }
    }

    public void close()
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
            try
            {
                process.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
