package io.homa.systemtests.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two hosts on one cable, for IPv6 tests: network namespaces {@code homat-<pid>-6a} and {@code -6b}, each with lo up
 * and an "eth0" that is one end of a veth pair, addresses added with {@code nodad} (no duplicate-address detection,
 * so they work at once). Drivers run in the test's JVM, launched on a thread inside a namespace
 * ({@link Netns#call}): their sockets and threads stay there. Removed by {@link #close()}, also from a shutdown
 * hook if the JVM dies first.
 */
public final class Ipv6Link implements AutoCloseable
{
    private static final long COMMAND_TIMEOUT_S = 30;

    private final String prefix = "homat-" + ProcessHandle.current().pid() + "-6";
    private final List<String> namespaces = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::close, "ipv6-link-cleanup");
    private boolean isClosed;

    /**
     * Why IPv6 namespaces cannot be used here, or null if they can.
     *
     * @return the reason to skip, or null.
     */
    public static String unavailableReason()
    {
        final String netns = NetnsTestbed.unavailableReason();
        if (null != netns)
        {
            return netns;
        }
        if (!Files.exists(Path.of("/proc/net/if_inet6")))
        {
            return "this kernel has IPv6 disabled";
        }
        return null;
    }

    /**
     * @param mtu MTU of the cable.
     */
    public Ipv6Link(final int mtu)
    {
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try
        {
            addNamespace(a());
            addNamespace(b());
            run("ip", "link", "add", "eth0", "netns", a(), "type", "veth", "peer", "name", "eth0", "netns", b());
            for (final String ns : List.of(a(), b()))
            {
                run("ip", "-n", ns, "link", "set", "lo", "up");
                run("ip", "-n", ns, "link", "set", "eth0", "mtu", Integer.toString(mtu), "up");
            }
        }
        catch (final RuntimeException ex)
        {
            close();
            throw ex;
        }
    }

    /**
     * @return the first host's namespace.
     */
    public String a()
    {
        return prefix + "a";
    }

    /**
     * @return the second host's namespace.
     */
    public String b()
    {
        return prefix + "b";
    }

    /**
     * Adds an address to a host's eth0, ready at once.
     *
     * @param ns      the host's namespace.
     * @param address e.g. {@code fd00:146::1/64} or {@code 10.146.0.1/24}.
     */
    public void addAddress(final String ns, final String address)
    {
        final List<String> command = new ArrayList<>(List.of("ip", "-n", ns, "addr", "add", address, "dev", "eth0"));
        if (address.contains(":"))
        {
            command.add("nodad");
        }
        run(command.toArray(String[]::new));
    }

    /**
     * Runs a command inside a namespace, e.g. {@code sysctl}.
     *
     * @param ns      namespace.
     * @param command the command.
     */
    public void exec(final String ns, final String... command)
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        run(full.toArray(String[]::new));
    }

    /**
     * Makes one more empty namespace (removed with the rest).
     *
     * @param suffix name suffix.
     * @return its name.
     */
    public String addExtraNamespace(final String suffix)
    {
        final String ns = prefix + suffix;
        addNamespace(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    /**
     * Deletes every namespace made here. Idempotent, never throws. Drivers in them must be closed first.
     */
    public synchronized void close()
    {
        if (isClosed)
        {
            return;
        }
        isClosed = true;
        for (int i = namespaces.size() - 1; i >= 0; i--)
        {
            try
            {
                exec(List.of("ip", "netns", "del", namespaces.get(i)));
            }
            catch (final RuntimeException ignore)
            {
                // Best effort; the next one may still go.
            }
        }
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: this is the hook.
        }
    }

    private void addNamespace(final String ns)
    {
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
    }

    private static void run(final String... command)
    {
        final String output = exec(List.of(command));
        if (null != output)
        {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output.trim());
        }
    }

    /**
     * @return null on success, else the output.
     */
    private static String exec(final List<String> command)
    {
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                return "timed out";
            }
            return 0 == process.exitValue() ? null : "exit " + process.exitValue() + ": " + output;
        }
        catch (final IOException ex)
        {
            return "cannot run " + command.get(0) + ": " + ex.getMessage();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
