package io.homa.samples.bench;

import io.homa.driver.protocol.SchedulingBenchDriver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Per-packet cost of the scheduling decisions with {@code waiting} messages waiting (#15: it should not grow with
 * them). {@code grantDecision}: one DATA arrives for a message holding grants (one of the 8 active ones, now and
 * then the FIFO one) and the GrantScheduler decides (window grant, needy service, FIFO grant, and when a message
 * completes the promotion of a queued one and the queuing of a newcomer). {@code transmitPick}: one GRANT arrives
 * for an outgoing message waiting for one and the pacer picks and sends one packet.
 * <pre>
 * java -cp homa-samples/target/homa-samples.jar org.openjdk.jmh.Main SchedulingBenchmark -prof gc
 * </pre>
 */
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class SchedulingBenchmark
{
    @Param({ "1", "10", "100", "1000", "10000" })
    public int waiting;

    private SchedulingBenchDriver driver;

    /**
     * Builds the messages and runs the receive side into its steady state.
     */
    @Setup
    public void setup()
    {
        driver = new SchedulingBenchDriver(waiting);
    }

    /**
     * One DATA in, one grant decision.
     *
     * @return the scheduler's unused grants.
     */
    @Benchmark
    public int grantDecision()
    {
        return driver.dataForGrantedMessage();
    }

    /**
     * One GRANT in, one transmit pick.
     *
     * @return the picked message's bytes left.
     */
    @Benchmark
    public int transmitPick()
    {
        return driver.grantForWaitingMessage();
    }
}
