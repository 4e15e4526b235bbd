package io.homa.codecs.pcap;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the shared reference directory (captures, workloads) that lives beside the checkout.
 */
public final class SharedDir
{
    public static final String PROP_NAME = "homa.shared.dir";

    private SharedDir()
    {
    }

    public static Path linuxCaptures()
    {
        final String property = System.getProperty(PROP_NAME);
        final Path[] candidates =
        {
            null == property ? null : Paths.get(property),
            Paths.get("..", "shared"),
            Paths.get("..", "..", "shared"),
        };

        for (final Path candidate : candidates)
        {
            if (null != candidate && Files.isDirectory(candidate.resolve("linux-captures")))
            {
                return candidate.resolve("linux-captures").toAbsolutePath().normalize();
            }
        }

        throw new IllegalStateException(
            "shared reference directory not found: set -D" + PROP_NAME + "=<dir containing linux-captures/> " +
            "(tried " + property + ", ../shared and ../../shared from " + Paths.get("").toAbsolutePath() + ")");
    }
}
