package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.WeightException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every rule of docs/contract.md section 14, broken one at a time: each is a CheckpointException naming file and entry. */
class SafetensorsFileRejectionTest {
    private static final Random RANDOM = new Random(10);

    @TempDir
    Path dir;

    /** A broken header: the rule's name, the header (single quotes for double), the data bytes, the entry and words the message must hold. */
    static Stream<Arguments> brokenHeaders() {
        return Stream.of(
            rule("malformed JSON inside an entry", "{'w': {'dtype': 'F32', 'shape': [1] 'data_offsets': [0, 4]}}", 4,
                    "tensor \"w\"", "is not valid JSON"),
            rule("malformed JSON between entries", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]},}", 4,
                    "", "is not valid JSON"),
            rule("control character in a name", "{'w\u0001': {}}", 0, "", "is not valid JSON"),
            rule("header an array", "[{'dtype': 'F32'}]", 0, "", "is not a JSON object"),
            rule("header empty", "", 0, "", "is not a JSON object"),
            rule("two JSON objects", "{} {}", 0, "", "more JSON after its object"),
            rule("entry not an object", "{'w': [0, 4]}", 4, "tensor \"w\"", "must be an object"),
            rule("dtype missing", "{'w': {'shape': [1], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "no \"dtype\""),
            rule("dtype not a string", "{'w': {'dtype': 4, 'shape': [1], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "no \"dtype\""),
            rule("dtype F64", "{'w': {'dtype': 'F64', 'shape': [1], 'data_offsets': [0, 8]}}", 8, "tensor \"w\"", "unsupported dtype \"F64\""),
            rule("dtype BOOL", "{'w': {'dtype': 'BOOL', 'shape': [1], 'data_offsets': [0, 1]}}", 1, "tensor \"w\"", "unsupported dtype \"BOOL\""),
            rule("dtype lower case", "{'w': {'dtype': 'f32', 'shape': [1], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "unsupported dtype \"f32\""),
            // Found by fuzzing: the dtype's text went into the message raw, and a newline in it broke the one line.
            rule("dtype with escaped newlines", "{'w': {'dtype': 'F\\n32\\n', 'shape': [1], 'data_offsets': [0, 4]}}", 4,
                    "tensor \"w\"", "unsupported dtype \"F\\n32\\n\""),
            rule("metadata key with a tab", "{'__metadata__': {'a\\tb': 1}}", 0, "", "key \"a\\u0009b\" must be a string"),
            rule("tensor name with a newline", "{'w\\n': 3}", 0, "tensor \"w\\u000a\"", "must be an object"),
            rule("shape missing", "{'w': {'dtype': 'F32', 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "no \"shape\""),
            rule("shape not an array", "{'w': {'dtype': 'F32', 'shape': 1, 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "shape 1, not a list of non-negative integers"),
            rule("shape negative", "{'w': {'dtype': 'F32', 'shape': [-1, -4], 'data_offsets': [0, 16]}}", 16, "tensor \"w\"", "shape [-1,-4], not a list"),
            rule("shape fractional", "{'w': {'dtype': 'F32', 'shape': [1.0], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "shape [1.0], not a list"),
            rule("shape a string", "{'w': {'dtype': 'F32', 'shape': ['1'], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "shape [\"1\"], not a list"),
            rule("shape beyond 64 bits", "{'w': {'dtype': 'F32', 'shape': [18446744073709551617], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "not a list of non-negative integers"),
            rule("numel overflowing", "{'w': {'dtype': 'F32', 'shape': [4294967296, 4294967296], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "more than 2^63 bytes"),
            rule("bytes overflowing", "{'w': {'dtype': 'I64', 'shape': [2305843009213693952], 'data_offsets': [0, 4]}}", 4, "tensor \"w\"", "more than 2^63 bytes"),
            rule("data_offsets missing", "{'w': {'dtype': 'F32', 'shape': [1]}}", 4, "tensor \"w\"", "no \"data_offsets\""),
            rule("data_offsets of three", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4, 8]}}", 8, "tensor \"w\"", "not a list of 2 non-negative integers"),
            rule("data_offsets negative", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [-4, 0]}}", 4, "tensor \"w\"", "not a list of 2 non-negative integers"),
            rule("data_offsets backwards", "{'w': {'dtype': 'F32', 'shape': [0], 'data_offsets': [4, 0]}}", 4, "tensor \"w\"", "end before they begin"),
            rule("size not numel times dtype size", "{'w': {'dtype': 'BF16', 'shape': [2, 3], 'data_offsets': [0, 24]}}", 24, "tensor \"w\"", "[0, 24] of 24 bytes, but shape [2, 3] of BF16 needs 12 bytes"),
            rule("offsets outside the data", "{'w': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}", 11, "tensor \"w\"", "outside the 11 bytes of data"),
            rule("overlapping entries", "{'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}, 'b': {'dtype': 'I32', 'shape': [2], 'data_offsets': [4, 12]}}", 12,
                    "tensor \"b\" (bytes [4, 12)) overlaps tensor \"a\" (bytes [0, 8))", "overlaps"),
            rule("one entry inside another", "{'big': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}, 'small': {'dtype': 'F16', 'shape': [2], 'data_offsets': [8, 12]}}", 16,
                    "tensor \"small\"", "overlaps tensor \"big\""),
            rule("an empty tensor inside another", "{'big': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}, 'none': {'dtype': 'F16', 'shape': [0], 'data_offsets': [8, 8]}}", 16,
                    "tensor \"none\" (bytes [8, 8))", "overlaps tensor \"big\""),
            rule("a gap between entries", "{'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}, 'b': {'dtype': 'I32', 'shape': [1], 'data_offsets': [12, 16]}}", 16,
                    "tensor \"b\" (bytes [12, 16)) leaves bytes [8, 12) of the data in no tensor", "in no tensor"),
            rule("a gap before the first entry", "{'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}", 12,
                    "tensor \"a\"", "leaves bytes [0, 4) of the data in no tensor"),
            rule("bytes after the last entry", "{'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}, 'e': {'dtype': 'I64', 'shape': [0, 2], 'data_offsets': [8, 8]}}", 11,
                    "3 bytes of data follow the last tensor, \"e\" (bytes [8, 8))", "follow"),
            rule("data but no entries", "{'__metadata__': {'format': 'pt'}}", 5, "5 bytes of data follow a header that lists no tensor", "follow"),
            rule("duplicate names", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}, 'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [4, 8]}}", 8,
                    "tensor \"w\"", "appears twice"),
            rule("duplicate key inside an entry", "{'w': {'dtype': 'F32', 'dtype': 'I32', 'shape': [1], 'data_offsets': [0, 4]}}", 4,
                    "tensor \"w\"", "the field \"dtype\" appears twice"),
            rule("metadata not an object", "{'__metadata__': ['format', 'pt']}", 0, "\"__metadata__\"", "must be an object of strings"),
            rule("metadata value not a string", "{'__metadata__': {'format': 'pt', 'step': 5}}", 0, "\"__metadata__\" key \"step\"", "must be a string, not 5"),
            rule("metadata twice", "{'__metadata__': {}, '__metadata__': {}}", 0, "\"__metadata__\"", "appears twice"));
    }

    private static Arguments rule(String name, String header, int dataBytes, String entry, String what) {
        return Arguments.of(name, header, dataBytes, entry, what);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenHeaders")
    void aBrokenHeaderIsRejectedNamingFileAndEntry(String rule, String header, int dataBytes, String entry, String what) {
        Path file = Fixtures.write(dir.resolve("broken.safetensors"), Fixtures.file(header, Fixtures.randomBytes(RANDOM, dataBytes)));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file), rule);
        String message = e.getMessage();
        assertTrue(message.startsWith(file + ": "), message);
        assertTrue(message.contains(entry), message);
        assertTrue(message.contains(what), message);
        assertEquals(1, message.lines().count(), message);
    }

    @Test
    void aFileShorterThanTheLengthFieldIsNamed() {
        Path file = Fixtures.write(dir.resolve("short.safetensors"), new byte[] {1, 2, 3, 4, 5});
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + " is 5 bytes long, too short for the 8-byte header length", e.getMessage());
    }

    @Test
    void aHeaderLongerThanTheFileIsRejected() {
        byte[] bytes = Fixtures.file("{}", new byte[0]);
        bytes[0] = 3; // the header "{}" is 2 bytes; the file holds 2 after the length field
        Path file = Fixtures.write(dir.resolve("long.safetensors"), bytes);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + ": header length 3 exceeds the 2 bytes after the length field", e.getMessage());
    }

    @Test
    void aHeaderOverOneHundredMegabytesIsRejectedBeforeAnythingIsRead() {
        Path file = dir.resolve("huge.safetensors");
        Fixtures.write(file, lengthField(100_000_001L));
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + ": header length 100000001 exceeds the limit of 100000000 bytes", e.getMessage());
        // The top bit set: a huge length, not a negative one.
        Fixtures.write(file, lengthField(-8L));
        e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + ": header length 18446744073709551608 exceeds the limit of 100000000 bytes", e.getMessage());
    }

    private static byte[] lengthField(long n) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(n).putLong(0x7B7D).array();
    }

    @Test
    void missingFilesAndDirectoriesAreNamed() {
        Path missing = dir.resolve("nothing.safetensors");
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(missing));
        assertEquals(missing + " does not exist", e.getMessage());
        var d = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(dir));
        assertEquals(dir + " is a directory, not a safetensors file", d.getMessage());
    }

    @Test
    void anUnreadableFileIsNamed() throws Exception {
        // A path through a regular file cannot be opened, even by root (to whom permissions mean nothing).
        Path notADirectory = Fixtures.write(dir.resolve("plain"), new byte[] {1});
        Path file = notADirectory.resolve("model.safetensors");
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + " cannot be read: "), e.getMessage());
    }

    @Test
    void aHeaderThatIsNotUtf8IsRejected() {
        byte[] json = "{\"w\": 1}".getBytes(StandardCharsets.US_ASCII);
        json[2] = (byte) 0xFF; // never valid in UTF-8
        Path file = Fixtures.write(dir.resolve("latin.safetensors"), Fixtures.file(json, new byte[0]));
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + ": the header is not UTF-8: byte 0xFF at offset 2", e.getMessage());
    }

    /** Found by fuzzing: given bytes, Jackson guessed UTF-32 from the first four and threw an UncheckedIOException. */
    @Test
    void aHeaderThatLooksLikeUtf32IsJsonErrorNotAnEncodingGuess() {
        byte[] json = {0, 0, 0, 2, '{', '}', ' ', ' '};
        Path file = Fixtures.write(dir.resolve("utf32.safetensors"), Fixtures.file(json, new byte[0]));
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": the header is not valid JSON: "), e.getMessage());
    }

    @Test
    void askingForATensorThatIsNotThereNamesFileAndTensor() {
        Path file = Fixtures.write(dir.resolve("one.safetensors"),
                Fixtures.file("{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}", Fixtures.randomBytes(RANDOM, 4)));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            WeightException info = assertThrows(CheckpointException.class, () -> f.info("v"));
            assertEquals(file + " has no tensor \"v\"", info.getMessage());
            assertThrows(CheckpointException.class, () -> f.view("v"));
            var shape = assertThrows(WeightException.class, () -> f.require("w", 2));
            assertEquals(file + ": tensor w has shape [1], expected [2]", shape.getMessage());
        }
    }

    @Test
    void viewsOfAClosedFileThrowIllegalStateInsteadOfCrashing() {
        Path file = Fixtures.write(dir.resolve("closing.safetensors"),
                Fixtures.file("{'w': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}}", Fixtures.randomBytes(RANDOM, 8)));
        SafetensorsFile f = SafetensorsFile.open(file);
        var view = f.view("w");
        var segment = view.hostSegment();
        f.close();
        f.close(); // twice is harmless
        assertThrows(IllegalStateException.class, view::hostSegment);
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, view::toFloatArray);
        var e = assertThrows(IllegalStateException.class, () -> f.view("w"));
        assertEquals(file + " was closed; tensor \"w\" can no longer be read", e.getMessage());
    }
}
