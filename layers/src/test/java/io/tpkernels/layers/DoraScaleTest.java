package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;
import io.tpkernels.testing.RecordingGroup;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DoRA's scale {@code g = m / ‖W + s·B·A‖_row} as each rank holds it, against the unsharded norm computed here in
 * double from the tensors PEFT wrote (the {@code dora} fixture: its layer-0 projections, {@code r = 4},
 * {@code alpha = 8}): row-parallel ranks (a slice of every row each, partial sums of squares all-reduced once) hold
 * all of {@code g}, column-parallel ranks their rows of it.
 */
class DoraScaleTest {
    private static final float SCALE = 2f;
    private static final String DOWN = "model.layers.0.mlp.down_proj";
    private static final String UP = "model.layers.0.mlp.up_proj";

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void rowParallelRanksHoldTheUnshardedScale(int tp) {
        try (WeightSource base = open("base"); WeightSource adapter = open("dora/adapter_model.safetensors")) {
            double[] expected = unshardedScale(base, adapter, DOWN);
            List<float[]> got = Harness.onRanks(tp, Device.CPU, Precision.F32, ctx -> {
                try (LoraRowParallelLinear layer = LoraRowParallelLinear.load(base, DOWN + ".weight", null, 12, 24, ctx,
                        true, Tokens.REPLICATED, source(adapter, DOWN))) {
                    return layer.doraScale().toFloatArray();
                }
            });
            for (int rank = 0; rank < tp; rank++) {
                assertClose(expected, 0, got.get(rank), "row-parallel rank " + rank + " of tp " + tp);
            }
        }
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void columnParallelRanksHoldTheirRowsOfTheScale(int tp) {
        try (WeightSource base = open("base"); WeightSource adapter = open("dora/adapter_model.safetensors")) {
            double[] expected = unshardedScale(base, adapter, UP);
            List<float[]> got = Harness.onRanks(tp, Device.CPU, Precision.F32, ctx -> {
                try (LoraColumnParallelLinear layer = LoraColumnParallelLinear.load(base, UP + ".weight", null, 24, 12,
                        ctx, Tokens.REPLICATED, false, source(adapter, UP))) {
                    return layer.doraScale().toFloatArray();
                }
            });
            for (int rank = 0; rank < tp; rank++) {
                ShardRange rows = ShardRange.of(24, tp, rank);
                assertEquals(rows.length(), got.get(rank).length, "rank " + rank + "'s rows of g");
                assertClose(expected, (int) rows.start(), got.get(rank), "column-parallel rank " + rank + " of tp " + tp);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void theNormCostsOneAllReduceAtLoadAndTheForwardNoneMore() {
        try (WeightSource base = open("base"); WeightSource adapter = open("dora/adapter_model.safetensors")) {
            List<List<String>> calls = Harness.onRanks(3, Device.CPU, Precision.F32, ctx -> {
                RecordingGroup rec = new RecordingGroup(ctx.tp());
                RankContext recorded = new RankContext(rec, ctx.exec(), ctx.precision());
                try (LoraRowParallelLinear down = LoraRowParallelLinear.load(base, DOWN + ".weight", null, 12, 24,
                        recorded, false, Tokens.REPLICATED, source(adapter, DOWN));
                     LoraColumnParallelLinear up = LoraColumnParallelLinear.load(base, UP + ".weight", null, 24, 12,
                             recorded, Tokens.REPLICATED, false, source(adapter, UP));
                     Tensor x = Harness.activations(5, io.tpkernels.runtime.DType.F32, Device.CPU, 3, 24);
                     Tensor h = Harness.activations(6, io.tpkernels.runtime.DType.F32, Device.CPU, 3, 12)) {
                    List<String> load = List.copyOf(rec.calls);
                    rec.calls.clear();
                    down.forward(x).close();
                    up.forward(h).close();
                    return List.of(String.join(",", load), String.join(",", rec.calls));
                }
            });
            for (List<String> rank : calls) {
                assertEquals("allReduce SUM", rank.get(0), "loading: the row-parallel norm's one all-reduce, nothing else");
                assertEquals("allReduce SUM", rank.get(1), "a forward: the row-parallel layer's one collective, nothing else");
            }
        }
    }

    private static LoraSource source(WeightSource adapter, String module) {
        String p = "base_model.model." + module + ".";
        return new LoraSource.FromAdapter(adapter, p + "lora_A.weight", p + "lora_B.weight", SCALE, 4,
                p + "lora_magnitude_vector");
    }

    /** {@code m[n] / sqrt(Σ_k (W[n,k] + s·Σ_r B[n,r]·A[r,k])²)} over the full rows, in double. */
    private static double[] unshardedScale(WeightSource base, WeightSource adapter, String module) {
        String p = "base_model.model." + module + ".";
        Tensor wt = base.view(module + ".weight");
        float[] w = wt.toFloatArray();
        float[] a = adapter.view(p + "lora_A.weight").toFloatArray();
        float[] b = adapter.view(p + "lora_B.weight").toFloatArray();
        float[] m = adapter.view(p + "lora_magnitude_vector").toFloatArray();
        int n = (int) wt.dim(0);
        int k = (int) wt.dim(1);
        int r = a.length / k;
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                double v = w[i * k + j];
                for (int q = 0; q < r; q++) {
                    v += SCALE * (double) b[i * r + q] * a[q * k + j];
                }
                sum += v * v;
            }
            g[i] = m[i] / Math.sqrt(sum);
        }
        return g;
    }

    private static void assertClose(double[] expected, int from, float[] got, String what) {
        double farthestFromOne = 0;
        for (int i = 0; i < got.length; i++) {
            double e = expected[from + i];
            assertTrue(Math.abs(got[i] - e) <= 1e-6 * Math.abs(e),
                    what + ": g[" + (from + i) + "] is " + got[i] + ", the unsharded norm gives " + e);
            farthestFromOne = Math.max(farthestFromOne, Math.abs(e - 1));
        }
        assertTrue(farthestFromOne > 0.05, what + ": g is all but 1, too close to tell a norm from none");
    }

    private static WeightSource open(String path) {
        try {
            Path root = Path.of(DoraScaleTest.class.getResource("/peft/manifest.json").toURI()).getParent();
            return SafetensorsCheckpoint.open(root.resolve(path));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
