package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of the index reader ({@value SafetensorsCheckpoint#INDEX_FILE}; README, "Fuzzing"): the
 * input is the index, in a folder that holds two valid shards ({@code a.safetensors} with {@code a0} and
 * {@code a1}, {@code b.safetensors} with {@code b0}), a link to a shard outside the folder ({@code out.safetensors})
 * and a folder ({@code sub}). Opening the folder either fails with one CheckpointException naming the index, or
 * gives a checkpoint whose every tensor reads. Nothing else may come out: no InvalidPathException (a NUL in a file
 * name did), no link followed out of the folder. Without {@code JAZZER_FUZZ} the committed inputs
 * ({@code SafetensorsIndexFuzzTestInputs/index/}) replay as regression tests.
 */
class SafetensorsIndexFuzzTest {
    @TempDir
    static Path tmp;
    private static Path folder;
    private static Path index;

    @BeforeAll
    static void writeFolder() throws IOException {
        folder = Files.createDirectories(tmp.resolve("model"));
        index = folder.resolve(SafetensorsCheckpoint.INDEX_FILE);
        writeShard(folder.resolve("a.safetensors"), "a", 2);
        writeShard(folder.resolve("b.safetensors"), "b", 1);
        Path outside = writeShard(tmp.resolve("outside.safetensors"), "o", 1);
        Files.createSymbolicLink(folder.resolve("out.safetensors"), outside);
        Files.createDirectories(folder.resolve("sub"));
    }

    private static Path writeShard(Path file, String prefix, int count) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            tensors.put(prefix + i, Tensor.ofFloats(DType.F32, new float[] {i, i + 1}, 2));
        }
        SafetensorsWriter.write(file, tensors, Map.of());
        tensors.values().forEach(Tensor::close);
        return file;
    }

    @FuzzTest(maxDuration = "2m")
    void index(byte[] input) {
        Fixtures.write(index, input);
        SafetensorsCheckpoint checkpoint;
        try {
            checkpoint = SafetensorsCheckpoint.open(folder);
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith(index.toString()), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            return;
        }
        try (checkpoint) {
            for (String name : checkpoint.names()) {
                assertTrue(name.matches("[ab][01]"), "only the folder's own tensors: " + name);
                assertEquals(8, checkpoint.view(name).hostSegment().toArray(ValueLayout.JAVA_BYTE).length, name);
            }
        }
    }
}
