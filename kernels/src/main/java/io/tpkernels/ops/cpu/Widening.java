package io.tpkernels.ops.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Rows of an {@link CpuGemm.Operand} in their stored dtype read into f32 arrays, exactly (every float dtype widens
 * to f32 without rounding), padded with zeros to a whole number of {@link Lanes} groups: how x is read once per
 * call, and W a few rows and one k-block at a time, straight from its stored layout into the L1 cache.
 */
final class Widening {
    private Widening() {
    }

    /**
     * Columns {@code [k0, k0 + width)} of row {@code r} of {@code op} at {@code dst[off...]} as f32; the columns at
     * or past {@code op.cols()} as zeros. {@code r < 0} is a row of zeros.
     */
    static void row(DotKernels kernels, CpuGemm.Operand op, long r, long k0, int width, float[] dst, int off) {
        int valid = r < 0 ? 0 : (int) Math.max(0, Math.min(width, op.cols() - k0));
        if (valid > 0) {
            long src = r * op.ld() + k0;
            switch (op.dtype()) {
                case F32 -> MemorySegment.copy(op.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, src * 4, dst, off, valid);
                case BF16 -> kernels.widenBf16(op.data(), src * 2, dst, off, valid);
                case F16 -> {
                    for (int q = 0; q < valid; q++) {
                        dst[off + q] = Float.float16ToFloat(op.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, (src + q) * 2));
                    }
                }
                default -> {
                    for (int q = 0; q < valid; q++) {
                        dst[off + q] = op.dtype().getFloat(op.data(), src + q);
                    }
                }
            }
        }
        Arrays.fill(dst, off + valid, off + width, 0f);
    }

    /** Rows {@code [r0, r1)} of {@code op} as f32, row-major at row stride {@link Lanes#padded}{@code (cols)}. */
    static float[] rows(DotKernels kernels, CpuGemm.Operand op, int r0, int r1) {
        int ld = Lanes.padded(Math.toIntExact(op.cols()));
        float[] dst = new float[Math.multiplyExact(r1 - r0, ld)];
        for (int r = r0; r < r1; r++) {
            row(kernels, op, r, 0, ld, dst, (r - r0) * ld);
        }
        return dst;
    }
}
