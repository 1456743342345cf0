package io.tpkernels.layers;

import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;

/**
 * DoRA's output scale {@code g[n] = m[n] / ‖W + s·B·A‖_row(n)} (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#10-dora">section 10</a>), the norm over
 * the full input dimension, computed once when a layer loads its adapter: from the shard's weights as loaded (so in the
 * layer's precision, as PEFT computes it in the model's dtype), in double on the host. A column-parallel rank holds
 * whole rows and needs no collective; a row-parallel rank holds a slice of every row and adds its partial sums of
 * squares to the others' with one all-reduce. The forward then only multiplies its output columns by {@code g}.
 */
final class DoraScale {
    private DoraScale() {
    }

    /**
     * {@code g} for a column-parallel rank: {@code w} {@code [N_r, K]}, {@code a} {@code [R, K]}, {@code b}
     * {@code [N_r, R]}, {@code magnitude} this rank's {@code [N_r]}; F32 {@code [N_r]} on the rank's device.
     */
    static Tensor forColumn(Tensor w, Tensor a, Tensor b, float scale, float[] magnitude, RankContext ctx) {
        double[] squares = sumsOfSquares(w, a, b, scale);
        return scaleTensor(squares, magnitude, ctx.device());
    }

    /**
     * {@code g} for a row-parallel rank: {@code w} {@code [N, K_r]}, {@code a} {@code [R, K_r]}, {@code b}
     * {@code [N, R]}, {@code magnitude} all of {@code [N]}; the ranks' partial sums of squares meet in one
     * all-reduce. F32 {@code [N]} on the rank's device.
     */
    static Tensor forRow(Tensor w, Tensor a, Tensor b, float scale, float[] magnitude, RankContext ctx) {
        double[] partial = sumsOfSquares(w, a, b, scale);
        float[] asFloats = new float[partial.length];
        for (int n = 0; n < partial.length; n++) {
            asFloats[n] = (float) partial[n];
        }
        float[] total;
        try (Tensor host = Tensor.ofFloats(DType.F32, asFloats, asFloats.length);
             Tensor sums = host.copyTo(ctx.device())) {
            ctx.tp().allReduce(ctx.exec(), sums, ReduceOp.SUM);
            total = sums.toFloatArray();
        }
        double[] squares = new double[total.length];
        for (int n = 0; n < total.length; n++) {
            squares[n] = total[n];
        }
        return scaleTensor(squares, magnitude, ctx.device());
    }

    /** {@code Σ_k (w[n,k] + s·Σ_r b[n,r]·a[r,k])²} for each row {@code n} of {@code w}, in double. */
    static double[] sumsOfSquares(Tensor w, Tensor a, Tensor b, float scale) {
        int n = Math.toIntExact(w.dim(0));
        int k = Math.toIntExact(w.dim(1));
        int r = Math.toIntExact(a.dim(0));
        float[] wv = w.toFloatArray();
        float[] av = a.toFloatArray();
        float[] bv = b.toFloatArray();
        double[] out = new double[n];
        double[] row = new double[k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                row[j] = wv[i * k + j];
            }
            for (int q = 0; q < r; q++) {
                double sb = (double) scale * bv[i * r + q];
                for (int j = 0; j < k; j++) {
                    row[j] += sb * av[q * k + j];
                }
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += row[j] * row[j];
            }
            out[i] = sum;
        }
        return out;
    }

    private static Tensor scaleTensor(double[] squares, float[] magnitude, Device device) {
        float[] g = new float[squares.length];
        for (int n = 0; n < g.length; n++) {
            g[n] = (float) (magnitude[n] / Math.sqrt(squares[n]));
        }
        try (Tensor host = Tensor.ofFloats(DType.F32, g, g.length)) {
            return host.copyTo(device);
        }
    }
}
