package io.tpkernels.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * AdamW against PyTorch's formula computed in double with double state. Each stored F32 value is within 1e-6 of the
 * reference, relative to the magnitude of the terms it was summed from, since each sum may cancel: {@code v} (a sum
 * of squares) relative to itself, {@code m} relative to the same average of {@code |g|}, the parameter relative to
 * the largest {@code |p·(1 − lr·wd)| + |update|} it has seen (a parameter an update carries through 0 keeps the
 * error of its terms, not of its own size).
 */
class AdamWTest {
    private static final double REL = 1e-6;

    /** PyTorch's AdamW in double over {@code steps} gradients of {@code n} elements; checks the optimizer at each step. */
    private static void compare(AdamWConfig config, int n, int steps, long seed) {
        ExecutionContext ctx = ExecutionContext.cpu();
        float[] init = RandomData.moderate(seed, n);
        double[] p = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        double[] mScale = new double[n];
        double[] pScale = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = init[i];
            pScale[i] = Math.abs(init[i]);
        }
        try (Tensor value = Tensor.ofFloats(DType.F32, init, n);
             Tensor grad = Tensor.allocate(ctx, DType.F32, n);
             AdamW adam = new AdamW(ctx, config, List.of(new Parameter("w", value, grad, Placement.REPLICATED)))) {
            for (int t = 1; t <= steps; t++) {
                float[] g = RandomData.floats(seed * 31 + t, n);
                try (Tensor fresh = Tensor.ofFloats(DType.F32, g, n)) {
                    grad.copyFrom(fresh);
                }
                adam.step(ctx);
                double lr = config.lr();
                for (int i = 0; i < n; i++) {
                    p[i] *= 1 - lr * config.weightDecay();
                    m[i] = config.beta1() * m[i] + (1 - config.beta1()) * g[i];
                    mScale[i] = config.beta1() * mScale[i] + (1 - config.beta1()) * Math.abs(g[i]);
                    v[i] = config.beta2() * v[i] + (1 - config.beta2()) * g[i] * g[i];
                    double mHat = m[i] / (1 - Math.pow(config.beta1(), t));
                    double vHat = v[i] / (1 - Math.pow(config.beta2(), t));
                    double update = lr * mHat / (Math.sqrt(vHat) + config.eps());
                    pScale[i] = Math.max(pScale[i], Math.abs(p[i]) + Math.abs(update));
                    p[i] -= update;
                }
                assertEquals(t, adam.steps());
                float[] gotP = value.toFloatArray();
                float[] gotM = adam.firstMoment(0).toFloatArray();
                float[] gotV = adam.secondMoment(0).toFloatArray();
                for (int i = 0; i < n; i++) {
                    String where = config + ", step " + t + ", element " + i;
                    assertTrue(Math.abs(gotP[i] - p[i]) <= REL * pScale[i],
                            where + ": p " + gotP[i] + " vs " + p[i]);
                    assertTrue(Math.abs(gotM[i] - m[i]) <= REL * mScale[i], where + ": m " + gotM[i] + " vs " + m[i]);
                    assertTrue(Math.abs(gotV[i] - v[i]) <= REL * v[i], where + ": v " + gotV[i] + " vs " + v[i]);
                }
            }
        }
    }

    @Test
    void theDefaultsAreTorchs() {
        AdamWConfig c = AdamWConfig.of(1e-3);
        assertEquals(new AdamWConfig(1e-3, 0.9, 0.999, 1e-8, 0), c);
    }

    @Test
    void severalStepsFollowTorchsFormula() {
        compare(AdamWConfig.of(1e-2), 40, 8, 1);
    }

    @Test
    void weightDecayAndOtherBetasFollowTorchsFormula() {
        compare(AdamWConfig.of(3e-2).withWeightDecay(0.1).withBetas(0.8, 0.95).withEps(1e-6), 40, 8, 2);
    }

    @Property(tries = 50)
    void anyConfigFollowsTorchsFormula(@ForAll @IntRange(min = 1, max = 500) int lrMillis,
                                       @ForAll @IntRange(min = 0, max = 99) int beta1Percent,
                                       @ForAll @IntRange(min = 0, max = 9999) int beta2PerTenThousand,
                                       @ForAll @IntRange(min = 0, max = 50) int wdPercent,
                                       @ForAll @IntRange(min = 1, max = 12) int steps,
                                       @ForAll long seed) {
        compare(new AdamWConfig(lrMillis / 1000.0, beta1Percent / 100.0, beta2PerTenThousand / 10000.0, 1e-8,
                wdPercent / 100.0), 16, steps, seed);
    }

    @Test
    void theFirstStepMovesEachElementByTheLearningRateAgainstItsGradient() {
        // t = 1: m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε): the bias corrections at work.
        ExecutionContext ctx = ExecutionContext.cpu();
        float[] init = RandomData.moderate(3, 12);
        float[] g = RandomData.floats(4, 12);
        double lr = 0.05;
        double wd = 0.2;
        try (Tensor value = Tensor.ofFloats(DType.F32, init, 3, 4);
             Tensor grad = Tensor.ofFloats(DType.F32, g, 3, 4);
             AdamW adam = new AdamW(ctx, AdamWConfig.of(lr).withWeightDecay(wd),
                     List.of(new Parameter("w", value, grad, Placement.SHARDED)))) {
            adam.step(ctx);
            float[] got = value.toFloatArray();
            for (int i = 0; i < g.length; i++) {
                double want = init[i] * (1 - lr * wd) - lr * g[i] / (Math.abs(g[i]) + 1e-8);
                assertTrue(Math.abs(got[i] - want) <= REL * (Math.abs(init[i]) + lr), got[i] + " vs " + want);
            }
        }
    }

    @Test
    void badHyperparametersAndParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(-1));
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(1e-3).withBetas(1, 0.9));
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(1e-3).withBetas(0.9, -0.1));
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(1e-3).withEps(-1));
        assertThrows(IllegalArgumentException.class, () -> AdamWConfig.of(1e-3).withWeightDecay(Double.NaN));
        try (Tensor value = Tensor.ofFloats(DType.F32, RandomData.moderate(1, 6), 2, 3);
             Tensor grad = Tensor.ofFloats(DType.F32, RandomData.moderate(2, 6), 3, 2);
             Tensor half = Tensor.ofFloats(DType.BF16, RandomData.moderate(3, 6), 2, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Parameter("lora_A", value, grad, Placement.REPLICATED));
            assertTrue(e.getMessage().contains("lora_A"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Parameter("b", half, half, Placement.SHARDED));
        }
    }
}
