package io.tpkernels.ops.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link DotKernels} in plain Java: the fallback without the Vector API, and the reference for it. */
final class ScalarDotKernels implements DotKernels {
    private static final int LANES = Lanes.COUNT;

    @Override
    public void dot4x4(float[] x, int xOff, int ldx, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff) {
        for (int i = 0; i < 4; i++) {
            dot1x4(x, xOff + i * ldx, w, wOff, ldw, kLen, acc, accOff + 4 * i * LANES);
        }
    }

    @Override
    public void dot1x4(float[] x, int xOff, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff) {
        for (int j = 0; j < 4; j++) {
            int row = wOff + j * ldw;
            int lanes = accOff + j * LANES;
            for (int k = 0; k < kLen; k += LANES) {
                for (int l = 0; l < LANES; l++) {
                    acc[lanes + l] = Math.fma(x[xOff + k + l], w[row + k + l], acc[lanes + l]);
                }
            }
        }
    }

    @Override
    public void dot1x4Stored(float[] x, int xOff, MemorySegment w, long wOff, long ldw, boolean bf16, int kLen,
                             float[] acc, int accOff) {
        for (int j = 0; j < 4; j++) {
            long row = wOff + j * ldw;
            int lanes = accOff + j * LANES;
            for (int k = 0; k < kLen; k += LANES) {
                for (int l = 0; l < LANES; l++) {
                    float wk = bf16
                            ? Float.intBitsToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, row + 2L * (k + l)) << 16)
                            : w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, row + 4L * (k + l));
                    acc[lanes + l] = Math.fma(x[xOff + k + l], wk, acc[lanes + l]);
                }
            }
        }
    }

    @Override
    public void sum16(float[] acc, int accOff, float[] sums, int sumsOff) {
        for (int q = 0; q < 16; q++) {
            sums[sumsOff + q] = Lanes.sum(acc, accOff + q * LANES);
        }
    }

    @Override
    public void widenBf16(MemorySegment src, long byteOff, float[] dst, int off, int len) {
        for (int q = 0; q < len; q++) {
            short bits = src.get(ValueLayout.JAVA_SHORT_UNALIGNED, byteOff + 2L * q);
            dst[off + q] = Float.intBitsToFloat(bits << 16); // exact: BF16 is f32's upper half
        }
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
