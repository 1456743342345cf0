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
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * {@link LinearBackward}: {@code dx = dy·W} against central finite differences, in double, of {@code L = Σ y⊙R} for
 * {@code y = x·Wᵀ} (so {@code dy = R}); and the sharding identities of the column- and row-parallel forms.
 */
class LinearBackwardTest {
    private static final ExecutionContext CPU = ExecutionContext.cpu();

    /** The reference forward in double: {@code y[t, n] = Σ_k x[t, k]·W[n, k]}. */
    static double[] forward(double[] x, double[] w, int t, int k, int n) {
        double[] y = new double[t * n];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < k; c++) {
                    y[i * n + j] += x[i * k + c] * w[j * k + c];
                }
            }
        }
        return y;
    }

    static float[] dx(DType dtype, DType dyType, float[] dy, float[] w, int t, int k, int n) {
        try (Tensor dyt = Tensor.ofFloats(dyType, dy, t, n);
             Tensor wt = Tensor.ofFloats(dtype, w, n, k);
             Tensor dx = LinearBackward.inputGradient(CPU, dyt, wt)) {
            return dx.toFloatArray();
        }
    }

    @Property(tries = 40)
    void inputGradientIsTheFiniteDifferenceOfTheLoss(@ForAll @IntRange(min = 1, max = 9) int t,
                                                     @ForAll @IntRange(min = 1, max = 40) int k,
                                                     @ForAll @IntRange(min = 1, max = 40) int n,
                                                     @ForAll long seed) {
        float[] x = RandomData.moderate(seed, t * k);
        float[] w = RandomData.moderate(seed + 1, n * k);
        float[] dy = RandomData.moderate(seed + 2, t * n);
        double[] wd = toDouble(w);
        double[] fd = centralDifferences(toDouble(x), p -> dot(forward(p, wd, t, k, n), dy), 1.0 / 64);
        assertClose(fd, dx(DType.F32, DType.F32, dy, w, t, k, n), 1e-4, "dx");
    }

    /**
     * Column-parallel (W by rows, dy by columns): {@code Σ_r dy_r·W_r} in rank order is dx to f32 rounding.
     * Row-parallel (W by columns): {@code dy·W_r} is dx's column block, bit for bit.
     */
    @Property(tries = 30)
    void shardsGivePartialSumsOrColumnBlocks(@ForAll @IntRange(min = 1, max = 4) int tp,
                                             @ForAll @IntRange(min = 1, max = 9) int t,
                                             @ForAll @IntRange(min = 1, max = 12) int local,
                                             @ForAll @IntRange(min = 1, max = 30) int other,
                                             @ForAll long seed) {
        int n = tp * local; // column-parallel: N split
        float[] w = RandomData.moderate(seed, n * other);
        float[] dy = RandomData.moderate(seed + 1, t * n);
        float[] want = dx(DType.F32, DType.F32, dy, w, t, other, n);
        float[] sum = new float[t * other];
        for (int rank = 0; rank < tp; rank++) {
            float[] part = dx(DType.F32, DType.F32, block(dy, n, 0, t, rank * local, (rank + 1) * local),
                    block(w, other, rank * local, (rank + 1) * local, 0, other), t, other, local);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += part[i];
            }
        }
        assertClose(want, sum, 1e-5, "Σ_r dx_r");

        int k = tp * local; // row-parallel: K split
        float[] wk = RandomData.moderate(seed + 2, other * k);
        float[] dyk = RandomData.moderate(seed + 3, t * other);
        float[] wantK = dx(DType.F32, DType.F32, dyk, wk, t, k, other);
        for (int rank = 0; rank < tp; rank++) {
            int k0 = rank * local;
            assertArrayEquals(block(wantK, k, 0, t, k0, k0 + local),
                    dx(DType.F32, DType.F32, dyk, block(wk, k, 0, other, k0, k0 + local), t, local, other),
                    "dx of rank " + rank);
        }
    }

    /** BF16 and F16 operands are read exactly: the F32 result for the same values, bit for bit. */
    @Test
    void halfPrecisionOperandsGiveTheGradientOfTheirValues() {
        int t = 6, k = 300, n = 70; // more than one task of columns, more than one block of rows of W
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            float[] w = rounded(dtype, RandomData.moderate(1, n * k));
            float[] dy = rounded(dtype, RandomData.moderate(2, t * n));
            float[] want = dx(DType.F32, DType.F32, dy, w, t, k, n);
            assertArrayEquals(want, dx(dtype, DType.F32, dy, w, t, k, n), dtype + " W");
            assertArrayEquals(want, dx(DType.F32, dtype, dy, w, t, k, n), dtype + " dy");
        }
    }

    private static float[] rounded(DType dtype, float[] v) {
        try (Tensor t = Tensor.ofFloats(dtype, v, v.length)) {
            return t.toFloatArray();
        }
    }

    @Test
    void refusesMismatchedShapesAndGradientDtypes() {
        try (Tensor dy = Tensor.ofFloats(DType.F32, RandomData.moderate(1, 6), 2, 3);
             Tensor w = Tensor.ofFloats(DType.F32, RandomData.moderate(2, 12), 4, 3);
             Tensor wOk = Tensor.ofFloats(DType.F32, RandomData.moderate(2, 12), 3, 4);
             Tensor dxBf16 = Tensor.allocate(CPU, DType.BF16, 2, 4)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> LinearBackward.inputGradient(CPU, dy, w)).getMessage();
            assertTrue(m.contains("dy must be [T, 4]"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> LinearBackward.inputGradient(CPU, dy, wOk, dxBf16)).getMessage();
            assertTrue(m.contains("dx must be [2, 4] F32"), m);
        }
    }
}
