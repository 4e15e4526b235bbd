package io.homa.driver.status;

import io.homa.driver.DriverFiles;
import org.agrona.ErrorHandler;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

import static io.homa.driver.status.EventLogDescriptor.DUMP_FILE_PREFIX;

/**
 * The driver's {@link FreezeDumper}: writes each frozen log to {@code events-freeze-<n>.txt} in the driver
 * directory, on a daemon thread of its own ({@code homa-event-dump-<n>}) so the engine never waits for the file.
 */
public final class FileFreezeDumper implements FreezeDumper
{
    private static final long DUMP_JOIN_TIMEOUT_MS = TimeUnit.SECONDS.toMillis(10);

    private final File directory;
    private final ErrorHandler errorHandler;
    private final ArrayList<Thread> dumpThreads = new ArrayList<>();

    /**
     * @param directory    the driver directory, where the dumps go.
     * @param errorHandler gets a dump's failure, or null.
     */
    public FileFreezeDumper(final File directory, final ErrorHandler errorHandler)
    {
        this.directory = directory;
        this.errorHandler = errorHandler;
    }

    /**
     * {@inheritDoc}
     */
    public void onFrozen(final EventLogReader frozenLog, final int freezeNumber)
    {
        final File target = new File(directory, DUMP_FILE_PREFIX + freezeNumber + ".txt");
        final Thread thread = new Thread(() -> dump(frozenLog, target), "homa-event-dump-" + freezeNumber);
        thread.setDaemon(true);
        synchronized (dumpThreads)
        {
            dumpThreads.add(thread);
        }
        thread.start();
    }

    private void dump(final EventLogReader frozenLog, final File target)
    {
        // Written under a temporary name and renamed, so whoever sees the dump file sees all of it.
        final File partial = new File(target.getPath() + ".partial");
        try
        {
            // Created as every driver file is (owner only by default) before anything is written into it.
            Files.deleteIfExists(partial.toPath());
            DriverFiles.createFile(partial);
            try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(partial.toPath(), StandardCharsets.UTF_8,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)))
            {
                EventFormatter.print(frozenLog, directory.getPath(), out);
            }
            Files.move(partial.toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException | RuntimeException ex)
        {
            partial.delete();
            if (null != errorHandler)
            {
                errorHandler.onError(ex instanceof IOException io ?
                    new UncheckedIOException("cannot write event log dump " + target, io) : ex);
            }
        }
    }

    /**
     * Waits up to 10 s for each dump thread.
     *
     * @return true if none is still running.
     */
    public boolean awaitDumps()
    {
        final Thread[] threads;
        synchronized (dumpThreads)
        {
            threads = dumpThreads.toArray(new Thread[0]);
        }
        boolean isDumping = false;
        for (final Thread thread : threads)
        {
            try
            {
                thread.join(DUMP_JOIN_TIMEOUT_MS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            isDumping |= thread.isAlive();
        }
        return !isDumping;
    }
}
