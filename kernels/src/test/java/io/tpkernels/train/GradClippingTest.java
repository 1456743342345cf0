package io.tpkernels.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import io.tpkernels.testing.RecordingGroup;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The global gradient norm over replicated and sharded parameters at tp 1, 2 and 4 against the unsharded norm in
 * double (within 1e-6 relative: a rank's sharded partial is rounded to F32 once before the reduction), clipping,
 * and replicated parameters bit-identical on every rank through clipped AdamW steps.
 */
class GradClippingTest {
    private static final double REL = 1e-6;
    /** A replicated parameter {@code [R_ROWS, COLS]}, a sharded one {@code [S_ROWS, COLS]} split by rows. */
    private static final int R_ROWS = 3;
    private static final int S_ROWS = 8;
    private static final int COLS = 5;

    /** The full gradient of the replicated parameter at {@code step}: the same on every rank. */
    private static float[] replicatedGrad(long seed, int step) {
        return RandomData.floats(seed * 1000 + step, R_ROWS * COLS);
    }

    /** The full gradient of the sharded parameter at {@code step}; rank {@code r} of {@code tp} holds its rows slice. */
    private static float[] shardedGrad(long seed, int step) {
        return RandomData.floats(seed * 1000 + 500 + step, S_ROWS * COLS);
    }

    private static float[] slice(float[] full, int tp, int rank) {
        int rows = S_ROWS / tp;
        return Arrays.copyOfRange(full, rank * rows * COLS, (rank + 1) * rows * COLS);
    }

    private static double squareSum(float[] g) {
        double s = 0;
        for (float x : g) {
            s += (double) x * x;
        }
        return s;
    }

    /** One rank's parameters: the replicated one whole, its slice of the sharded one, with step 0's gradients. */
    private static List<Parameter> parameters(int tp, int rank, long seed) {
        float[] r = replicatedGrad(seed, 0);
        float[] s = slice(shardedGrad(seed, 0), tp, rank);
        return List.of(
                new Parameter("lora_A", Tensor.ofFloats(DType.F32, RandomData.moderate(seed, r.length), R_ROWS, COLS),
                        Tensor.ofFloats(DType.F32, r, R_ROWS, COLS), Placement.REPLICATED),
                new Parameter("lora_B", Tensor.ofFloats(DType.F32, slice(RandomData.moderate(seed + 1, S_ROWS * COLS),
                        tp, rank), S_ROWS / tp, COLS), Tensor.ofFloats(DType.F32, s, S_ROWS / tp, COLS),
                        Placement.SHARDED));
    }

    private static void close(List<Parameter> params) {
        for (Parameter p : params) {
            p.value().close();
            p.grad().close();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void theNormCountsAReplicatedParameterOnceAndSumsShardedPartials(int tp) {
        long seed = 3;
        double want = Math.sqrt(squareSum(replicatedGrad(seed, 0)) + squareSum(shardedGrad(seed, 0)));
        List<double[]> got = LocalGroup.run(tp, group -> {
            RecordingGroup recording = new RecordingGroup(group);
            List<Parameter> params = parameters(tp, group.rank(), seed);
            try {
                double norm = GradClipping.globalNorm(ExecutionContext.cpu(), recording, params);
                assertEquals(List.of("allReduce SUM"), recording.calls, "one all-reduce for the sharded partials");
                return new double[] {norm};
            } finally {
                close(params);
            }
        });
        for (double[] norm : got) {
            assertEquals(Double.doubleToRawLongBits(got.get(0)[0]), Double.doubleToRawLongBits(norm[0]),
                    "the same norm on every rank");
            assertTrue(Math.abs(norm[0] - want) <= REL * want, "tp " + tp + ": norm " + norm[0] + " vs " + want);
        }
    }

    @Test
    void replicatedParametersAloneNeedNoCollective() {
        float[] g = RandomData.floats(4, 12);
        double want = Math.sqrt(squareSum(g));
        LocalGroup.run(4, group -> {
            RecordingGroup recording = new RecordingGroup(group);
            try (Tensor value = Tensor.ofFloats(DType.F32, RandomData.moderate(5, 12), 12);
                 Tensor grad = Tensor.ofFloats(DType.F32, g, 12)) {
                double norm = GradClipping.globalNorm(ExecutionContext.cpu(), recording,
                        List.of(new Parameter("A", value, grad, Placement.REPLICATED)));
                assertEquals(List.of(), recording.calls);
                assertTrue(Math.abs(norm - want) <= REL * want, norm + " vs " + want);
            }
            return null;
        });
    }

    @Property(tries = 30)
    void clippingScalesEveryGradientByTheSameFactor(@ForAll @IntRange(min = 1, max = 200) int percentOfNorm,
                                                   @ForAll long seed) {
        int tp = 2;
        double full = Math.sqrt(squareSum(replicatedGrad(seed, 0)) + squareSum(shardedGrad(seed, 0)));
        double maxNorm = full * percentOfNorm / 100.0;
        double factor = Math.min(1, maxNorm / (full + GradClipping.EPSILON));
        LocalGroup.run(tp, group -> {
            List<Parameter> params = parameters(tp, group.rank(), seed);
            try {
                double norm = GradClipping.clip(ExecutionContext.cpu(), group, params, maxNorm);
                assertTrue(Math.abs(norm - full) <= REL * full, norm + " vs " + full);
                float[][] before = {replicatedGrad(seed, 0), slice(shardedGrad(seed, 0), tp, group.rank())};
                for (int k = 0; k < 2; k++) {
                    float[] after = params.get(k).grad().toFloatArray();
                    if (factor >= 1) {
                        assertArrayEquals(before[k], after, 0f, "a factor of 1 leaves the gradient untouched");
                        continue;
                    }
                    for (int i = 0; i < after.length; i++) {
                        double want = before[k][i] * factor;
                        assertTrue(Math.abs(after[i] - want) <= REL * Math.abs(want),
                                params.get(k).name() + "[" + i + "] = " + after[i] + " vs " + want);
                    }
                }
                if (factor < 1) {
                    double clipped = GradClipping.globalNorm(ExecutionContext.cpu(), group, params);
                    assertTrue(Math.abs(clipped - maxNorm) <= REL * maxNorm, "clipped to " + clipped);
                }
            } finally {
                close(params);
            }
            return null;
        });
    }

    /**
     * Five clipped AdamW steps with fresh gradients each step: the replicated parameter is bit-identical on every
     * rank, and every parameter matches the unsharded run (tp 1) within 1e-6 relative.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    void replicatedParametersStayBitIdenticalThroughClippedSteps(int tp) {
        long seed = 9;
        List<float[][]> unsharded = train(1, seed);
        List<float[][]> ranks = train(tp, seed);
        for (int r = 0; r < tp; r++) {
            assertArrayEquals(bits(ranks.get(0)[0]), bits(ranks.get(r)[0]), "rank " + r + "'s replicated parameter");
        }
        for (int r = 0; r < tp; r++) {
            assertClose(unsharded.get(0)[0], ranks.get(r)[0], "replicated, rank " + r);
            assertClose(slice(unsharded.get(0)[1], tp, r), ranks.get(r)[1], "sharded, rank " + r);
        }
    }

    /** Every rank's parameter values after five steps of clip-then-AdamW, clipping active at every step. */
    private static List<float[][]> train(int tp, long seed) {
        return LocalGroup.run(tp, group -> {
            ExecutionContext ctx = ExecutionContext.cpu();
            List<Parameter> params = parameters(tp, group.rank(), seed);
            try (AdamW adam = new AdamW(ctx, AdamWConfig.of(1e-2).withWeightDecay(0.01), params)) {
                for (int step = 1; step <= 5; step++) {
                    try (Tensor r = Tensor.ofFloats(DType.F32, replicatedGrad(seed, step), R_ROWS, COLS);
                         Tensor s = Tensor.ofFloats(DType.F32, slice(shardedGrad(seed, step), tp, group.rank()),
                                 S_ROWS / tp, COLS)) {
                        params.get(0).grad().copyFrom(r);
                        params.get(1).grad().copyFrom(s);
                    }
                    double norm = GradClipping.clip(ctx, group, params, 1.0);
                    assertTrue(norm > 1.0, "clipping is active: norm " + norm);
                    adam.step(ctx);
                }
                return new float[][] {params.get(0).value().toFloatArray(), params.get(1).value().toFloatArray()};
            } finally {
                close(params);
            }
        });
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= REL * Math.abs(want[i]), what + "[" + i + "] = " + got[i]
                    + " vs " + want[i]);
        }
    }

    @Test
    void aNanGradientShowsInEveryGradientAndABadMaximumIsRefused() {
        LocalGroup.run(2, group -> {
            float[] g = RandomData.floats(6, 4);
            g[group.rank()] = group.rank() == 1 ? Float.NaN : g[group.rank()];
            try (Tensor value = Tensor.ofFloats(DType.F32, RandomData.moderate(7, 4), 4);
                 Tensor grad = Tensor.ofFloats(DType.F32, g, 4);
                 Tensor otherValue = Tensor.ofFloats(DType.F32, RandomData.moderate(8, 3), 3);
                 Tensor otherGrad = Tensor.ofFloats(DType.F32, RandomData.floats(9, 3), 3)) {
                List<Parameter> params = List.of(new Parameter("B", value, grad, Placement.SHARDED),
                        new Parameter("A", otherValue, otherGrad, Placement.REPLICATED));
                assertThrows(IllegalArgumentException.class,
                        () -> GradClipping.clip(ExecutionContext.cpu(), group, params, 0));
                assertTrue(Double.isNaN(GradClipping.clip(ExecutionContext.cpu(), group, params, 1.0)));
                for (float x : otherGrad.toFloatArray()) {
                    assertTrue(Float.isNaN(x), "a NaN norm is seen in every gradient, got " + x);
                }
            }
            return null;
        });
    }
}
