package io.homa.driver;

import io.homa.client.HomaProperties;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.util.Properties;

/**
 * The standalone driver's command line ({@code bin/homa-driver}): property files, each a path, a URL or a resource
 * on the class path (the bundled {@code default.properties}, {@code low-latency.properties},
 * {@code debug-loss.properties}), loaded in order into the system properties (a file's value replaces a
 * {@code -D} one, as before), and {@code -Dname=value} settings after them. Anything else is refused with one line:
 * an option ({@code --bogus}: the driver has none) or a file that is none of the three ({@code nosuch.properties}).
 */
public final class PropertyFiles
{
    private PropertyFiles()
    {
    }

    /**
     * Loads every argument into the system properties, in order.
     *
     * @param args property files and {@code -Dname=value} settings.
     * @throws HomaProperties.ConfigurationException for anything else, naming it.
     */
    public static void load(final String[] args)
    {
        // Refuse before loading anything: a bad command line changes nothing.
        final Properties[] loaded = new Properties[args.length];
        for (int i = 0; i < args.length; i++)
        {
            loaded[i] = read(args[i]);
        }
        for (final Properties properties : loaded)
        {
            for (final String name : properties.stringPropertyNames())
            {
                System.setProperty(name, properties.getProperty(name));
            }
        }
    }

    private static Properties read(final String arg)
    {
        final Properties properties = new Properties();
        if (arg.startsWith("-D"))
        {
            final int equals = arg.indexOf('=');
            if (equals <= 2)
            {
                throw new HomaProperties.ConfigurationException("argument " + arg +
                    " is refused: a setting is -Dname=value, e.g. -Dhoma.udp.port=4000");
            }
            properties.setProperty(arg.substring(2, equals), arg.substring(equals + 1));
            return properties;
        }
        if (arg.startsWith("-"))
        {
            throw new HomaProperties.ConfigurationException("argument " + arg + " is refused: the driver takes " +
                "-Dhoma.name=value settings and property files (a path, a URL or a class-path resource such as " +
                "default.properties), no options; --help lists them");
        }
        try (InputStream in = open(arg))
        {
            if (null == in)
            {
                throw new HomaProperties.ConfigurationException("property file " + arg + " is refused: not a " +
                    "file, a URL or a resource on the class path (bundled: default.properties, " +
                    "low-latency.properties, debug-loss.properties)");
            }
            properties.load(in);
            return properties;
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            if (ex instanceof HomaProperties.ConfigurationException refused)
            {
                throw refused;
            }
            throw new HomaProperties.ConfigurationException(
                "property file " + arg + " is refused: cannot read it: " + oneLine(ex));
        }
    }

    private static InputStream open(final String arg) throws IOException
    {
        final File file = new File(arg);
        if (file.isFile())
        {
            return Files.newInputStream(file.toPath());
        }
        if (file.exists())
        {
            throw new HomaProperties.ConfigurationException("property file " + arg + " is refused: not a file");
        }
        if (arg.contains(":"))
        {
            try
            {
                final URL url = new URI(arg).toURL();
                return url.openStream();
            }
            catch (final URISyntaxException | MalformedURLException | IllegalArgumentException ex)
            {
                // Not a URL: perhaps a resource.
            }
            catch (final IOException ex)
            {
                throw new HomaProperties.ConfigurationException(
                    "property file " + arg + " is refused: cannot read it: " + oneLine(ex));
            }
        }
        return PropertyFiles.class.getClassLoader().getResourceAsStream(arg);
    }

    /**
     * @param ex why a start failed.
     * @return its message on one line (the exception's type when it has none).
     */
    public static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage();
        final String text = null == message || message.isBlank() ? ex.toString() :
            ex instanceof IllegalArgumentException || ex instanceof IllegalStateException ? message :
            ex.getClass().getSimpleName() + ": " + message;
        return text.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
