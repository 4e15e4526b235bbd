package io.homa.client;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Strict reading of the {@code homa.*} system properties, for the driver and its clients alike: a value that does
 * not parse, and a {@code homa.*} name that no setting has, is refused at start with one line that names the setting
 * and says what it accepts, instead of being replaced by a default in silence.
 * <ul>
 *     <li>sizes: a whole number with an optional {@code k}, {@code m} or {@code g} suffix (x1024, x1024^2,
 *     x1024^3), e.g. {@code 64k};</li>
 *     <li>durations: a whole number with an optional {@code ns}, {@code us}, {@code ms} or {@code s} suffix (a bare
 *     number is in ns), e.g. {@code 10s};</li>
 *     <li>integers: a whole number, no suffix;</li>
 *     <li>booleans: {@code true} or {@code false} (any case), nothing else;</li>
 *     <li>choices (enums): one of the listed values.</li>
 * </ul>
 * Names: the client's settings ({@link CommonContext}), the driver's ({@code io.homa.driver.Configuration}, when
 * the driver is on the class path) and the tools' and tests' own properties: the names in {@link #TOOL_NAMES} and
 * everything under the prefixes in {@link #TOOL_PREFIXES}. Everything else under {@code homa.} is refused. Read at
 * start only; nothing here runs on a hot path.
 */
public final class HomaProperties
{
    /** Prefix of every Homa property. */
    public static final String PREFIX = "homa.";

    /**
     * Properties of the build, the tests and the tools, which no driver or client reads: the shared test-data
     * directory ({@code homa.shared.dir}), the repository root and jar of the packaging test ({@code homa.root},
     * {@code homa.all.jar}) and the Maven property holding the JVM flags ({@code homa.jvm.flags}, which Maven may
     * hand to a test JVM as a system property).
     */
    public static final Set<String> TOOL_NAMES = Set.of("homa.shared.dir", "homa.root", "homa.all.jar",
        "homa.jvm.flags");

    /**
     * Prefixes left to tests and tools: {@code homa.netns.*} (the namespace tests and their measurement, e.g.
     * {@code homa.netns.bench}, {@code homa.netns.bench.props}), {@code homa.test.*} and {@code homa.tool.*} (free
     * for any test or tool of one's own).
     */
    public static final List<String> TOOL_PREFIXES = List.of("homa.netns.", "homa.test.", "homa.tool.");

    private static final String DRIVER_CONFIGURATION = "io.homa.driver.Configuration";
    private static volatile Set<String> knownNames;

    private HomaProperties()
    {
    }

    /**
     * A setting refused at start: its message is one line that names the setting and what it accepts.
     */
    public static final class ConfigurationException extends IllegalArgumentException
    {
        private static final long serialVersionUID = 1L;

        /**
         * @param message one line naming the setting and what it accepts.
         */
        public ConfigurationException(final String message)
        {
            super(message);
        }
    }

    /**
     * @param name a property.
     * @return true if the name is a tool's or a test's (see {@link #TOOL_NAMES}, {@link #TOOL_PREFIXES}).
     */
    public static boolean isToolName(final String name)
    {
        if (TOOL_NAMES.contains(name))
        {
            return true;
        }
        for (final String prefix : TOOL_PREFIXES)
        {
            if (name.startsWith(prefix))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @return every setting's name: the client's and, when the driver is on the class path, the driver's.
     */
    public static Set<String> knownNames()
    {
        Set<String> names = knownNames;
        if (null == names)
        {
            final TreeSet<String> collected = new TreeSet<>(propertyNames(CommonContext.class));
            try
            {
                collected.addAll(propertyNames(Class.forName(DRIVER_CONFIGURATION)));
            }
            catch (final ClassNotFoundException | LinkageError ex)
            {
                // A client without the driver knows the client's settings only.
            }
            names = Collections.unmodifiableSet(collected);
            knownNames = names;
        }
        return names;
    }

    /**
     * The values of a class's {@code public static final String XXX_PROP_NAME} constants that start with
     * {@code homa.}: how a module lists its settings.
     *
     * @param type a class such as {@link CommonContext}.
     * @return the names.
     */
    public static Set<String> propertyNames(final Class<?> type)
    {
        final TreeSet<String> names = new TreeSet<>();
        for (final Field field : type.getFields())
        {
            final int modifiers = field.getModifiers();
            if (field.getName().endsWith("_PROP_NAME") && Modifier.isStatic(modifiers) &&
                Modifier.isFinal(modifiers) && String.class == field.getType())
            {
                try
                {
                    final String name = (String)field.get(null);
                    if (name.startsWith(PREFIX))
                    {
                        names.add(name);
                    }
                }
                catch (final IllegalAccessException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }
        }
        return names;
    }

    /**
     * Refuses the first {@code homa.*} system property that is neither a setting nor a tool's.
     *
     * @throws ConfigurationException naming it, with the nearest setting's name when one is close.
     */
    public static void checkNames()
    {
        final Set<String> known = knownNames();
        final List<String> unknown = new ArrayList<>();
        for (final String name : System.getProperties().stringPropertyNames())
        {
            if (name.startsWith(PREFIX) && !known.contains(name) && !isToolName(name))
            {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty())
        {
            Collections.sort(unknown);
            final String name = unknown.get(0);
            final String nearest = nearest(name, known);
            final boolean hasDriver = known.contains("homa.udp.port");
            throw new ConfigurationException(name + " is not a Homa setting" +
                (hasDriver ? "" : " of the client (the driver is not on the class path)") +
                (null != nearest ? " (did you mean " + nearest + "?)" : "") +
                "; settings are in the README's configuration table, tools' and tests' own properties go under " +
                String.join(", ", TOOL_PREFIXES) +
                (unknown.size() > 1 ? "; also unknown: " + String.join(", ", unknown.subList(1, unknown.size())) : ""));
        }
    }

    private static String nearest(final String name, final Set<String> known)
    {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final String candidate : known)
        {
            final int distance = editDistance(name, candidate);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return bestDistance <= Math.max(2, name.length() / 5) ? best : null;
    }

    private static int editDistance(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static ConfigurationException refuse(final String name, final String value, final String accepted)
    {
        return new ConfigurationException(name + "=" + value + " is refused: " + accepted);
    }

    /**
     * @param name         a setting.
     * @param defaultValue used when it is not set.
     * @return its value, trimmed.
     */
    public static String string(final String name, final String defaultValue)
    {
        final String value = System.getProperty(name);
        return null == value ? defaultValue : value.trim();
    }

    /**
     * @param name         a size setting.
     * @param defaultValue used when it is not set.
     * @return its value in bytes.
     * @throws ConfigurationException if it is not a whole number with an optional k/m/g suffix.
     */
    public static long size(final String name, final long defaultValue)
    {
        final String value = System.getProperty(name);
        return null == value ? defaultValue : parseSize(name, value);
    }

    /**
     * @param name         a size setting that must fit an int.
     * @param defaultValue used when it is not set.
     * @return its value in bytes.
     * @throws ConfigurationException if it does not parse or is above 2 GiB - 1.
     */
    public static int sizeAsInt(final String name, final int defaultValue)
    {
        final String value = System.getProperty(name);
        return null == value ? defaultValue : parseSizeAsInt(name, value);
    }

    /**
     * @param name  the setting, for the message.
     * @param value a whole number with an optional k/m/g suffix.
     * @return the value, at most {@link Integer#MAX_VALUE}.
     * @throws ConfigurationException if it does not parse or is too large.
     */
    public static int parseSizeAsInt(final String name, final String value)
    {
        final long size = parseSize(name, value);
        if (size > Integer.MAX_VALUE)
        {
            throw refuse(name, value, "a size of at most 2147483647 bytes (2g - 1)");
        }
        return (int)size;
    }

    /**
     * @param name  the setting, for the message.
     * @param value a whole number with an optional k, m or g suffix (any case).
     * @return the size in bytes.
     * @throws ConfigurationException if it does not parse.
     */
    public static long parseSize(final String name, final String value)
    {
        final String text = value.trim();
        final String accepted = "a size is a whole number of bytes with an optional k, m or g suffix, e.g. 64k";
        if (text.isEmpty())
        {
            throw refuse(name, value, accepted);
        }
        final char last = Character.toLowerCase(text.charAt(text.length() - 1));
        final int shift = switch (last)
        {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        final long number = parseDigits(0 == shift ? text : text.substring(0, text.length() - 1));
        if (number < 0 || number > Long.MAX_VALUE >> shift)
        {
            throw refuse(name, value, accepted);
        }
        return number << shift;
    }

    /**
     * @param name         an integer setting.
     * @param defaultValue used when it is not set.
     * @return its value.
     * @throws ConfigurationException if it is not a whole number that fits an int.
     */
    public static int intValue(final String name, final int defaultValue)
    {
        final String value = System.getProperty(name);
        if (null == value)
        {
            return defaultValue;
        }
        final String text = value.trim();
        final boolean negative = text.startsWith("-");
        final long number = parseDigits(negative ? text.substring(1) : text);
        if (number < 0 || number > (long)Integer.MAX_VALUE + (negative ? 1 : 0))
        {
            throw refuse(name, value, "a whole number (no suffix), e.g. " + defaultValue);
        }
        return (int)(negative ? -number : number);
    }

    /**
     * @param name         a whole-number setting that may need 64 bits (a seed).
     * @param defaultValue used when it is not set.
     * @return its value.
     * @throws ConfigurationException if it is not a whole number.
     */
    public static long longValue(final String name, final long defaultValue)
    {
        final String value = System.getProperty(name);
        if (null == value)
        {
            return defaultValue;
        }
        try
        {
            return Long.parseLong(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw refuse(name, value, "a whole number, e.g. " + defaultValue);
        }
    }

    /**
     * @param name         a duration setting.
     * @param defaultNs    used when it is not set.
     * @return its value in ns.
     * @throws ConfigurationException if it is not a whole number with an optional ns/us/ms/s suffix.
     */
    public static long durationNs(final String name, final long defaultNs)
    {
        final String value = System.getProperty(name);
        return null == value ? defaultNs : parseDurationNs(name, value);
    }

    /**
     * @param name  the setting, for the message.
     * @param value a whole number with an optional ns, us, ms or s suffix (any case; bare = ns).
     * @return the duration in ns.
     * @throws ConfigurationException if it does not parse.
     */
    public static long parseDurationNs(final String name, final String value)
    {
        final String text = value.trim().toLowerCase(Locale.ROOT);
        final long unitNs;
        final String digits;
        if (text.endsWith("ns"))
        {
            unitNs = 1;
            digits = text.substring(0, text.length() - 2);
        }
        else if (text.endsWith("us"))
        {
            unitNs = 1_000;
            digits = text.substring(0, text.length() - 2);
        }
        else if (text.endsWith("ms"))
        {
            unitNs = 1_000_000;
            digits = text.substring(0, text.length() - 2);
        }
        else if (text.endsWith("s"))
        {
            unitNs = 1_000_000_000;
            digits = text.substring(0, text.length() - 1);
        }
        else
        {
            unitNs = 1;
            digits = text;
        }
        final long number = parseDigits(digits);
        if (number < 0 || number > Long.MAX_VALUE / unitNs)
        {
            throw refuse(name, value,
                "a duration is a whole number with an optional ns, us, ms or s suffix (bare: ns), e.g. 10ms");
        }
        return number * unitNs;
    }

    /**
     * @param name         a boolean setting.
     * @param defaultValue used when it is not set.
     * @return its value.
     * @throws ConfigurationException unless it is true or false.
     */
    public static boolean bool(final String name, final boolean defaultValue)
    {
        final String value = System.getProperty(name);
        if (null == value)
        {
            return defaultValue;
        }
        final String text = value.trim();
        if ("true".equalsIgnoreCase(text))
        {
            return true;
        }
        if ("false".equalsIgnoreCase(text))
        {
            return false;
        }
        throw refuse(name, value, "true or false");
    }

    /**
     * @param name         a probability setting.
     * @return its value, 0 when it is not set.
     * @throws ConfigurationException unless it is a number in 0..1.
     */
    public static double rate(final String name)
    {
        final String value = System.getProperty(name);
        if (null == value)
        {
            return 0.0;
        }
        try
        {
            final double rate = Double.parseDouble(value.trim());
            if (rate >= 0.0 && rate <= 1.0)
            {
                return rate;
            }
        }
        catch (final NumberFormatException ignore)
        {
            // Refused below.
        }
        throw refuse(name, value, "a probability from 0 to 1, e.g. 0.01");
    }

    /**
     * @param name         a setting with a fixed set of values.
     * @param type         the enum of its values.
     * @param defaultValue used when it is not set.
     * @param <E>          the enum.
     * @return its value (any case).
     * @throws ConfigurationException listing the values.
     */
    public static <E extends Enum<E>> E enumValue(final String name, final Class<E> type, final E defaultValue)
    {
        final String value = System.getProperty(name);
        return null == value ? defaultValue : parseEnum(name, value, type);
    }

    /**
     * @param name  the setting, for the message.
     * @param value one of the enum's names (any case).
     * @param type  the enum.
     * @param <E>   the enum.
     * @return the constant.
     * @throws ConfigurationException listing the values.
     */
    public static <E extends Enum<E>> E parseEnum(final String name, final String value, final Class<E> type)
    {
        final String text = value.trim();
        for (final E constant : type.getEnumConstants())
        {
            if (constant.name().equalsIgnoreCase(text))
            {
                return constant;
            }
        }
        throw refuse(name, value, "one of " + names(type));
    }

    /**
     * @param type an enum.
     * @param <E>  the enum.
     * @return its constants' names, comma-separated.
     */
    public static <E extends Enum<E>> String names(final Class<E> type)
    {
        final StringBuilder names = new StringBuilder();
        for (final E constant : type.getEnumConstants())
        {
            names.append(names.isEmpty() ? "" : ", ").append(constant.name());
        }
        return names.toString();
    }

    /**
     * @param name         a setting with a fixed set of values.
     * @param defaultValue used when it is not set.
     * @param accepted     the values it takes (exact, after trimming).
     * @return its value.
     * @throws ConfigurationException listing the values.
     */
    public static String choice(final String name, final String defaultValue, final String... accepted)
    {
        final String value = System.getProperty(name);
        if (null == value)
        {
            return defaultValue;
        }
        final String text = value.trim();
        for (final String candidate : accepted)
        {
            if (candidate.equals(text))
            {
                return text;
            }
        }
        throw refuse(name, value, "one of " + String.join(", ", accepted));
    }

    /**
     * @param digits decimal digits only, no sign (underscores are not digits).
     * @return the number, or -1 if it is empty, has anything but digits or overflows.
     */
    private static long parseDigits(final String digits)
    {
        if (digits.isEmpty() || digits.length() > 18)
        {
            return digits.length() > 18 && digits.chars().allMatch(Character::isDigit) ? parseLong(digits) : -1;
        }
        long number = 0;
        for (int i = 0; i < digits.length(); i++)
        {
            final char c = digits.charAt(i);
            if (c < '0' || c > '9')
            {
                return -1;
            }
            number = number * 10 + (c - '0');
        }
        return number;
    }

    private static long parseLong(final String digits)
    {
        try
        {
            return Long.parseLong(digits);
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }
}
