package io.homa.driver.status;

import io.homa.client.internal.control.RpcState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RpcStateCodeTest
{
    @Test
    void shouldGiveEveryLiveStateTheControlProtocolsCodeAndName()
    {
        int live = 0;
        for (final RpcState wire : RpcState.values())
        {
            if (RpcState.NULL_VAL == wire)
            {
                continue;
            }
            assertEquals(wire.name(), RpcStateCode.values()[wire.value()].name());
            assertEquals(wire.value(), RpcStateCode.valueOf(wire.name()).code());
            live++;
        }
        assertEquals(RpcStateCode.values().length - 2, live, "all but FREE and DEAD are on the wire");
    }

    @Test
    void shouldNameCodesAsEventsCarryThem()
    {
        for (final RpcStateCode state : RpcStateCode.values())
        {
            assertEquals(state.name(), RpcStateCode.nameOf(state.code()));
        }
        assertEquals("STATE_9", RpcStateCode.nameOf(9));
        assertEquals("STATE_-1", RpcStateCode.nameOf(-1));
    }
}
