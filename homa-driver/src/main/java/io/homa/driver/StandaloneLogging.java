package io.homa.driver;

import java.io.PrintStream;
import java.lang.System.Logger.Level;

/**
 * The standalone driver's console: when nobody configured java.util.logging (no
 * {@code java.util.logging.config.file} or {@code .class}), the driver's lines go out one per line as they are
 * (they start with {@code homa driver: }), DEBUG and up, on stdout, warnings and errors on stderr; no dates or
 * localized level names, so the output is the same in every locale. An embedded driver leaves logging to its
 * application's backend.
 */
final class StandaloneLogging
{
    private StandaloneLogging()
    {
    }

    static void install()
    {
        if (null == System.getProperty("java.util.logging.config.file") &&
            null == System.getProperty("java.util.logging.config.class"))
        {
            DriverLog.useConsole();
        }
    }

    static void print(final Level level, final String line, final Throwable cause)
    {
        final PrintStream out = level.getSeverity() >= Level.WARNING.getSeverity() ? System.err : System.out;
        // One line: the stack, if any, is in the error log (bin/error-stat).
        out.println(null == cause || line.contains(String.valueOf(cause)) ? line : line + ": " + cause);
        out.flush();
    }
}
