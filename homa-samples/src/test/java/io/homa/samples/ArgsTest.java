package io.homa.samples;

import io.homa.driver.ThreadingMode;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArgsTest
{
    private static Args parse(final String... args)
    {
        return Args.parse(args, Set.of("count", "mode", "delay"), Set.of("once"));
    }

    private static void assertRefused(final IllegalArgumentException ex, final String start)
    {
        assertTrue(ex.getMessage().startsWith(start), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    @Test
    void shouldReadCountsWithSuffixesAndSeparators()
    {
        assertEquals(100_000, parse("--count", "100_000").count("count", 1, 1));
        assertEquals(2048, parse("--count=2k").count("count", 1, 1));
        assertEquals(7, parse().count("count", 7, 1));
    }

    @Test
    void shouldRefuseNegativeAndUnparseableCounts()
    {
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("--count", "-5").count("count", 1, 1)),
            "--count -5 is refused: a whole number >= 0");
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("--count", "abc").count("count", 1, 1)),
            "--count abc is refused: a whole number >= 0");
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("--count", "0").count("count", 1, 1)),
            "--count 0 is refused: a count >= 1");
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("--count", "3g").intValue("count", 1)),
            "--count 3g is refused: at most 2147483647");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> parse("--delay", "soon").durationNs("delay", 0, "ms")), "--delay soon is refused: a duration");
    }

    @Test
    void shouldRefuseAnUnknownChoiceListingTheValues()
    {
        assertEquals(ThreadingMode.DEDICATED, parse("--mode", "dedicated").choice("mode", ThreadingMode.class, null));
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> parse("--mode", "FOO").choice("mode", ThreadingMode.class, ThreadingMode.SHARED)),
            "--mode FOO is refused: one of SHARED, INVOKER, DEDICATED, SHARED_NETWORK");
    }

    @Test
    void shouldRefuseUnknownOptionsAndStrayWords()
    {
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("--bogus")), "unknown option --bogus");
        assertRefused(assertThrows(IllegalArgumentException.class, () -> parse("stray").noPositional()),
            "argument stray is refused");
    }

    @Test
    void shouldParseTheDemoOptionsAndRefuseBadOnes()
    {
        final EmbeddedPingPong.Options options = EmbeddedPingPong.Options.parse(
            new String[]{ "--count", "10k", "--warmup", "0", "--mode", "invoker", "--size", "64", "--pong-thread" });
        assertEquals(10 * 1024, options.count);
        assertEquals(0, options.warmup);
        assertEquals(ThreadingMode.INVOKER, options.mode);
        assertEquals(64, options.responseSize);
        assertTrue(options.pongThread);
        assertNull(EmbeddedPingPong.Options.parse(new String[]{ "--help" }));

        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> EmbeddedPingPong.Options.parse(new String[]{ "--count", "-5" })), "--count -5 is refused");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> EmbeddedPingPong.Options.parse(new String[]{ "--mode", "FOO" })),
            "--mode FOO is refused: one of SHARED, INVOKER, DEDICATED, SHARED_NETWORK");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> EmbeddedPingPong.Options.parse(new String[]{ "--idle", "fast" })), "--idle fast is refused: one of wake");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> EmbeddedPingPong.Options.parse(new String[]{ "--drivers", "3" })), "--drivers 3 is refused: 1 or 2");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> SrptLatency.Options.parse(new String[]{ "--mode", "FOO" })), "--mode FOO is refused: one of SHARED");
        assertRefused(assertThrows(IllegalArgumentException.class,
            () -> SrptLatency.Options.parse(new String[]{ "--count", "abc" })), "--count abc is refused");
    }
}
