package io.homa.driver;

import io.homa.client.CommonContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The property profiles the driver ships: each loads from the class path, names only properties the driver knows
 * (a typo would be silently ignored at run time), and the README mentions it.
 */
class ProfilesTest
{
    @ParameterizedTest
    @ValueSource(strings = { "default.properties", "low-latency.properties", "debug-loss.properties" })
    void shouldNameOnlyKnownPropertiesAndBeInTheReadme(final String profile) throws Exception
    {
        final Properties properties = load(profile);
        assertTrue(properties.size() > 0, profile);
        final Set<String> unknown = new TreeSet<>(properties.stringPropertyNames());
        unknown.removeAll(knownProperties());
        assertTrue(unknown.isEmpty(), profile + " names unknown properties: " + unknown);
        assertTrue(Files.readString(Path.of("..", "README.md")).contains("`" + profile + "`"), profile);
    }

    @Test
    void shouldTurnOnFaultsAndTheEventLogInTheDebugLossProfile() throws Exception
    {
        final Properties properties = load("debug-loss.properties");
        for (final String rate : new String[]{
            Configuration.FAULT_DATA_DROP_RATE_PROP_NAME, Configuration.FAULT_CONTROL_DROP_RATE_PROP_NAME,
            Configuration.FAULT_DATA_DUPLICATE_RATE_PROP_NAME, Configuration.FAULT_DATA_REORDER_RATE_PROP_NAME })
        {
            final double value = Double.parseDouble(properties.getProperty(rate));
            assertTrue(value > 0 && value <= 0.05, rate + "=" + value);
        }
        assertEquals("true", properties.getProperty(Configuration.EVENT_LOG_ENABLED_PROP_NAME));
        assertTrue(Integer.parseInt(properties.getProperty(Configuration.RESEND_TICKS_PROP_NAME)) <
            Configuration.RESEND_TICKS_DEFAULT);
        assertTrue(Integer.parseInt(properties.getProperty(Configuration.TIMEOUT_TICKS_PROP_NAME)) <
            Configuration.TIMEOUT_TICKS_DEFAULT);
    }

    static Properties load(final String profile) throws Exception
    {
        final Properties properties = new Properties();
        try (InputStream in = ProfilesTest.class.getClassLoader().getResourceAsStream(profile))
        {
            assertNotNull(in, profile + " not on the class path");
            properties.load(in);
        }
        return properties;
    }

    private static Set<String> knownProperties() throws IllegalAccessException
    {
        final Set<String> names = new HashSet<>();
        for (final Class<?> type : new Class<?>[]{ Configuration.class, CommonContext.class })
        {
            for (final Field field : type.getDeclaredFields())
            {
                if (field.getName().endsWith("_PROP_NAME") && Modifier.isStatic(field.getModifiers()))
                {
                    names.add((String)field.get(null));
                }
            }
        }
        return names;
    }
}
