package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Both sets of inner loops of the backward's GEMM (the Vector API one when this JVM has the module, and the scalar
 * fallback) against the contract of {@link RowKernels}: each element goes on from the value it holds with one fused
 * multiply-add per row of b, in order. Compared bit for bit.
 */
class RowKernelsTest {

    private static List<RowKernels> implementations() {
        RowKernels best = RowKernels.best();
        return best instanceof ScalarRowKernels ? List.of(best) : List.of(best, new ScalarRowKernels());
    }

    @Property(tries = 60)
    void everyElementGoesOnAsItsFusedChainOverTheRowsInOrder(@ForAll @IntRange(min = 0, max = 20) int groups,
                                                             @ForAll @IntRange(min = 0, max = 40) int extraStride,
                                                             @ForAll long seed) {
        int len = groups * Lanes.COUNT;
        int ldb = len + extraStride;
        SplittableRandom random = new SplittableRandom(seed);
        float[] c = floats(random, 12);
        float[] b = floats(random, 5 + 4 * ldb);
        float[] start = floats(random, 3 + len + 7);
        for (RowKernels kernels : implementations()) {
            float[] acc = start.clone();
            kernels.axpy4(c, 2, b, 5, ldb, acc, 3, len);
            for (int j = 0; j < len; j++) {
                float want = start[3 + j];
                for (int q = 0; q < 4; q++) {
                    want = Math.fma(c[2 + q], b[5 + q * ldb + j], want);
                }
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(acc[3 + j]),
                        kernels.describe() + ": axpy4 element " + j + " of " + len);
            }
            float[] rows = floats(random, 1 + 4 * (len + 2));
            float[] acc4 = rows.clone();
            kernels.axpy4x4(c, 1, 2, b, 5, ldb, acc4, 1, len + 2, len); // row i's coefficients c[1 + 2i ...]
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < len + 2; j++) {
                    int at = 1 + i * (len + 2) + j;
                    float want = rows[at];
                    for (int q = 0; j < len && q < 4; q++) {
                        want = Math.fma(c[1 + 2 * i + q], b[5 + q * ldb + j], want);
                    }
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(acc4[at]),
                            kernels.describe() + ": axpy4x4 [" + i + ", " + j + "] of " + len);
                }
            }
            acc = start.clone();
            kernels.axpy1(c[4], b, 5 + ldb, acc, 3, len);
            for (int j = 0; j < len; j++) {
                assertEquals(Float.floatToIntBits(Math.fma(c[4], b[5 + ldb + j], start[3 + j])),
                        Float.floatToIntBits(acc[3 + j]), kernels.describe() + ": axpy1 element " + j + " of " + len);
            }
            for (int q = 0; q < 3; q++) {
                assertEquals(start[q], acc[q], "before the row: untouched");
            }
            for (int q = 3 + len; q < acc.length; q++) {
                assertEquals(start[q], acc[q], "past the row: untouched");
            }
        }
    }

    /** Normal floats over a spread of magnitudes, with some zeros and negative zeros among them. */
    private static float[] floats(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = random.nextInt(20);
            v[i] = kind == 0 ? 0f : kind == 1 ? -0f
                    : (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-20, 21)));
        }
        return v;
    }
}
