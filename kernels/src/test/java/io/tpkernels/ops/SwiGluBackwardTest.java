package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;
import static io.tpkernels.ops.Gradcheck.centralDifferences;
import static io.tpkernels.ops.Gradcheck.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * {@link SwiGluBackward} against central finite differences, in double, of {@code L = Σ (silu(g)⊙u)⊙R} (so
 * {@code da = R}), with a reference forward of its own.
 */
class SwiGluBackwardTest {
    private static final ExecutionContext CPU = ExecutionContext.cpu();

    /** {@code L = Σ_i g_i / (1 + e^−g_i) · u_i · R_i} in double. */
    static double loss(double[] g, double[] u, float[] r) {
        double s = 0;
        for (int i = 0; i < g.length; i++) {
            s += g[i] / (1 + Math.exp(-g[i])) * u[i] * r[i];
        }
        return s;
    }

    static float[][] gradients(DType dtype, DType daType, float[] g, float[] u, float[] da) {
        try (Tensor gt = Tensor.ofFloats(dtype, g, g.length);
             Tensor ut = Tensor.ofFloats(dtype, u, u.length);
             Tensor dat = Tensor.ofFloats(daType, da, da.length);
             SwiGluBackward.Gradients grads = SwiGluBackward.backward(CPU, gt, ut, dat)) {
            assertEquals(DType.F32, grads.dGate().dtype());
            return new float[][] {grads.dGate().toFloatArray(), grads.dUp().toFloatArray()};
        }
    }

    @Property(tries = 30)
    void gradientsAreTheFiniteDifferencesOfTheLoss(@ForAll @IntRange(min = 1, max = 200) int n,
                                                  @ForAll long seed) {
        float[] g = RandomData.moderate(seed, n);
        float[] u = RandomData.moderate(seed + 1, n);
        float[] r = RandomData.moderate(seed + 2, n);
        float[][] got = gradients(DType.F32, DType.F32, g, u, r);
        double[] gd = toDouble(g);
        double[] ud = toDouble(u);
        double h = 1e-4; // silu is not linear: O(h²) error, far below the tolerance
        assertClose(centralDifferences(gd, p -> loss(p, ud, r), h), got[0], 1e-4, "dg");
        assertClose(centralDifferences(ud, p -> loss(gd, p, r), h), got[1], 1e-4, "du");
    }

    /** Gates far into either tail: finite gradients, 0 for the gate where σ is 0, as the limits of the formula. */
    @Test
    void tailsGiveFiniteGradients() {
        float[] g = {-200f, -90f, -30f, 30f, 90f, 200f};
        float[] u = {1.5f, -2f, 0.75f, 3f, -0.5f, 2f};
        float[] da = {0.5f, 1f, -1f, 2f, 0.25f, -3f};
        float[][] got = gradients(DType.F32, DType.F32, g, u, da);
        for (int i = 0; i < g.length; i++) {
            assertTrue(Float.isFinite(got[0][i]) && Float.isFinite(got[1][i]), "gate " + g[i]);
        }
        assertEquals(0f, Math.abs(got[0][0]));
        assertEquals(0f, Math.abs(got[1][0]));
        assertEquals(da[5] * u[5], got[0][5]); // σ = 1: silu'(g) = 1
        assertEquals(da[5] * g[5], got[1][5]); // silu(g) = g
    }

    /** BF16 gate and up, and a BF16 da, are read exactly: the F32 gradients of the same values, bit for bit. */
    @Test
    void halfPrecisionInputsGiveTheGradientsOfTheirValues() {
        float[] g = rounded(RandomData.moderate(7, 50));
        float[] u = rounded(RandomData.moderate(8, 50));
        float[] da = rounded(RandomData.moderate(9, 50));
        float[][] want = gradients(DType.F32, DType.F32, g, u, da);
        float[][] got = gradients(DType.BF16, DType.BF16, g, u, da);
        assertArrayEquals(want[0], got[0]);
        assertArrayEquals(want[1], got[1]);
    }

    private static float[] rounded(float[] v) {
        try (Tensor t = Tensor.ofFloats(DType.BF16, v, v.length)) {
            return t.toFloatArray();
        }
    }

    @Test
    void refusesMismatchedShapes() {
        try (Tensor g = Tensor.ofFloats(DType.F32, RandomData.moderate(1, 6), 2, 3);
             Tensor u = Tensor.ofFloats(DType.F32, RandomData.moderate(2, 6), 3, 2);
             Tensor da = Tensor.ofFloats(DType.F32, RandomData.moderate(3, 6), 2, 3)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> SwiGluBackward.backward(CPU, g, u, da)).getMessage();
            assertTrue(m.contains("gate and up"), m);
        }
    }
}
