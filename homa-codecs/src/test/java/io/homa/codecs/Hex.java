package io.homa.codecs;

import org.agrona.DirectBuffer;

/**
 * Test helper: hex strings with spaces for readability, so expected packets can be written by hand.
 */
final class Hex
{
    private Hex()
    {
    }

    static byte[] bytes(final String hex)
    {
        final String digits = hex.replaceAll("\\s+", "");
        if (0 != (digits.length() & 1))
        {
            throw new IllegalArgumentException("odd number of hex digits: " + digits.length());
        }

        final byte[] bytes = new byte[digits.length() / 2];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)Integer.parseInt(digits.substring(2 * i, 2 * i + 2), 16);
        }

        return bytes;
    }

    static String string(final DirectBuffer buffer, final int offset, final int length)
    {
        final StringBuilder builder = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++)
        {
            builder.append(String.format("%02x", buffer.getByte(offset + i) & 0xFF));
        }

        return builder.toString();
    }

    static String normalise(final String hex)
    {
        return hex.replaceAll("\\s+", "").toLowerCase();
    }
}
