package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * LoRA layers under tensor parallelism (docs/contract.md section 8): the sharded output equals the unsharded
 * {@code x·Wᵀ + s·(x·Aᵀ)·Bᵀ + b} (double reference, tolerance by dtype) in every layout of
 * {@link LoraLayout}, with the adapter read whole or already cut to each rank's shard.
 */
class LoraLayersPropertiesTest {

    @Provide
    Arbitrary<LoraLayout> layouts() {
        return Arbitraries.of(LoraLayout.all());
    }

    /** {@code x·Wᵀ + s·(x·Aᵀ)·Bᵀ + bias} ({@code bias} may be null) in double, and its tolerance scale. */
    static double[][][] reference(float[] x, float[] w, float[] a, float[] b, float[] bias, float s, int t, int n,
                                  int k, int r) {
        double[][][] ref = GemmReference.multiplyNT(x, w, t, n, k);
        double[][][] xa = GemmReference.multiplyNT(x, a, t, r, k);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                for (int q = 0; q < r; q++) {
                    ref[0][i][j] += s * xa[0][i][q] * b[j * r + q];
                    ref[1][i][j] += Math.abs(s) * xa[1][i][q] * Math.abs(b[j * r + q]) * 2;
                }
                if (bias != null) {
                    ref[0][i][j] += bias[j];
                    ref[1][i][j] += Math.abs(bias[j]);
                }
            }
        }
        return ref;
    }

    @Property(tries = 30)
    void shardedAdapterOutputEqualsTheUnshardedMath(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 4) int perRank,
                                                    @ForAll @IntRange(min = 1, max = 4) int otherPerRank,
                                                    @ForAll @IntRange(min = 1, max = 12) int r,
                                                    @ForAll @IntRange(min = 1, max = 3) int tokensPerRank,
                                                    @ForAll("layouts") LoraLayout layout, @ForAll boolean shardedFiles,
                                                    @ForAll boolean withBias, @ForAll Precision precision) {
        check(Device.CPU, precision, tp, perRank * tp, otherPerRank * tp, r, tokensPerRank * tp, layout, shardedFiles,
                withBias);
    }

    /**
     * The property on {@code device}: {@code W [n, k]}, {@code A [r, k]}, {@code B [n, r]}, a bias when
     * {@code withBias}, and {@code t} tokens, all in {@code precision}'s dtype. Every rank's output is compared.
     */
    static void check(Device device, Precision precision, int tp, int n, int k, int r, int t, LoraLayout layout,
                      boolean shardedFiles, boolean withBias) {
        float scale = 0.75f;
        DType dtype = precision.dtype();
        try (InMemoryWeights weights = Harness.randomWeights(n * 7L + k + r, dtype, Map.of("w", new long[] {n, k},
                "a", new long[] {r, k}, "b", new long[] {n, r}, "bias", new long[] {n}))) {
            float[] x = Harness.drain(Harness.activations(t * 19L + k, dtype, Device.CPU, t, k));
            String bias = withBias ? "bias" : null;
            List<float[]> outs = Harness.onRanks(tp, device, precision, ctx -> {
                // The adapter as a full checkpoint, or already cut to this rank's shard.
                try (InMemoryWeights adapter = shardedFiles ? localAdapter(weights, ctx, layout.rowParallel(), n, k)
                        : Harness.randomWeights(0, dtype, Map.of());
                     Tensor xh = layout.input(x, t, k, dtype, ctx.rank(), tp); Tensor xr = xh.copyTo(device);
                     LoraLayout.Layer layer = layout.load(weights, bias, n, k, ctx,
                             new LoraSource.FromAdapter(shardedFiles ? adapter : weights, "a", "b", scale))) {
                    return Harness.drain(layer.forward().apply(xr));
                }
            });
            double[][][] ref = reference(x, Harness.floats(weights, "w"), Harness.floats(weights, "a"),
                    Harness.floats(weights, "b"), withBias ? Harness.floats(weights, "bias") : null, scale, t, n, k, r);
            for (int rank = 0; rank < tp; rank++) {
                Tolerance.assertClose(layout.expected(ref, t, n, rank, tp), outs.get(rank), layout.outputColumns(n, tp),
                        dtype, "LoRA " + layout + ", tp " + tp + ", rank " + rank);
            }
            if (!layout.rowParallel() && !layout.featuresSharded() || layout.rowParallel() && !layout.tokensSharded()) {
                for (int rank = 1; rank < tp; rank++) {
                    assertArrayEquals(outs.get(0), outs.get(rank), "every rank sees the same replicated output");
                }
            }
        }
    }

    /** This rank's slices of a full adapter, stored under the same names. */
    static InMemoryWeights localAdapter(InMemoryWeights full, RankContext ctx, boolean rowParallel, int n, int k) {
        Tensor a = full.view("a");
        Tensor b = full.view("b");
        Tensor localA = rowParallel ? Slabs.narrow(ExecutionContext.defaultFor(a.device()), a, 1, ctx.rank() * (k / ctx.size()), k / ctx.size())
                : a.copyTo(Device.CPU);
        Tensor localB = rowParallel ? b.copyTo(Device.CPU)
                : Slabs.narrow(ExecutionContext.defaultFor(b.device()), b, 0, ctx.rank() * (n / ctx.size()), n / ctx.size());
        return new InMemoryWeights("rank " + ctx.rank() + "'s adapter", Map.of("a", localA, "b", localB));
    }
}
