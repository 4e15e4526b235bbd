package io.homa.examples;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each example's main, run as a user would (its own JVM, the README's flags, embedded drivers on loopback), prints
 * the answers its servers must give.
 */
class ExamplesTest
{
    @Test
    void shouldEchoInThePollLoopOfUsingIt() throws Exception
    {
        final List<String> lines = ExampleRun.run(PollLoop.class);

        assertTrue(lines.contains("response hello (cookie 7)"), lines::toString);
    }

    @Test
    void shouldEchoEveryWord() throws Exception
    {
        final List<String> lines = ExampleRun.run(Echo.class, "alpha", "beta", "gamma");

        assertEquals(List.of("echo: alpha", "echo: beta", "echo: gamma"),
            lines.stream().filter((line) -> line.startsWith("echo: ")).toList());
    }

    @Test
    void shouldStoreAndReadKeys() throws Exception
    {
        final List<String> lines = ExampleRun.run(KeyValue.class);

        assertEquals(List.of(
            "PUT colour blue -> OK",
            "PUT size 42 -> OK",
            "GET colour -> blue",
            "GET size -> 42",
            "GET weight -> NOT_FOUND"), lines.stream().filter((line) -> line.contains(" -> ")).toList());
    }

    @Test
    void shouldGatherEveryShardsPartOfTheSum() throws Exception
    {
        final long n = 100_000;
        final List<String> lines = ExampleRun.run(FanOut.class, Long.toString(n));

        long parts = 0;
        for (final String line : lines)
        {
            if (line.startsWith("shard "))
            {
                parts += Long.parseLong(line.substring(line.indexOf(": ") + 2));
            }
        }
        final long expected = n * (n + 1) * (2 * n + 1) / 6;
        assertEquals(expected, parts, lines::toString);
        assertTrue(lines.contains("sum of squares 1.." + n + " = " + expected), lines::toString);
    }
}
