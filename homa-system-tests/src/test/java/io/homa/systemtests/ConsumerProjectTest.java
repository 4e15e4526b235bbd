package io.homa.systemtests;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Opt-in ({@code -Dhoma.test.consumer=true}, a few minutes): what a user of the published artifacts gets. A copy of
 * this source tree (no {@code target/}, so the running build is left alone) is built with
 * {@code mvn -B -ntp install -DskipTests} into a fresh, empty local repository; Maven fills that repository from
 * the user's own cache ({@code ~/.m2/repository}, or {@code -Dhoma.test.consumer.cache}) through a generated
 * settings file whose only mirror ({@code mirrorOf *}) is that cache as a {@code file://} repository, so nothing
 * comes from the network. Then two consumer projects, generated here, import {@code homa-bom} and depend on
 * {@code homa-driver} (one) or only on {@code homa-all} (the other), hold a copy of the Echo example (another
 * package), are built offline against that repository alone, and run Echo's main in a JVM of its own with only
 * the two flags the README gives; each must print every echo. The installed homa-all jar must hold the driver.
 * Every process has a timeout; the temporary tree is deleted.
 */
@EnabledIfSystemProperty(named = "homa.test.consumer", matches = "true",
    disabledReason = "opt-in (runs mvn install of the whole project, minutes): -Dhoma.test.consumer=true")
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class ConsumerProjectTest
{
    private static final Path ROOT = Paths.get(System.getProperty("homa.root", "..")).toAbsolutePath().normalize();
    private static final String VERSION = "0.1.0-SNAPSHOT";
    private static final String EXAMPLE_PACKAGE = "com.example.consumer";
    private static final List<String> WORDS = List.of("alpha", "beta", "gamma");
    /** The two JVM flags of the README's "Using it", and nothing else. */
    private static final List<String> README_FLAGS =
        List.of("--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED");
    /** The plugins a jar project's build up to package runs, pinned to the versions the project's own build uses. */
    private static final Map<String, String> PLUGINS = Map.of(
        "org.apache.maven.plugins:maven-resources-plugin", "resources.plugin.version",
        "org.apache.maven.plugins:maven-compiler-plugin", "compiler.plugin.version",
        "org.apache.maven.plugins:maven-surefire-plugin", "surefire.plugin.version",
        "org.apache.maven.plugins:maven-jar-plugin", "jar.plugin.version",
        "org.codehaus.mojo:exec-maven-plugin", "exec.plugin.version");
    private static final long INSTALL_TIMEOUT_MINUTES = 25;
    private static final long CONSUMER_TIMEOUT_MINUTES = 5;

    private Path work;

    @AfterEach
    void deleteWork() throws IOException
    {
        if (null != work)
        {
            deleteTree(work);
        }
    }

    @Test
    void shouldBuildAndRunAnExampleAgainstTheInstalledBomDriverAndHomaAll() throws Exception
    {
        assertTrue(Runtime.version().feature() >= 25, "needs the JDK 25+ this test runs on: " + Runtime.version());
        final String rootPom = Files.readString(ROOT.resolve("pom.xml"));
        assertTrue(rootPom.contains("<artifactId>homa-parent</artifactId>"), "not the project root: " + ROOT);
        final Path cache = Paths.get(System.getProperty(
            "homa.test.consumer.cache", System.getProperty("user.home") + "/.m2/repository")).toAbsolutePath();
        assertTrue(Files.isDirectory(cache), "no Maven cache to fill the clean repository from: " + cache);

        work = Files.createTempDirectory("homa-consumer-");
        final Path repo = Files.createDirectory(work.resolve("repo"));
        final Path settings = work.resolve("settings.xml");
        Files.writeString(settings, settings(cache));
        final Path source = work.resolve("source");
        copySourceTree(ROOT, source);

        // 1. The project, as a user would install it, into the empty repository.
        final long startNs = System.nanoTime();
        final Output install = mvn(source, settings, repo, false, INSTALL_TIMEOUT_MINUTES, work.resolve("install.log"),
            "install", "-DskipTests");
        assertEquals(0, install.exitCode, () -> "mvn install failed:\n" + install.tail());

        System.out.printf("install into the empty repository: %d s, %d jars and poms fetched from %s%n",
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs), countFiles(repo, "org"), cache);
        assertEquals(List.of(), foreignOrigins(repo), "artifacts that came from elsewhere than the user's cache");
        final Path installed = repo.resolve("io/homa");
        assertTrue(Files.isRegularFile(installed.resolve("homa-bom/" + VERSION + "/homa-bom-" + VERSION + ".pom")),
            "homa-bom not installed");
        final Path allJar = installed.resolve("homa-all/" + VERSION + "/homa-all-" + VERSION + ".jar");
        try (JarFile jar = new JarFile(allJar.toFile()))
        {
            assertNotNull(jar.getEntry("io/homa/driver/MediaDriver.class"), "installed homa-all holds no driver");
            assertNotNull(jar.getEntry("io/homa/client/Homa.class"), "installed homa-all holds no client");
        }

        // 2. Consumers of the installed artifacts, built offline so that nothing but that repository serves them.
        final String example = Files.readString(
            ROOT.resolve("homa-examples/src/main/java/io/homa/examples/Echo.java"), StandardCharsets.UTF_8)
            .replaceFirst("(?m)^package io\\.homa\\.examples;", "package " + EXAMPLE_PACKAGE + ";");
        assertTrue(example.startsWith("package " + EXAMPLE_PACKAGE + ";"), "Echo.java no longer starts as expected");
        for (final String artifact : List.of("homa-driver", "homa-all"))
        {
            final Path consumer = work.resolve("consumer-" + artifact);
            final Path sourceDir = Files.createDirectories(
                consumer.resolve("src/main/java/" + EXAMPLE_PACKAGE.replace('.', '/')));
            Files.writeString(sourceDir.resolve("Echo.java"), example, StandardCharsets.UTF_8);
            Files.writeString(consumer.resolve("pom.xml"), consumerPom(artifact, rootPom), StandardCharsets.UTF_8);

            final long buildStartNs = System.nanoTime();
            final Output build = mvn(consumer, settings, repo, true, CONSUMER_TIMEOUT_MINUTES,
                work.resolve(artifact + ".log"), "package");
            assertEquals(0, build.exitCode, () -> "consumer of " + artifact + " failed:\n" + build.tail());
            assertTrue(build.lines.stream().anyMatch((line) -> line.contains("--- exec-maven-plugin:") &&
                line.contains("(run-echo)")), () -> "Echo was not run:\n" + build.tail());
            final List<String> echoes = build.lines.stream()
                .map(String::strip).filter((line) -> line.startsWith("echo: ")).toList();
            assertEquals(WORDS.stream().map((word) -> "echo: " + word).toList(), echoes,
                () -> "consumer of " + artifact + ":\n" + build.tail());
            System.out.printf("consumer of %s (offline): built and ran in %d s, printed %s%n", artifact,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - buildStartNs), echoes);
        }
    }

    private static String settings(final Path cache)
    {
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
                <mirrors>
                    <mirror>
                        <id>user-cache</id>
                        <mirrorOf>*</mirrorOf>
                        <url>%s</url>
                    </mirror>
                </mirrors>
            </settings>
            """.formatted(cache.toUri());
    }

    private static String consumerPom(final String artifact, final String rootPom)
    {
        final StringBuilder plugins = new StringBuilder();
        for (final Map.Entry<String, String> plugin : PLUGINS.entrySet())
        {
            final String[] coordinates = plugin.getKey().split(":");
            plugins.append("""
                        <plugin>
                            <groupId>%s</groupId>
                            <artifactId>%s</artifactId>
                            <version>%s</version>
                        </plugin>
                """.formatted(coordinates[0], coordinates[1], property(rootPom, plugin.getValue())));
        }
        final StringBuilder arguments = new StringBuilder();
        for (final String flag : README_FLAGS)
        {
            arguments.append("                            <argument>").append(flag).append("</argument>\n");
        }
        final String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0">
                <modelVersion>4.0.0</modelVersion>
                <groupId>com.example</groupId>
                <artifactId>consumer-of-%1$s</artifactId>
                <version>1.0</version>
                <properties>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                    <maven.compiler.release>25</maven.compiler.release>
                </properties>
                <dependencyManagement>
                    <dependencies>
                        <dependency>
                            <groupId>io.homa</groupId>
                            <artifactId>homa-bom</artifactId>
                            <version>%2$s</version>
                            <type>pom</type>
                            <scope>import</scope>
                        </dependency>
                    </dependencies>
                </dependencyManagement>
                <dependencies>
                    <dependency>
                        <groupId>io.homa</groupId>
                        <artifactId>%1$s</artifactId>
                    </dependency>
                </dependencies>
                <build>
                    <pluginManagement>
                        <plugins>
            %3$s            </plugins>
                    </pluginManagement>
                    <plugins>
                        <plugin>
                            <groupId>org.codehaus.mojo</groupId>
                            <artifactId>exec-maven-plugin</artifactId>
                            <executions>
                                <execution>
                                    <id>run-echo</id>
                                    <phase>package</phase>
                                    <goals>
                                        <goal>exec</goal>
                                    </goals>
                                    <configuration>
                                        <executable>%4$s</executable>
                                        <timeout>120000</timeout>
                                        <arguments>
            %5$s                            <argument>-classpath</argument>
                                            <classpath/>
                                            <argument>%6$s.Echo</argument>
            %7$s                        </arguments>
                                    </configuration>
                                </execution>
                            </executions>
                        </plugin>
                    </plugins>
                </build>
            </project>
            """.formatted(artifact, VERSION, plugins, java, arguments, EXAMPLE_PACKAGE, wordArguments());
    }

    private static String wordArguments()
    {
        final StringBuilder words = new StringBuilder();
        for (final String word : WORDS)
        {
            words.append("                            <argument>").append(word).append("</argument>\n");
        }
        return words.toString();
    }

    private static String property(final String pom, final String name)
    {
        final Matcher matcher = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertTrue(matcher.find(), "no " + name + " in the root pom");
        return matcher.group(1).strip();
    }

    private record Output(int exitCode, List<String> lines)
    {
        String tail()
        {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        }
    }

    private static Output mvn(
        final Path dir,
        final Path settings,
        final Path repo,
        final boolean offline,
        final long timeoutMinutes,
        final Path log,
        final String... goals) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(
            System.getProperty("homa.test.consumer.mvn", "mvn"), "-B", "-ntp",
            "-s", settings.toString(), "-gs", settings.toString(), "-Dmaven.repo.local=" + repo));
        if (offline)
        {
            command.add("-o");
        }
        command.addAll(List.of(goals));
        final ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
            .redirectErrorStream(true).redirectOutput(log.toFile());
        final Map<String, String> env = builder.environment();
        env.keySet().removeIf((name) -> name.startsWith("MAVEN_"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        final Process process = builder.start();
        if (!process.waitFor(timeoutMinutes, TimeUnit.MINUTES))
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            fail(String.join(" ", command) + " in " + dir + " took over " + timeoutMinutes + " min:\n" +
                new Output(-1, Files.readAllLines(log, StandardCharsets.UTF_8)).tail());
        }
        return new Output(process.exitValue(), Files.readAllLines(log, StandardCharsets.UTF_8));
    }

    /**
     * @return the artifacts whose {@code _remote.repositories} names a repository other than the mirror (locally
     * installed ones name none).
     */
    private static List<String> foreignOrigins(final Path repo) throws IOException
    {
        final List<String> foreign = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(repo))
        {
            for (final Path path : paths.filter((p) -> p.endsWith("_remote.repositories")).toList())
            {
                for (final String line : Files.readAllLines(path, StandardCharsets.UTF_8))
                {
                    final int gt = line.indexOf('>');
                    if (!line.startsWith("#") && gt > 0 && !line.endsWith(">=") && !line.endsWith(">user-cache="))
                    {
                        foreign.add(line);
                    }
                }
            }
        }
        return foreign;
    }

    private static long countFiles(final Path repo, final String top) throws IOException
    {
        try (Stream<Path> paths = Files.walk(repo.resolve(top)))
        {
            return paths.filter((path) -> path.toString().endsWith(".jar") || path.toString().endsWith(".pom"))
                .count();
        }
    }

    private static void copySourceTree(final Path from, final Path to) throws IOException
    {
        Files.walkFileTree(from, new SimpleFileVisitor<>()
        {
            @Override
            public FileVisitResult preVisitDirectory(final Path dir, final BasicFileAttributes attrs)
                throws IOException
            {
                final String name = null == dir.getFileName() ? "" : dir.getFileName().toString();
                if (!dir.equals(from) && ("target".equals(name) || ".git".equals(name) || ".idea".equals(name)))
                {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs) throws IOException
            {
                if (attrs.isRegularFile() && !".git".equals(file.getFileName().toString()))
                {
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteTree(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path path : paths.sorted(Comparator.reverseOrder()).toList())
            {
                final File file = path.toFile();
                if (!file.delete() && file.exists())
                {
                    throw new IOException("could not delete " + path);
                }
            }
        }
    }
}
