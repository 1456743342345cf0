package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RecordingGroup;
import io.tpkernels.testkit.ShardedLinearShape;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A LoRA layer whose {@code B} is zero (a fresh adapter) computes exactly its base layer's output, bit for bit,
 * at every LoRA rank (unaligned ones such as 1 and 3 included), in every layout and dtype; and its forward
 * issues the base layer's collectives and no other (docs/contract.md section 8: never two collectives for one
 * layer): exactly one all-reduce or reduce-scatter for a row-parallel layer.
 */
class LoraWithZeroBPropertiesTest {

    @Provide
    Arbitrary<Integer> loraRanks() {
        return Arbitraries.of(1, 3, 8, 12, 16);
    }

    @Provide
    Arbitrary<LoraLayout> layouts() {
        return Arbitraries.of(LoraLayout.all());
    }

    @Property(tries = 20)
    void withBZeroTheOutputIsTheBaseLayersExactlyAndTheCollectivesAreTheSame(
            @ForAll ShardedLinearShape shape, @ForAll("loraRanks") int loraRank, @ForAll("layouts") LoraLayout layout,
            @ForAll boolean withBias, @ForAll Precision precision) {
        check(Device.CPU, precision, shape, loraRank, layout, withBias);
    }

    /**
     * The property on {@code device} for a layer of {@code shape} (sequence parallelism needs whole tokens per
     * rank: there the shape's tokens are rounded up to a multiple of tp).
     */
    static void check(Device device, Precision precision, ShardedLinearShape shape, int loraRank, LoraLayout layout,
                      boolean withBias) {
        int tp = shape.tp();
        int n = Math.toIntExact(shape.outFeatures());
        int k = Math.toIntExact(shape.inFeatures());
        int t = Math.toIntExact(layout.tokensSharded() ? Math.ceilDiv(shape.tokens(), tp) * tp : shape.tokens());
        DType dtype = precision.dtype();
        String bias = withBias ? "bias" : null;
        try (InMemoryWeights weights = Harness.randomWeights(k + 7L * n, dtype, Map.of("w", new long[] {n, k}, "bias",
                new long[] {n}))) {
            float[] x = Harness.drain(Harness.activations(t, dtype, Device.CPU, t, k));
            record Out(float[] base, float[] lora, List<String> baseCalls, List<String> loraCalls) {
            }
            List<Out> outs = LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
                RecordingGroup base = new RecordingGroup(g);
                RecordingGroup lora = new RecordingGroup(g);
                RankContext baseCtx = new RankContext(base, ExecutionContext.defaultFor(device), precision);
                RankContext loraCtx = new RankContext(lora, ExecutionContext.defaultFor(device), precision);
                var init = new LoraSource.Initialized(loraRank, 3f, 42);
                try (Tensor xh = layout.input(x, t, k, dtype, g.rank(), tp); Tensor xr = xh.copyTo(device);
                     LoraLayout.Layer plain = layout.load(weights, bias, n, k, baseCtx, null);
                     LoraLayout.Layer adapted = layout.load(weights, bias, n, k, loraCtx, init)) {
                    base.calls.clear();
                    lora.calls.clear(); // the initialisation's broadcast or scatter is not part of a forward
                    float[] baseOut = Harness.drain(plain.forward().apply(xr));
                    float[] loraOut = Harness.drain(adapted.forward().apply(xr));
                    return new Out(baseOut, loraOut, List.copyOf(base.calls), List.copyOf(lora.calls));
                }
            });
            for (int rank = 0; rank < tp; rank++) {
                Out o = outs.get(rank);
                String what = "LoRA rank " + loraRank + ", " + layout + ", " + precision + ", tp " + tp + ", rank " + rank;
                Tolerance.assertNoNaN(o.base(), what);
                assertArrayEquals(o.base(), o.lora(), "B = 0: the LoRA output equals the base output exactly (" + what + ")");
                assertEquals(o.baseCalls(), o.loraCalls(), "the LoRA layer issues the base layer's collectives and no other ("
                        + what + ")");
                assertEquals(layout.collectives(), o.loraCalls(), what);
            }
        }
    }
}
