package io.homa.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's code is the examples' code: every {@code ```java} block after a {@code <!-- runnable: Name -->}
 * line must be the whole source of {@code io.homa.examples.Name}, which {@link ExamplesTest} runs; every example
 * must have such a block; and the JVM flags the README gives are the ones those runs use.
 */
class ReadmeExamplesTest
{
    private static final Path ROOT = Path.of("..");
    private static final Path SOURCES = Path.of("src/main/java/io/homa/examples");
    private static final String MARKER = "<!-- runnable: ";

    @Test
    void shouldShowEachRunnableBlockAsTheExampleSourceItNames() throws IOException
    {
        final Map<String, String> blocks = runnableBlocks(Files.readAllLines(ROOT.resolve("README.md")));

        assertFalse(blocks.isEmpty(), "README has no runnable blocks");
        for (final Map.Entry<String, String> block : blocks.entrySet())
        {
            final Path source = SOURCES.resolve(block.getKey() + ".java");
            assertTrue(Files.exists(source), "README names a runnable example that does not exist: " + source);
            assertEquals(Files.readString(source), block.getValue(), "README block differs from " + source);
        }
    }

    @Test
    void shouldShowEveryExampleInTheReadme() throws IOException
    {
        final Set<String> examples = new TreeSet<>();
        try (Stream<Path> files = Files.list(SOURCES))
        {
            files.map((file) -> file.getFileName().toString())
                .filter((name) -> name.endsWith(".java") && !"package-info.java".equals(name))
                .forEach((name) -> examples.add(name.substring(0, name.length() - ".java".length())));
        }

        assertEquals(examples, new TreeSet<>(runnableBlocks(Files.readAllLines(ROOT.resolve("README.md"))).keySet()));
    }

    @Test
    void shouldGiveLibraryUsersTheFlagsTheExamplesRunWith() throws IOException
    {
        assertTrue(Files.readString(ROOT.resolve("README.md")).contains(ExampleRun.README_JVM_FLAGS),
            "README does not give the JVM flags " + ExampleRun.README_JVM_FLAGS);
    }

    @Test
    void shouldFindABlockAfterItsMarkerOnly()
    {
        final List<String> readme = List.of(
            "text", "```java", "not marked", "```",
            MARKER + "A -->", "", "```java", "class A", "{", "}", "```",
            "```java", "also not marked", "```");

        assertEquals(Map.of("A", "class A\n{\n}\n"), runnableBlocks(readme));
    }

    /**
     * @return example name to the text of the first {@code ```java} block after its marker (lines joined with \n).
     */
    static Map<String, String> runnableBlocks(final List<String> lines)
    {
        final Map<String, String> blocks = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = lines.get(i).trim();
            if (!line.startsWith(MARKER) || !line.endsWith("-->"))
            {
                continue;
            }
            final String name = line.substring(MARKER.length(), line.length() - "-->".length()).trim();
            int start = i + 1;
            while (start < lines.size() && lines.get(start).isBlank())
            {
                start++;
            }
            assertTrue(start < lines.size() && "```java".equals(lines.get(start)),
                "no ```java block right after " + line);
            final List<String> code = new ArrayList<>();
            int end = start + 1;
            while (end < lines.size() && !"```".equals(lines.get(end)))
            {
                code.add(lines.get(end));
                end++;
            }
            assertTrue(end < lines.size(), "unclosed block after " + line);
            assertFalse(blocks.containsKey(name), "two runnable blocks for " + name);
            blocks.put(name, String.join("\n", code) + "\n");
            i = end;
        }
        return blocks;
    }
}
