package io.homa.driver;

import io.homa.client.CommonContext;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadmeConfigurationTest
{
    @Test
    void shouldDocumentEveryPropertyInReadme() throws Exception
    {
        final Path readme = Path.of("..", "README.md");
        final String text = Files.readString(readme);
        final List<String> missing = new ArrayList<>();
        for (final Class<?> type : new Class<?>[]{ Configuration.class, CommonContext.class })
        {
            for (final Field field : type.getDeclaredFields())
            {
                if (field.getName().endsWith("_PROP_NAME") && Modifier.isStatic(field.getModifiers()))
                {
                    final String name = (String)field.get(null);
                    if (!text.contains("`" + name + "`"))
                    {
                        missing.add(name);
                    }
                }
            }
        }
        assertTrue(missing.isEmpty(), "README property table lacks: " + missing);
    }
}
