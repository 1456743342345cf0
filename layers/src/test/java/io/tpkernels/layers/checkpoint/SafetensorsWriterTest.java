package io.tpkernels.layers.checkpoint;

import static io.tpkernels.layers.checkpoint.SafetensorsRoundTripTest.listing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The writer is all or nothing: a failure leaves no temporary file, no partial target, and an old target intact. */
class SafetensorsWriterTest {
    private final Random random = new Random(7);

    @TempDir
    Path dir;

    @Test
    void aTensorThatFailsMidWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path target = dir.resolve("model.safetensors");
        byte[] old = Fixtures.randomBytes(random, 100);
        Files.write(target, old);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("first", Fixtures.randomTensor(random, DType.F32, 64, 64)); // written before the failure
        Tensor closed = Fixtures.randomTensor(random, DType.BF16, 2, 3);
        closed.close();
        tensors.put("second", closed);
        try {
            var e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(target, tensors, Map.of("a", "b")));
            assertTrue(e.getMessage().startsWith(target + ": tensor \"second\" cannot be read: "), e.getMessage());
            assertEquals(List.of(target), listing(dir), "no temporary file remains");
            assertArrayEquals(old, Files.readAllBytes(target), "the old file is untouched");
        } finally {
            Fixtures.closeAll(tensors);
        }
    }

    @Test
    void aFailureWithoutAnOldFileLeavesNothing() throws IOException {
        Path target = dir.resolve("new.safetensors");
        Tensor closed = Fixtures.randomTensor(random, DType.I64, 4);
        closed.close();
        assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(target, Map.of("t", closed), Map.of()));
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void aTargetThatCannotBeReplacedLeavesNoTemporary() throws IOException {
        // The rename is the last step and fails here: the target is a directory that is not empty.
        Path target = Files.createDirectory(dir.resolve("model.safetensors"));
        Path inside = Files.write(target.resolve("keep"), new byte[] {42});
        try (Tensor t = Fixtures.randomTensor(random, DType.F16, 8)) {
            var e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(target, Map.of("t", t), Map.of()));
            assertTrue(e.getMessage().startsWith(target + " cannot be written: "), e.getMessage());
        }
        assertEquals(List.of(target), listing(dir));
        assertEquals(List.of(inside), listing(target));
    }

    @Test
    void aDirectoryThatCannotHoldFilesIsNamed() throws IOException {
        // A path through a regular file stands in for an unwritable directory, which root could still write to.
        Path plain = Files.write(dir.resolve("plain"), new byte[] {1});
        Path target = plain.resolve("model.safetensors");
        try (Tensor t = Fixtures.randomTensor(random, DType.I32, 3)) {
            var e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(target, Map.of("t", t), Map.of()));
            assertTrue(e.getMessage().startsWith(target + " cannot be written: "), e.getMessage());
        }
        assertEquals(List.of(plain), listing(dir));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "__metadata__"})
    void reservedAndEmptyNamesAreRejectedBeforeAnythingIsWritten(String name) throws IOException {
        Path target = dir.resolve("model.safetensors");
        try (Tensor t = Fixtures.randomTensor(random, DType.F32, 2)) {
            var e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(target, Map.of(name, t), Map.of()));
            assertEquals(target + ": a tensor cannot be named \"" + name + "\"", e.getMessage());
        }
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void writingAgainReplacesTheFileWhole() throws IOException {
        Path target = dir.resolve("model.safetensors");
        try (Tensor a = Fixtures.randomTensor(random, DType.F32, 50, 3); Tensor b = Fixtures.randomTensor(random, DType.I32, 2)) {
            SafetensorsWriter.write(target, Map.of("a", a), Map.of("v", "1"));
            SafetensorsWriter.write(target, Map.of("b", b), Map.of("v", "2"));
            try (SafetensorsFile read = SafetensorsFile.open(target)) {
                assertEquals(List.of("b"), List.copyOf(read.names()));
                assertEquals(Map.of("v", "2"), read.metadata());
                assertArrayEquals(Fixtures.bytes(b), Fixtures.bytes(read.view("b")));
            }
        }
        assertEquals(List.of(target), listing(dir));
    }

    @Test
    void aViewOfAMappedCheckpointCanBeWrittenToAnotherFile() {
        Path first = dir.resolve("first.safetensors");
        Path second = dir.resolve("second.safetensors");
        try (Tensor t = Fixtures.randomTensor(random, DType.BF16, 5, 7)) {
            SafetensorsWriter.write(first, Map.of("w", t), Map.of());
            try (SafetensorsFile a = SafetensorsFile.open(first)) {
                SafetensorsWriter.write(second, Map.of("copy", a.view("w")), Map.of());
            }
            try (SafetensorsFile b = SafetensorsFile.open(second)) {
                assertArrayEquals(Fixtures.bytes(t), Fixtures.bytes(b.view("copy")));
            }
        }
    }
}
