package io.homa.driver.status;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's counter tables are the counters' documentation: each lists every counter of its descriptor with
 * the descriptor's id and description, in the descriptor's order, and nothing else.
 */
class ReadmeCountersTest
{
    private static final Path README = Path.of("..", "README.md");
    private static final Pattern ROW = Pattern.compile("^\\| `([a-zA-Z0-9_]+)` \\| (\\d+) \\| (.*) \\|$");

    /** The rows under a table header, as "id label: description" keyed by label, in table order. */
    private static Map<String, String> table(final String header) throws IOException
    {
        final List<String> lines = Files.readAllLines(README);
        final int at = lines.indexOf(header);
        assertTrue(at > 0, "README has no table headed " + header);
        final Map<String, String> rows = new LinkedHashMap<>();
        for (int i = at + 2; i < lines.size() && lines.get(i).startsWith("|"); i++)
        {
            final Matcher matcher = ROW.matcher(lines.get(i));
            assertTrue(matcher.matches(), "not a counter row: " + lines.get(i));
            final String previous = rows.put(matcher.group(1),
                matcher.group(2) + " " + matcher.group(1) + ": " + matcher.group(3).replace("\\|", "|"));
            assertEquals(null, previous, "counter listed twice: " + matcher.group(1));
        }
        return rows;
    }

    @Test
    void shouldListEverySystemCounterWithItsIdAndDescription() throws IOException
    {
        final Map<String, String> expected = new LinkedHashMap<>();
        for (final SystemCounterDescriptor descriptor : SystemCounterDescriptor.values())
        {
            expected.put(descriptor.label(),
                descriptor.id() + " " + descriptor.label() + ": " + descriptor.description());
        }
        assertEquals(List.copyOf(expected.values()), List.copyOf(table("| system counter | id | counts |").values()));
    }

    @Test
    void shouldListEveryTransportCounterWithItsIdAndDescription() throws IOException
    {
        final Map<String, String> expected = new LinkedHashMap<>();
        for (final TransportCounterDescriptor descriptor : TransportCounterDescriptor.values())
        {
            expected.put(descriptor.label(),
                descriptor.id() + " " + descriptor.label() + ": " + descriptor.description());
        }
        assertEquals(List.copyOf(expected.values()),
            List.copyOf(table("| transport counter | id | counts |").values()));
    }
}
