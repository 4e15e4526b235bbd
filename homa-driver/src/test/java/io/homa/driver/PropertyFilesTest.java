package io.homa.driver;

import io.homa.client.HomaProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PropertyFilesTest
{
    private static final List<String> NAMES = List.of("homa.test.a", "homa.test.b", "homa.test.c",
        Configuration.THREADING_MODE_PROP_NAME, Configuration.CLIENT_LIVENESS_TIMEOUT_PROP_NAME,
        Configuration.SHARED_IDLE_STRATEGY_PROP_NAME, Configuration.CONDUCTOR_IDLE_STRATEGY_PROP_NAME,
        Configuration.SENDER_IDLE_STRATEGY_PROP_NAME, Configuration.RECEIVER_IDLE_STRATEGY_PROP_NAME,
        Configuration.SHARED_NETWORK_IDLE_STRATEGY_PROP_NAME, io.homa.client.CommonContext.DRIVER_TIMEOUT_PROP_NAME);

    @TempDir
    Path tempDir;

    @AfterEach
    void after()
    {
        NAMES.forEach(System::clearProperty);
    }

    private Path file(final String name, final String text) throws IOException
    {
        final Path path = tempDir.resolve(name);
        Files.writeString(path, text);
        return path;
    }

    @Test
    void shouldLoadFilesInOrderThenSettings() throws IOException
    {
        final Path first = file("first.properties", "homa.test.a=1\nhoma.test.b=1\n");
        final Path second = file("second.properties", "homa.test.b=2\n");
        PropertyFiles.load(new String[]{ first.toString(), second.toString(), "-Dhoma.test.c=3" });
        assertEquals("1", System.getProperty("homa.test.a"));
        assertEquals("2", System.getProperty("homa.test.b"));
        assertEquals("3", System.getProperty("homa.test.c"));
    }

    @Test
    void shouldLoadABundledProfileFromTheClassPathAndAUrl() throws IOException
    {
        PropertyFiles.load(new String[]{ "default.properties" });
        assertEquals("SHARED", System.getProperty(Configuration.THREADING_MODE_PROP_NAME));
        final Path file = file("url.properties", "homa.test.a=url\n");
        PropertyFiles.load(new String[]{ file.toUri().toString() });
        assertEquals("url", System.getProperty("homa.test.a"));
    }

    @Test
    void shouldRefuseAnOptionWithOneLine()
    {
        final IllegalArgumentException ex = assertThrows(HomaProperties.ConfigurationException.class,
            () -> PropertyFiles.load(new String[]{ "--bogus" }));
        assertEquals("argument --bogus is refused: the driver takes -Dhoma.name=value settings and property " +
            "files (a path, a URL or a class-path resource such as default.properties), no options; --help lists " +
            "them", ex.getMessage());
        assertThrows(HomaProperties.ConfigurationException.class, () -> PropertyFiles.load(new String[]{ "-D=1" }));
    }

    @Test
    void shouldRefuseAMissingFileAndLoadNothingThen() throws IOException
    {
        final Path good = file("good.properties", "homa.test.a=1\n");
        final IllegalArgumentException ex = assertThrows(HomaProperties.ConfigurationException.class,
            () -> PropertyFiles.load(new String[]{ good.toString(), "nosuch.properties" }));
        assertTrue(ex.getMessage().startsWith("property file nosuch.properties is refused: not a file, a URL or a " +
            "resource on the class path"), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
        assertNull(System.getProperty("homa.test.a"), "a refused command line loads nothing");

        final IllegalArgumentException directory = assertThrows(HomaProperties.ConfigurationException.class,
            () -> PropertyFiles.load(new String[]{ tempDir.toString() }));
        assertTrue(directory.getMessage().contains("not a file"), directory.getMessage());
        assertThrows(HomaProperties.ConfigurationException.class,
            () -> PropertyFiles.load(new String[]{ tempDir.resolve("gone.properties").toUri().toString() }));
    }

    @Test
    void shouldPutAnyFailureOnOneLine()
    {
        assertEquals("a b c", PropertyFiles.oneLine(new IllegalArgumentException("a\n  b\r\nc")));
        assertEquals("UncheckedIOException: cannot bind", PropertyFiles.oneLine(
            new java.io.UncheckedIOException("cannot bind", new IOException("x"))));
    }
}
