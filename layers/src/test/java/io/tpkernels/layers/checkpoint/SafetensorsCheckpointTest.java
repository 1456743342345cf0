package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.json.JsonWriter;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint split over files by an index reads like one file; a broken index is named with its tensor. */
class SafetensorsCheckpointTest {
    private final Random random = new Random(21);
    private final Map<String, Tensor> written = new LinkedHashMap<>();

    @TempDir
    Path dir;

    @AfterEach
    void closeTensors() {
        Fixtures.closeAll(written);
    }

    /** Writes {@code count} random tensors named {@code prefix0...} to {@code file}; returns their names. */
    private List<String> shard(String file, String prefix, int count) {
        Map<String, Tensor> tensors = Fixtures.randomTensors(random, prefix, count);
        SafetensorsWriter.write(dir.resolve(file), tensors, Map.of());
        written.putAll(tensors);
        return new ArrayList<>(tensors.keySet());
    }

    /** Writes the index with {@code weightMap}, as Hugging Face does (with a metadata object beside it). */
    private Path index(Map<String, String> weightMap) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("metadata", Map.of("total_size", 1234));
        root.put("weight_map", weightMap);
        return Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), JsonWriter.pretty(root));
    }

    private static Map<String, String> mapping(List<String> names, String file, Map<String, String> into) {
        names.forEach(n -> into.put(n, file));
        return into;
    }

    private void assertHoldsWhatWasWritten(SafetensorsCheckpoint checkpoint) {
        assertEquals(written.keySet(), checkpoint.names());
        written.forEach((name, t) -> {
            assertEquals(t.describe(), checkpoint.view(name).describe(), name);
            assertArrayEquals(Fixtures.bytes(t), Fixtures.bytes(checkpoint.view(name)), name);
            assertArrayEquals(t.shape(), checkpoint.info(name).shape(), name);
        });
    }

    @Test
    void tensorsSplitOverThreeFilesReadBackThroughTheIndex() throws IOException {
        Map<String, String> weightMap = new LinkedHashMap<>();
        mapping(shard("model-00001-of-00003.safetensors", "model.layers.0.", 4), "model-00001-of-00003.safetensors", weightMap);
        mapping(shard("model-00002-of-00003.safetensors", "model.layers.1.", 3), "model-00002-of-00003.safetensors", weightMap);
        mapping(shard("model-00003-of-00003.safetensors", "lm_head.", 1), "model-00003-of-00003.safetensors", weightMap);
        Path index = index(weightMap);
        try (SafetensorsCheckpoint byDirectory = SafetensorsCheckpoint.open(dir);
             SafetensorsCheckpoint byIndex = SafetensorsCheckpoint.open(index)) {
            assertHoldsWhatWasWritten(byDirectory);
            assertHoldsWhatWasWritten(byIndex);
            assertEquals(3, byDirectory.files().size(), "each file mapped once");
            assertEquals(index.toString(), byDirectory.describe());
        }
    }

    @Test
    void aDirectoryWithOneFileAndAFileItselfAreCheckpointsToo() {
        shard(SafetensorsCheckpoint.SINGLE_FILE, "w.", 5);
        try (SafetensorsCheckpoint byDirectory = SafetensorsCheckpoint.open(dir);
             SafetensorsCheckpoint byFile = SafetensorsCheckpoint.open(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE))) {
            assertHoldsWhatWasWritten(byDirectory);
            assertHoldsWhatWasWritten(byFile);
            assertEquals(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE).toString(), byDirectory.describe());
            var e = assertThrows(CheckpointException.class, () -> byFile.view("w.9"));
            assertEquals(byFile.describe() + " has no tensor \"w.9\"", e.getMessage());
        }
    }

    @Test
    void aDirectoryWithoutACheckpointIsNamed() {
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertEquals(dir + " holds neither model.safetensors nor model.safetensors.index.json", e.getMessage());
    }

    @Test
    void aMissingFileIsNamedWithTheIndexAndTheTensor() throws IOException {
        Map<String, String> weightMap = mapping(shard("a.safetensors", "a.", 2), "a.safetensors", new LinkedHashMap<>());
        weightMap.put("b.0", "b.safetensors");
        Path index = index(weightMap);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertEquals(index + ": tensor \"b.0\" is mapped to b.safetensors, which cannot be opened: "
                + dir.resolve("b.safetensors") + " does not exist", e.getMessage());
    }

    @Test
    void aTensorMissingFromItsFileIsNamed() throws IOException {
        Map<String, String> weightMap = mapping(shard("a.safetensors", "a.", 2), "a.safetensors", new LinkedHashMap<>());
        weightMap.put("a.7", "a.safetensors");
        Path index = index(weightMap);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertEquals(index + ": tensor \"a.7\" is mapped to a.safetensors, which does not hold it", e.getMessage());
    }

    @Test
    void aTensorInTwoFilesIsNamed() throws IOException {
        List<String> a = shard("a.safetensors", "x.", 2);
        shard("b.safetensors", "x.", 3); // x.0 and x.1 again, plus x.2
        Map<String, String> weightMap = mapping(a, "a.safetensors", new LinkedHashMap<>());
        weightMap.put("x.2", "b.safetensors");
        Path index = index(weightMap);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertEquals(index + ": tensor \"x.0\" is in both a.safetensors and b.safetensors", e.getMessage());
    }

    @Test
    void aTensorTheIndexDoesNotListIsNamed() throws IOException {
        List<String> names = shard("a.safetensors", "a.", 3);
        Map<String, String> weightMap = mapping(names.subList(0, 2), "a.safetensors", new LinkedHashMap<>());
        Path index = index(weightMap);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertEquals(index + ": tensor \"a.2\" is in a.safetensors but not in the weight_map", e.getMessage());
    }

    @Test
    void aBrokenShardIsNamedWithTheIndexAndTheTensor() throws IOException {
        Fixtures.write(dir.resolve("a.safetensors"), Fixtures.file("{'w': 3}", new byte[0]));
        Path index = index(Map.of("w", "a.safetensors"));
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().startsWith(index + ": tensor \"w\" is mapped to a.safetensors, which cannot be opened: "
                + dir.resolve("a.safetensors") + ": tensor \"w\" must be an object"), e.getMessage());
    }

    @Test
    void anIndexThatIsNotAWeightMapIsNamed() throws IOException {
        Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        List<String[]> cases = List.of(
                new String[] {"{\"weight_map\": {\"w\": \"a.safetensors\",", index + " is not valid JSON: "},
                new String[] {"[\"a.safetensors\"]", index + " is not a JSON object"},
                new String[] {"{\"metadata\": {}}", index + " has no \"weight_map\" object"},
                new String[] {"{\"weight_map\": [\"a.safetensors\"]}", index + " has no \"weight_map\" object"},
                new String[] {"{\"weight_map\": {\"w\": 3}}", index + ": tensor \"w\" is mapped to 3, not the name of a file beside the index"},
                new String[] {"{\"weight_map\": {\"w\": \"../a.safetensors\"}}", index + ": tensor \"w\" is mapped to \"../a.safetensors\", not the name"},
                new String[] {"{\"weight_map\": {\"w\": \"a.safetensors\", \"w\": \"b.safetensors\"}}", index + " is not valid JSON: line 1, column 39: the field \"w\" appears twice"});
        for (String[] c : cases) {
            Files.writeString(index, c[0]);
            var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir), c[0]);
            assertTrue(e.getMessage().startsWith(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void aControlCharacterInAnIndexEntryIsACheckpointErrorNamingTheEntry() throws IOException {
        shard("a.safetensors", "w", 1);
        Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        List<String[]> cases = List.of(
                // A NUL in a file name made Path.resolve throw InvalidPathException.
                new String[] {"{\"weight_map\": {\"w0\": \"a\\u0000.safetensors\"}}",
                        index + ": tensor \"w0\" is mapped to \"a\\u0000.safetensors\", not the name of a file beside the index"},
                new String[] {"{\"weight_map\": {\"w0\": \"a.safetensors\\n\"}}",
                        index + ": tensor \"w0\" is mapped to \"a.safetensors\\n\", not the name of a file beside the index"},
                new String[] {"{\"weight_map\": {\"w\\u00000\": \"a.safetensors\"}}",
                        index + ": tensor \"w\\u00000\" has a control character in its name"},
                new String[] {"{\"weight_map\": {\"w0\\r\\nX\": \"a.safetensors\"}}",
                        index + ": tensor \"w0\\u000d\\u000aX\" has a control character in its name"});
        for (String[] c : cases) {
            Files.writeString(index, c[0]);
            var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dir), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
        }
    }

    @Test
    void aMissingIndexIsNamed() {
        Path index = dir.resolve("other.safetensors.index.json");
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(index));
        assertEquals(index + " does not exist", e.getMessage());
    }
}
