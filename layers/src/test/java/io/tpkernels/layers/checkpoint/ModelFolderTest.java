package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of a model folder stay in it: a symbolic link that leads out is refused as a {@code ..} in an index
 * is, naming the file; links inside the folder, and a hub cache snapshot's links into its blobs, are followed.
 */
class ModelFolderTest {
    @TempDir
    Path tmp;

    private Path checkpointFile(Path file) {
        Map<String, Tensor> tensors = Fixtures.randomTensors(new Random(3), "w", 2);
        try {
            SafetensorsWriter.write(file, tensors, Map.of());
        } finally {
            Fixtures.closeAll(tensors);
        }
        return file;
    }

    private static void index(Path folder, String file) throws IOException {
        Files.writeString(folder.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"weight_map\": {\"w0\": \"" + file + "\", \"w1\": \"" + file + "\"}}");
    }

    @Test
    void aLinkOutOfTheFolderIsRefusedNamingIt() throws IOException {
        Path outside = checkpointFile(Files.createDirectories(tmp.resolve("elsewhere")).resolve("secret.safetensors"));
        Path model = Files.createDirectories(tmp.resolve("model"));
        Path link = Files.createSymbolicLink(model.resolve(SafetensorsCheckpoint.SINGLE_FILE), outside);
        var single = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model));
        assertEquals(link + " is a symbolic link to " + outside.toRealPath() + ", outside the folder " + model,
                single.getMessage());

        Files.delete(link);
        Path shard = Files.createSymbolicLink(model.resolve("model-00001-of-00001.safetensors"), outside);
        index(model, "model-00001-of-00001.safetensors");
        var listed = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model));
        assertEquals(model.resolve(SafetensorsCheckpoint.INDEX_FILE) + ": tensor \"w0\" is mapped to"
                + " model-00001-of-00001.safetensors, which cannot be opened: " + shard + " is a symbolic link to "
                + outside.toRealPath() + ", outside the folder " + model, listed.getMessage());

        // A relative link climbing out is the same, and so is an index itself that leads out.
        Files.delete(shard);
        Files.createSymbolicLink(shard, Path.of("..", "elsewhere", "secret.safetensors"));
        assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model));
        Path otherIndex = tmp.resolve("elsewhere").resolve(SafetensorsCheckpoint.INDEX_FILE);
        Files.move(model.resolve(SafetensorsCheckpoint.INDEX_FILE), otherIndex);
        Files.createSymbolicLink(model.resolve(SafetensorsCheckpoint.INDEX_FILE), otherIndex);
        var index = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model));
        assertTrue(index.getMessage().startsWith(model.resolve(SafetensorsCheckpoint.INDEX_FILE)
                + " is a symbolic link to "), index.getMessage());
    }

    @Test
    void linksInsideTheFolderAndIntoAHubCacheBlobAreFollowed() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("model"));
        checkpointFile(Files.createDirectories(model.resolve("weights")).resolve("all.safetensors"));
        Files.createSymbolicLink(model.resolve(SafetensorsCheckpoint.SINGLE_FILE), Path.of("weights", "all.safetensors"));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(model)) {
            assertEquals(2, c.names().size());
        }

        // The hub client's cache: REPO/snapshots/REVISION/FILE -> ../../blobs/HASH.
        Path repo = tmp.resolve("hub").resolve("models--org--name");
        Path blob = checkpointFile(Files.createDirectories(repo.resolve("blobs")).resolve("3f2a9c"));
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve("0123abcd"));
        Files.createSymbolicLink(snapshot.resolve("model-00001-of-00001.safetensors"),
                Path.of("..", "..", "blobs", blob.getFileName().toString()));
        index(snapshot, "model-00001-of-00001.safetensors");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(snapshot)) {
            assertEquals(2, c.names().size());
        }
        // ... but not a link out of the cache repository.
        Path outside = checkpointFile(tmp.resolve("other.safetensors"));
        Files.delete(snapshot.resolve("model-00001-of-00001.safetensors"));
        Files.createSymbolicLink(snapshot.resolve("model-00001-of-00001.safetensors"), outside);
        assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(snapshot));
    }

    @Test
    void aFifoIsRefusedInsteadOfBlockingTheReader() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("model"));
        Path fifo = model.resolve(SafetensorsCheckpoint.SINGLE_FILE);
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo here: " + e.getMessage());
            return;
        }
        assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "mkfifo failed");
        var e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model));
        assertEquals(fifo + " is not a regular file", e.getMessage());
        var named = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(fifo));
        assertEquals(fifo + " is not a regular file", named.getMessage());
    }
}
