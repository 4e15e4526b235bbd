package io.homa.sbe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.real_logic.sbe.xml.CompositeType;
import uk.co.real_logic.sbe.xml.Field;
import uk.co.real_logic.sbe.xml.Message;
import uk.co.real_logic.sbe.xml.MessageSchema;
import uk.co.real_logic.sbe.xml.ParserOptions;
import uk.co.real_logic.sbe.xml.XmlSchemaParser;

import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The wire schema must describe Linux's C structs byte for byte, so pin every block length and field offset
 * against the protocol's offset tables.
 */
class HomaWireSchemaTest
{
    private static final String SCHEMA = "/sbe/homa-wire.xml";

    @TempDir
    Path tempDir;

    @Test
    void shouldValidateAgainstSbeXsd() throws Exception
    {
        final Path xsd = tempDir.resolve("sbe.xsd");
        try (InputStream in = XmlSchemaParser.class.getResourceAsStream("/fpl/sbe.xsd"))
        {
            assertNotNull(in, "sbe-tool ships fpl/sbe.xsd");
            Files.copy(in, xsd);
        }

        try (InputStream in = schema())
        {
            XmlSchemaParser.validate(xsd.toString(), in, strictOptions());
        }
    }

    @Test
    void shouldHaveExactBlockLengthForEveryMessage() throws Exception
    {
        final MessageSchema schema = parse();
        final Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("DataHeader", 56);
        expected.put("Grant", 33);
        expected.put("Resend", 37);
        expected.put("RpcUnknown", 28);
        expected.put("Busy", 28);
        expected.put("Cutoffs", 62);
        expected.put("Freeze", 28);
        expected.put("NeedAck", 28);
        expected.put("Ack", 80);
        expected.put("PortUnreachable", 28);

        assertEquals(expected.size(), schema.messages().size());
        for (final Message message : schema.messages())
        {
            final Integer blockLength = expected.get(message.name());
            assertNotNull(blockLength, message.name());
            assertEquals(blockLength, message.blockLength(), message.name());
            for (final Field field : message.fields())
            {
                assertFalse(field.isVariableLength(), message.name() + "." + field.name());
                assertNotNull(field.type(), "no groups in " + message.name() + "." + field.name());
            }
        }
    }

    @Test
    void shouldUseHomaTypeCodesAsTemplateIds() throws Exception
    {
        final MessageSchema schema = parse();
        assertEquals("DataHeader", schema.getMessage(0x10).name());
        assertEquals("Grant", schema.getMessage(0x11).name());
        assertEquals("Resend", schema.getMessage(0x12).name());
        assertEquals("RpcUnknown", schema.getMessage(0x13).name());
        assertEquals("Busy", schema.getMessage(0x14).name());
        assertEquals("Cutoffs", schema.getMessage(0x15).name());
        assertEquals("Freeze", schema.getMessage(0x16).name());
        assertEquals("NeedAck", schema.getMessage(0x17).name());
        assertEquals("Ack", schema.getMessage(0x18).name());
        assertEquals("PortUnreachable", schema.getMessage(0xF0).name());
    }

    @Test
    void shouldBeBigEndianInPackage() throws Exception
    {
        final MessageSchema schema = parse();
        assertEquals(ByteOrder.BIG_ENDIAN, schema.byteOrder());
        assertEquals("io.homa.codecs.wire", schema.packageName());
    }

    @Test
    void shouldPinCompositeLayouts() throws Exception
    {
        final MessageSchema schema = parse();
        final CompositeType common = (CompositeType)schema.getType("CommonHeader");
        assertEquals(28, common.encodedLength());
        assertMember(common, "sport", 0, 2);
        assertMember(common, "dport", 2, 2);
        assertMember(common, "sequence", 4, 4);
        assertMember(common, "ack", 8, 3);
        assertMember(common, "type", 11, 1);
        assertMember(common, "doff", 12, 1);
        assertMember(common, "flags", 13, 1);
        assertMember(common, "window", 14, 2);
        assertMember(common, "checksum", 16, 2);
        assertMember(common, "urgent", 18, 2);
        assertMember(common, "senderId", 20, 8);

        final CompositeType ack = (CompositeType)schema.getType("HomaAck");
        assertEquals(10, ack.encodedLength());
        assertMember(ack, "clientId", 0, 8);
        assertMember(ack, "serverPort", 8, 2);
    }

    @Test
    void shouldPinFieldOffsets() throws Exception
    {
        final MessageSchema schema = parse();
        assertFields(schema.getMessage(0x10),
            "common", 0, 28, "messageLength", 28, 4, "incoming", 32, 4, "ack", 36, 10, "cutoffVersion", 46, 2,
            "retransmit", 48, 1, "pad", 49, 3, "segOffset", 52, 4);
        assertFields(schema.getMessage(0x11), "common", 0, 28, "grantOffset", 28, 4, "priority", 32, 1);
        assertFields(schema.getMessage(0x12),
            "common", 0, 28, "resendOffset", 28, 4, "resendLength", 32, 4, "priority", 36, 1);
        assertFields(schema.getMessage(0x15), "common", 0, 28, "unschedCutoffs", 28, 32, "cutoffVersion", 60, 2);
        assertFields(schema.getMessage(0x18),
            "common", 0, 28, "numAcks", 28, 2, "ack0", 30, 10, "ack1", 40, 10, "ack2", 50, 10, "ack3", 60, 10,
            "ack4", 70, 10);
    }

    private static void assertMember(
        final CompositeType composite, final String name, final int offset, final int length)
    {
        assertNotNull(composite.getType(name), name);
        assertEquals(offset, composite.getType(name).offsetAttribute(), name);
        assertEquals(length, composite.getType(name).encodedLength(), name);
    }

    private static void assertFields(final Message message, final Object... nameOffsetLength)
    {
        assertEquals(nameOffsetLength.length / 3, message.fields().size(), message.name());
        for (int i = 0; i < message.fields().size(); i++)
        {
            final Field field = message.fields().get(i);
            final String label = message.name() + "." + field.name();
            assertEquals(nameOffsetLength[i * 3], field.name(), label);
            assertEquals(nameOffsetLength[i * 3 + 1], field.computedOffset(), label);
            assertEquals(nameOffsetLength[i * 3 + 2], field.type().encodedLength(), label);
        }
    }

    private static MessageSchema parse() throws Exception
    {
        try (InputStream in = schema())
        {
            return XmlSchemaParser.parse(in, strictOptions());
        }
    }

    private static InputStream schema()
    {
        final InputStream in = HomaWireSchemaTest.class.getResourceAsStream(SCHEMA);
        assertNotNull(in, SCHEMA + " on the class path");
        return in;
    }

    private static ParserOptions strictOptions()
    {
        return ParserOptions.builder().stopOnError(true).warningsFatal(true).build();
    }
}
