package io.homa.driver.transport;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ForwardingPacketTransportTest
{
    @Test
    void shouldForwardEveryMethodOfTheInterfaceIncludingDefaults() throws Exception
    {
        final List<String> missing = new ArrayList<>();
        for (final Method method : PacketTransport.class.getMethods())
        {
            if (Modifier.isStatic(method.getModifiers()))
            {
                continue;
            }
            try
            {
                ForwardingPacketTransport.class.getDeclaredMethod(method.getName(), method.getParameterTypes());
            }
            catch (final NoSuchMethodException ex)
            {
                missing.add(method.toString());
            }
        }
        assertTrue(missing.isEmpty(), "not forwarded: " + missing);
    }
}
