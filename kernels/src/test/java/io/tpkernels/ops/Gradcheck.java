package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.ToDoubleFunction;

/**
 * What the backward tests share: central finite differences of a scalar loss in double, the comparison of an F32
 * gradient with them, and slices of row-major matrices (a rank's shard).
 */
final class Gradcheck {
    private Gradcheck() {
    }

    /**
     * {@code ∂L/∂p_i ≈ (L(p + h·e_i) − L(p − h·e_i)) / 2h} for every element of {@code p} (restored after), in double.
     * Exact up to double rounding where L is linear in each single element (every GEMM loss here); {@code O(h²)}
     * otherwise.
     */
    static double[] centralDifferences(double[] p, ToDoubleFunction<double[]> loss, double h) {
        double[] grad = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double v = p[i];
            p[i] = v + h;
            double up = loss.applyAsDouble(p);
            p[i] = v - h;
            double down = loss.applyAsDouble(p);
            p[i] = v;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    /** {@code L = Σ y⊙R}: the loss whose gradient with respect to {@code y} is {@code R}. */
    static double dot(double[] y, float[] r) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * r[i];
        }
        return s;
    }

    /**
     * Each {@code got[i]} within {@code relative·(|want[i]| + rms(want))} of {@code want[i]}: relative to the element,
     * and to the gradient's size where an element's terms cancel to near 0. NaN never passes.
     */
    static void assertClose(double[] want, float[] got, double relative, String what) {
        assertTrue(want.length == got.length, what + ": " + got.length + " elements, want " + want.length);
        double sq = 0;
        for (double v : want) {
            sq += v * v;
        }
        double rms = Math.sqrt(sq / Math.max(1, want.length));
        for (int i = 0; i < want.length; i++) {
            double tol = relative * (Math.abs(want[i]) + rms);
            assertTrue(Math.abs(got[i] - want[i]) <= tol, what + " at " + i + ": got " + got[i] + ", want " + want[i]
                    + " (tolerance " + tol + ")");
        }
    }

    /** As {@link #assertClose(double[], float[], double, String)} against F32 values. */
    static void assertClose(float[] want, float[] got, double relative, String what) {
        assertClose(toDouble(want), got, relative, what);
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Rows {@code [r0, r1)} and columns {@code [c0, c1)} of the row-major {@code m} (with {@code cols} columns). */
    static float[] block(float[] m, int cols, int r0, int r1, int c0, int c1) {
        float[] out = new float[(r1 - r0) * (c1 - c0)];
        for (int i = r0; i < r1; i++) {
            System.arraycopy(m, i * cols + c0, out, (i - r0) * (c1 - c0), c1 - c0);
        }
        return out;
    }

    /** {@code m} with {@code part} (rows {@code [r0, …)}, columns {@code [c0, …)}) written in, for shards' gathers. */
    static void put(float[] m, int cols, float[] part, int partCols, int r0, int c0) {
        for (int i = 0; i < part.length / partCols; i++) {
            System.arraycopy(part, i * partCols, m, (r0 + i) * cols + c0, partCols);
        }
    }
}
