package io.homa.client;

import io.homa.client.internal.CncFileDescriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.nio.ByteBuffer;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Client RPC ids come from one counter in the CnC that every thread of every client process takes from
 * ({@link CncFileDescriptor#nextRpcId}): no id twice, all even.
 */
@JCStressTest
@Description("CnC rpc-id counter: two threads take ids at once")
@Outcome(id = { "100, 102", "102, 100" }, expect = ACCEPTABLE, desc = "distinct even ids")
@Outcome(expect = FORBIDDEN, desc = "an id given twice")
@State
public class RpcIdStress
{
    private final UnsafeBuffer metaData = new UnsafeBuffer(
        ByteBuffer.allocateDirect(CncFileDescriptor.META_DATA_LENGTH));

    public RpcIdStress()
    {
        metaData.putLongVolatile(CncFileDescriptor.NEXT_RPC_ID_OFFSET, 100);
    }

    @Actor
    public void thread1(final JJ_Result r)
    {
        r.r1 = CncFileDescriptor.nextRpcId(metaData);
    }

    @Actor
    public void thread2(final JJ_Result r)
    {
        r.r2 = CncFileDescriptor.nextRpcId(metaData);
    }
}
