package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Column- and row-parallel linear layers on tp ranks equal the unsharded {@code x·Wᵀ + b} (double reference,
 * tolerance by dtype), for every input and output layout, in F32, F16 and BF16.
 */
class ParallelLinearPropertiesTest {

    @Property(tries = 25)
    void columnParallelEqualsTheUnshardedProduct(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 5) int perRank,
                                                 @ForAll @IntRange(min = 1, max = 40) int k,
                                                 @ForAll @IntRange(min = 1, max = 4) int tokensPerRank,
                                                 @ForAll boolean withBias, @ForAll boolean sequenceParallel,
                                                 @ForAll boolean gather, @ForAll Precision precision) {
        column(Device.CPU, precision, tp, perRank * tp, k, tokensPerRank * tp, withBias, sequenceParallel, gather);
    }

    @Property(tries = 25)
    void rowParallelEqualsTheUnshardedProduct(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 5) int perRank,
                                              @ForAll @IntRange(min = 1, max = 40) int n,
                                              @ForAll @IntRange(min = 1, max = 4) int tokensPerRank,
                                              @ForAll boolean withBias, @ForAll boolean inputIsParallel,
                                              @ForAll boolean reduceScatter, @ForAll Precision precision) {
        row(Device.CPU, precision, tp, n, perRank * tp, tokensPerRank * tp, withBias, inputIsParallel, reduceScatter);
    }

    /** y = x·Wᵀ + b and its tolerance scale, in double. */
    static double[][][] reference(float[] x, float[] w, float[] b, int t, int n, int k) {
        double[][][] ref = GemmReference.multiplyNT(x, w, t, n, k);
        if (b != null) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < n; j++) {
                    ref[0][i][j] += b[j];
                    ref[1][i][j] += Math.abs(b[j]);
                }
            }
        }
        return ref;
    }

    /** The column-parallel property on {@code device}: weights and activations in {@code precision}'s dtype. */
    static void column(Device device, Precision precision, int tp, int n, int k, int t, boolean withBias,
                       boolean sequenceParallel, boolean gather) {
        DType dtype = precision.dtype();
        try (InMemoryWeights weights = Harness.randomWeights(n * 31L + k, dtype,
                Map.of("w", new long[] {n, k}, "b", new long[] {n}))) {
            float[] x = Harness.drain(Harness.activations(t * 7L + k, dtype, Device.CPU, t, k));
            List<float[]> outs = Harness.onRanks(tp, device, precision, ctx -> {
                int rows = sequenceParallel ? t / tp : t;
                int first = sequenceParallel ? ctx.rank() * rows : 0;
                try (ColumnParallelLinear layer = ColumnParallelLinear.load(weights, "w", withBias ? "b" : null, n, k,
                        ctx, sequenceParallel ? Tokens.SHARDED : Tokens.REPLICATED, gather);
                     Tensor xh = Tensor.ofFloats(dtype, java.util.Arrays.copyOfRange(x, first * k, (first + rows) * k),
                             rows, k);
                     Tensor xr = xh.copyTo(device)) {
                    return Harness.drain(layer.forward(xr));
                }
            });
            double[][][] ref = reference(x, Harness.floats(weights, "w"), withBias ? Harness.floats(weights, "b") : null,
                    t, n, k);
            for (int r = 0; r < tp; r++) {
                if (gather) {
                    Tolerance.assertClose(ref, outs.get(r), n, dtype, "column-parallel rank " + r);
                } else {
                    int cols = n / tp;
                    double[][][] mine = columns(ref, r * cols, cols);
                    Tolerance.assertClose(mine, outs.get(r), cols, dtype, "column-parallel shard of rank " + r);
                }
            }
            if (gather) {
                for (int r = 1; r < tp; r++) {
                    assertArrayEquals(outs.get(0), outs.get(r), "every rank sees the same gathered output");
                }
            }
        }
    }

    /** The row-parallel property on {@code device}: weights and activations in {@code precision}'s dtype. */
    static void row(Device device, Precision precision, int tp, int n, int k, int t, boolean withBias,
                    boolean inputIsParallel, boolean reduceScatter) {
        DType dtype = precision.dtype();
        try (InMemoryWeights weights = Harness.randomWeights(n * 13L + k, dtype,
                Map.of("w", new long[] {n, k}, "b", new long[] {n}))) {
            float[] x = Harness.drain(Harness.activations(t * 5L + k, dtype, Device.CPU, t, k));
            List<float[]> outs = Harness.onRanks(tp, device, precision, ctx -> {
                try (RowParallelLinear layer = RowParallelLinear.load(weights, "w", withBias ? "b" : null, n, k, ctx,
                        inputIsParallel, reduceScatter ? Tokens.SHARDED : Tokens.REPLICATED);
                     Tensor full = Tensor.ofFloats(dtype, x, t, k);
                     Tensor xh = inputIsParallel
                             ? io.tpkernels.runtime.Slabs.narrow(ExecutionContext.defaultFor(full.device()), full, 1, ctx.rank() * (k / tp), k / tp) : full.copyTo(Device.CPU);
                     Tensor xr = xh.copyTo(device)) {
                    return Harness.drain(layer.forward(xr));
                }
            });
            double[][][] ref = reference(x, Harness.floats(weights, "w"), withBias ? Harness.floats(weights, "b") : null,
                    t, n, k);
            for (int r = 0; r < tp; r++) {
                double[][][] expected = reduceScatter ? rows(ref, r * (t / tp), t / tp) : ref;
                Tolerance.assertClose(expected, outs.get(r), n, dtype, "row-parallel rank " + r);
            }
        }
    }

    /** Columns {@code [from, from+count)} of a reference. */
    static double[][][] columns(double[][][] ref, int from, int count) {
        double[][][] out = new double[ref.length][ref[0].length][count];
        for (int a = 0; a < ref.length; a++) {
            for (int i = 0; i < ref[a].length; i++) {
                System.arraycopy(ref[a][i], from, out[a][i], 0, count);
            }
        }
        return out;
    }

    /** Rows {@code [from, from+count)} of a reference. */
    static double[][][] rows(double[][][] ref, int from, int count) {
        double[][][] out = new double[ref.length][][];
        for (int a = 0; a < ref.length; a++) {
            out[a] = java.util.Arrays.copyOfRange(ref[a], from, from + count);
        }
        return out;
    }
}
