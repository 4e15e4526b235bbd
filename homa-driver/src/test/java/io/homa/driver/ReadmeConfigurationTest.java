package io.homa.driver;

import io.homa.client.CommonContext;
import io.homa.client.HomaProperties;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's configuration table is the settings' documentation: it must list every {@code XXX_PROP_NAME}
 * constant, list nothing else, and give each default its {@code XXX_DEFAULT} constant's value; and every
 * {@code homa.*} property the repository's scripts, poms and sources use must be a setting or a tool's or test's
 * (the documented allow-list), or a test JVM would be refused at start.
 */
class ReadmeConfigurationTest
{
    private static final Path ROOT = Path.of("..");
    private static final Pattern ROW = Pattern.compile("^\\| `(homa\\.[^`]+)` \\| (.*?) \\|");
    private static final Pattern FIRST_CODE = Pattern.compile("`([^`]*)`");
    /** Names the repository spells on purpose: the usage's placeholder and the issue's typo the refusal tests use. */
    private static final Set<String> NOT_SETTINGS_ON_PURPOSE = Set.of("homa.name", "homa.unsched.byte");
    private static final Pattern[] USES = {
        Pattern.compile("-D(homa\\.[a-z][a-z0-9.]*[a-z0-9])"),
        Pattern.compile("(?:getProperty|getBoolean|getInteger|getLong)\\(\\s*\"(homa\\.[^\"]+)\""),
        Pattern.compile("<(homa\\.[a-z][a-z0-9.]*[a-z0-9])>"),
        Pattern.compile("(?m)^\\s*(homa\\.[a-z][a-z0-9.]*[a-z0-9])\\s*="),
        Pattern.compile("PROP_NAME\\s*=\\s*\"(homa\\.[^\"]+)\""),
    };

    private static Map<String, String> table() throws IOException
    {
        // The table is one block of rows under its header: a blank line would end it in Markdown.
        final List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
        final int header = lines.indexOf("| property | default | meaning |");
        assertTrue(header > 0, "README has no configuration table");
        final Map<String, String> rows = new LinkedHashMap<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++)
        {
            final Matcher matcher = ROW.matcher(lines.get(i));
            assertTrue(matcher.find(), "not a property row: " + lines.get(i));
            rows.put(matcher.group(1), matcher.group(2));
        }
        return rows;
    }

    private static Map<String, Field> settings()
    {
        final Map<String, Field> fields = new LinkedHashMap<>();
        for (final Class<?> type : new Class<?>[]{ Configuration.class, CommonContext.class })
        {
            for (final Field field : type.getFields())
            {
                if (field.getName().endsWith("_PROP_NAME"))
                {
                    try
                    {
                        fields.put((String)field.get(null), field);
                    }
                    catch (final IllegalAccessException ex)
                    {
                        throw new IllegalStateException(ex);
                    }
                }
            }
        }
        return fields;
    }

    @Test
    void shouldDocumentEveryPropertyInReadme() throws Exception
    {
        final Set<String> missing = new TreeSet<>(settings().keySet());
        missing.removeAll(table().keySet());
        assertTrue(missing.isEmpty(), "README property table lacks: " + missing);
        assertEquals(HomaProperties.knownNames(), new TreeSet<>(settings().keySet()));
    }

    @Test
    void shouldDocumentNothingButSettings() throws Exception
    {
        final Set<String> stale = new TreeSet<>(table().keySet());
        stale.removeAll(settings().keySet());
        assertTrue(stale.isEmpty(), "README property table has rows for no setting: " + stale);
    }

    @Test
    void shouldGiveEachDefaultItsConstantsValue() throws Exception
    {
        final Map<String, String> table = table();
        final List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (final Map.Entry<String, Field> setting : settings().entrySet())
        {
            final Field constant = defaultConstant(setting.getValue());
            final String documented = table.get(setting.getKey());
            if (null == constant || null == documented || CommonContext.HOMA_DIR_PROP_NAME.equals(setting.getKey()))
            {
                continue;
            }
            final Matcher code = FIRST_CODE.matcher(documented);
            final Object value = constant.get(null);
            final String readme = code.find() ? code.group(1) : documented.startsWith("empty") ? "" : null;
            final Object parsed = null == readme ? null : switch (value)
            {
                case Integer ignore -> (int)HomaProperties.parseSize(setting.getKey(), readme);
                case Long ignore -> constant.getName().endsWith("_NS") ?
                    HomaProperties.parseDurationNs(setting.getKey(), readme) : Long.parseLong(readme);
                case Boolean ignore -> Boolean.parseBoolean(readme);
                default -> readme;
            };
            if (!value.equals(parsed))
            {
                wrong.add(setting.getKey() + ": README `" + readme + "`, " + constant.getName() + " " + value);
            }
            checked++;
        }
        assertTrue(wrong.isEmpty(), "README defaults differ from the constants: " + wrong);
        assertTrue(checked >= 60, "only " + checked + " defaults checked");
    }

    private static Field defaultConstant(final Field propName)
    {
        final String stem = propName.getName().substring(0, propName.getName().length() - "_PROP_NAME".length());
        final List<String> candidates = new ArrayList<>(List.of(stem + "_DEFAULT", stem + "_DEFAULT_NS"));
        if (stem.endsWith("_IDLE_STRATEGY"))
        {
            candidates.add("IDLE_STRATEGY_DEFAULT");
        }
        for (final String candidate : candidates)
        {
            try
            {
                return propName.getDeclaringClass().getField(candidate);
            }
            catch (final NoSuchFieldException ignore)
            {
                // The next spelling.
            }
        }
        return null;
    }

    @Test
    void shouldDocumentTheToolAndTestAllowList() throws Exception
    {
        final String readme = Files.readString(ROOT.resolve("README.md"));
        for (final String name : HomaProperties.TOOL_NAMES)
        {
            assertTrue(readme.contains("`" + name + "`"), name);
        }
        for (final String prefix : HomaProperties.TOOL_PREFIXES)
        {
            assertTrue(readme.contains("`" + prefix + "`"), prefix);
        }
    }

    @Test
    void shouldUseOnlySettingsAndToolPropertiesAcrossTheRepository() throws Exception
    {
        final Set<String> known = settings().keySet();
        final List<String> unknown = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(ROOT))
        {
            for (final Path path : (Iterable<Path>)paths.filter(ReadmeConfigurationTest::isScanned)::iterator)
            {
                files++;
                final String text = Files.readString(path);
                for (final Pattern use : USES)
                {
                    final Matcher matcher = use.matcher(text);
                    while (matcher.find())
                    {
                        final String name = matcher.group(1);
                        if (!known.contains(name) && !HomaProperties.isToolName(name) &&
                            !NOT_SETTINGS_ON_PURPOSE.contains(name))
                        {
                            unknown.add(ROOT.relativize(path) + ": " + name);
                        }
                    }
                }
            }
        }
        assertTrue(files > 100, "scanned only " + files + " files");
        assertTrue(unknown.isEmpty(), "homa.* properties that are neither settings nor on the tool/test list " +
            "(a JVM given one is refused at start): " + unknown);
    }

    private static boolean isScanned(final Path path)
    {
        final String name = path.toString();
        if (name.contains("/target/") || name.contains("/.git/") || !Files.isRegularFile(path))
        {
            return false;
        }
        return name.contains("/bin/") || name.contains("/.ci/") || name.endsWith("pom.xml") ||
            name.contains("/src/") && (name.endsWith(".java") || name.endsWith(".properties") || name.endsWith(".xml"));
    }
}
