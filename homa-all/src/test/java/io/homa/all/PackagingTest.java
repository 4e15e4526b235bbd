package io.homa.all;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the build publishes, read from the jars and poms it made (this module builds last, in verify): every
 * library jar names its automatic module and has sources and Javadoc beside it, the BOM pins every published
 * module, test modules are neither installed nor deployed, homa-all's installed jar is the shaded one with a pom
 * that pulls nothing it already holds, the public client package holds the API and nothing else (internals live in
 * {@code io.homa.client.internal*}, left out of the Javadoc), no package is split across two jars, and the license is
 * stated.
 */
class PackagingTest
{
    private static final Path ROOT = Paths.get(System.getProperty("homa.root", "..")).toAbsolutePath().normalize();
    private static final String VERSION = "0.1.0-SNAPSHOT";
    /** Published modules with Java sources, and the module name each jar gives. */
    private static final Map<String, String> LIBRARIES = Map.of(
        "homa-codecs", "io.homa.codecs",
        "homa-client", "io.homa.client",
        "homa-driver", "io.homa.driver",
        "homa-samples", "io.homa.samples",
        "homa-examples", "io.homa.examples",
        "homa-grpc", "io.homa.grpc");
    /** The public top-level types of {@code io.homa.client}: the API, and nothing public only for the driver. */
    private static final TreeSet<String> CLIENT_API = new TreeSet<>(List.of(
        "ClientTimeoutException", "CommonContext", "DriverFailedException", "DriverTimeoutException", "ErrorListener", "Homa", "HomaAddress",
        "HomaError", "HomaException", "HomaProperties", "HomaServer", "HomaSocket", "MessageHandler",
        "MessageListener", "RequestHandler", "RpcInfo", "RpcInfoSnapshot", "SendClaim"));
    /** Internals that once sat in the public package: each must be in io.homa.client.internal now. */
    private static final List<String> CLIENT_INTERNALS = List.of(
        "BuddyAllocator", "CncFileDescriptor", "SocketFileDescriptor", "PollContention", "Wakeups", "DirectDriver");
    private static final List<String> TEST_MODULES = List.of("homa-system-tests", "homa-concurrency-tests");
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern ARTIFACT = Pattern.compile("<artifactId>([^<]+)</artifactId>");

    @Test
    void shouldNameTheAutomaticModuleOfEveryLibraryJarAndAttachSourcesAndJavadoc() throws IOException
    {
        for (final Map.Entry<String, String> library : LIBRARIES.entrySet())
        {
            final Path target = ROOT.resolve(library.getKey()).resolve("target");
            final String base = library.getKey() + "-" + VERSION;
            try (JarFile jar = new JarFile(target.resolve(base + ".jar").toFile()))
            {
                assertLicenseAndNotice(jar, base + ".jar");
                assertEquals(library.getValue(),
                    jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"), library.getKey());
            }
            try (JarFile sources = new JarFile(target.resolve(base + "-sources.jar").toFile()))
            {
                assertTrue(sources.stream().anyMatch((entry) -> entry.getName().endsWith(".java")), base + "-sources");
                assertLicenseAndNotice(sources, base + "-sources.jar");
            }
            try (JarFile javadoc = new JarFile(target.resolve(base + "-javadoc.jar").toFile()))
            {
                assertNotNull(javadoc.getEntry("index.html"), base + "-javadoc");
            }
        }
    }

    @Test
    void shouldHoldOnlyTheApiInThePublicClientPackage() throws Exception
    {
        final Path target = ROOT.resolve("homa-client/target");
        final TreeSet<String> publicTypes = new TreeSet<>();
        final TreeSet<String> internalTypes = new TreeSet<>();
        final TreeSet<String> controlTypes = new TreeSet<>();
        try (JarFile jar = new JarFile(target.resolve("homa-client-" + VERSION + ".jar").toFile()))
        {
            for (final JarEntry entry : jar.stream().toList())
            {
                final String name = entry.getName();
                if (!name.endsWith(".class") || name.contains("$") || name.endsWith("package-info.class"))
                {
                    continue;
                }
                final String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
                final String packageName = className.substring(0, className.lastIndexOf('.'));
                final String simpleName = className.substring(packageName.length() + 1);
                switch (packageName)
                {
                    case "io.homa.client" ->
                    {
                        final Class<?> type = Class.forName(className, false, PackagingTest.class.getClassLoader());
                        if (Modifier.isPublic(type.getModifiers()))
                        {
                            publicTypes.add(simpleName);
                        }
                    }
                    case "io.homa.client.internal" -> internalTypes.add(simpleName);
                    case "io.homa.client.internal.control" -> controlTypes.add(simpleName);
                    default -> fail("homa-client holds a class outside its packages: " + className);
                }
            }
            assertNotNull(jar.getEntry("io/homa/client/internal/package-info.class"), "internal package-info");
            assertNotNull(jar.getEntry("io/homa/client/internal/control/package-info.class"), "control package-info");
        }
        assertEquals(CLIENT_API, publicTypes, "public top-level types of io.homa.client");
        for (final String internal : CLIENT_INTERNALS)
        {
            assertTrue(internalTypes.contains(internal), internal + " in io.homa.client.internal: " + internalTypes);
        }
        assertTrue(controlTypes.contains("SendRequestEncoder") && controlTypes.contains("MessageEventDecoder"),
            "the control codecs are in io.homa.client.internal.control: " + controlTypes);

        try (JarFile javadoc = new JarFile(target.resolve("homa-client-" + VERSION + "-javadoc.jar").toFile()))
        {
            assertNotNull(javadoc.getEntry("io.homa.client/io/homa/client/Homa.html"), "Homa in the Javadoc");
            final List<String> internalPages = javadoc.stream().map(JarEntry::getName)
                .filter((name) -> name.contains("io/homa/client/internal")).limit(5).toList();
            assertEquals(List.of(), internalPages, "internal packages in homa-client's Javadoc jar");
        }
    }

    @Test
    void shouldSplitNoPackageAcrossTwoPublishedJars() throws IOException
    {
        final TreeMap<String, String> jarOfPackage = new TreeMap<>();
        final List<String> libraries = new ArrayList<>(LIBRARIES.keySet());
        libraries.add("homa-sim");
        libraries.sort(null);
        for (final String library : libraries)
        {
            final Path jarPath = ROOT.resolve(library).resolve("target").resolve(library + "-" + VERSION + ".jar");
            try (JarFile jar = new JarFile(jarPath.toFile()))
            {
                for (final JarEntry entry : jar.stream().toList())
                {
                    final String name = entry.getName();
                    if (name.endsWith(".class") && !name.startsWith("META-INF/") && name.indexOf('/') > 0)
                    {
                        final String packageName = name.substring(0, name.lastIndexOf('/')).replace('/', '.');
                        final String previous = jarOfPackage.putIfAbsent(packageName, library);
                        if (null != previous && !previous.equals(library))
                        {
                            fail("package " + packageName + " is in both " + previous + " and " + library +
                                " (" + name + ")");
                        }
                    }
                }
            }
        }
        assertEquals("homa-driver", jarOfPackage.get("io.homa.driver"));
        assertEquals("homa-client", jarOfPackage.get("io.homa.client"));
        assertEquals("homa-client", jarOfPackage.get("io.homa.client.internal"));
    }

    @Test
    void shouldPinEveryPublishedModuleInTheBom() throws IOException
    {
        final TreeSet<String> published = new TreeSet<>();
        final Matcher modules = MODULE.matcher(Files.readString(ROOT.resolve("pom.xml")));
        while (modules.find())
        {
            published.add(modules.group(1));
        }
        published.removeAll(TEST_MODULES);
        published.remove("homa-bom");

        final String bom = Files.readString(ROOT.resolve("homa-bom/pom.xml"));
        final TreeSet<String> pinned = new TreeSet<>();
        final Matcher artifacts = ARTIFACT.matcher(bom.substring(bom.indexOf("<dependencyManagement>")));
        while (artifacts.find())
        {
            pinned.add(artifacts.group(1));
        }
        assertEquals(published, pinned);
        assertFalse(bom.contains("<parent>"), "an imported BOM with our parent would pin our build's dependencies too");
    }

    @Test
    void shouldNeitherInstallNorDeployTestModules() throws IOException
    {
        for (final String module : TEST_MODULES)
        {
            final String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
            assertTrue(pom.contains("<maven.install.skip>true</maven.install.skip>"), module);
            assertTrue(pom.contains("<maven.deploy.skip>true</maven.deploy.skip>"), module);
        }
    }

    @Test
    void shouldPublishTheShadedJarAsHomaAllWithAPomThatPullsNothingItHolds() throws Exception
    {
        final Path target = ROOT.resolve("homa-all/target");
        try (JarFile jar = new JarFile(target.resolve("homa-all.jar").toFile()))
        {
            // The module's own jar (no classes of its own) was replaced by the shaded one.
            assertNotNull(jar.getEntry("io/homa/client/Homa.class"));
        }
        final TreeSet<String> dependencies = new TreeSet<>();
        final Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(target.resolve("dependency-reduced-pom.xml").toFile()).getDocumentElement();
        for (Node child = project.getFirstChild(); null != child; child = child.getNextSibling())
        {
            if ("dependencies".equals(child.getNodeName()))
            {
                final NodeList dependency = ((Element)child).getElementsByTagName("dependency");
                for (int i = 0; i < dependency.getLength(); i++)
                {
                    final Element element = (Element)dependency.item(i);
                    final NodeList scope = element.getElementsByTagName("scope");
                    if (0 == scope.getLength() || !"test".equals(scope.item(0).getTextContent()))
                    {
                        dependencies.add(element.getElementsByTagName("groupId").item(0).getTextContent() + ":" +
                            element.getElementsByTagName("artifactId").item(0).getTextContent());
                    }
                }
            }
        }
        assertEquals(new TreeSet<>(), dependencies, "homa-all's pom pulls what its jar holds");
    }

    private static void assertLicenseAndNotice(final JarFile jar, final String name) throws IOException
    {
        assertEquals(Files.readString(ROOT.resolve("LICENSE")), entryText(jar, "META-INF/LICENSE"), name);
        assertEquals(Files.readString(ROOT.resolve("NOTICE")), entryText(jar, "META-INF/NOTICE"), name);
    }

    private static String entryText(final JarFile jar, final String entryName) throws IOException
    {
        final JarEntry entry = jar.getJarEntry(entryName);
        assertNotNull(entry, entryName + " missing from " + jar.getName());
        try (InputStream in = jar.getInputStream(entry))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void shouldStateTheApacheLicense() throws IOException
    {
        final String license = Files.readString(ROOT.resolve("LICENSE"));
        assertTrue(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));
        assertTrue(Files.readString(ROOT.resolve("NOTICE")).contains("Apache License, Version 2.0"));
        assertTrue(Files.readString(ROOT.resolve("pom.xml")).contains("<name>Apache License, Version 2.0</name>"));
        // The shaded jar too (tests of this module run after the shade, in verify).
        try (JarFile all = new JarFile(ROOT.resolve("homa-all").resolve("target").resolve("homa-all.jar").toFile()))
        {
            assertLicenseAndNotice(all, "homa-all.jar");
        }
    }

    @Test
    void shouldDocumentEveryPublicTypeOfThePublishedModules() throws IOException
    {
        final Pattern declaration = Pattern.compile(
            "^public (?:final |abstract |sealed |non-sealed )*(?:class|interface|record|enum|@interface) ",
            Pattern.MULTILINE);
        final List<String> undocumented = new ArrayList<>();
        int checked = 0;
        for (final String module : LIBRARIES.keySet())
        {
            final Path sources = ROOT.resolve(module).resolve("src/main/java");
            if (!Files.isDirectory(sources))
            {
                continue;
            }
            try (java.util.stream.Stream<Path> files = Files.walk(sources))
            {
                for (final Path file : files.filter((f) -> f.toString().endsWith(".java")).toList())
                {
                    final String text = Files.readString(file, StandardCharsets.UTF_8);
                    final Matcher type = declaration.matcher(text);
                    if (!type.find())
                    {
                        continue;
                    }
                    checked++;
                    // Between the last comment and the declaration only annotations (with their arguments) may stand.
                    final int commentEnd = text.lastIndexOf("*/", type.start());
                    String between = commentEnd < 0 ? "x" : text.substring(commentEnd + 2, type.start());
                    for (String previous = ""; !previous.equals(between); )
                    {
                        previous = between;
                        between = between.replaceAll("\\([^()]*\\)", "");
                    }
                    between = between.replaceAll("@[\\w.]+", "");
                    if (commentEnd < 0 || !between.isBlank() || !text.substring(0, commentEnd).contains("/**"))
                    {
                        undocumented.add(ROOT.relativize(file).toString());
                    }
                }
            }
        }
        assertTrue(checked > 50, "public types found: " + checked);
        assertEquals(List.of(), undocumented, "public types without a Javadoc comment");
    }
}
