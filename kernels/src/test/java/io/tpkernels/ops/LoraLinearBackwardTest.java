package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;
import static io.tpkernels.ops.Gradcheck.block;
import static io.tpkernels.ops.Gradcheck.centralDifferences;
import static io.tpkernels.ops.Gradcheck.dot;
import static io.tpkernels.ops.Gradcheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * {@link LoraLinearBackward} against central finite differences, in double, of {@code L = Σ y⊙R} for
 * {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ} (so {@code dy = R}), with a reference forward of its own; and the sharding
 * identities of the two tensor-parallel forms.
 */
class LoraLinearBackwardTest {
    private static final ExecutionContext CPU = ExecutionContext.cpu();
    /** F32 compute against the double finite differences. */
    private static final double FD_TOLERANCE = 1e-4;
    /** Sums of shards' F32 partials against the unsharded F32 result: a few roundings of f32. */
    private static final double F32_ROUNDING = 1e-5;

    @Provide
    Arbitrary<Float> scales() {
        return Arbitraries.of(0.25f, 0.5f, 2f, 3f, 16f / 6);
    }

    /** The operands of one case, F32, random and never zero; {@code dy} is the loss's {@code R}. */
    record Case(int t, int k, int n, int r, float s, float[] x, float[] w, float[] a, float[] b, float[] dy) {
        static Case random(int t, int k, int n, int r, float s, long seed) {
            return new Case(t, k, n, r, s, RandomData.moderate(seed, t * k), RandomData.moderate(seed + 1, n * k),
                    RandomData.moderate(seed + 2, r * k), RandomData.moderate(seed + 3, n * r),
                    RandomData.moderate(seed + 4, t * n));
        }

        /** The gradients by the code under test, as F32 arrays {dx, dA, dB}. */
        float[][] gradients(DType dtype, DType dyType) {
            try (Tensor xt = Tensor.ofFloats(dtype, x, t, k);
                 Tensor wt = Tensor.ofFloats(dtype, w, n, k);
                 Tensor at = Tensor.ofFloats(dtype, a, r, k);
                 Tensor bt = Tensor.ofFloats(dtype, b, n, r);
                 Tensor dyt = Tensor.ofFloats(dyType, dy, t, n);
                 LoraLinearBackward.Gradients g = LoraLinearBackward.backward(CPU, xt, wt, at, bt, s, dyt)) {
                return new float[][] {g.dx().toFloatArray(), g.dA().toFloatArray(), g.dB().toFloatArray()};
            }
        }

        float[][] gradients() {
            return gradients(DType.F32, DType.F32);
        }
    }

    /** The reference forward in double, written out naively: {@code y[t, n] = Σ_k x·W + s·Σ_r (Σ_k x·A)·B}. */
    static double[] forward(double[] x, double[] w, double[] a, double[] b, double s, int t, int k, int n, int r) {
        double[] y = new double[t * n];
        for (int i = 0; i < t; i++) {
            double[] xa = new double[r];
            for (int q = 0; q < r; q++) {
                for (int c = 0; c < k; c++) {
                    xa[q] += x[i * k + c] * a[q * k + c];
                }
            }
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int c = 0; c < k; c++) {
                    v += x[i * k + c] * w[j * k + c];
                }
                double lora = 0;
                for (int q = 0; q < r; q++) {
                    lora += xa[q] * b[j * r + q];
                }
                y[i * n + j] = v + s * lora;
            }
        }
        return y;
    }

    @Property(tries = 40)
    void everyGradientIsTheFiniteDifferenceOfTheLoss(@ForAll @IntRange(min = 1, max = 7) int t,
                                                     @ForAll @IntRange(min = 1, max = 11) int k,
                                                     @ForAll @IntRange(min = 1, max = 11) int n,
                                                     @ForAll @IntRange(min = 1, max = 5) int r,
                                                     @ForAll("scales") float s, @ForAll long seed) {
        Case c = Case.random(t, k, n, r, s, seed);
        float[][] got = c.gradients();
        double[] x = toDouble(c.x());
        double[] w = toDouble(c.w());
        double[] a = toDouble(c.a());
        double[] b = toDouble(c.b());
        double h = 1.0 / 64; // the loss is linear in each single element: the differences are exact but for rounding
        double[] fdX = centralDifferences(x, p -> dot(forward(p, w, a, b, s, t, k, n, r), c.dy()), h);
        double[] fdA = centralDifferences(a, p -> dot(forward(x, w, p, b, s, t, k, n, r), c.dy()), h);
        double[] fdB = centralDifferences(b, p -> dot(forward(x, w, a, p, s, t, k, n, r), c.dy()), h);
        assertClose(fdX, got[0], FD_TOLERANCE, "dx");
        assertClose(fdA, got[1], FD_TOLERANCE, "dA");
        assertClose(fdB, got[2], FD_TOLERANCE, "dB");
    }

    /**
     * Column-parallel: rank r holds rows {@code [r·n, (r+1)·n)} of W and B and gets those columns of dy; A and x are
     * replicated. {@code Σ_r dx_r} and {@code Σ_r dA_r}, summed in rank order, are the unsharded ones to f32 rounding;
     * {@code dB_r} is the unsharded dB's rows, bit for bit.
     */
    @Property(tries = 30)
    void columnParallelPartialsSumToTheGradientsAndDbIsSliced(@ForAll @IntRange(min = 1, max = 4) int tp,
                                                              @ForAll @IntRange(min = 1, max = 7) int t,
                                                              @ForAll @IntRange(min = 1, max = 40) int k,
                                                              @ForAll @IntRange(min = 1, max = 9) int nLocal,
                                                              @ForAll @IntRange(min = 1, max = 5) int r,
                                                              @ForAll("scales") float s, @ForAll long seed) {
        int n = tp * nLocal;
        Case full = Case.random(t, k, n, r, s, seed);
        float[][] want = full.gradients();
        float[] dx = new float[t * k];
        float[] dA = new float[r * k];
        for (int rank = 0; rank < tp; rank++) {
            int n0 = rank * nLocal;
            int n1 = n0 + nLocal;
            Case shard = new Case(t, k, nLocal, r, s, full.x(), block(full.w(), k, n0, n1, 0, k), full.a(),
                    block(full.b(), r, n0, n1, 0, r), block(full.dy(), n, 0, t, n0, n1));
            float[][] got = shard.gradients();
            addInto(dx, got[0]);
            addInto(dA, got[1]);
            assertArrayEquals(block(want[2], r, n0, n1, 0, r), got[2], "dB of rank " + rank + ": its rows of dB");
        }
        assertClose(want[0], dx, F32_ROUNDING, "Σ_r dx_r");
        assertClose(want[1], dA, F32_ROUNDING, "Σ_r dA_r");
    }

    /**
     * Row-parallel: rank r holds columns {@code [r·k, (r+1)·k)} of W, A and x; B and dy are replicated. {@code dx_r}
     * and {@code dA_r} are the unsharded ones' column blocks, bit for bit; {@code Σ_r dB_r} in rank order is dB to
     * f32 rounding.
     */
    @Property(tries = 30)
    void rowParallelGradientsAreColumnBlocksAndDbPartialsSum(@ForAll @IntRange(min = 1, max = 4) int tp,
                                                            @ForAll @IntRange(min = 1, max = 7) int t,
                                                            @ForAll @IntRange(min = 1, max = 9) int kLocal,
                                                            @ForAll @IntRange(min = 1, max = 40) int n,
                                                            @ForAll @IntRange(min = 1, max = 5) int r,
                                                            @ForAll("scales") float s, @ForAll long seed) {
        int k = tp * kLocal;
        Case full = Case.random(t, k, n, r, s, seed);
        float[][] want = full.gradients();
        float[] dB = new float[n * r];
        for (int rank = 0; rank < tp; rank++) {
            int k0 = rank * kLocal;
            int k1 = k0 + kLocal;
            Case shard = new Case(t, kLocal, n, r, s, block(full.x(), k, 0, t, k0, k1),
                    block(full.w(), k, 0, n, k0, k1), block(full.a(), k, 0, r, k0, k1), full.b(), full.dy());
            float[][] got = shard.gradients();
            assertArrayEquals(block(want[0], k, 0, t, k0, k1), got[0], "dx of rank " + rank + ": its columns of dx");
            assertArrayEquals(block(want[1], k, 0, r, k0, k1), got[1], "dA of rank " + rank + ": its columns of dA");
            addInto(dB, got[2]);
        }
        assertClose(want[2], dB, F32_ROUNDING, "Σ_r dB_r");
    }

    private static void addInto(float[] sum, float[] part) {
        for (int i = 0; i < sum.length; i++) {
            sum[i] += part[i];
        }
    }

    /**
     * BF16 operands are read exactly: dx and dA are the F32 result for the same values, bit for bit, and dB differs
     * only by the rounding of the recomputed {@code s·x·Aᵀ} to BF16, as the forward rounds it. A BF16 dy is read
     * exactly too.
     */
    @Test
    void bf16OperandsGiveTheGradientsOfTheirValues() {
        Case c = Case.random(5, 37, 23, 4, 0.5f, 11);
        Case rounded = new Case(c.t(), c.k(), c.n(), c.r(), c.s(), bf16(c.x()), bf16(c.w()), bf16(c.a()), bf16(c.b()),
                bf16(c.dy()));
        float[][] f32 = rounded.gradients();
        float[][] bf16 = rounded.gradients(DType.BF16, DType.F32);
        assertArrayEquals(f32[0], bf16[0], "dx");
        assertArrayEquals(f32[1], bf16[1], "dA");
        assertClose(f32[2], bf16[2], 1.0 / 128, "dB");
        float[][] bf16Dy = rounded.gradients(DType.F32, DType.BF16);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(f32[i], bf16Dy[i], "gradient " + i + " of a BF16 dy");
        }
    }

    private static float[] bf16(float[] v) {
        try (Tensor t = Tensor.ofFloats(DType.BF16, v, v.length)) {
            return t.toFloatArray();
        }
    }

    /** No tokens: dA and dB are sums over none, +0; dx has no rows. */
    @Test
    void noTokensGiveZeroWeightGradients() {
        Case c = Case.random(0, 6, 5, 2, 2f, 3);
        float[][] got = c.gradients();
        assertArrayEquals(new float[0], got[0]);
        assertArrayEquals(new float[2 * 6], got[1]);
        assertArrayEquals(new float[5 * 2], got[2]);
    }

    /** Into tensors given by the caller: dx and dA side by side in one packed buffer, as a layer reduces them. */
    @Test
    void writesIntoAPackedBuffer() {
        Case c = Case.random(3, 10, 7, 2, 2f, 5);
        float[][] want = c.gradients();
        int t = c.t(), k = c.k(), n = c.n(), r = c.r();
        try (Tensor x = Tensor.ofFloats(DType.F32, c.x(), t, k);
             Tensor w = Tensor.ofFloats(DType.F32, c.w(), n, k);
             Tensor a = Tensor.ofFloats(DType.F32, c.a(), r, k);
             Tensor b = Tensor.ofFloats(DType.F32, c.b(), n, r);
             Tensor dy = Tensor.ofFloats(DType.F32, c.dy(), t, n);
             Tensor packed = Tensor.allocate(CPU, DType.F32, (t + r) * k);
             Tensor dB = Tensor.allocate(CPU, DType.F32, n, r)) {
            LoraLinearBackward.backward(CPU, x, w, a, b, c.s(), dy, packed.viewBytes(0, DType.F32, t, k),
                    packed.viewBytes(4L * t * k, DType.F32, r, k), dB);
            float[] all = packed.toFloatArray();
            assertArrayEquals(want[0], Arrays.copyOfRange(all, 0, t * k));
            assertArrayEquals(want[1], Arrays.copyOfRange(all, t * k, (t + r) * k));
            assertArrayEquals(want[2], dB.toFloatArray());
        }
    }

    @Test
    void refusesMismatchedOperandsNamingThem() {
        try (Tensor x = Tensor.ofFloats(DType.F32, RandomData.moderate(1, 12), 3, 4);
             Tensor w = Tensor.ofFloats(DType.F32, RandomData.moderate(2, 20), 5, 4);
             Tensor a = Tensor.ofFloats(DType.F32, RandomData.moderate(3, 8), 2, 4);
             Tensor b = Tensor.ofFloats(DType.F32, RandomData.moderate(4, 10), 5, 2);
             Tensor wBf16 = Tensor.ofFloats(DType.BF16, RandomData.moderate(2, 20), 5, 4);
             Tensor dyWrong = Tensor.ofFloats(DType.F32, RandomData.moderate(5, 12), 3, 4);
             Tensor dy = Tensor.ofFloats(DType.F32, RandomData.moderate(5, 15), 3, 5);
             Tensor dxBf16 = Tensor.allocate(CPU, DType.BF16, 3, 4);
             Tensor dA = Tensor.allocate(CPU, DType.F32, 2, 4);
             Tensor dB = Tensor.allocate(CPU, DType.F32, 5, 2)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> LoraLinearBackward.backward(CPU, x, w, a, b, 2f, dyWrong)).getMessage();
            assertTrue(m.contains("dy must be [3, 5]"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> LoraLinearBackward.backward(CPU, x, wBf16, a, b, 2f, dy)).getMessage();
            assertTrue(m.contains("W must be"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> LoraLinearBackward.backward(CPU, x, w, a, b, 2f, dy, dxBf16, dA, dB)).getMessage();
            assertTrue(m.contains("dx must be [3, 4] F32"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> LoraLinearBackward.backward(CPU, x, w, a, b, Float.NaN, dy)).getMessage();
            assertTrue(m.contains("scale"), m);
        }
    }
}
