package io.homa.systemtests;

/**
 * For allocation tests' failure messages: runs one more measured window under JFR and names the allocation sites
 * seen most often on the calling thread, so that a failure seen once on CI says where the bytes came from.
 */
final class AllocationSites
{
    private AllocationSites()
    {
    }

    /**
     * The steady-state check of the allocation tests, after the caller's own warm-up: keeps warming, bounded, until
     * one window of calls is within the bound (C2 may finish late on a loaded machine; code that allocates on every
     * call never gets there and is measured all the same), then measures {@code windowCount} consecutive windows
     * and requires the TOTAL this thread allocated over them to be at most {@code maxBytesPerCall} per call. On
     * failure the message names the allocation sites of one more window ({@link #inOneMoreWindow}).
     *
     * @param threads               the JVM's thread bean, allocation counting enabled.
     * @param prefix                put before the report ("" or "what: ").
     * @param unit                  what one call is, for the report ("RPC", "call").
     * @param calls                 runs that many calls on this thread.
     * @param callsPerWindow        calls per window.
     * @param windowCount           windows measured.
     * @param maxExtraWarmUpWindows most extra warm-up windows.
     * @param maxExtraWarmUpNs      most time spent on them.
     * @param maxBytesPerCall       the bound.
     * @return the per-window figures (also printed), for messages.
     */
    static String assertSteadyState(
        final com.sun.management.ThreadMXBean threads,
        final String prefix,
        final String unit,
        final java.util.function.IntConsumer calls,
        final int callsPerWindow,
        final int windowCount,
        final int maxExtraWarmUpWindows,
        final long maxExtraWarmUpNs,
        final double maxBytesPerCall)
    {
        final long threadId = Thread.currentThread().threadId();
        final long warmDeadlineNs = System.nanoTime() + maxExtraWarmUpNs;
        int extraWarmUpWindows = 0;
        while (extraWarmUpWindows < maxExtraWarmUpWindows && System.nanoTime() - warmDeadlineNs < 0)
        {
            final long before = threads.getThreadAllocatedBytes(threadId);
            calls.accept(callsPerWindow);
            if (threads.getThreadAllocatedBytes(threadId) - before <= maxBytesPerCall * callsPerWindow)
            {
                break;
            }
            extraWarmUpWindows++;
        }

        final long[] bytes = new long[windowCount];
        for (int window = 0; window < windowCount; window++)
        {
            final long before = threads.getThreadAllocatedBytes(threadId);
            calls.accept(callsPerWindow);
            bytes[window] = threads.getThreadAllocatedBytes(threadId) - before;
        }

        long total = 0;
        final StringBuilder windows = new StringBuilder(prefix + "after " + extraWarmUpWindows +
            " extra warm-up windows, bytes allocated per " + unit + " in each window:");
        for (final long b : bytes)
        {
            total += b;
            windows.append(String.format(" %.3f", (double)b / callsPerWindow));
        }
        final double average = (double)total / ((long)windowCount * callsPerWindow);
        windows.append(String.format("; over all %d windows %.3f (%d bytes)", windowCount, average, total));
        System.out.println(windows);
        if (average > maxBytesPerCall)
        {
            windows.append(inOneMoreWindow(() -> calls.accept(callsPerWindow)));
        }
        org.junit.jupiter.api.Assertions.assertTrue(average <= maxBytesPerCall, windows.toString());
        return windows.toString();
    }

    /**
     * @param window runs one window of the measured calls on this thread.
     * @return "; allocation sites in one more window:" and up to four sites with their counts (the allocating
     *         frame, then the first three of ours), or why JFR gave none.
     */
    static String inOneMoreWindow(final Runnable window)
    {
        final StringBuilder out = new StringBuilder("; allocation sites in one more window:");
        try
        {
            final java.nio.file.Path file = java.nio.file.Files.createTempFile("homa-allocation", ".jfr");
            try (jdk.jfr.Recording recording = new jdk.jfr.Recording())
            {
                recording.enable("jdk.ObjectAllocationSample").withStackTrace().withoutThreshold();
                recording.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
                recording.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
                recording.start();
                window.run();
                recording.stop();
                recording.dump(file);
            }
            final String thread = Thread.currentThread().getName();
            final java.util.Map<String, Integer> counts = new java.util.HashMap<>();
            for (final jdk.jfr.consumer.RecordedEvent event : jdk.jfr.consumer.RecordingFile.readAllEvents(file))
            {
                if (null == event.getThread() || !thread.equals(event.getThread().getJavaName()) ||
                    null == event.getStackTrace())
                {
                    continue;
                }
                final StringBuilder stack = new StringBuilder(event.getClass("objectClass").getName());
                final java.util.List<jdk.jfr.consumer.RecordedFrame> frames = event.getStackTrace().getFrames();
                // The allocating frame, then the first three of ours (the JDK's method-handle frames between
                // them say little).
                int ours = 0;
                for (int i = 0; i < frames.size() && ours < 3; i++)
                {
                    final jdk.jfr.consumer.RecordedFrame frame = frames.get(i);
                    final String type = frame.getMethod().getType().getName();
                    final boolean isOurs = type.startsWith("io.homa.");
                    if (0 == i || isOurs)
                    {
                        stack.append(" <- ").append(type).append('.').append(frame.getMethod().getName())
                            .append(':').append(frame.getLineNumber());
                        ours += isOurs ? 1 : 0;
                    }
                }
                counts.merge(stack.toString(), 1, Integer::sum);
            }
            java.nio.file.Files.deleteIfExists(file);
            counts.entrySet().stream()
                .sorted(java.util.Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(4)
                .forEach((entry) -> out.append("\n  ").append(entry.getValue()).append("x ").append(entry.getKey()));
        }
        catch (final Exception ex)
        {
            out.append(" (JFR unavailable: ").append(ex).append(')');
        }
        return out.toString();
    }
}
