package io.tpkernels.layers.weights;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.CheckpointException;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A checkpoint file cut short while it is mapped (truncated by another process after it was opened): loading a
 * shard from it is a CheckpointException naming that file and the tensor, on the host as on a device (see
 * {@code TruncatedCheckpointCudaTest}); never the JVM's InternalError, never a crash.
 */
class TruncatedCheckpointTest {
    static final int ROWS = 512;
    static final int COLS = 384;

    @ParameterizedTest(name = "{0} [{1}, {2}) as {3}")
    @CsvSource({
        "ROWS, 256, 512, F32",
        "ROWS, 0, 512, BF16",
        "COLUMNS, 96, 192, F32",
        "COLUMNS, 0, 384, BF16",
        "REPLICATED, 0, 0, F32",
    })
    void aFileCutShortWhileMappedIsACheckpointErrorNamingIt(Split split, int from, int to, DType dtype,
                                                            @TempDir Path dir)
            throws IOException {
        check(dir, Device.CPU, split, from, to, dtype);
    }

    /**
     * Writes a checkpoint split over two files with an index, opens it, cuts the second file down to its first
     * page, and loads the shard of its tensor onto {@code device}.
     */
    static void check(Path dir, Device device, Split split, int from, int to, DType dtype) throws IOException {
        Path first = dir.resolve("model-00001-of-00002.safetensors");
        Path second = dir.resolve("model-00002-of-00002.safetensors");
        try (Tensor a = Tensor.ofFloats(DType.F32, RandomData.floats(1, 16), 16);
             Tensor w = Tensor.ofFloats(DType.F32, RandomData.floats(2, ROWS * COLS), ROWS, COLS)) {
            SafetensorsWriter.write(first, Map.of("a", a), Map.of());
            SafetensorsWriter.write(second, Map.of("w", w), Map.of());
        }
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), """
                {"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                "w": "model-00002-of-00002.safetensors"}}""");
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            try (FileChannel channel = FileChannel.open(second, StandardOpenOption.WRITE)) {
                channel.truncate(4096);
            }
            var e = assertThrows(CheckpointException.class, () -> ShardLoader.load(checkpoint, "w",
                    new long[] {ROWS, COLS}, split, from, to, device, dtype).close());
            assertTrue(e.getMessage().startsWith(second + ": tensor \"w\" cannot be read: the file changed while in use"
                    + " (it is now 4096 bytes, "), e.getMessage());
            assertInstanceOf(InternalError.class, e.getCause());
            // The rest of the checkpoint still reads.
            ShardLoader.load(checkpoint, "a", new long[] {16}, Split.REPLICATED, 0, 0, device, dtype).close();
        }
    }
}
