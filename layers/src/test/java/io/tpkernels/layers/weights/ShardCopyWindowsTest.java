package io.tpkernels.layers.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.CheckpointException;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A shard of a tensor several copy windows long ({@link WindowCopy#WINDOW_BYTES}) is copied a window at a time:
 * every window's values land where they belong, in the target dtype, for rows, columns and the whole tensor; and
 * a file cut short in a later window is still the checkpoint's error, with nothing left allocated.
 */
class ShardCopyWindowsTest {
    /** 25 MB of F32: three windows and a part; a row is not a whole number of elements of a window. */
    private static final int ROWS = 1536;
    private static final int COLS = 4100;

    @TempDir
    static Path tmp;
    static Path file;
    static float[] values;

    @BeforeAll
    static void writeCheckpoint() {
        assertTrue((long) ROWS * COLS * 4 > 3 * WindowCopy.WINDOW_BYTES, "several windows");
        values = RandomData.floats(21, ROWS * COLS);
        file = tmp.resolve("w.safetensors");
        try (Tensor w = Tensor.ofFloats(DType.F32, values, ROWS, COLS)) {
            SafetensorsWriter.write(file, Map.of("w", w), Map.of());
        }
    }

    @ParameterizedTest(name = "{0} [{1}, {2}) as {3}")
    @CsvSource({
        "ROWS, 333, 1501, F32",
        "ROWS, 0, 1536, BF16",
        "COLUMNS, 1001, 3333, F32",
        "COLUMNS, 0, 2050, BF16",
        "REPLICATED, 0, 0, F16",
    })
    void everyWindowLandsInItsPlace(Split split, int from, int to, DType dtype) {
        try (SafetensorsFile source = SafetensorsFile.open(file);
             Tensor shard = ShardLoader.load(source, "w", new long[] {ROWS, COLS}, split, from, to, Device.CPU,
                     dtype)) {
            int rows = split == Split.ROWS ? to - from : ROWS;
            int cols = split == Split.COLUMNS ? to - from : COLS;
            int r0 = split == Split.ROWS ? from : 0;
            int c0 = split == Split.COLUMNS ? from : 0;
            assertArrayEquals(new long[] {rows, cols}, shard.shape());
            float[] got = shard.toFloatArray();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float v = values[(r0 + i) * COLS + c0 + j];
                    float expected = switch (dtype) {
                        case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits(v));
                        case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
                        default -> v;
                    };
                    if (expected != got[i * cols + j]) {
                        assertEquals(expected, got[i * cols + j], "[" + i + ", " + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void aFileCutShortInALaterWindowIsTheCheckpointsErrorAndFreesTheShard() throws IOException {
        Path cut = tmp.resolve("cut.safetensors");
        Files.copy(file, cut);
        try (SafetensorsFile source = SafetensorsFile.open(cut)) {
            try (FileChannel channel = FileChannel.open(cut, StandardOpenOption.WRITE)) {
                channel.truncate(2 * WindowCopy.WINDOW_BYTES + 12345);
            }
            for (Split split : Split.values()) {
                MemoryMeter meter = MemoryMeter.start();
                try (meter) {
                    var e = assertThrows(CheckpointException.class, () -> ShardLoader.load(source, "w",
                            new long[] {ROWS, COLS}, split, 0, split == Split.COLUMNS ? COLS - 1 : ROWS, Device.CPU,
                            DType.F32).close());
                    assertTrue(e.getMessage().startsWith(cut + ": tensor \"w\" cannot be read: the file changed"),
                            e.getMessage());
                }
                assertTrue(meter.peakBytes(Device.CPU) > 0, split + ": the shard was allocated");
                assertEquals(0, meter.liveBytes(Device.CPU), split + ": and freed");
            }
        }
    }
}
