package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.RandomData;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The CPU LM head against a naive double GEMM; padding columns exactly −∞. */
class LmHeadCpuTest {

    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16};

    static void check(DType dtype, DType outDtype, int t, int h, int valid, int s, long seed) {
        try (Tensor x = Tensor.ofFloats(dtype, RandomData.floats(seed, t * h), t, h);
             Tensor w = Tensor.ofFloats(dtype, RandomData.floats(seed + 1, valid * h), valid, h);
             Tensor logits = LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, s, outDtype)) {
            // The reference sees the inputs as rounded to dtype, so only accumulation error remains.
            double[][][] ref = GemmReference.multiplyNT(x.toFloatArray(), w.toFloatArray(), t, valid, h);
            float[] got = logits.toFloatArray();
            GemmReference.assertClose(ref, got, s, outDtype == DType.BF16, dtype + " T=" + t + " H=" + h);
            for (int i = 0; i < t; i++) {
                for (int j = valid; j < s; j++) {
                    assertEquals(Float.NEGATIVE_INFINITY, got[i * s + j], "padding [" + i + ", " + j + "]");
                }
            }
        }
    }

    @Property(tries = 60)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 70) int t, @ForAll @IntRange(min = 1, max = 600) int h,
                                   @ForAll @IntRange(min = 0, max = 150) int valid, @ForAll @IntRange(min = 0, max = 40) int padding,
                                   @ForAll @IntRange(min = 0, max = 2) int dtype, @ForAll boolean bf16Out, @ForAll long seed) {
        check(DTYPES[dtype], bf16Out ? DType.BF16 : DType.F32, t, h, valid, valid + padding, seed);
    }

    @Test
    void edgeShapes() {
        check(DType.BF16, DType.F32, 1, 4096, 300, 320, 1);     // decode
        check(DType.F32, DType.F32, 5, 100, 0, 64, 2);          // a shard without real rows: all −∞
        check(DType.F16, DType.F32, 7, 513, 64, 64, 3);         // valid = S, H not a multiple of any block
        check(DType.F32, DType.BF16, 130, 1030, 260, 300, 4);   // several tiles each way
    }

    @Test
    void inputsAreCheckedAndNeverQuantized() {
        try (Tensor x = Tensor.allocate(Device.CPU, DType.BF16, 2, 8);
             Tensor w = Tensor.allocate(Device.CPU, DType.BF16, 4, 8);
             Tensor wWrongH = Tensor.allocate(Device.CPU, DType.BF16, 4, 9);
             Tensor wF32 = Tensor.allocate(Device.CPU, DType.F32, 4, 8);
             Tensor xInt = Tensor.allocate(Device.CPU, DType.I32, 2, 8)) {
            assertMessage(() -> LmHead.logits(ExecutionContext.defaultFor(x.device()), x, wWrongH, 8), "W must be [valid, 8] BF16");
            assertMessage(() -> LmHead.logits(ExecutionContext.defaultFor(x.device()), x, wF32, 8), "W must be [valid, 8] BF16");
            assertMessage(() -> LmHead.logits(ExecutionContext.defaultFor(xInt.device()), xInt, w, 8), "X must be F32, F16 or BF16");
            assertMessage(() -> LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, 3), "shard size 3 is smaller than the 4 valid rows");
            assertMessage(() -> LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, 8, DType.F16), "logits are F32 or BF16, not F16");
        }
    }

    private static void assertMessage(Runnable r, String fragment) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    /**
     * Every logit is summed over k in the same order whatever else is computed with it: a token's logits are the
     * same bits alone (decode) as among many (prefill), at any position in the batch.
     */
    @Property(tries = 15)
    void aTokensLogitsDoNotDependOnTheTokensAroundIt(@ForAll @IntRange(min = 2, max = 300) int t,
                                                     @ForAll @IntRange(min = 1, max = 1500) int h,
                                                     @ForAll @IntRange(min = 1, max = 150) int valid,
                                                     @ForAll long seed) {
        int token = (int) Math.floorMod(seed, t);
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.floats(seed, t * h), t, h);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.floats(seed + 1, valid * h), valid, h);
             Tensor all = LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, valid);
             Tensor alone = LmHead.logits(ExecutionContext.defaultFor(x.rows(token, token + 1).device()), x.rows(token, token + 1), w, valid)) {
            float[] batch = all.toFloatArray();
            float[] single = alone.toFloatArray();
            for (int j = 0; j < valid; j++) {
                assertEquals(Float.floatToIntBits(batch[token * valid + j]), Float.floatToIntBits(single[j]),
                        "token " + token + " of " + t + ", logit " + j);
            }
        }
    }
}
