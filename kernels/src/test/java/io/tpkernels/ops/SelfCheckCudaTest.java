package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelHealth;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Kernels check themselves: the first time a context with self-checks chooses a GEMM or LoRA kernel on a device,
 * it runs once against the double reference; a kernel known broken is not chosen, the next simpler one is, and
 * the result is still right.
 */
@GpuTest
class SelfCheckCudaTest {

    private static final Device GPU = Device.cuda(0);
    private static final String MMA = "tpk_gemm_mma_bf16_bf16";
    private static final String MMA_DECODE = "tpk_gemm_mma_decode_bf16_bf16";
    private static final String WGMMA = "tpk_gemm_wgmma_bf16_bf16";
    private static final String SIMT = "tpk_gemm_simt_bf16_bf16";
    private static final String LORA_DECODE = "tpk_lora_decode_bf16_bf16";

    private static KernelHealth health() {
        return CudaDevice.of(GPU).kernelHealth();
    }

    private static ExecutionContext checking(Tuning.HopperGemm hopper) {
        return ExecutionContext.create(GPU, Tuning.defaults().withSelfCheck(true).withHopperGemm(hopper));
    }

    private static Tensor random(DType dtype, long seed, long... shape) {
        return RandomData.moderateOn(GPU, dtype, seed, shape);
    }

    @Test
    void eachKernelIsCheckedOnceTheFirstTimeItIsChosen() {
        List.of(MMA, MMA_DECODE).forEach(health()::forget);
        long before = health().checksRun();
        try (ExecutionContext ctx = checking(Tuning.HopperGemm.OFF); Tensor w = random(DType.BF16, 1, 96, 64)) {
            Linear.Plan plan = Linear.plan(ctx, w, null);
            assertEquals(MMA_DECODE, plan.kernelFor(1));
            assertEquals(MMA, plan.kernelFor(40));
            assertEquals(before + 2, health().checksRun(), "one check for each of the two kernels chosen");
            Linear.plan(ctx, w, null);
            Linear.plan(ctx, w, null);
            assertEquals(before + 2, health().checksRun(), "the verdicts are remembered");
        }
        assertTrue(health().brokenBecause(MMA).isEmpty());
    }

    @Test
    void withoutSelfChecksNothingIsChecked() {
        health().forget(MMA);
        long before = health().checksRun();
        try (ExecutionContext ctx = ExecutionContext.create(GPU, Tuning.defaults().withSelfCheck(false)
                .withHopperGemm(Tuning.HopperGemm.OFF)); Tensor w = random(DType.BF16, 1, 96, 64)) {
            assertEquals(MMA, Linear.plan(ctx, w, null).kernelFor(40));
            assertEquals(before, health().checksRun());
        }
    }

    @Test
    void aBrokenKernelWithABiasGivesWayToTheNextSimplerOneAndTheResultIsStillRight() {
        try (ExecutionContext ctx = checking(Tuning.HopperGemm.V1);
             Tensor w = random(DType.BF16, 2, 300, 128);
             Tensor bias = random(DType.BF16, 4, 300);
             Tensor x = random(DType.BF16, 3, 140, 128)) {
            health().markBroken(WGMMA, "marked by a test");
            assertEquals(MMA, Linear.plan(ctx, w, bias).kernelFor(140), "a bias keeps cuBLAS out: it would round twice");
            health().markBroken(MMA, "marked by a test");
            Linear.Plan simt = Linear.plan(ctx, w, bias);
            assertEquals(SIMT, simt.kernelFor(140));
            assertMatchesTheCpu(x, w, bias, simt);
        } finally {
            List.of(WGMMA, MMA).forEach(health()::forget);
        }
    }

    @Test
    void aBrokenKernelOfAPlainProductGivesWayToCublasWhereItIsInstalled() {
        assumeTrue(CublasGemm.isAvailable(), "cuBLAS is not installed");
        try (ExecutionContext ctx = checking(Tuning.HopperGemm.V1);
             Tensor w = random(DType.BF16, 2, 300, 128);
             Tensor x = random(DType.BF16, 3, 140, 128)) {
            health().markBroken(WGMMA, "marked by a test");
            Linear.Plan cublas = Linear.plan(ctx, w, null);
            assertEquals(GemmCuda.CUBLAS_NAME, cublas.kernelFor(140));
            assertMatchesTheCpu(x, w, null, cublas);
        } finally {
            health().forget(WGMMA);
        }
    }

    private static void assertMatchesTheCpu(Tensor x, Tensor w, Tensor bias, Linear.Plan plan) {
        float[] want;
        try (Tensor xh = x.copyTo(Device.CPU); Tensor wh = w.copyTo(Device.CPU);
             Tensor bh = bias == null ? null : bias.copyTo(Device.CPU);
             Tensor y = Linear.forward(ExecutionContext.cpu(), xh, wh, bh)) {
            want = y.toFloatArray();
        }
        try (Tensor y = plan.forward(x)) {
            float[] got = y.toFloatArray();
            double scale = 0;
            for (float v : want) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-2 * scale, "element " + i);
            }
        }
    }

    @Test
    void aBrokenLoraDecodeKernelGivesWayToTheShrinkAndTheFusedGemm() {
        try (ExecutionContext ctx = checking(Tuning.HopperGemm.V1);
             Tensor w = random(DType.BF16, 1, 200, 128);
             Tensor a = random(DType.BF16, 2, 16, 128);
             Tensor b = random(DType.BF16, 3, 200, 16)) {
            assertEquals(List.of(LORA_DECODE), LoraLinear.plan(ctx, w, a, b, 0.5f, null, null).kernelsFor(1));
            health().markBroken(LORA_DECODE, "marked by a test");
            List<String> kernels = LoraLinear.plan(ctx, w, a, b, 0.5f, null, null).kernelsFor(1);
            assertEquals(2, kernels.size(), kernels.toString());
            assertFalse(kernels.contains(LORA_DECODE));
        } finally {
            health().forget(LORA_DECODE);
        }
    }

    @Test
    void aKernelThatComputesSomethingElseFailsItsCheck() {
        try (ExecutionContext ctx = ExecutionContext.create(GPU, Tuning.defaults().withSelfCheck(false))) {
            // The F16 body fed BF16 bits: a wrong kernel for these operands, as a miscompiled one would be.
            GemmCuda.Choice wrong = new GemmCuda.Choice(GemmCuda.Path.MMA,
                    ctx.kernel(KernelNames.MODULE_GEMM, "tpk_gemm_mma_f16_bf16"));
            String why = SelfChecks.gemm(ctx, wrong, DType.BF16, DType.BF16);
            assertNotNull(why);
            assertTrue(why.startsWith("element "), why);
            GemmCuda.Choice right = new GemmCuda.Choice(GemmCuda.Path.MMA, ctx.kernel(KernelNames.MODULE_GEMM, MMA));
            assertNull(SelfChecks.gemm(ctx, right, DType.BF16, DType.BF16));
            assertNull(SelfChecks.loraDecode(ctx, ctx.kernel(KernelNames.MODULE_LORA_DECODE, LORA_DECODE), DType.BF16,
                    DType.BF16));
            assertNotNull(SelfChecks.loraDecode(ctx, ctx.kernel(KernelNames.MODULE_LORA_DECODE,
                    "tpk_lora_decode_f16_bf16"), DType.BF16, DType.BF16));
        }
    }

    @Test
    void aFailedCheckIsRememberedWithItsReasonAndNotRunAgain() {
        String kernel = "tpk_no_such_kernel_for_a_test";
        AtomicInteger runs = new AtomicInteger();
        try {
            assertFalse(health().usable(kernel, "another", checking -> {
                runs.incrementAndGet();
                return "element 3 is 7.0 where the reference is 1.0";
            }));
            assertFalse(health().usable(kernel, "another", checking -> {
                runs.incrementAndGet();
                return null;
            }));
            assertEquals(1, runs.get());
            assertEquals("element 3 is 7.0 where the reference is 1.0", health().brokenBecause(kernel).orElseThrow());
            assertFalse(health().usable("tpk_throwing_check_for_a_test", "another", checking -> {
                throw new IllegalStateException("launch failed");
            }));
            assertTrue(health().brokenBecause("tpk_throwing_check_for_a_test").orElseThrow().contains("launch failed"));
        } finally {
            health().forget(kernel);
            health().forget("tpk_throwing_check_for_a_test");
        }
    }
}
