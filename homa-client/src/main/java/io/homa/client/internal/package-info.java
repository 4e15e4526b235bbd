/**
 * Internal, no compatibility promise, used by the driver: the layouts of the files the driver and its clients
 * share (the CnC file, each socket's file), the send-region allocator, the futex wake-ups, the poll-or-sleep
 * decision and the in-JVM direct driving hook. Public only so that homa-driver (and the project's tools and tests)
 * can reach them; an application uses {@code io.homa.client} and nothing here. Anything in this package may change
 * or go away in any release.
 */
package io.homa.client.internal;
