package io.homa.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HomaPropertiesTest
{
    private final List<String> set = new ArrayList<>();

    @AfterEach
    void after()
    {
        set.forEach(System::clearProperty);
    }

    private void property(final String name, final String value)
    {
        set.add(name);
        System.setProperty(name, value);
    }

    private static void assertOneLineNaming(final IllegalArgumentException ex, final String... parts)
    {
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
        for (final String part : parts)
        {
            assertTrue(ex.getMessage().contains(part), () -> "'" + part + "' not in: " + ex.getMessage());
        }
    }

    @Test
    void shouldTakeKmgOnSizesAndRefuseAnythingElse()
    {
        assertEquals(20 * 1024, HomaProperties.parseSize("homa.x", "20k"));
        assertEquals(4L << 20, HomaProperties.parseSize("homa.x", " 4M "));
        assertEquals(1L << 30, HomaProperties.parseSize("homa.x", "1g"));
        assertEquals(40_000, HomaProperties.parseSize("homa.x", "40000"));
        for (final String bad : new String[]{ "abc", "20x", "-1", "", "1.5k", "k", "20kb", "99999999999999999999" })
        {
            assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
                () -> HomaProperties.parseSize("homa.unsched.bytes", bad)), "homa.unsched.bytes=" + bad, "k, m or g");
        }
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.parseSizeAsInt("homa.x", "2g")), "homa.x=2g", "at most");
    }

    @Test
    void shouldReadDurationsIntsAndLongsStrictly()
    {
        assertEquals(10_000_000_000L, HomaProperties.parseDurationNs("homa.x", "10s"));
        assertEquals(50_000, HomaProperties.parseDurationNs("homa.x", "50us"));
        assertEquals(3_000_000, HomaProperties.parseDurationNs("homa.x", "3MS"));
        assertEquals(7, HomaProperties.parseDurationNs("homa.x", "7"));
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.parseDurationNs("homa.timer.tick", "1 hour")), "homa.timer.tick=1 hour", "ms");

        property("homa.test.int", "-12");
        assertEquals(-12, HomaProperties.intValue("homa.test.int", 5));
        property("homa.test.int", "abc");
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.intValue("homa.test.int", 100)), "homa.test.int=abc", "whole number");
        property("homa.test.int", "3000000000");
        assertThrows(HomaProperties.ConfigurationException.class, () -> HomaProperties.intValue("homa.test.int", 1));
        assertEquals(9, HomaProperties.intValue("homa.test.unset", 9));
        property("homa.test.long", "x1");
        assertThrows(HomaProperties.ConfigurationException.class, () -> HomaProperties.longValue("homa.test.long", 1));
    }

    @Test
    void shouldTakeOnlyTrueOrFalseForBooleans()
    {
        property("homa.test.flag", "TRUE");
        assertTrue(HomaProperties.bool("homa.test.flag", false));
        property("homa.test.flag", " false ");
        assertFalse(HomaProperties.bool("homa.test.flag", true));
        for (final String bad : new String[]{ "yes", "1", "on", "" })
        {
            property("homa.test.flag", bad);
            assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
                () -> HomaProperties.bool("homa.test.flag", true)), "homa.test.flag=" + bad, "true or false");
        }
    }

    enum Colour
    {
        RED, GREEN
    }

    @Test
    void shouldListTheValuesOfAChoice()
    {
        property("homa.test.colour", "green");
        assertEquals(Colour.GREEN, HomaProperties.enumValue("homa.test.colour", Colour.class, Colour.RED));
        property("homa.test.colour", "BLUE");
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.enumValue("homa.test.colour", Colour.class, Colour.RED)),
            "homa.test.colour=BLUE", "one of RED, GREEN");
        property("homa.test.choice", "c");
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.choice("homa.test.choice", "a", "a", "b")), "homa.test.choice=c", "one of a, b");
        property("homa.test.rate", "1.5");
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class,
            () -> HomaProperties.rate("homa.test.rate")), "homa.test.rate=1.5", "0 to 1");
    }

    @Test
    void shouldRefuseUnknownNamesWithTheNearestSettingButLetToolPropertiesBe()
    {
        property("homa.shared.dir", "/tmp/x");
        property("homa.netns.bench.props", "homa.pacing=false");
        property("homa.root", "..");
        property("homa.all.jar", "x.jar");
        property("homa.jvm.flags", "-Dx");
        property("homa.test.anything", "1");
        HomaProperties.checkNames();
        new CommonContext();

        property("homa.driver.timeot", "3s");
        final IllegalArgumentException ex = assertThrows(HomaProperties.ConfigurationException.class,
            CommonContext::new);
        assertOneLineNaming(ex, "homa.driver.timeot", "did you mean homa.driver.timeout?", "homa.netns.");
    }

    @Test
    void shouldRefuseABadValueWhenAClientContextIsMade()
    {
        property(CommonContext.DRIVER_TIMEOUT_PROP_NAME, "soon");
        assertOneLineNaming(assertThrows(HomaProperties.ConfigurationException.class, Homa.Context::new),
            "homa.driver.timeout=soon");
        property(CommonContext.DRIVER_TIMEOUT_PROP_NAME, "3s");
        assertEquals(3_000_000_000L, new Homa.Context().driverTimeoutNs());
    }

    @Test
    void shouldKnowTheClientSettings()
    {
        assertTrue(HomaProperties.knownNames().contains(CommonContext.HOMA_DIR_PROP_NAME));
        assertTrue(HomaProperties.knownNames().contains(CommonContext.POLL_DURATION_PROP_NAME));
        assertTrue(HomaProperties.isToolName("homa.netns.bench"));
        assertFalse(HomaProperties.isToolName("homa.unsched.byte"));
    }
}
