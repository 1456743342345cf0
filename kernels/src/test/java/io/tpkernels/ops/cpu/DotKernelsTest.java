package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Both sets of inner loops of the CPU GEMM (the Vector API one when this JVM has the module, and the scalar
 * fallback that runs without it) against the contract of {@link DotKernels}: lane {@code l} of each sum goes on
 * from the value it holds with one fused multiply-add per {@code k ≡ l (mod 16)}, in order of k; and BF16 widens
 * exactly. Compared bit for bit.
 */
class DotKernelsTest {

    private static List<DotKernels> implementations() {
        DotKernels best = DotKernels.best();
        return best instanceof ScalarDotKernels ? List.of(best) : List.of(best, new ScalarDotKernels());
    }

    /** Lane {@code l} of x-row {@code xo} times w-row {@code wo}, continued from {@code start}, as the contract says. */
    private static float lane(float[] x, int xo, float[] w, int wo, int kLen, int l, float start) {
        float s = start;
        for (int k = l; k < kLen; k += Lanes.COUNT) {
            s = Math.fma(x[xo + k], w[wo + k], s);
        }
        return s;
    }

    @Property(tries = 60)
    void everyLaneGoesOnAsItsFusedChainOverItsKsInOrder(@ForAll @IntRange(min = 0, max = 20) int groups,
                                                         @ForAll @IntRange(min = 0, max = 40) int extraStride,
                                                         @ForAll long seed) {
        int kLen = groups * Lanes.COUNT;
        int ldx = kLen + extraStride;
        int ldw = kLen + 2 * extraStride + 1;
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = randomFloats(random, 3 + 4 * ldx);
        float[] w = randomFloats(random, 5 + 4 * ldw);
        float[] start = randomFloats(random, 7 + 16 * Lanes.COUNT);
        for (DotKernels kernels : implementations()) {
            float[] acc = start.clone();
            kernels.dot4x4(x, 3, ldx, w, 5, ldw, kLen, acc, 7);
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < Lanes.COUNT; l++) {
                        int at = 7 + (4 * i + j) * Lanes.COUNT + l;
                        assertEquals(Float.floatToIntBits(lane(x, 3 + i * ldx, w, 5 + j * ldw, kLen, l, start[at])),
                                Float.floatToIntBits(acc[at]),
                                kernels.describe() + ": dot4x4 [" + i + ", " + j + "] lane " + l + " of kLen " + kLen);
                    }
                }
            }
            acc = start.clone();
            kernels.dot1x4(x, 3 + ldx, w, 5, ldw, kLen, acc, 7);
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < Lanes.COUNT; l++) {
                    int at = 7 + j * Lanes.COUNT + l;
                    assertEquals(Float.floatToIntBits(lane(x, 3 + ldx, w, 5 + j * ldw, kLen, l, start[at])),
                            Float.floatToIntBits(acc[at]),
                            kernels.describe() + ": dot1x4 [" + j + "] lane " + l + " of kLen " + kLen);
                }
            }
            for (int q = 7 + 16 * Lanes.COUNT; q < acc.length; q++) {
                assertEquals(start[q], acc[q], "past the lanes: untouched");
            }
        }
    }

    /** W read where it is stored, BF16 or F32 at any row stride, gives the bits of the same W widened first. */
    @Property(tries = 60)
    void storedRowsGiveTheBitsOfWidenedRows(@ForAll @IntRange(min = 0, max = 20) int groups,
                                            @ForAll @IntRange(min = 0, max = 9) int extraStride,
                                            @ForAll @IntRange(min = 0, max = 5) int from, @ForAll boolean bf16,
                                            @ForAll long seed) {
        int kLen = groups * Lanes.COUNT;
        int ldw = kLen + extraStride;
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = randomFloats(random, from + 4 * ldw);
        float[] widened = new float[values.length];
        MemorySegment stored;
        if (bf16) {
            short[] bits = new short[values.length];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = (short) (Float.floatToIntBits(values[i]) >>> 16);
                widened[i] = Float.intBitsToFloat(bits[i] << 16);
            }
            stored = MemorySegment.ofArray(bits);
        } else {
            widened = values.clone();
            stored = MemorySegment.ofArray(values);
        }
        long size = bf16 ? 2 : 4;
        float[] x = randomFloats(random, 2 + kLen);
        float[] start = randomFloats(random, 3 + 4 * Lanes.COUNT);
        for (DotKernels kernels : implementations()) {
            float[] acc = start.clone();
            kernels.dot1x4Stored(x, 2, stored, from * size, ldw * size, bf16, kLen, acc, 3);
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < Lanes.COUNT; l++) {
                    int at = 3 + j * Lanes.COUNT + l;
                    assertEquals(Float.floatToIntBits(lane(x, 2, widened, from + j * ldw, kLen, l, start[at])),
                            Float.floatToIntBits(acc[at]), kernels.describe() + (bf16 ? " BF16" : " F32")
                                    + ": row " + j + " lane " + l + " of kLen " + kLen);
                }
            }
        }
    }

    @Property(tries = 40)
    void bf16WidensExactlyAtAnyOffsetAndLength(@ForAll @IntRange(min = 0, max = 100) int len,
                                               @ForAll @IntRange(min = 0, max = 9) int from, @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        short[] bits = new short[from + len];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) random.nextInt();
        }
        MemorySegment src = MemorySegment.ofArray(bits);
        for (DotKernels kernels : implementations()) {
            float[] dst = new float[len + 2];
            dst[0] = 42f;
            dst[len + 1] = 43f;
            kernels.widenBf16(src, 2L * from, dst, 1, len);
            for (int q = 0; q < len; q++) {
                assertEquals(Float.floatToIntBits(Float.intBitsToFloat(bits[from + q] << 16)),
                        Float.floatToIntBits(dst[1 + q]), kernels.describe() + ": element " + q);
            }
            assertEquals(42f, dst[0]);
            assertEquals(43f, dst[len + 1]);
        }
    }

    /** The halving tree, spelt out: lanes l and l + 8, then + 4, + 2, + 1. */
    @Property(tries = 30)
    void lanesAreAddedAsAHalvingTree(@ForAll long seed) {
        float[] acc = randomFloats(new SplittableRandom(seed), 20);
        float[] s = java.util.Arrays.copyOfRange(acc, 3, 19);
        for (int half = 8; half >= 1; half /= 2) {
            for (int l = 0; l < half; l++) {
                s[l] = s[l] + s[l + half];
            }
        }
        assertEquals(Float.floatToIntBits(s[0]), Float.floatToIntBits(Lanes.sum(acc, 3)));
    }

    @Property(tries = 30)
    void sixteenSumsAtOnceAreTheSumsOneAtATime(@ForAll @IntRange(min = 0, max = 30) int offset, @ForAll long seed) {
        float[] acc = randomFloats(new SplittableRandom(seed), offset + 16 * Lanes.COUNT);
        for (DotKernels kernels : implementations()) {
            float[] sums = new float[18];
            kernels.sum16(acc.clone(), offset, sums, 1);
            for (int q = 0; q < 16; q++) {
                assertEquals(Float.floatToIntBits(Lanes.sum(acc, offset + q * Lanes.COUNT)),
                        Float.floatToIntBits(sums[1 + q]), kernels.describe() + ": sum " + q);
            }
            assertEquals(0f, sums[0]);
            assertEquals(0f, sums[17]);
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
