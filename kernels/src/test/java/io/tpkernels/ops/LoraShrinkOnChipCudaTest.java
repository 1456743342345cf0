package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The LoRA linear with its shrink on chip ({@code tpk_gemm_wgmma_lora<RB>} of gemm_sm90.cu: {@code x·Aᵀ} from the X
 * tiles of the base product, kept in registers as the A operand of the expand) against the double reference, called
 * directly so that each case is known to have run that kernel; B = 0 exact; and the shapes it declines.
 */
@GpuTest
class LoraShrinkOnChipCudaTest {

    private static final Device GPU = Device.cuda(0);

    @BeforeAll
    static void onAnSm90Device() {
        assumeTrue(CudaDevice.of(GPU).computeCapability() == 90, "the on-chip shrink is a Hopper (sm_90) kernel");
    }

    /** {@link GemmCuda#launchLoraOnChip} with every rank it is built for, asserted to take the shape. */
    private static void onChip(Tensor x, Tensor w, Tensor a, Tensor b, float s, Tensor columnScale, Tensor bias,
                               Tensor y) {
        ExecutionContext ctx = tuned(Tuning.defaults().withLoraShrink(Tuning.LoraShrink.ON_CHIP));
        CudaKernel kernel = GemmCuda.loraOnChipKernel(x, w, a, b, y, ctx);
        assertTrue(kernel != null, "the on-chip kernel takes this shape");
        GemmCuda.launchLoraOnChip(kernel, x, w, a, b, s, columnScale, bias, y, ctx);
        ctx.synchronize();
    }

    /** A context on the GPU's legacy default stream with {@code tuning}. */
    private static ExecutionContext tuned(Tuning tuning) {
        return ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), tuning);
    }

    @ParameterizedTest(name = "{0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "BF16, 200, 1024, 512, 16",   // RB = 16: 16 k-tiles (the 4-stage ring wraps 4 times; B's tile in stage 0)
        "F16, 130, 520, 300, 8",      // RB = 16 with A's rows 8..15 zero-filled; K, T and N ragged against the tiles
        "BF16, 100, 256, 260, 24",    // RB = 32: 4 k-tiles, so B's tile takes stage 0 in the ring's second round
        "F16, 64, 192, 384, 32",
        "BF16, 40, 128, 257, 40",     // RB = 64, R ragged inside it; one column of the second tile
        "F16, 17, 64, 200, 64",       // one k-tile; the largest rank on chip; 17 tokens, just above decode
    })
    void matchesTheReference(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, 1.5f, true, t * 13L + r, LoraShrinkOnChipCudaTest::onChip);
        // without bias, with DoRA's column scale (with both: LoraColumnScaleCudaTest)
        LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, -0.25f, false, true, t * 7L + k, LoraShrinkOnChipCudaTest::onChip);
    }

    /** The expand adds products with zeros only: the base product's accumulators, bit for bit (the LM head's GEMM). */
    @ParameterizedTest(name = "R={0}")
    @CsvSource({"16", "40"})
    void withBZeroTheResultIsTheBaseProductExactly(int r) {
        int t = 150;
        int k = 512;
        int n = 384;
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.moderate(1, t * k), t, k).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.moderate(2, n * k), n, k).copyTo(GPU);
             Tensor a = Tensor.ofFloats(DType.BF16, RandomData.moderate(3, r * k), r, k).copyTo(GPU);
             Tensor b = Tensor.zeros(GPU, DType.BF16, n, r);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n);
             Tensor base = LmHead.logits(tuned(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.V1)), x, w, n)) {
            y.fillBytes((byte) 0xFF);
            onChip(x, w, a, b, 2f, null, null, y);
            float[] got = y.toFloatArray();
            float[] expected = base.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "element " + i);
            }
        }
    }

    /**
     * Which way LoraLinear takes each shape: on chip by default at R = 16 (and R = 12, padded to 16 first), the
     * separate shrink above 16 unless ON_CHIP is asked for, the decode kernel at T <= 16.
     */
    @ParameterizedTest(name = "{0} T={1} R={2}: {3}")
    @CsvSource({
        "AUTO, 100, 16, SHRINK_ON_CHIP",
        "AUTO, 100, 12, STAGED",
        "AUTO, 100, 24, SHRINK_SEPARATE",
        "ON_CHIP, 100, 24, SHRINK_ON_CHIP",
        "ON_CHIP, 100, 72, SHRINK_SEPARATE",
        "SEPARATE, 100, 16, SHRINK_SEPARATE",
        "AUTO, 16, 16, DECODE",
    })
    void routesEachShape(Tuning.LoraShrink mode, int t, int r, LoraLinearCuda.Way expected) {
        int k = 256;
        int n = 260;
        try (Tensor x = Tensor.allocate(GPU, DType.BF16, t, k);
             Tensor w = Tensor.allocate(GPU, DType.BF16, n, k);
             Tensor a = Tensor.allocate(GPU, DType.BF16, r, k);
             Tensor b = Tensor.allocate(GPU, DType.BF16, n, r);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n)) {
            ExecutionContext ctx = tuned(Tuning.defaults().withLoraShrink(mode));
            assertEquals(expected, LoraLinearCuda.route(x, w, a, b, y, ctx).way());
        }
    }

    /**
     * Declined, with nothing queued: the separate mode, ranks over 16 in the default mode and over 64 in any, decode,
     * the Hopper kernels off, F32, N of one 128-wide tile. LoraLinear then takes its two-launch path, which still
     * matches the reference.
     */
    @Test
    void declinesWhatItIsNotBuiltForAndTheForwardStillMatches() {
        assertTrue(launchable(DType.BF16, 64, 256, 384, 16, Tuning.LoraShrink.AUTO, true));
        assertFalse(launchable(DType.BF16, 64, 256, 384, 24, Tuning.LoraShrink.AUTO, true));
        assertTrue(launchable(DType.BF16, 64, 256, 384, 24, Tuning.LoraShrink.ON_CHIP, true));
        assertFalse(launchable(DType.BF16, 64, 256, 384, 16, Tuning.LoraShrink.SEPARATE, true));
        assertFalse(launchable(DType.BF16, 64, 256, 384, 72, Tuning.LoraShrink.ON_CHIP, true));
        assertFalse(launchable(DType.BF16, 16, 256, 384, 16, Tuning.LoraShrink.ON_CHIP, true));
        assertFalse(launchable(DType.BF16, 64, 256, 384, 16, Tuning.LoraShrink.ON_CHIP, false));
        assertFalse(launchable(DType.F32, 64, 256, 384, 16, Tuning.LoraShrink.ON_CHIP, true));
        assertFalse(launchable(DType.F16, 64, 256, 128, 16, Tuning.LoraShrink.ON_CHIP, true));
        assertTrue(launchable(DType.F16, 64, 256, 136, 16, Tuning.LoraShrink.ON_CHIP, true));
        LoraLinearCpuTest.check(tuned(Tuning.defaults().withLoraShrink(Tuning.LoraShrink.SEPARATE)), DType.BF16, 100,
                256, 260, 24, 1.5f, true, 5);
    }

    /** Whether the on-chip kernel takes the shape; if it does not, y is left as it was (all bytes 0xFF). */
    private static boolean launchable(DType dtype, int t, int k, int n, int r, Tuning.LoraShrink mode, boolean hopper) {
        try (Tensor x = Tensor.ofFloats(dtype, RandomData.moderate(1, t * k), t, k).copyTo(GPU);
             Tensor w = Tensor.ofFloats(dtype, RandomData.moderate(2, n * k), n, k).copyTo(GPU);
             Tensor a = Tensor.ofFloats(dtype, RandomData.moderate(3, r * k), r, k).copyTo(GPU);
             Tensor b = Tensor.ofFloats(dtype, RandomData.moderate(4, n * r), n, r).copyTo(GPU);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n)) {
            y.fillBytes((byte) 0xFF);
            ExecutionContext ctx = tuned(Tuning.defaults().withLoraShrink(mode)
                    .withHopperGemm(hopper ? Tuning.HopperGemm.V1 : Tuning.HopperGemm.OFF));
            CudaKernel kernel = GemmCuda.loraOnChipKernel(x, w, a, b, y, ctx);
            boolean taken = kernel != null;
            if (taken) {
                GemmCuda.launchLoraOnChip(kernel, x, w, a, b, 1f, null, null, y, ctx);
            }
            ctx.synchronize();
            if (!taken) {
                for (float v : y.toFloatArray()) {
                    assertEquals(0xFFFFFFFF, Float.floatToRawIntBits(v), "a declined call wrote y");
                }
            }
            return taken;
        }
    }
}
