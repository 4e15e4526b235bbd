package io.homa.driver.status;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Labels of counters that belong to one client or socket: {@code <name> <key>=<value> ...}, e.g.
 * {@code socket_messages_received socket=3 port=32768 client=42}. The first word is the counter's name, the rest
 * say whose it is: Prometheus gets them as labels, {@code homa-stat} and JMX show the label as it is.
 */
public final class ScopedCounterLabels
{
    private ScopedCounterLabels()
    {
    }

    /**
     * @param name      the counter's name.
     * @param keyValues keys and values, alternating.
     * @return the label.
     */
    public static String label(final String name, final Object... keyValues)
    {
        final StringBuilder label = new StringBuilder(name);
        for (int i = 0; i + 1 < keyValues.length; i += 2)
        {
            label.append(' ').append(keyValues[i]).append('=').append(keyValues[i + 1]);
        }
        return label.toString();
    }

    /**
     * @param label a counter's label.
     * @return its name: the first word.
     */
    public static String name(final String label)
    {
        final int space = label.indexOf(' ');
        return space < 0 ? label : label.substring(0, space);
    }

    /**
     * @param label a counter's label.
     * @return its {@code key=value} words after the name, in order (empty for a driver-wide counter).
     */
    public static Map<String, String> scope(final String label)
    {
        final Map<String, String> scope = new LinkedHashMap<>();
        final String[] words = label.split(" ");
        for (int i = 1; i < words.length; i++)
        {
            final int equals = words[i].indexOf('=');
            if (equals > 0)
            {
                scope.put(words[i].substring(0, equals), words[i].substring(equals + 1));
            }
        }
        return scope;
    }
}
