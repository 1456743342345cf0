package io.tpkernels.ops.cpu;

import io.tpkernels.runtime.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What becomes of the CPU GEMM's sums: {@code c[j]·(alpha·sum) + bias[j]} in f32, rounded once into
 * {@code out[t·ldOut + j]} as {@code outDtype}; {@code columnScale} (F32) and {@code bias} may be {@code null}.
 * A row of a task is finished in arrays and written with one copy, not element by element through the segment.
 */
record Epilogue(float alpha, MemorySegment columnScale, CpuGemm.Bias bias, MemorySegment out, DType outDtype,
                long ldOut) {

    /** Per running task: a row's column scales, biases, results, and results rounded to 16 bits. */
    private static final ScratchPool<Rows> ROWS = new ScratchPool<>(Rows::new);

    private static final class Rows {
        float[] scale = new float[0];
        float[] bias = new float[0];
        float[] values = new float[0];
        short[] bits = new short[0];

        void fit(int n) {
            if (values.length < n) {
                scale = new float[n];
                bias = new float[n];
                values = new float[n];
                bits = new short[n];
            }
        }
    }

    /**
     * Output rows {@code [t0, t0 + rows)}, columns {@code [j0, j0 + cols)} from {@code sums[r·ld + j]}
     * (r and j counted from the first row and column).
     */
    void write(int t0, int rows, int j0, int cols, float[] sums, int ld) {
        Rows row = ROWS.take();
        try {
            write(t0, rows, j0, cols, sums, ld, row);
        } finally {
            ROWS.give(row);
        }
    }

    private void write(int t0, int rows, int j0, int cols, float[] sums, int ld, Rows row) {
        row.fit(cols);
        for (int j = 0; j < cols; j++) {
            row.scale[j] = columnScale == null ? 1f : columnScale.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j0 + j);
            row.bias[j] = bias == null ? 0f : bias.dtype().getFloat(bias.data(), j0 + j);
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                float v = alpha * sums[r * ld + j];
                if (columnScale != null) {
                    v *= row.scale[j];
                }
                if (bias != null) {
                    v += row.bias[j];
                }
                row.values[j] = v;
            }
            store(row, (t0 + r) * ldOut + j0, cols);
        }
    }

    private void store(Rows row, long at, int cols) {
        switch (outDtype) {
            case F32 -> MemorySegment.copy(row.values, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED, at * 4, cols);
            case BF16, F16 -> {
                for (int j = 0; j < cols; j++) {
                    row.bits[j] = outDtype == DType.BF16 ? DType.floatToBf16Bits(row.values[j])
                            : DType.floatToF16Bits(row.values[j]);
                }
                MemorySegment.copy(row.bits, 0, out, ValueLayout.JAVA_SHORT_UNALIGNED, at * 2, cols);
            }
            default -> {
                for (int j = 0; j < cols; j++) {
                    outDtype.setFloat(out, at + j, row.values[j]);
                }
            }
        }
    }
}
