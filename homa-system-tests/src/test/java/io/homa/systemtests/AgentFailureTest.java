package io.homa.systemtests;

import io.homa.driver.MediaDriver;
import io.homa.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A driver never outlives its own agents as a zombie: an {@link Error} escaping a duty cycle closes the driver (its
 * directory goes, its hook runs, the standalone driver exits 1), and in INVOKER mode reaches the application's
 * thread; an exception is recorded and the agent goes on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentFailureTest
{
    private MediaDriver driver;

    @AfterEach
    void after()
    {
        CloseHelper.quietClose(driver);
    }

    @Test
    void shouldCloseTheDriverWhenAnErrorEscapesAnAgent() throws Exception
    {
        final CountDownLatch terminated = new CountDownLatch(1);
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.DEDICATED)
            .terminationHook(terminated::countDown));
        final File dir = new File(driver.homaDirectoryName());
        assertTrue(dir.exists());

        driver.failConductorOnce(new OutOfMemoryError("injected by the test"));
        assertTrue(terminated.await(30, TimeUnit.SECONDS), "the termination hook ran");
        assertTrue(driver.hasFailed());
        assertFalse(dir.exists(), "the driver closed and removed its directory");
    }

    @Test
    void shouldRecordAnExceptionAndKeepRunning() throws Exception
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.SHARED));
        final long errorsBefore = driver.counter(io.homa.driver.status.SystemCounterDescriptor.ERRORS);
        driver.failConductorOnce(new IllegalStateException("injected by the test"));
        TestUtil.await(() -> driver.counter(io.homa.driver.status.SystemCounterDescriptor.ERRORS) > errorsBefore,
            () -> {}, 10_000, "the error counted");
        assertFalse(driver.hasFailed());
        try (io.homa.client.Homa homa = io.homa.client.Homa.connect(
            new io.homa.client.Homa.Context().homaDirectoryName(driver.homaDirectoryName())))
        {
            assertTrue(homa.addSocket().port() > 0, "the driver still serves");
        }
    }

    @Test
    void shouldThrowAnErrorOnToTheInvokingThreadInInvokerMode()
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context().threadingMode(ThreadingMode.INVOKER));
        final AgentInvoker invoker = driver.sharedAgentInvoker();
        driver.failConductorOnce(new StackOverflowError("injected by the test"));
        final StackOverflowError error = assertThrows(StackOverflowError.class, invoker::invoke);
        assertEquals("injected by the test", error.getMessage());
        assertTrue(driver.hasFailed());
    }
}
