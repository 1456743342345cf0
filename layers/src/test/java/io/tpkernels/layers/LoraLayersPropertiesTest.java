package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.GemmReference;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * LoRA layers under tensor parallelism (SEMANTICS.md section 6): sharded output equals the unsharded
 * {@code x·Wᵀ + s·(x·Aᵀ)·Bᵀ}; the initialisation, gathered, equals the unsharded one bit for bit; with
 * {@code B = 0} the output is the base layer's exactly; exactly as many collectives as the base layer.
 */
class LoraLayersPropertiesTest {

    @Provide
    Arbitrary<Integer> tps() {
        return Arbitraries.of(1, 2, 3, 4, 8);
    }

    /** {@code x·Wᵀ + s·(x·Aᵀ)·Bᵀ} in double and its tolerance scale. */
    static double[][][] reference(float[] x, float[] w, float[] a, float[] b, float s, int t, int n, int k, int r) {
        double[][][] ref = GemmReference.multiplyNT(x, w, t, n, k);
        double[][][] xa = GemmReference.multiplyNT(x, a, t, r, k);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                for (int q = 0; q < r; q++) {
                    ref[0][i][j] += s * xa[0][i][q] * b[j * r + q];
                    ref[1][i][j] += Math.abs(s) * xa[1][i][q] * Math.abs(b[j * r + q]) * 2;
                }
            }
        }
        return ref;
    }

    @Property(tries = 20)
    void shardedAdapterOutputEqualsTheUnshardedMath(@ForAll("tps") int tp, @ForAll @IntRange(min = 1, max = 4) int perRank,
                                                    @ForAll @IntRange(min = 1, max = 4) int otherPerRank,
                                                    @ForAll @IntRange(min = 1, max = 8) int r,
                                                    @ForAll @IntRange(min = 1, max = 5) int t,
                                                    @ForAll boolean rowParallel, @ForAll boolean shardedFiles) {
        check(Device.CPU, tp, perRank * tp, otherPerRank * tp, r, t, rowParallel, shardedFiles);
    }

    static void check(Device device, int tp, int n, int k, int r, int t, boolean rowParallel, boolean shardedFiles) {
        float scale = 0.75f;
        try (InMemoryWeights weights = Harness.randomWeights(n * 7L + k + r, DType.F32,
                Map.of("w", new long[] {n, k}, "a", new long[] {r, k}, "b", new long[] {n, r}))) {
            float[] w = Harness.floats(weights, "w");
            float[] a = Harness.floats(weights, "a");
            float[] b = Harness.floats(weights, "b");
            float[] x = Harness.drain(Harness.activations(t * 19L + k, DType.F32, Device.CPU, t, k));
            List<float[]> outs = Harness.onRanks(tp, device, Precision.F32, ctx -> {
                // The adapter as a full checkpoint, or already cut to this rank's shard.
                try (InMemoryWeights adapter = shardedFiles ? localAdapter(weights, ctx, rowParallel, n, k, r)
                        : Harness.randomWeights(0, DType.F32, Map.of());
                     Tensor xh = Tensor.ofFloats(DType.F32, x, t, k); Tensor xr = xh.copyTo(device)) {
                    var src = new LoraSource.FromAdapter(shardedFiles ? adapter : weights, "a", "b", scale);
                    if (rowParallel) {
                        try (LoRARowParallelLinear l = LoRARowParallelLinear.load(weights, "w", null, n, k, ctx, false,
                                Tokens.REPLICATED, src)) {
                            return Harness.drain(l.forward(xr));
                        }
                    }
                    try (LoRAColumnParallelLinear l = LoRAColumnParallelLinear.load(weights, "w", null, n, k, ctx,
                            Tokens.REPLICATED, true, src)) {
                        return Harness.drain(l.forward(xr));
                    }
                }
            });
            double[][][] ref = reference(x, w, a, b, scale, t, n, k, r);
            for (int rank = 0; rank < tp; rank++) {
                GemmReference.assertClose(ref, outs.get(rank), n, false, (rowParallel ? "row" : "column")
                        + "-parallel LoRA rank " + rank);
            }
        }
    }

    /** This rank's slices of a full adapter, stored under the same names. */
    private static InMemoryWeights localAdapter(InMemoryWeights full, RankContext ctx, boolean rowParallel, int n, int k,
                                                int r) {
        Tensor a = full.view("a");
        Tensor b = full.view("b");
        Tensor localA = rowParallel ? io.tpkernels.ops.Slabs.narrow(a, 1, ctx.rank() * (k / ctx.size()), k / ctx.size())
                : a.copyTo(Device.CPU);
        Tensor localB = rowParallel ? b.copyTo(Device.CPU)
                : io.tpkernels.ops.Slabs.narrow(b, 0, ctx.rank() * (n / ctx.size()), n / ctx.size());
        return new InMemoryWeights("rank " + ctx.rank() + "'s adapter", Map.of("a", localA, "b", localB));
    }

    @Property(tries = 20)
    void initialisationGatheredEqualsTheUnshardedOneBitForBit(@ForAll("tps") int tp,
                                                               @ForAll @IntRange(min = 1, max = 4) int perRank,
                                                               @ForAll @IntRange(min = 1, max = 16) int r,
                                                               @ForAll @IntRange(min = 0, max = 1000) int seed,
                                                               @ForAll boolean rowParallel) {
        int n = 3 * tp;
        int k = perRank * tp;
        try (InMemoryWeights weights = Harness.randomWeights(seed, DType.F32, Map.of("w", new long[] {n, k}))) {
            var init = new LoraSource.Initialized(r, 2f, seed);
            List<float[][]> sharded = initialised(weights, tp, n, k, init, rowParallel);
            float[][] unsharded = initialised(weights, 1, n, k, init, rowParallel).get(0);
            double bound = LoraInit.bound(k) * (1 + 0x1p-8); // the draws are stored in BF16: half an ulp over
            for (float v : unsharded[0]) {
                assertTrue(Math.abs(v) <= bound, "Kaiming-uniform draw " + v + " within 1/√K (rounded) = " + bound);
            }
            for (int rank = 0; rank < tp; rank++) {
                assertArrayEquals(unsharded[0], sharded.get(rank)[0], "A gathered on rank " + rank);
                assertArrayEquals(new float[sharded.get(rank)[1].length], sharded.get(rank)[1], "B starts at zero");
            }
        }
    }

    /** Per rank: {A gathered to [R, K] in bf16, B}. */
    private static List<float[][]> initialised(InMemoryWeights weights, int tp, int n, int k, LoraSource init,
                                               boolean rowParallel) {
        return Harness.onRanks(tp, Device.CPU, Precision.BF16, ctx -> {
            if (rowParallel) {
                try (LoRARowParallelLinear l = LoRARowParallelLinear.load(weights, "w", null, n, k, ctx, true,
                        Tokens.REPLICATED, init)) {
                    return new float[][] {Harness.drain(ctx.tp().allGather(l.loraA(), 1)), l.loraB().toFloatArray()};
                }
            }
            try (LoRAColumnParallelLinear l = LoRAColumnParallelLinear.load(weights, "w", null, n, k, ctx,
                    Tokens.REPLICATED, false, init)) {
                return new float[][] {l.loraA().toFloatArray(), l.loraB().toFloatArray()};
            }
        });
    }

    @Property(tries = 15)
    void withBZeroTheOutputIsTheBaseLayersExactlyAndTheCollectivesAreTheSame(
            @ForAll("tps") int tp, @ForAll @IntRange(min = 1, max = 3) int perRank, @ForAll @IntRange(min = 1, max = 4) int t,
            @ForAll boolean rowParallel, @ForAll boolean gather) {
        int n = 2 * tp;
        int k = perRank * tp;
        try (InMemoryWeights weights = Harness.randomWeights(k, DType.BF16, Map.of("w", new long[] {n, k}, "bias",
                new long[] {n}))) {
            float[] x = Harness.drain(Harness.activations(t, DType.BF16, Device.CPU, t, k));
            List<Object[]> outs = LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
                RecordingGroup base = new RecordingGroup(g);
                RecordingGroup lora = new RecordingGroup(g);
                RankContext baseCtx = new RankContext(base, Device.CPU, Precision.BF16);
                RankContext loraCtx = new RankContext(lora, Device.CPU, Precision.BF16);
                var init = new LoraSource.Initialized(4, 3f, 42);
                try (Tensor xr = Tensor.ofFloats(DType.BF16, x, t, k)) {
                    if (rowParallel) {
                        try (RowParallelLinear plain = RowParallelLinear.load(weights, "w", "bias", n, k, baseCtx, false,
                                Tokens.REPLICATED);
                             LoRARowParallelLinear adapted = LoRARowParallelLinear.load(weights, "w", "bias", n, k,
                                     loraCtx, false, Tokens.REPLICATED, init)) {
                            lora.calls.clear(); // the initialisation's scatter is not part of a forward
                            return new Object[] {Harness.drain(plain.forward(xr)), Harness.drain(adapted.forward(xr)),
                                    base.calls, lora.calls};
                        }
                    }
                    try (ColumnParallelLinear plain = ColumnParallelLinear.load(weights, "w", "bias", n, k, baseCtx,
                            Tokens.REPLICATED, gather);
                         LoRAColumnParallelLinear adapted = LoRAColumnParallelLinear.load(weights, "w", "bias", n, k,
                                 loraCtx, Tokens.REPLICATED, gather, init)) {
                        lora.calls.clear(); // the initialisation's broadcast is not part of a forward
                        return new Object[] {Harness.drain(plain.forward(xr)), Harness.drain(adapted.forward(xr)),
                                base.calls, lora.calls};
                    }
                }
            });
            for (Object[] o : outs) {
                assertArrayEquals((float[]) o[0], (float[]) o[1], "B = 0: LoRA output equals the base output exactly");
                assertEquals(o[2], o[3], "the LoRA layer issues the base layer's collectives and no other");
                List<String> expected = rowParallel ? List.of("allReduce") : gather ? List.of("allGather") : List.of();
                assertEquals(expected, o[3]);
            }
        }
    }

    @Test
    void anAdapterTensorOfTheWrongShapeNamesTheTensorBothShapesTpAndTheRank() {
        try (InMemoryWeights weights = Harness.randomWeights(3, DType.F32, Map.of("w", new long[] {8, 6},
                "a", new long[] {2, 6}, "b", new long[] {5, 2}))) {
            var e = assertThrows(IllegalArgumentException.class, () -> Harness.onRanks(2, Device.CPU, Precision.F32,
                    ctx -> LoRAColumnParallelLinear.load(weights, "w", null, 8, 6, ctx, Tokens.REPLICATED, false,
                            new LoraSource.FromAdapter(weights, "a", "b", 1f))));
            String m = e.getMessage();
            assertTrue(m.contains("tensor b") && m.contains(Arrays.toString(new long[] {5, 2}))
                    && m.contains(Arrays.toString(new long[] {8, 2})) && m.contains(Arrays.toString(new long[] {4, 2}))
                    && m.contains("tp 2") && m.contains("rank "), m);
        }
    }
}
