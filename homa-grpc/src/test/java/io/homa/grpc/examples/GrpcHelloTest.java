package io.homa.grpc.examples;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GrpcHello's main, run as a user would: a JVM of its own with only the README's two JVM flags, embedded drivers
 * on loopback; it must print the server's greeting for every name.
 */
class GrpcHelloTest
{
    private static final String README_JVM_FLAGS =
        "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED";
    private static final long LIMIT_SECONDS = 60;

    @Test
    void shouldGreetEveryNameOverHoma() throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        command.addAll(List.of(README_JVM_FLAGS.split(" ")));
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(GrpcHello.class.getName());
        command.add("alpha");
        command.add("beta");
        final File output = File.createTempFile("grpc-hello-", ".out");
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
            final List<String> lines = Files.readAllLines(output.toPath(), StandardCharsets.UTF_8);
            assertTrue(exited, "GrpcHello still running after " + LIMIT_SECONDS + " s: " + lines);
            assertEquals(0, process.exitValue(), "GrpcHello failed: " + lines);
            assertEquals(List.of("greeting: Hello, alpha", "greeting: Hello, beta"),
                lines.stream().filter((line) -> line.startsWith("greeting: ")).toList());
        }
        finally
        {
            output.delete();
        }
    }
}
