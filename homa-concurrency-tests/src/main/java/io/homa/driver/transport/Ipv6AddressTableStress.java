package io.homa.driver.transport;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The IPv6 address table ({@link Ipv6AddressTable}), shared by the receiver (a packet from a new source makes a
 * key), the conductor (a client naming a peer makes one) and the sender (key to address on every send).
 */
public final class Ipv6AddressTableStress
{
    private static final long HIGH = 0xFD00_0146_0000_0000L;
    private static final long LOW = 0x0000_0000_0000_0002L;

    private Ipv6AddressTableStress()
    {
    }

    static Ipv6AddressTable table()
    {
        final Ipv6AddressTable table = new Ipv6AddressTable(16);
        // The driver's own address always comes first.
        table.intern(HIGH, 1);
        return table;
    }

    /**
     * Receiver and conductor make the key of one address at once: both get the same one.
     */
    @JCStressTest
    @Description("IPv6 address table: two threads intern one address")
    @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "one key")
    @Outcome(expect = FORBIDDEN, desc = "two keys for one address, or none")
    @State
    public static class TwoInterners
    {
        private final Ipv6AddressTable table = table();

        @Actor
        public void receiver(final II_Result r)
        {
            r.r1 = table.intern(HIGH, LOW);
        }

        @Actor
        public void conductor(final II_Result r)
        {
            r.r2 = table.intern(HIGH, LOW);
        }
    }

    /**
     * The sender looks up while the receiver makes the key: nothing, or the key with its whole address.
     * Results: the key made, the lookup (0 none, 1 key with its address, -1 torn).
     */
    @JCStressTest
    @Description("IPv6 address table: intern and a concurrent lookup")
    @Outcome(id = { "2, 0", "2, 1" }, expect = ACCEPTABLE, desc = "the lookup saw none or all of it")
    @Outcome(expect = FORBIDDEN, desc = "a torn address")
    @State
    public static class InternAndLookup
    {
        private final Ipv6AddressTable table = table();

        @Actor
        public void receiver(final II_Result r)
        {
            r.r1 = table.intern(HIGH, LOW);
        }

        @Actor
        public void sender(final II_Result r)
        {
            final int key = table.lookup(HIGH, LOW);
            r.r2 = 0 == key ? 0 : table.isKey(key) && HIGH == table.high(key) && LOW == table.low(key) ? 1 : -1;
        }
    }
}
