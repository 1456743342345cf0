package io.tpkernels.layers.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Loading a rank's shard straight from a mapped safetensors file: the values are the shard's, and the peak memory
 * the loading thread allocates is the shard (in the target dtype, plus the stored-dtype staging of a column
 * gather, one copy window: here all of the shard), never the tensor.
 */
class ShardLoaderTest {
    private static final int ROWS = 512;
    private static final int COLS = 384;

    @TempDir
    static Path tmp;
    static Path file;
    static float[] values;

    @BeforeAll
    static void writeCheckpoint() {
        values = RandomData.floats(9, ROWS * COLS);
        file = tmp.resolve("w.safetensors");
        try (Tensor w = Tensor.ofFloats(DType.F32, values, ROWS, COLS);
             Tensor ids = Tensor.ofLongs(DType.I64, new long[] {1, 2}, 2)) {
            SafetensorsWriter.write(file, Map.of("w", w, "ids", ids), Map.of());
        }
    }

    @ParameterizedTest(name = "{0} [{1}, {2}) as {3}")
    @CsvSource({
        "ROWS, 128, 192, F32",
        "ROWS, 0, 512, BF16",
        "ROWS, 100, 100, F32",
        "COLUMNS, 96, 192, F32",
        "COLUMNS, 0, 48, BF16",
        "REPLICATED, 0, 0, F32",
    })
    void aShardIsItsValuesAndOnlyItsBytes(Split split, int from, int to, DType dtype) {
        try (SafetensorsFile source = SafetensorsFile.open(file)) {
            MemoryMeter meter = MemoryMeter.start();
            Tensor shard;
            try (meter) {
                shard = ShardLoader.load(source, "w", new long[] {ROWS, COLS}, split, from, to, Device.CPU, dtype);
            }
            try (shard) {
                int rows = split == Split.ROWS ? to - from : ROWS;
                int cols = split == Split.COLUMNS ? to - from : COLS;
                int r0 = split == Split.ROWS ? from : 0;
                int c0 = split == Split.COLUMNS ? from : 0;
                assertArrayEquals(new long[] {rows, cols}, shard.shape());
                float[] got = shard.toFloatArray();
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        float v = values[(r0 + i) * COLS + c0 + j];
                        float expected = dtype == DType.BF16 ? DType.bf16BitsToFloat(DType.floatToBf16Bits(v)) : v;
                        assertEquals(expected, got[i * cols + j], "[" + i + ", " + j + "]");
                    }
                }
                long shardBytes = (long) rows * cols * dtype.byteSize();
                // A column gather in another dtype stages a window of the shard (here all of it) in its stored F32.
                long staging = split == Split.COLUMNS && dtype != DType.F32 ? (long) rows * cols * 4 : 0;
                assertEquals(shardBytes + staging, meter.peakBytes(Device.CPU), "peak allocation is the shard");
                assertTrue(meter.peakBytes(Device.CPU) < (long) ROWS * COLS * 4 || split == Split.REPLICATED
                        || to - from == ROWS, "never the whole tensor");
            }
        }
    }

    @Test
    void aWrongShapeOrAnIntegerTensorIsNamed() {
        try (SafetensorsFile source = SafetensorsFile.open(file)) {
            var e = assertThrows(WeightException.class, () -> ShardLoader.load(source, "w", new long[] {ROWS, 100},
                    Split.ROWS, 0, 1, Device.CPU, DType.F32));
            assertTrue(e.getMessage().contains("w") && e.getMessage().contains(Arrays.toString(new long[] {ROWS, COLS}))
                    && e.getMessage().contains(Arrays.toString(new long[] {ROWS, 100})), e.getMessage());
            var i = assertThrows(WeightException.class, () -> ShardLoader.load(source, "ids", new long[] {2},
                    Split.REPLICATED, 0, 2, Device.CPU, DType.F32));
            assertTrue(i.getMessage().contains("ids") && i.getMessage().contains("I64"), i.getMessage());
        }
    }
}
