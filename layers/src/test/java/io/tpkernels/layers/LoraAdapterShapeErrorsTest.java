package io.tpkernels.layers;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An adapter tensor of any shape other than the full logical one or the rank's shard is an error that names
 * the tensor, both shapes, tp and the rank (docs/contract.md section 8), for A and B of both LoRA layers, on every
 * rank. The layers are {@code W [6, 9]} on tp 3: column-parallel ranks hold 2 output rows, row-parallel ranks
 * 3 input columns; the adapters have R = 2.
 */
class LoraAdapterShapeErrorsTest {
    private static final int TP = 3;
    private static final int N = 6;
    private static final int K = 9;

    private static List<String> load(boolean rowParallel, long[] aShape, long[] bShape) {
        try (InMemoryWeights weights = Harness.randomWeights(3, DType.F32, Map.of("w", new long[] {N, K},
                "lora_a", aShape, "lora_b", bShape))) {
            var adapter = new LoraSource.FromAdapter(weights, "lora_a", "lora_b", 1f);
            return AdapterErrors.messages(TP, ctx -> rowParallel
                    ? LoraRowParallelLinear.load(weights, "w", null, N, K, ctx, false, Tokens.REPLICATED, adapter)
                    : LoraColumnParallelLinear.load(weights, "w", null, N, K, ctx, Tokens.REPLICATED, true, adapter));
        }
    }

    @Test
    void columnParallelAOfTheWrongWidth() {
        long[] a = {2, 8};
        AdapterErrors.assertNamed(load(false, a, new long[] {N, 2}), "lora_a", a, "[2, 9]");
    }

    @Test
    void columnParallelAThatIsNoMatrix() {
        long[] a = {2 * K};
        AdapterErrors.assertNamed(load(false, a, new long[] {N, 2}), "lora_a", a, "[R, 9]", "R in [1, 256]");
    }

    @Test
    void columnParallelBOfTheWrongRows() {
        long[] b = {5, 2};
        AdapterErrors.assertNamed(load(false, new long[] {2, K}, b), "lora_b", b, "[6, 2]", "[2, 2]");
    }

    @Test
    void rowParallelAOfTheWrongWidth() {
        long[] a = {2, 4};
        AdapterErrors.assertNamed(load(true, a, new long[] {N, 2}), "lora_a", a, "[2, 9]", "[2, 3]");
    }

    @Test
    void rowParallelAWhoseRankIsTooLarge() {
        long[] a = {300, K};
        AdapterErrors.assertNamed(load(true, a, new long[] {N, 300}), "lora_a", a, "[R, 9]", "[R, 3]", "R in [1, 256]");
    }

    @Test
    void rowParallelBOfTheWrongRank() {
        long[] b = {N, 3};
        AdapterErrors.assertNamed(load(true, new long[] {2, K}, b), "lora_b", b, "[6, 2]");
    }
}
