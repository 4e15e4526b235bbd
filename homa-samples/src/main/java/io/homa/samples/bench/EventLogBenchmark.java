package io.homa.samples.bench;

import io.homa.codecs.HomaWire;
import io.homa.driver.status.EventLog;
import io.homa.driver.status.EventType;
import io.homa.driver.status.FreezeDumper;
import org.agrona.IoUtil;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

/**
 * Cost of recording one event in the driver's event log, as the engine does for every packet in and out and every
 * RPC step: a clock read and one cache line of stores into a mapped file in /dev/shm (or the temp directory),
 * over a ring larger than the caches, as a long-running driver's is. {@code disabled} is the check a driver with
 * the log off pays.
 * <pre>
 * java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp homa-samples/target/homa-samples.jar \
 *     org.openjdk.jmh.Main EventLogBenchmark -prof gc
 * </pre>
 */
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class EventLogBenchmark
{
    private static final int CAPACITY = 64 * 1024;

    private File directory;
    private EventLog log;
    private final EventLog disabled = EventLog.disabled();
    private long rpcId = 2;
    private int offset;

    /**
     * Creates the log in a fresh directory.
     *
     * @throws Exception if the directory cannot be made.
     */
    @Setup
    public void setup() throws Exception
    {
        final File shm = new File("/dev/shm");
        directory = Files.createTempDirectory(shm.isDirectory() ? shm.toPath() : null, "homa-events-bench").toFile();
        log = EventLog.create(directory, CAPACITY, SystemNanoClock.INSTANCE, SystemEpochClock.INSTANCE,
            FreezeDumper.NONE);
    }

    /**
     * Unmaps and deletes it.
     */
    @TearDown
    public void tearDown()
    {
        log.close();
        IoUtil.delete(directory, true);
    }

    /**
     * One DATA-out event.
     */
    @Benchmark
    public void record()
    {
        offset += 1400;
        log.record(EventType.PACKET_OUT | HomaWire.DATA, rpcId, 0x7F000001, 4000, 32768, 99, offset, 1400, 6,
            100_000, 0);
        rpcId += 2;
    }

    /**
     * The same call with the log off.
     */
    @Benchmark
    public void disabled()
    {
        offset += 1400;
        disabled.record(EventType.PACKET_OUT | HomaWire.DATA, rpcId, 0x7F000001, 4000, 32768, 99, offset, 1400, 6,
            100_000, 0);
        rpcId += 2;
    }
}
