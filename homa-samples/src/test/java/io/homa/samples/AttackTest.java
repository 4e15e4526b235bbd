package io.homa.samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/attack with tiny phases: every phase of both runs is printed, the slow attack reaches the server and the
 * server comes back to its baseline after it; bad arguments are refused with one line naming them.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AttackTest
{
    @Test
    void shouldRunEveryPhaseOfBothProtocols()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Attack.run(new String[]{ "--before", "200ms", "--attack", "300ms", "--recover-max", "20s", "--tcp-after",
            "100ms", "--attack-sockets", "4" }, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        final String output = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("Homa: echo server") && output.contains("TCP: echo server"), output);
        for (final String phase : new String[]{ "before ", "attack 40,000 B/s", "attack line rate", "after " })
        {
            assertTrue(output.contains(phase), phase + " in\n" + output);
        }
        // The slow attack's first DATA packets each opened a server RPC, and those ended again.
        assertTrue(output.contains("back to baseline after"), output);
        assertEquals(2, output.split("back to baseline after", -1).length - 1, output);
        assertTrue(output.chars().allMatch(c -> c < 0x80), "ASCII only");
    }

    @Test
    void shouldRefuseBadArgumentsNamingThem()
    {
        final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Attack.run(new String[]{ "--before", "0" }, out))
            .getMessage().startsWith("--before 0 is refused"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> Attack.run(new String[]{ "--attack", "121s" }, out)).getMessage().startsWith("--attack 121s"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> Attack.run(new String[]{ "--protocol", "udp" }, out)).getMessage().startsWith("--protocol udp"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> Attack.run(new String[]{ "--attack-sockets", "0" }, out)).getMessage()
            .startsWith("--attack-sockets 0"));
    }
}
