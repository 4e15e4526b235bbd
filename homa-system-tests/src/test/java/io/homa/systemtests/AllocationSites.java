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
