package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused LM head and cross-entropy on a GPU against the unfused form on the CPU. F32 takes the chunked form (loss
 * within 1e-6 relative, gradients within 1e-5 of their scale); F16 and BF16 the tile kernels of lm_head_ce.cu, whose
 * {@code dz} is rounded to the input dtype before its products (loss within 1e-6 relative, gradients within 2e-3 of
 * their scale for F16 and 1e-2 for BF16). The tile problems cover T and the shard's valid columns that are not
 * multiples of the 128 × 128 tile, H not a multiple of the main loop's 32 or the backward's slice of 64, a shard without
 * valid rows, ignored targets (whole row blocks of them, which the kernels skip) and the last id. And the peak device memory far below the logits neither form holds.
 */
@GpuTest
class LmHeadCrossEntropyCudaTest {
    private static final Device GPU = Device.cuda(0);

    static Stream<Arguments> problems() {
        return Stream.concat(LmHeadCrossEntropyTest.problems().filter(a -> {
            FusedLossRun.Problem p = (FusedLossRun.Problem) a.get()[0];
            return p.dtype() == DType.F32;
        }), Stream.of(
                // 300 valid columns a shard: tiles of 128, 128 and 44; T = 130: row blocks of 128 and 2; H = 72
                Arguments.of(new FusedLossRun.Problem(130, 72, 600, 8, DType.BF16,
                        FusedLossRun.targets(130, 600, 5, 6)), 2),
                Arguments.of(new FusedLossRun.Problem(130, 72, 600, 8, DType.F16,
                        FusedLossRun.targets(130, 600, 5, 7)), 2),
                // T = 300: row blocks 0 and 1 wholly ignored (a masked prompt), the third block live
                Arguments.of(new FusedLossRun.Problem(300, 40, 600, 8, DType.BF16, promptMasked(300, 600, 256)), 2),
                // V = 5 at tp 3, multiple 4: shards of 4, 1 and 0 valid rows
                Arguments.of(new FusedLossRun.Problem(9, 16, 5, 4, DType.BF16, FusedLossRun.targets(9, 5, 4, 2)), 3),
                Arguments.of(new FusedLossRun.Problem(20, 32, 96, 16, DType.BF16, FusedLossRun.targets(20, 96, 7, 3)),
                        2)));
    }

    /** Random targets with the first {@code prompt} ignored, as fine-tuning on instructions masks its prompts. */
    static long[] promptMasked(int t, int vocab, int prompt) {
        long[] y = FusedLossRun.targets(t, vocab, 7, 8);
        java.util.Arrays.fill(y, 0, prompt, VocabParallelCrossEntropy.IGNORE_INDEX);
        return y;
    }

    static double gradientTolerance(DType dtype) {
        return switch (dtype) {
            case BF16 -> 1e-2;
            case F16 -> 2e-3;
            default -> 1e-5;
        };
    }

    @ParameterizedTest
    @MethodSource("problems")
    void theGpuGivesTheCpusUnfusedLossAndGradients(FusedLossRun.Problem p, int tp) {
        FusedLossRun cpu = FusedLossRun.run(p, tp, Device.CPU, false);
        FusedLossRun gpu = FusedLossRun.run(p, tp, GPU, true);
        LmHeadCrossEntropyTest.assertSame(cpu, gpu, gradientTolerance(p.dtype()),
                "GPU fused, T=" + p.t() + " tp " + tp + " " + p.dtype());
    }

    /**
     * The tile kernels skip a row block whose every token is ignored, in both directions: its hidden states are never
     * read. With them NaN, the loss and the gradients (dW too, where 0·NaN would show) are the unfused form's with them
     * zero.
     */
    @Test
    void aWhollyIgnoredRowBlockIsNeverRead() {
        int t = 300;
        int h = 40;
        FusedLossRun.Problem p = new FusedLossRun.Problem(t, h, 600, 8, DType.BF16, promptMasked(t, 600, 256));
        float[] x = p.x();
        float[] zeroed = x.clone();
        java.util.Arrays.fill(x, 0, 256 * h, Float.NaN);
        java.util.Arrays.fill(zeroed, 0, 256 * h, 0f);
        FusedLossRun cpu = FusedLossRun.run(p, zeroed, 2, Device.CPU, false);
        FusedLossRun gpu = FusedLossRun.run(p, x, 2, GPU, true);
        LmHeadCrossEntropyTest.assertSame(cpu, gpu, gradientTolerance(DType.BF16), "masked prompt of NaN");
        for (float[] maxima : gpu.rowMax()) {
            for (int i = 0; i < t; i++) {
                assertFalse(Float.isNaN(maxima[i]), "row " + i + "'s maximum is NaN: its hidden state was read");
            }
        }
    }

    /**
     * A forward block folds its group's tiles one after another into running statistics on chip: with every tile in
     * one group (one block per row block) the statistics are those of a group per tile, and the CPU's chunked ones.
     */
    @Test
    void oneGroupOfTilesFoldsToWhatATileAGroupGives() {
        int t = 130;
        int h = 40;
        int valid = 300;
        long start = 300;
        long[] targets = FusedLossRun.targets(t, 600, 6, 9);
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor xh = Tensor.ofFloats(DType.BF16, RandomData.moderate(3, t * h), t, h);
             Tensor wh = Tensor.ofFloats(DType.BF16, scaled(RandomData.moderate(4, valid * h), 3), valid, h);
             Tensor yh = Tensor.ofLongs(DType.I64, targets, t);
             Tensor x = xh.copyTo(GPU);
             Tensor w = wh.copyTo(GPU);
             Tensor y = yh.copyTo(GPU)) {
            float[][] one = statistics(ctx, x, w, y, start, 1);
            float[][] three = statistics(ctx, x, w, y, start, 3);
            assertEquals(3, (valid + 127) / 128, "three column tiles");
            float[][] cpu = cpuStatistics(xh, wh, yh, targets, start, valid, t);
            for (int i = 0; i < t; i++) {
                assertEquals(three[0][i], one[0][i], "row " + i + " max");
                assertEquals(three[1][3 * i], one[1][3 * i], "row " + i + " ties");
                assertEquals(three[1][3 * i + 2], one[1][3 * i + 2], "row " + i + " target");
                assertClose(three[1][3 * i + 1], one[1][3 * i + 1], 1e-6, "row " + i + " rest, one group");
                assertClose(cpu[0][i], one[0][i], 1e-6, "row " + i + " max against the CPU's");
                // The logits are summed in another order than the CPU's, each within about 1e-6 of its size, which exp
                // turns into a relative error of the rest's terms.
                assertClose(cpu[1][3 * i + 1], one[1][3 * i + 1], 1e-4, "row " + i + " rest against the CPU's");
                // A logit's rounding is relative to the row's logits, not to itself (they cancel).
                assertTrue(Math.abs(cpu[1][3 * i + 2] - one[1][3 * i + 2]) <= 1e-5 * Math.abs(cpu[0][i]),
                        "row " + i + " target against the CPU's: " + one[1][3 * i + 2] + ", want " + cpu[1][3 * i + 2]);
            }
        }
    }

    private static float[][] statistics(ExecutionContext ctx, Tensor x, Tensor w, Tensor y, long start, int groups) {
        long t = x.dim(0);
        try (Tensor local = Tensor.allocate(ctx, DType.F32, t);
             Tensor max = Tensor.allocate(ctx, DType.F32, t);
             Tensor packed = Tensor.allocate(ctx, DType.F32, t, 3)) {
            LmHeadCrossEntropyCuda.statistics(ctx, x, w, y, start, local, max, packed, groups);
            ctx.synchronize();
            float[] l = local.toFloatArray();
            float[] m = max.toFloatArray();
            assertEquals(java.util.Arrays.toString(l), java.util.Arrays.toString(m), "local and row maxima");
            return new float[][] {m, packed.toFloatArray()};
        }
    }

    private static float[][] cpuStatistics(Tensor x, Tensor w, Tensor y, long[] ids, long start, int valid, int t) {
        // The shard [start, start + valid) of a vocabulary of 2·valid at tp 2, rank 1.
        VocabShard shard = VocabShard.of(2L * valid, 2, 1, 4);
        assertEquals(start, shard.start());
        try (ExecutionContext cpu = ExecutionContext.cpu();
             Tensor max = Tensor.allocate(cpu, DType.F32, t);
             Tensor packed = Tensor.allocate(cpu, DType.F32, t, 3)) {
            LmHeadCrossEntropy.chunkedStatistics(cpu, shard, x, w, y, max, packed);
            float[] p = packed.toFloatArray();
            for (int i = 0; i < t; i++) {
                if (ids[i] == VocabParallelCrossEntropy.IGNORE_INDEX) {
                    p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = 0; // the fold zeroes ignored rows, as sumAndTarget does
                }
            }
            return new float[][] {max.toFloatArray(), p};
        }
    }

    private static float[] scaled(float[] v, float by) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= by;
        }
        return v;
    }

    private static void assertClose(float want, float got, double relative, String what) {
        assertTrue(!Float.isNaN(got) && Math.abs(got - want) <= relative * Math.max(Math.abs(want), 1e-30),
                what + ": " + got + ", want " + want);
    }

    @ParameterizedTest
    @MethodSource("dtypes")
    void theFusedFormNeverHoldsTheLogitsOnTheDevice(DType dtype) {
        FusedLossRun.Problem p = new FusedLossRun.Problem(1024, 8, 8000, 512, dtype,
                FusedLossRun.targets(1024, 8000, 11, 5));
        FusedLossRun fused = FusedLossRun.run(p, 1, GPU, true);
        long logits = fused.shardBytes().get(0);
        assertTrue(fused.peakBytes().get(0) > 0, "the meter sees the device allocations");
        assertTrue(fused.peakBytes().get(0) * 16 <= logits, dtype + ": fused peak " + fused.peakBytes().get(0)
                + " bytes, more than 1/16 of the logits' " + logits);
    }

    static Stream<DType> dtypes() {
        return Stream.of(DType.F32, DType.BF16);
    }
}
