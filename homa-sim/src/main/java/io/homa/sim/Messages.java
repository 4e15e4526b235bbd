package io.homa.sim;

import java.util.Arrays;

/**
 * Every application message of the run, by number: when it was sent, from and to which host, its size, and when it
 * completed (0 while not, -1 if it failed). Flat arrays, grown as needed: a run holds millions.
 */
final class Messages
{
    private long[] startNs = new long[4096];
    private long[] doneNs = new long[4096];
    private int[] size = new int[4096];
    private int[] src = new int[4096];
    private int[] dst = new int[4096];
    private long[] rpcId = new long[4096];
    private int[] serverRuns = new int[4096];
    private int[] errorCode = new int[4096];
    private int count;
    private int completed;
    private int failed;

    int add(final long nowNs, final int bytes, final int from, final int to)
    {
        if (count == startNs.length)
        {
            final int capacity = count * 2;
            startNs = Arrays.copyOf(startNs, capacity);
            doneNs = Arrays.copyOf(doneNs, capacity);
            size = Arrays.copyOf(size, capacity);
            src = Arrays.copyOf(src, capacity);
            dst = Arrays.copyOf(dst, capacity);
            rpcId = Arrays.copyOf(rpcId, capacity);
            serverRuns = Arrays.copyOf(serverRuns, capacity);
            errorCode = Arrays.copyOf(errorCode, capacity);
        }
        startNs[count] = nowNs;
        size[count] = bytes;
        src[count] = from;
        dst[count] = to;
        return count++;
    }

    /**
     * @return true the first time the message completes (a duplicate delivery would be a protocol bug).
     */
    boolean complete(final int message, final long nowNs)
    {
        if (0 != doneNs[message])
        {
            return false;
        }
        doneNs[message] = Math.max(1, nowNs);
        completed++;
        return true;
    }

    void fail(final int message, final int error)
    {
        if (0 == doneNs[message])
        {
            doneNs[message] = -1;
            errorCode[message] = error;
            failed++;
        }
    }

    /**
     * The server's application has been handed the request (once, unless at-most-once is broken).
     */
    void onServerRun(final int message)
    {
        serverRuns[message]++;
    }

    /**
     * @return how many times the server's application was handed the message's request.
     */
    int serverRuns(final int message)
    {
        return serverRuns[message];
    }

    /**
     * @return the error the message's RPC failed with, 0 if none.
     */
    int errorCode(final int message)
    {
        return errorCode[message];
    }

    void rpcId(final int message, final long id)
    {
        rpcId[message] = id;
    }

    long rpcId(final int message)
    {
        return rpcId[message];
    }

    int count()
    {
        return count;
    }

    int completed()
    {
        return completed;
    }

    int failed()
    {
        return failed;
    }

    long startNs(final int message)
    {
        return startNs[message];
    }

    long doneNs(final int message)
    {
        return doneNs[message];
    }

    int size(final int message)
    {
        return size[message];
    }

    int src(final int message)
    {
        return src[message];
    }

    int dst(final int message)
    {
        return dst[message];
    }
}
