package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The documented order of a sum ({@link ReduceOp#SUM}): {@code ((x0 + x1) + x2) + …} over ranks 0..n−1 in f32,
 * each step rounded to f32, and the total rounded to the dtype once. The inputs mix large and small values
 * (about ±1e8 with 1, 3, 0.5) so that another order, or rounding to BF16 at each step, gives another answer:
 * with f32's 24-bit significand, 1e8 + 1 is 1e8, so (1e8 + 1) − 1e8 is 0 while (1e8 − 1e8) + 1 is 1. The
 * expected value is computed here, from the inputs, by that rule.
 */
class LocalGroupSumOrderTest {

    /** Exact in F32 and BF16 (at most 8 significant bits), far apart in magnitude: 3·2^25 ≈ 1.0e8, 2^27 ≈ 1.3e8. */
    private static final float[] PALETTE = {100663296f, -100663296f, 134217728f, -134217728f, 1f, -1f, 3f, 0.5f};

    /** Rank r's inputs: drawn from the palette, the same for a seed on every run and device. */
    static float[] inputs(long seed, int rank, int count) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + rank);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = PALETTE[random.nextInt(PALETTE.length)];
        }
        return v;
    }

    /** BF16 round to nearest, ties to even, of a float that is not NaN: written out here, not DType's. */
    static float roundToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int upper = bits >>> 16;
        int lower = bits & 0xFFFF;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return Float.intBitsToFloat(upper << 16);
    }

    /** The documented sum: left to right in f32, then rounded to the dtype once. */
    static float expectedSum(DType dtype, float[][] byRank, int i) {
        float acc = byRank[0][i];
        for (int r = 1; r < byRank.length; r++) {
            acc = acc + byRank[r][i]; // Java float addition: IEEE binary32, round to nearest even, each step
        }
        return dtype == DType.BF16 ? roundToBf16(acc) : acc;
    }

    /** Every rank's all-reduced sum, ranks on {@code device}; rank r's result at index r. */
    static List<float[]> allReduceSums(Device device, DType dtype, int size, long seed, int count) {
        return LocalGroup.run(size, g -> {
            try (Tensor host = Tensor.ofFloats(dtype, inputs(seed, g.rank(), count), count);
                 Tensor t = host.copyTo(device)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                return t.toFloatArray();
            }
        });
    }

    /** Rank r's reduce-scattered slab, laid out as the full tensor would be. */
    static float[] reduceScatterSums(Device device, DType dtype, int size, long seed, int count) {
        List<float[]> slabs = LocalGroup.run(size, g -> {
            try (Tensor host = Tensor.ofFloats(dtype, inputs(seed, g.rank(), size * count), size, count);
                 Tensor t = host.copyTo(device);
                 Tensor mine = g.reduceScatter(ExecutionContext.defaultFor(t.device()), t, 0, ReduceOp.SUM)) {
                return mine.toFloatArray();
            }
        });
        float[] all = new float[size * count];
        for (int r = 0; r < size; r++) {
            System.arraycopy(slabs.get(r), 0, all, r * count, count);
        }
        return all;
    }

    static float[][] inputsByRank(int size, long seed, int count) {
        float[][] byRank = new float[size][];
        for (int r = 0; r < size; r++) {
            byRank[r] = inputs(seed, r, count);
        }
        return byRank;
    }

    @Property(tries = 40)
    void allReduceSumsInRankOrderInF32AndRoundsOnce(@ForAll @IntRange(min = 2, max = 8) int size,
                                                    @ForAll boolean bf16, @ForAll long seed) {
        DType dtype = bf16 ? DType.BF16 : DType.F32;
        int count = 64;
        float[][] byRank = inputsByRank(size, seed, count);
        List<float[]> results = allReduceSums(Device.CPU, dtype, size, seed, count);
        for (int r = 0; r < size; r++) {
            for (int i = 0; i < count; i++) {
                assertEquals(expectedSum(dtype, byRank, i), results.get(r)[i], "element " + i + " on rank " + r);
            }
        }
    }

    @Property(tries = 20)
    void reduceScatterSumsInTheSameOrder(@ForAll @IntRange(min = 2, max = 8) int size, @ForAll boolean bf16,
                                         @ForAll long seed) {
        DType dtype = bf16 ? DType.BF16 : DType.F32;
        int count = 16;
        float[][] byRank = inputsByRank(size, seed, size * count);
        float[] results = reduceScatterSums(Device.CPU, dtype, size, seed, count);
        for (int i = 0; i < size * count; i++) {
            assertEquals(expectedSum(dtype, byRank, i), results[i], "element " + i);
        }
    }
}
