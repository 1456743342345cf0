package io.tpkernels.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The naive GEMM in double, and the comparison every GEMM test uses: each element within
 * {@code relTol · Σ_k |x·w|} of the exact sum (the scale of the rounding an f32 accumulation can make),
 * plus half a BF16 ulp of the value when the output is BF16. NaN never passes.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /** F32 accumulation error allowed, relative to {@code Σ|x·w|}. */
    public static final double F32_TOLERANCE = 1e-5;

    /** {@code out[t][j] = Σ_k x[t][k]·w[j][k]} in double, and {@code scale[t][j] = Σ_k |x·w|}. */
    public static double[][][] multiplyNT(float[] x, float[] w, int t, int n, int k) {
        double[][] out = new double[t][n];
        double[][] scale = new double[t][n];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                double a = 0;
                for (int q = 0; q < k; q++) {
                    double p = (double) x[i * k + q] * w[j * k + q];
                    s += p;
                    a += Math.abs(p);
                }
                out[i][j] = s;
                scale[i][j] = a;
            }
        }
        return new double[][][] {out, scale};
    }

    /** Asserts {@code actual} (row-major {@code t × ld}, columns {@code [0, n)}) matches the reference. */
    public static void assertClose(double[][][] reference, float[] actual, int ld, boolean bf16Output, String what) {
        assertWithin(reference, actual, ld, F32_TOLERANCE, bf16Output ? 1.0 / 256 : 0, what);
    }

    /**
     * Asserts each element of {@code actual} (row-major, row stride {@code ld}) is within
     * {@code relative · scale + outputRelative · |exact|} of the reference ({@code {exact, scale}}, an optional
     * third array adding a tolerance of its own, e.g. an intermediate's rounding); NaN never passes.
     */
    public static void assertWithin(double[][][] reference, float[] actual, int ld, double relative,
                                    double outputRelative, String what) {
        double[][] exact = reference[0];
        double[][] scale = reference[1];
        for (int i = 0; i < exact.length; i++) {
            for (int j = 0; j < exact[i].length; j++) {
                float got = actual[i * ld + j];
                assertTrue(!Float.isNaN(got), what + ": NaN at [" + i + ", " + j + "]");
                double extra = reference.length > 2 ? reference[2][i][j] : 0;
                double tol = relative * scale[i][j] + 1e-30 + extra + outputRelative * Math.abs(exact[i][j]);
                assertEquals(exact[i][j], got, tol, what + " at [" + i + ", " + j + "]");
            }
        }
    }
}
