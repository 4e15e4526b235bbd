package io.homa.client;

/**
 * Error codes of failed RPCs and calls, numbered and named as Linux's errno values so that an application
 * moving between the kernel module and this driver sees the same codes.
 */
public final class HomaError
{
    /** Not an error. */
    public static final int OK = 0;
    /** Not permitted: a command in a client's name without that client's credential. */
    public static final int EPERM = 1;
    /** Out of memory (a pool or region could not supply space). */
    public static final int ENOMEM = 12;
    /** The driver as a whole holds as many sockets as it allows ({@code homa.limit.sockets.per.driver}). */
    public static final int ENFILE = 23;
    /** This client holds as many sockets as one client may ({@code homa.limit.sockets.per.client}). */
    public static final int EMFILE = 24;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** The call would block (a buffer is full). */
    public static final int EAGAIN = 11;
    /** Protocol not supported by the peer (ICMP protocol-unreachable). */
    public static final int EPROTONOSUPPORT = 93;
    /** The address family is not the driver's (an IPv6 peer for an IPv4 driver, or the other way round). */
    public static final int EAFNOSUPPORT = 97;
    /** The port is in use by another socket. */
    public static final int EADDRINUSE = 98;
    /** No socket listens at the server port (ICMP port-unreachable, or our PORT_UNREACHABLE over UDP). */
    public static final int ENOTCONN = 107;
    /** The socket was shut down. */
    public static final int ESHUTDOWN = 108;
    /** The peer went silent for longer than the RPC timeout. */
    public static final int ETIMEDOUT = 110;
    /** The peer host cannot be reached. */
    public static final int EHOSTUNREACH = 113;
    /** The RPC was aborted by the application. */
    public static final int ECANCELED = 125;

    private HomaError()
    {
    }

    /**
     * Name of an error code, e.g. "ETIMEDOUT".
     *
     * @param errorCode the code.
     * @return its name, or "E&lt;code&gt;" for a code this class does not define.
     */
    public static String name(final int errorCode)
    {
        return switch (errorCode)
        {
            case OK -> "OK";
            case EPERM -> "EPERM";
            case ENOMEM -> "ENOMEM";
            case ENFILE -> "ENFILE";
            case EMFILE -> "EMFILE";
            case EINVAL -> "EINVAL";
            case EAGAIN -> "EAGAIN";
            case EPROTONOSUPPORT -> "EPROTONOSUPPORT";
            case EAFNOSUPPORT -> "EAFNOSUPPORT";
            case EADDRINUSE -> "EADDRINUSE";
            case ENOTCONN -> "ENOTCONN";
            case ESHUTDOWN -> "ESHUTDOWN";
            case ETIMEDOUT -> "ETIMEDOUT";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            case ECANCELED -> "ECANCELED";
            default -> "E" + errorCode;
        };
    }
}
