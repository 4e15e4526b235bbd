package io.homa.client;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * What a {@link HomaServer} does with each request, as a lambda: read the request in place, write the response
 * into {@code response} from index 0 and return its length; the server sends it. E.g. an echo:
 * {@code (request, offset, length, response) -> { response.putBytes(0, request, offset, length); return length; }}.
 */
@FunctionalInterface
public interface RequestHandler
{
    /**
     * Answers one request. Runs on the server's thread, one request at a time.
     *
     * @param request  the receive pool, valid only during the call.
     * @param offset   where the request starts in it.
     * @param length   request length in bytes.
     * @param response where to write the response, from index 0; it grows as needed and is reused.
     * @return the response length, 1..1,000,000.
     */
    int onRequest(DirectBuffer request, int offset, int length, MutableDirectBuffer response);
}
