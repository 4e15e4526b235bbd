package io.homa.driver.protocol;

import io.homa.driver.status.EventType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RpcStateNamesTest
{
    @Test
    void shouldNameStatesInEventsAsTheEngineDoes()
    {
        for (int state = Rpc.FREE; state <= Rpc.DEAD; state++)
        {
            assertEquals(Rpc.stateName(state), EventType.rpcStateName(state));
        }
    }
}
