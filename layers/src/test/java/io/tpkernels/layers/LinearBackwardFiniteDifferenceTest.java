package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.InMemoryWeights;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * At tp 1 every gradient of the linear layers' backward is the derivative of {@code L = Σ y ⊙ R} for a fixed
 * random {@code R} (so {@code dy = R}), taken by central finite differences, in double, of a forward written here:
 * {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + b}. Each element within {@code 1e-4·(|fd| + rms(fd))} (docs/contract.md P1).
 */
class LinearBackwardFiniteDifferenceTest {
    private static final double RELATIVE = 1e-4;
    private static final double STEP = 1e-2;

    @Provide
    Arbitrary<LoraLayout> layouts() {
        return Arbitraries.of(LoraLayout.all());
    }

    @Property(tries = 30)
    void everyGradientIsTheDerivativeOfTheLoss(@ForAll @IntRange(min = 1, max = 9) int n,
                                               @ForAll @IntRange(min = 1, max = 9) int k,
                                               @ForAll @IntRange(min = 1, max = 5) int r,
                                               @ForAll @IntRange(min = 1, max = 4) int t,
                                               @ForAll("layouts") LoraLayout layout, @ForAll boolean lora) {
        BackwardRun.Problem p = new BackwardRun.Problem(n, k, r, t, n * 131L + k * 17L + r * 5L + t);
        BackwardRun run = BackwardRun.run(p, layout, lora, 1);
        Loss loss;
        try (InMemoryWeights weights = p.weights()) {
            loss = new Loss(p, toDouble(p.x()), toDouble(Harness.floats(weights, "w")),
                    lora ? toDouble(Harness.floats(weights, "a")) : new double[r * k],
                    lora ? toDouble(Harness.floats(weights, "b")) : new double[n * r],
                    toDouble(Harness.floats(weights, "bias")), toDouble(p.dy()));
        }
        String what = (lora ? "LoRA " : "plain ") + layout;
        assertDerivative(run.dx().get(0), loss, loss.x, "dx, " + what);
        if (lora) {
            assertDerivative(run.gradA().get(0), loss, loss.a, "dA, " + what);
            assertDerivative(run.gradB().get(0), loss, loss.b, "dB, " + what);
        }
    }

    /** Each element of {@code actual} against the central difference of the loss in the matching element of p. */
    private static void assertDerivative(float[] actual, Loss loss, double[] p, String what) {
        assertTrue(actual.length == p.length, what + ": " + actual.length + " values, expected " + p.length);
        double[] fd = new double[p.length];
        double rms = 0;
        for (int i = 0; i < p.length; i++) {
            double saved = p[i];
            p[i] = saved + STEP;
            double up = loss.value();
            p[i] = saved - STEP;
            double down = loss.value();
            p[i] = saved;
            fd[i] = (up - down) / (2 * STEP);
            rms += fd[i] * fd[i];
        }
        rms = Math.sqrt(rms / p.length);
        assertTrue(rms > 0, what + ": the derivatives are all zero, which would prove nothing");
        for (int i = 0; i < p.length; i++) {
            double bound = RELATIVE * (Math.abs(fd[i]) + rms);
            assertTrue(Math.abs(actual[i] - fd[i]) <= bound, what + ": element " + i + " is " + actual[i]
                    + ", the finite difference " + fd[i] + " (within " + bound + ")");
        }
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    /** {@code L = Σ_tn R[t, n]·y[t, n]}, {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + b}, in double; x, A, B are perturbed in place. */
    private record Loss(BackwardRun.Problem p, double[] x, double[] w, double[] a, double[] b, double[] bias,
                        double[] rWeights) {
        double value() {
            int n = p.n();
            int k = p.k();
            int r = p.r();
            double s = BackwardRun.SCALE;
            double sum = 0;
            double[] xa = new double[r];
            for (int i = 0; i < p.t(); i++) {
                for (int q = 0; q < r; q++) {
                    double acc = 0;
                    for (int c = 0; c < k; c++) {
                        acc += x[i * k + c] * a[q * k + c];
                    }
                    xa[q] = acc;
                }
                for (int j = 0; j < n; j++) {
                    double y = bias[j];
                    for (int c = 0; c < k; c++) {
                        y += x[i * k + c] * w[j * k + c];
                    }
                    for (int q = 0; q < r; q++) {
                        y += s * xa[q] * b[j * r + q];
                    }
                    sum += rWeights[i * n + j] * y;
                }
            }
            return sum;
        }
    }
}
