package io.homa.driver;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.System.Logger.Level;
import java.util.HashSet;
import java.util.Set;

/**
 * The driver's one logging path: {@link System.Logger} {@code io.homa.driver}, so an application routes the
 * driver's lines to its own backend (java.util.logging by default; SLF4J and Log4j ship {@code System.LoggerFinder}
 * bridges). Every line starts with {@code homa driver: } so it reads the same whatever the backend's layout.
 * <p>
 * Levels: INFO for a standalone driver's start and stop, WARNING for errors and client timeouts, DEBUG for an
 * embedded driver's start and stop and for clients connecting and closing.
 */
public final class DriverLog
{
    /** The logger's name. */
    public static final String LOGGER_NAME = "io.homa.driver";
    /** Distinct errors logged before the rest go only to the error log (a flood of one bad input is one line). */
    static final int MAX_DISTINCT_LOGGED = 256;

    private static final System.Logger LOGGER = System.getLogger(LOGGER_NAME);
    /** Standalone driver without a logging configuration: plain lines on the console (see StandaloneLogging). */
    private static volatile boolean isConsole;

    private DriverLog()
    {
    }

    /**
     * @return the driver's logger.
     */
    public static System.Logger logger()
    {
        return LOGGER;
    }

    /**
     * Plain console lines instead of the logger: for the standalone driver when nobody configured logging, since
     * java.util.logging resets itself when the JVM starts to exit and would drop the shutdown line.
     */
    static void useConsole()
    {
        isConsole = true;
    }

    static void info(final String message)
    {
        log(Level.INFO, message, null);
    }

    static void debug(final String message)
    {
        log(Level.DEBUG, message, null);
    }

    static void warning(final String message)
    {
        log(Level.WARNING, message, null);
    }

    static void error(final String message, final Throwable cause)
    {
        log(Level.ERROR, message, cause);
    }

    private static void log(final Level level, final String message, final Throwable cause)
    {
        if (isConsole)
        {
            StandaloneLogging.print(level, "homa driver: " + message, cause);
        }
        else if (LOGGER.isLoggable(level))
        {
            LOGGER.log(level, "homa driver: " + message, cause);
        }
    }

    /**
     * The handler every driver error goes through: counted, recorded in the CnC's distinct error log (what
     * {@code bin/error-stat} reads), logged once per distinct error, then handed to the application's handler
     * ({@code Context.errorHandler}), whose own failure is logged and never thrown into an agent.
     *
     * @param errorLog    the CnC's error log.
     * @param errorCount  the {@code errors} counter.
     * @param application the application's handler, or null.
     * @return the handler.
     */
    static ErrorHandler errorHandler(
        final DistinctErrorLog errorLog, final AtomicCounter errorCount, final ErrorHandler application)
    {
        return new Handler(errorLog, errorCount, application);
    }

    private static final class Handler implements ErrorHandler
    {
        private final DistinctErrorLog errorLog;
        private final AtomicCounter errorCount;
        private final ErrorHandler application;
        private final Set<String> logged = new HashSet<>();
        private boolean isLogFullReported;

        Handler(final DistinctErrorLog errorLog, final AtomicCounter errorCount, final ErrorHandler application)
        {
            this.errorLog = errorLog;
            this.errorCount = errorCount;
            this.application = application;
        }

        @Override
        public void onError(final Throwable throwable)
        {
            errorCount.increment();
            final boolean recorded = errorLog.record(throwable);
            logOnce(throwable, recorded);
            if (null != application)
            {
                try
                {
                    application.onError(throwable);
                }
                catch (final Throwable ex)
                {
                    log(Level.WARNING, "the application's error handler threw", ex);
                }
            }
        }

        private void logOnce(final Throwable throwable, final boolean recorded)
        {
            // Several agent threads may report at once; errors are rare, a lock is cheap enough.
            synchronized (logged)
            {
                if (!recorded && !isLogFullReported)
                {
                    isLogFullReported = true;
                    log(Level.WARNING, "error log full, later errors are only counted", null);
                }
                final String key = throwable.getClass().getName() + ": " + throwable.getMessage();
                if (logged.size() >= MAX_DISTINCT_LOGGED || !logged.add(key))
                {
                    return;
                }
                if (logged.size() == MAX_DISTINCT_LOGGED)
                {
                    log(Level.WARNING, MAX_DISTINCT_LOGGED +
                        " distinct errors logged; further ones only in the error log (bin/error-stat)", null);
                }
            }
            log(Level.WARNING, "error: " + throwable, throwable);
        }
    }
}
