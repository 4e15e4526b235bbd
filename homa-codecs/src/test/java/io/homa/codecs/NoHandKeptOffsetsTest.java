package io.homa.codecs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wire layout is written once, in homa-wire.xml: no hand-written source of homa-codecs may give an
 * {@code _OFFSET} constant a number again (issue #21). Same rule as the grep in the issue, over declarations
 * that may span lines.
 */
class NoHandKeptOffsetsTest
{
    // Mirrors grep -E 'final (int|long) [A-Z_]*_OFFSET *= *\(?-?(0x)?[0-9]', whitespace including newlines.
    private static final Pattern NUMERIC_OFFSET =
        Pattern.compile("final\\s+(int|long)\\s+([A-Z_]*_OFFSET)\\s*=\\s*\\(?\\s*-?\\s*(0[xX])?[0-9]");

    @Test
    void shouldFindNoNumericOffsetConstantInMainSources() throws IOException
    {
        final Path sources = mainSources();
        final List<Path> files;
        try (Stream<Path> walk = Files.walk(sources))
        {
            files = walk.filter((path) -> path.toString().endsWith(".java")).sorted().toList();
        }
        assertTrue(files.contains(sources.resolve("io/homa/codecs/HomaWire.java")), "scanned " + files);

        final List<String> found = new ArrayList<>();
        for (final Path file : files)
        {
            final Matcher matcher = NUMERIC_OFFSET.matcher(Files.readString(file));
            while (matcher.find())
            {
                found.add(sources.relativize(file) + ": " + matcher.group(2));
            }
        }
        assertEquals(List.of(), found, "derive offsets from the generated flyweights (xxxEncodingOffset())");
    }

    @Test
    void shouldRecogniseTheFormsItForbids()
    {
        assertTrue(NUMERIC_OFFSET.matcher("static final int SENDER_ID_OFFSET = 20;").find());
        assertTrue(NUMERIC_OFFSET.matcher("final long SEG_OFFSET = 0xFFFF_FFFFL;").find());
        assertTrue(NUMERIC_OFFSET.matcher("final int X_OFFSET =\n        (28 + 4);").find());
        assertTrue(NUMERIC_OFFSET.matcher("final int NEGATIVE_OFFSET = -1;").find());
        assertFalse(NUMERIC_OFFSET.matcher(
            "static final int SENDER_ID_OFFSET = CommonHeaderDecoder.senderIdEncodingOffset();").find());
        assertFalse(NUMERIC_OFFSET.matcher("final int DATA_HEADER_LENGTH = 56;").find());
    }

    private static Path mainSources()
    {
        // Surefire runs in the module directory; an IDE may run from the repository root.
        final Path inModule = Path.of("src", "main", "java");
        final Path fromRoot = Path.of("homa-codecs", "src", "main", "java");
        return (Files.isDirectory(inModule.resolve("io/homa/codecs")) ? inModule : fromRoot).toAbsolutePath();
    }
}
