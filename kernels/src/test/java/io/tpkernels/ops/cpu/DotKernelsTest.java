package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Both inner loops of the CPU GEMM (the Vector API one when this JVM has the module, and the scalar fallback that
 * runs without it) against the contract of {@link DotKernels#block}: each element is the sum over k in order, one
 * fused multiply-add per step, from zero; so it is the same number wherever in the panel its column sits.
 */
class DotKernelsTest {

    private static List<DotKernels> implementations() {
        DotKernels best = DotKernels.best();
        return best instanceof ScalarDotKernels ? List.of(best) : List.of(best, new ScalarDotKernels());
    }

    @Property(tries = 60)
    void everyElementIsItsFusedSumOverKInOrder(@ForAll @IntRange(min = 0, max = 300) int kLen,
                                               @ForAll @IntRange(min = 1, max = 40) int aStride,
                                               @ForAll long seed) {
        int stride = Math.max(aStride, kLen);
        SplittableRandom random = new SplittableRandom(seed);
        for (DotKernels kernels : implementations()) {
            int panel = kernels.panelWidth();
            float[] a = randomFloats(random, 4 * stride + 3);
            float[] b = randomFloats(random, kLen * panel + 5);
            int ldc = panel + 3;
            float[] c = new float[4 * ldc + 2];
            java.util.Arrays.fill(c, Float.NaN); // every element written, none read
            kernels.block(a, 3, stride, b, 5, kLen, c, 2, ldc);
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < panel; j++) {
                    float expected = 0f;
                    for (int k = 0; k < kLen; k++) {
                        expected = Math.fma(a[3 + i * stride + k], b[5 + k * panel + j], expected);
                    }
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(c[2 + i * ldc + j]),
                            kernels.describe() + ": element [" + i + ", " + j + "] of kLen " + kLen);
                }
            }
        }
    }

    @Property(tries = 20)
    void theSameColumnGivesTheSameBitsInEveryPosition(@ForAll @IntRange(min = 1, max = 200) int kLen,
                                                      @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (DotKernels kernels : implementations()) {
            int panel = kernels.panelWidth();
            float[] a = randomFloats(random, 4 * kLen);
            float[] column = randomFloats(random, kLen);
            float[] first = null;
            for (int position = 0; position < panel; position++) {
                float[] b = new float[kLen * panel];
                for (int k = 0; k < kLen; k++) {
                    b[k * panel + position] = column[k];
                }
                float[] c = new float[4 * panel];
                kernels.block(a, 0, kLen, b, 0, kLen, c, 0, panel);
                float[] got = {c[position], c[panel + position], c[2 * panel + position], c[3 * panel + position]};
                if (first == null) {
                    first = got;
                }
                for (int i = 0; i < 4; i++) {
                    assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(got[i]),
                            kernels.describe() + ": row " + i + " at column " + position);
                }
            }
            assertTrue(panel % 4 == 0, "a panel is a whole number of 4-float groups: " + panel);
        }
    }

    private static float[] randomFloats(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble(-2, 2));
        }
        return v;
    }
}
