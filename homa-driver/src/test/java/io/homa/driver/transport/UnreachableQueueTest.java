package io.homa.driver.transport;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnreachableQueueTest
{
    @Test
    void shouldHandOverReportsInOrderAndDropWhatDoesNotFit()
    {
        final UnreachableQueue queue = new UnreachableQueue(4);
        final List<String> seen = new ArrayList<>();
        final PacketTransport.UnreachableHandler handler =
            (peer, port, homaPort, errorCode) -> seen.add(peer + "/" + port + "/" + homaPort + "/" + errorCode);
        for (int i = 1; i <= 4; i++)
        {
            assertTrue(queue.offer(i, 100 + i));
        }
        assertFalse(queue.offer(5, 105), "full");
        assertEquals(4, queue.drain(handler));
        assertEquals(List.of("1/0/0/101", "2/0/0/102", "3/0/0/103", "4/0/0/104"), seen);
        assertEquals(0, queue.drain(handler));

        // Negative peers and codes survive the packing.
        assertTrue(queue.offer(-7, -1));
        seen.clear();
        assertEquals(1, queue.drain(handler));
        assertEquals(List.of("-7/0/0/-1"), seen);
        assertThrows(IllegalArgumentException.class, () -> new UnreachableQueue(3));
    }
}
