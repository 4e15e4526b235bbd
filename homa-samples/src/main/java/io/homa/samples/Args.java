package io.homa.samples;

import io.homa.client.HomaProperties;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Command-line parsing shared by the samples and tools. Accepts {@code --name value}, {@code --name=value} and
 * AeronStat's {@code name=value} for options that take a value, {@code --name} for flags, and plain words as
 * positional arguments. Unknown options are an error, so a typo never silently runs the wrong experiment.
 * Numbers take {@code _} separators and {@code k}/{@code m}/{@code g} suffixes; durations {@code ns}/{@code us}/
 * {@code ms}/{@code s}. A number that does not parse or is negative, and a choice that is none of its values, is
 * refused with one line naming the option and what it takes (the values, for a choice).
 */
public final class Args
{
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d*)?)(ns|us|ms|s)?");

    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positional = new ArrayList<>();

    private Args()
    {
    }

    /**
     * @param args       the command line.
     * @param valueNames options that take a value (without the leading dashes).
     * @param flagNames  options without a value; {@code help} (also {@code -h}) is always known.
     * @return the parsed arguments.
     * @throws IllegalArgumentException for an unknown option or a missing value.
     */
    public static Args parse(final String[] args, final Set<String> valueNames, final Set<String> flagNames)
    {
        final Args parsed = new Args();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if ("-h".equals(arg) || "--help".equals(arg))
            {
                parsed.flags.add("help");
                continue;
            }

            final boolean dashed = arg.startsWith("--");
            final String body = dashed ? arg.substring(2) : arg;
            final int equals = body.indexOf('=');
            final String name = equals > 0 ? body.substring(0, equals) : body;

            if (valueNames.contains(name) && (dashed || equals > 0))
            {
                if (equals > 0)
                {
                    parsed.values.put(name, body.substring(equals + 1));
                }
                else if (i + 1 < args.length)
                {
                    parsed.values.put(name, args[++i]);
                }
                else
                {
                    throw new IllegalArgumentException("option --" + name + " needs a value");
                }
            }
            else if (dashed && equals < 0 && flagNames.contains(name))
            {
                parsed.flags.add(name);
            }
            else if (dashed || arg.startsWith("-"))
            {
                throw new IllegalArgumentException("unknown option " + arg);
            }
            else
            {
                parsed.positional.add(arg);
            }
        }
        return parsed;
    }

    /**
     * @return true if help was asked for.
     */
    public boolean help()
    {
        return flags.contains("help");
    }

    /**
     * @param name a flag.
     * @return true if it was given.
     */
    public boolean flag(final String name)
    {
        return flags.contains(name);
    }

    /**
     * @param name an option.
     * @return true if it was given.
     */
    public boolean has(final String name)
    {
        return values.containsKey(name);
    }

    /**
     * @param name         an option.
     * @param defaultValue used when it is absent.
     * @return its value.
     */
    public String string(final String name, final String defaultValue)
    {
        return values.getOrDefault(name, defaultValue);
    }

    /**
     * @param name         an option taking a size or count, e.g. {@code 100k}.
     * @param defaultValue used when it is absent.
     * @return its value.
     */
    public long size(final String name, final long defaultValue)
    {
        final String value = values.get(name);
        if (null == value)
        {
            return defaultValue;
        }
        try
        {
            return HomaProperties.parseSize(name, value.replace("_", ""));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--" + name + " " + value +
                " is refused: a whole number >= 0, with an optional k, m or g suffix (x1024), e.g. 100k");
        }
    }

    /**
     * @param name         an option taking an int, with the suffixes of {@link #size(String, long)}.
     * @param defaultValue used when it is absent.
     * @return its value.
     */
    public int intValue(final String name, final int defaultValue)
    {
        final long value = size(name, defaultValue);
        if (value > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("--" + name + " " + values.get(name) + " is refused: at most " +
                Integer.MAX_VALUE);
        }
        return (int)value;
    }

    /**
     * @param name         an option taking a count of at least {@code min}, with the suffixes of
     *                     {@link #size(String, long)}.
     * @param defaultValue used when it is absent.
     * @param min          the smallest count it takes.
     * @return its value.
     * @throws IllegalArgumentException naming the option if it does not parse or is below {@code min}.
     */
    public int count(final String name, final int defaultValue, final int min)
    {
        final int value = intValue(name, defaultValue);
        if (value < min)
        {
            throw new IllegalArgumentException("--" + name + " " + values.get(name) + " is refused: a count >= " + min);
        }
        return value;
    }

    /**
     * @param name         an option taking one of an enum's values (any case).
     * @param type         the enum.
     * @param defaultValue used when it is absent.
     * @param <E>          the enum.
     * @return its value.
     * @throws IllegalArgumentException naming the option and listing the values.
     */
    public <E extends Enum<E>> E choice(final String name, final Class<E> type, final E defaultValue)
    {
        final String value = values.get(name);
        return null == value ? defaultValue : choice(name, value, type);
    }

    /**
     * @param name  an option, for the message.
     * @param value one of the enum's values (any case).
     * @param type  the enum.
     * @param <E>   the enum.
     * @return the value.
     * @throws IllegalArgumentException naming the option and listing the values.
     */
    public static <E extends Enum<E>> E choice(final String name, final String value, final Class<E> type)
    {
        for (final E constant : type.getEnumConstants())
        {
            if (constant.name().equalsIgnoreCase(value.trim()))
            {
                return constant;
            }
        }
        throw new IllegalArgumentException("--" + name + " " + value + " is refused: one of " +
            HomaProperties.names(type));
    }

    /**
     * @throws IllegalArgumentException if there are positional arguments, for a program that takes none.
     */
    public void noPositional()
    {
        if (!positional.isEmpty())
        {
            throw new IllegalArgumentException("argument " + positional.get(0) + " is refused: options only");
        }
    }

    /**
     * @param name           an option taking a duration; a bare number is in {@code defaultUnit}.
     * @param defaultNs      used when it is absent.
     * @param bareNumberUnit unit of a number without suffix, e.g. {@code "ms"} or {@code "s"}.
     * @return its value in ns.
     */
    public long durationNs(final String name, final long defaultNs, final String bareNumberUnit)
    {
        final String value = values.get(name);
        if (null == value)
        {
            return defaultNs;
        }
        final Matcher matcher = DURATION.matcher(value.replace("_", "").trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches())
        {
            throw new IllegalArgumentException("--" + name + " " + value +
                " is refused: a duration >= 0 with an optional ns, us, ms or s suffix (bare: " + bareNumberUnit + ")");
        }
        final String unit = null == matcher.group(2) ? bareNumberUnit : matcher.group(2);
        final double nsPerUnit = switch (unit)
        {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> throw new IllegalArgumentException("--" + name + ": unknown unit " + unit);
        };
        return (long)(Double.parseDouble(matcher.group(1)) * nsPerUnit);
    }

    /**
     * @return the positional arguments in order.
     */
    public List<String> positional()
    {
        return positional;
    }
}
