package io.homa.sim;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bin/homa-sim}: runs one simulation and prints its report; {@code --out PREFIX} also writes
 * {@code PREFIX.csv} and {@code PREFIX.svg}, {@code --trace FILE} the event trace. Options are those of
 * {@link SimSettings#parse}.
 */
public final class HomaSim
{
    private HomaSim()
    {
    }

    /**
     * @param args options.
     * @throws IOException if the trace file cannot be written.
     */
    public static void main(final String[] args) throws IOException
    {
        final List<String> rest = new ArrayList<>();
        String out = null;
        String traceFile = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--help", "-h" ->
                {
                    usage();
                    return;
                }
                case "--out" -> out = args[++i];
                case "--trace" -> traceFile = args[++i];
                default -> rest.add(args[i]);
            }
        }
        final SimSettings settings = new SimSettings().parse(rest.toArray(new String[0]));
        final SimResult result;
        try (OutputStream trace = null == traceFile ? null : new FileOutputStream(traceFile))
        {
            result = new Simulation(settings, trace).run();
        }
        System.out.print(SimReport.table(result));
        if (null != out)
        {
            SimReport.write(result, Path.of(out));
            System.out.println("wrote " + out + ".csv and " + out + ".svg");
        }
    }

    private static void usage()
    {
        System.out.println("""
            usage: bin/homa-sim [options]
              --topology one-rack|two-tier   --hosts N   --racks R   --core-switches C   --paper (144 hosts, 9 racks)
              --host-gbps G   --uplink-gbps G   --propagation-ns N   --switching-ns N   --switch-buffer BYTES
              --nic-priorities true|false
              --workload w1..w5   --load 0..1   --ms SIMULATED_MS   --drain-ms MS   --echo   --seed S
              --loss P   --duplicate P   --reorder P
              --pool BYTES   --send-region BYTES   --unsched BYTES   --priorities 1..8   --overcommit 1..8
              --pacing true|false   --timeout-ticks N   --resend-ticks N   --recent-acks-per-peer N
              --out PREFIX (CSV and SVG)   --trace FILE (binary event trace)""");
    }
}
