/*
 * Copyright 2026 The Homa for the JVM authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.homa.systemtests;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-packet socket calls allocate nothing even where C2's escape analysis cannot help (C1 only, as every
 * child JVM of the suite runs): errno capture used to cost a segment slice per call, found when a change elsewhere
 * moved the JIT's inlining and the raw-IP steady-state test saw ~100 bytes per RPC at sendmmsg.
 */
class SocketCallAllocationTest
{
    @Test
    void shouldMakePerPacketSocketCallsWithoutAllocating()
    {
        try (JvmProcess child = JvmProcess.start("socket-calls", SocketCallAllocation.class, List.of()))
        {
            final String failures = child.awaitLine(line -> line.startsWith("failures="), 60_000);
            final String perRound = child.awaitLine(line -> line.startsWith("bytesPerRound="), 10_000);
            assertEquals("failures=0", failures, child::output);
            final double bytes = Double.parseDouble(perRound.substring("bytesPerRound=".length()));
            // Seven socket calls and one epoll sleep per round; a capturing call would add ~50 bytes each.
            assertTrue(bytes < 1.0, () -> perRound + "\n" + child.output());
        }
    }
}
