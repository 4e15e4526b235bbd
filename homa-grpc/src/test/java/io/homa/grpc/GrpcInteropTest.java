package io.homa.grpc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

/**
 * grpc-java's interop client cases (AbstractInteropTest from grpc-interop-testing, against its TestServiceImpl)
 * over a Homa channel and server: real drivers, clients and UDP on loopback, one driver per side.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GrpcInteropTest
{
    private static final int PORT = 50;
    private static HomaPair pair;
    private HomaInteropCases cases;

    @BeforeAll
    static void launchDrivers()
    {
        pair = new HomaPair();
    }

    @AfterAll
    static void closeDrivers()
    {
        if (null != pair)
        {
            pair.close();
        }
    }

    @BeforeEach
    void startServerAndChannel()
    {
        cases = new HomaInteropCases(pair, PORT);
        cases.setUp();
    }

    @AfterEach
    void stopServerAndChannel()
    {
        cases.tearDown();
    }

    @Test
    void emptyUnary() throws Exception
    {
        cases.emptyUnary();
    }

    @Test
    void largeUnary() throws Exception
    {
        cases.largeUnary();
    }

    @Test
    void clientStreaming() throws Exception
    {
        cases.clientStreaming();
    }

    @Test
    void serverStreaming() throws Exception
    {
        cases.serverStreaming();
    }

    @Test
    void pingPong() throws Exception
    {
        cases.pingPong();
    }

    @Test
    void emptyStream() throws Exception
    {
        cases.emptyStream();
    }

    @Test
    void cancelAfterBegin() throws Exception
    {
        cases.cancelAfterBegin();
    }

    @Test
    void cancelAfterFirstResponse() throws Exception
    {
        cases.cancelAfterFirstResponse();
    }

    @Test
    void timeoutOnSleepingServer() throws Exception
    {
        cases.timeoutOnSleepingServer();
    }

    @Test
    void customMetadata() throws Exception
    {
        cases.customMetadata();
    }

    @Test
    void statusCodeAndMessage() throws Exception
    {
        cases.statusCodeAndMessage();
    }

    @Test
    void specialStatusMessage() throws Exception
    {
        cases.specialStatusMessage();
    }

    @Test
    void unimplementedMethod()
    {
        cases.unimplementedMethod();
    }

    @Test
    void unimplementedService()
    {
        cases.unimplementedService();
    }
}
