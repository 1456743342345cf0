package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How the backward is used (docs/contract.md P1): LoRA gradients add up over backwards until {@code zeroGrad()};
 * a plain layer needs no input kept; what is refused is refused in words, on every rank, before any collective.
 */
class LinearBackwardUseTest {
    private static final int N = 8;
    private static final int K = 8;
    private static final int R = 3;
    private static final int T = 4;

    @ParameterizedTest(name = "row-parallel {0}")
    @ValueSource(booleans = {false, true})
    void gradientsAddUpUntilZeroGrad(boolean rowParallel) {
        BackwardRun.Problem p = new BackwardRun.Problem(N, K, R, T, 5);
        LoraLayout layout = rowParallel ? LoraLayout.ROW : LoraLayout.COLUMN;
        try (InMemoryWeights weights = p.weights()) {
            Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                try (LoraLayout.Layer layer = layout.load(weights, null, N, K, ctx,
                        new LoraSource.FromAdapter(weights, "a", "b", BackwardRun.SCALE));
                     Tensor x = layout.input(p.x(), T, K, DType.F32, ctx.rank(), 2);
                     Tensor dy = BackwardRun.outputGradient(layout, p.dy(), p, ctx.rank(), 2)) {
                    Object l = layer.owner();
                    assertTrue(isZero(BackwardRun.gradA(l)) && isZero(BackwardRun.gradB(l)), "zero after loading");
                    BackwardRun.backward(l, x, dy).close();
                    float[] a1 = BackwardRun.gradA(l).toFloatArray();
                    float[] b1 = BackwardRun.gradB(l).toFloatArray();
                    BackwardRun.backward(l, x, dy).close();
                    assertArrayEquals(twice(a1), BackwardRun.gradA(l).toFloatArray(), "dA of two backwards");
                    assertArrayEquals(twice(b1), BackwardRun.gradB(l).toFloatArray(), "dB of two backwards");
                    zeroGrad(l);
                    assertTrue(isZero(BackwardRun.gradA(l)) && isZero(BackwardRun.gradB(l)), "zero after zeroGrad");
                    BackwardRun.backward(l, x, dy).close();
                    assertArrayEquals(a1, BackwardRun.gradA(l).toFloatArray(), "dA after zeroGrad");
                    return null;
                }
            });
        }
    }

    @ParameterizedTest(name = "row-parallel {0}")
    @ValueSource(booleans = {false, true})
    void aPlainLayerNeedsNoInputKept(boolean rowParallel) {
        BackwardRun.Problem p = new BackwardRun.Problem(N, K, R, T, 6);
        LoraLayout layout = rowParallel ? LoraLayout.ROW : LoraLayout.COLUMN;
        try (InMemoryWeights weights = p.weights()) {
            Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                try (LoraLayout.Layer layer = layout.load(weights, "bias", N, K, ctx, null);
                     Tensor x = layout.input(p.x(), T, K, DType.F32, ctx.rank(), 2);
                     Tensor dy = BackwardRun.outputGradient(layout, p.dy(), p, ctx.rank(), 2)) {
                    float[] with = Harness.drain(BackwardRun.backward(layer.owner(), x, dy));
                    assertArrayEquals(with, Harness.drain(BackwardRun.backward(layer.owner(), null, dy)));
                    return null;
                }
            });
        }
    }

    @ParameterizedTest(name = "row-parallel {0}")
    @ValueSource(booleans = {false, true})
    void aDoraAdapterIsRefusedByName(boolean rowParallel) {
        BackwardRun.Problem p = new BackwardRun.Problem(N, K, R, T, 7);
        LoraLayout layout = rowParallel ? LoraLayout.ROW : LoraLayout.COLUMN;
        try (InMemoryWeights weights = p.weights();
             InMemoryWeights m = Harness.randomWeights(8, DType.F32, Map.of("m", new long[] {N}));
             InMemoryWeights adapter = new InMemoryWeights("DoRA adapter", Map.of("a", weights.view("a").copyTo(
                     Device.CPU), "b", weights.view("b").copyTo(Device.CPU), "m", m.view("m").copyTo(Device.CPU)))) {
            List<String> messages = Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                try (LoraLayout.Layer layer = layout.load(weights, null, N, K, ctx,
                        new LoraSource.FromAdapter(adapter, "a", "b", BackwardRun.SCALE, 0, "m"));
                     Tensor x = layout.input(p.x(), T, K, DType.F32, ctx.rank(), 2);
                     Tensor dy = BackwardRun.outputGradient(layout, p.dy(), p, ctx.rank(), 2)) {
                    return assertThrows(UnsupportedOperationException.class,
                            () -> BackwardRun.backward(layer.owner(), x, dy)).getMessage();
                }
            });
            for (String message : messages) {
                assertTrue(message.contains("DoRA") && message.contains("Lora"), message);
            }
        }
    }

    @Test
    void aLoraLayerNeedsTheForwardsInput() {
        BackwardRun.Problem p = new BackwardRun.Problem(N, K, R, T, 9);
        try (InMemoryWeights weights = p.weights()) {
            Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                for (LoraLayout layout : List.of(LoraLayout.COLUMN, LoraLayout.ROW)) {
                    try (LoraLayout.Layer layer = layout.load(weights, null, N, K, ctx,
                            new LoraSource.FromAdapter(weights, "a", "b", BackwardRun.SCALE));
                         Tensor dy = BackwardRun.outputGradient(layout, p.dy(), p, ctx.rank(), 2)) {
                        String message = assertThrows(IllegalArgumentException.class,
                                () -> BackwardRun.backward(layer.owner(), null, dy)).getMessage();
                        assertTrue(message.contains("input x"), message);
                    }
                }
                return null;
            });
        }
    }

    @Test
    void aGradientOfTheWrongShapeIsRefusedInWords() {
        BackwardRun.Problem p = new BackwardRun.Problem(N, K, R, T, 10);
        try (InMemoryWeights weights = p.weights()) {
            Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                try (LoraLayout.Layer layer = LoraLayout.COLUMN.load(weights, null, N, K, ctx,
                        new LoraSource.FromAdapter(weights, "a", "b", BackwardRun.SCALE));
                     Tensor x = LoraLayout.COLUMN.input(p.x(), T, K, DType.F32, ctx.rank(), 2);
                     Tensor dy = Tensor.ofFloats(DType.F32, new float[T * N / 2], T, N / 2)) {
                    String message = assertThrows(IllegalArgumentException.class,
                            () -> BackwardRun.backward(layer.owner(), x, dy)).getMessage();
                    assertTrue(message.contains("LoraColumnParallelLinear") && message.contains("dy"), message);
                }
                return null;
            });
        }
    }

    private static void zeroGrad(Object layer) {
        if (layer instanceof LoraColumnParallelLinear c) {
            c.zeroGrad();
        } else {
            ((LoraRowParallelLinear) layer).zeroGrad();
        }
    }

    private static boolean isZero(Tensor t) {
        for (float v : t.toFloatArray()) {
            if (Float.floatToRawIntBits(v) != 0) {
                return false;
            }
        }
        return true;
    }

    private static float[] twice(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] + v[i];
        }
        return out;
    }
}
