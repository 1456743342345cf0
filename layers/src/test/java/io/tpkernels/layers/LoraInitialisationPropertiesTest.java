package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A fresh LoRA adapter (docs/contract.md section 8) is rank-consistent: {@code A} gathered from the ranks equals
 * the unsharded one bit for bit for the same seed (broadcast when replicated, scattered when sharded), and both
 * equal the definition: PEFT's Kaiming-uniform draws ({@code a = √5}, bound {@code 1/√K}) from a
 * {@link SplittableRandom} of the seed in row-major order, rounded to the layer's dtype; {@code B} is zero.
 */
class LoraInitialisationPropertiesTest {

    @Property(tries = 20)
    void initialisationGatheredEqualsTheUnshardedOneAndTheDefinitionBitForBit(
            @ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 4) int perRank, @ForAll @IntRange(min = 1, max = 16) int r,
            @ForAll @IntRange(min = 0, max = 1000) int seed, @ForAll boolean rowParallel,
            @ForAll Precision precision) {
        check(Device.CPU, precision, tp, 3 * tp, perRank * tp, r, seed, rowParallel);
    }

    /**
     * {@code A [r, k]} as the definition draws it for {@code seed}, rounded to {@code dtype} (round to nearest,
     * ties to even), computed here from the definition alone.
     */
    static float[] definition(long seed, int r, int k, DType dtype) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1 / Math.sqrt(k); // gain √(2 / (1 + 5)) · √(3 / K)
        float[] a = new float[r * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = rounded((float) random.nextDouble(-bound, bound), dtype);
        }
        return a;
    }

    /** {@code v} (finite) rounded to the nearest {@code dtype} value, ties to even. */
    private static float rounded(float v, DType dtype) {
        return switch (dtype) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> {
                int bits = Float.floatToRawIntBits(v);
                yield Float.intBitsToFloat((bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000);
            }
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    /** The property on {@code device}: {@code W [n, k]} with an adapter of rank {@code r} drawn from {@code seed}. */
    static void check(Device device, Precision precision, int tp, int n, int k, int r, long seed, boolean rowParallel) {
        try (InMemoryWeights weights = Harness.randomWeights(seed, DType.F32, Map.of("w", new long[] {n, k}))) {
            var init = new LoraSource.Initialized(r, 2f, seed);
            List<float[][]> sharded = initialised(device, precision, weights, tp, n, k, init, rowParallel);
            float[][] unsharded = initialised(device, precision, weights, 1, n, k, init, rowParallel).get(0);
            assertArrayEquals(definition(seed, r, k, precision.dtype()), unsharded[0],
                    "A is the seed's Kaiming-uniform draws in " + precision);
            assertEquals(n * r, unsharded[1].length);
            assertArrayEquals(new float[n * r], unsharded[1], "B starts at zero");
            for (int rank = 0; rank < tp; rank++) {
                assertArrayEquals(unsharded[0], sharded.get(rank)[0], "A gathered on rank " + rank + " of tp " + tp);
                int rows = rowParallel ? n : n / tp;
                assertArrayEquals(new float[rows * r], sharded.get(rank)[1], "B starts at zero on rank " + rank);
            }
        }
    }

    /**
     * Per rank: {A gathered to [R, K], B as the rank holds it}, as loaded: on a GPU a layer keeps an adapter whose rank
     * is not 16-byte aligned zero-padded (A's rows past R, B's columns past R), and those must be zeros.
     */
    private static List<float[][]> initialised(Device device, Precision precision, InMemoryWeights weights, int tp,
                                               int n, int k, LoraSource init, boolean rowParallel) {
        int r = ((LoraSource.Initialized) init).rank();
        return Harness.onRanks(tp, device, precision, ctx -> {
            if (rowParallel) {
                try (LoraRowParallelLinear l = LoraRowParallelLinear.load(weights, "w", null, n, k, ctx, true,
                        Tokens.REPLICATED, init);
                     Tensor a = unpadded(ctx, l.loraA(), 0, r);
                     Tensor b = unpadded(ctx, l.loraB(), 1, r)) {
                    return new float[][] {Harness.drain(ctx.tp().allGather(ctx.exec(), a, 1)), b.toFloatArray()};
                }
            }
            try (LoraColumnParallelLinear l = LoraColumnParallelLinear.load(weights, "w", null, n, k, ctx,
                    Tokens.REPLICATED, false, init);
                 Tensor a = unpadded(ctx, l.loraA(), 0, r);
                 Tensor b = unpadded(ctx, l.loraB(), 1, r)) {
                return new float[][] {a.toFloatArray(), b.toFloatArray()};
            }
        });
    }

    /** The first {@code r} slabs of {@code t} along {@code dim} (a copy), after checking that the rest are zeros. */
    private static Tensor unpadded(RankContext ctx, Tensor t, int dim, int r) {
        long extra = t.dim(dim) - r;
        if (extra > 0) {
            try (Tensor pad = Slabs.narrow(ctx.exec(), t, dim, r, extra)) {
                assertArrayEquals(new float[(int) pad.numel()], pad.toFloatArray(), "the padding is zeros");
            }
        }
        return Slabs.narrow(ctx.exec(), t, dim, 0, r);
    }
}
