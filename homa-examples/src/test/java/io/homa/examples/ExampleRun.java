package io.homa.examples;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs an example's main in a JVM of its own with only the JVM flags the README tells library users to pass, so
 * a missing flag or a main that hangs fails the test.
 */
final class ExampleRun
{
    /** Exactly what the README's "JVM flags" paragraph says. */
    static final String README_JVM_FLAGS =
        "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED";
    private static final long LIMIT_SECONDS = 60;

    private ExampleRun()
    {
    }

    /**
     * @return the program's output (stdout and stderr), after asserting it exited with 0 within the limit.
     */
    static List<String> run(final Class<?> mainClass, final String... args)
        throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        command.addAll(List.of(README_JVM_FLAGS.split(" ")));
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        final File output = File.createTempFile("example-", ".out");
        try
        {
            final Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
            final boolean exited = process.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS);
            if (!exited)
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            final List<String> lines = java.nio.file.Files.readAllLines(output.toPath(), StandardCharsets.UTF_8);
            assertTrue(exited, mainClass.getSimpleName() + " still running after " + LIMIT_SECONDS + " s: " + lines);
            assertEquals(0, process.exitValue(), mainClass.getSimpleName() + " failed: " + lines);
            return lines;
        }
        finally
        {
            output.delete();
        }
    }
}
