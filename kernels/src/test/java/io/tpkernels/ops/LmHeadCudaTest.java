package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every LM-head kernel (decode, tensor-core through wgmma on sm_90 and through mma.sync, SIMT) against the double
 * reference on random data, outputs poisoned first; padding columns exactly −∞. The argmax kernel's tests are
 * {@link VocabArgmaxCudaTest}.
 */
@GpuTest
class LmHeadCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0} -> {1}: T={2} H={3} valid={4} S={5} ({6})")
    @CsvSource({
        "BF16, F32, 1, 4096, 1000, 1024, decode",
        "BF16, F32, 16, 2048, 777, 832, decode",
        "F16, BF16, 8, 1024, 300, 320, decode",
        "F32, F32, 3, 512, 200, 256, decode",
        "BF16, F32, 300, 1024, 1000, 1024, tensor cores (Hopper on sm_90)",
        "F16, F32, 129, 264, 130, 192, tensor cores (Hopper on sm_90)",
        "BF16, BF16, 257, 512, 512, 512, tensor cores (Hopper on sm_90)",
        "BF16, F32, 200, 136, 300, 1024, Hopper: ragged T and K, partial and all-padding column tiles",
        "F16, BF16, 17, 8, 260, 320, Hopper: T just over decode K of one 16-byte chunk",
        "BF16, F32, 300, 1024, 1000, 1024, pingpong (Hopper v2 on sm_90)",
        "F16, F32, 129, 264, 130, 192, pingpong: ragged T and K, a partial column tile",
        "BF16, BF16, 257, 512, 512, 512, pingpong: BF16 out",
        "BF16, F32, 200, 136, 300, 1024, pingpong: ragged T and K, partial and all-padding column tiles",
        "F16, BF16, 17, 8, 260, 320, pingpong: T just over decode K of one 16-byte chunk",
        "F16, BF16, 150, 520, 700, 768, pingpong: F16 in BF16 out, 9 k-tiles: the ring's parity wraps in a tile",
        "BF16, F32, 260, 456, 17000, 17408, pingpong: 408 tiles on 132 SMs, 3 or 4 per block, padding tiles among them",
        "BF16, F32, 100, 256, 16, 16, narrow output: decode body transposed",
        "F16, BF16, 70, 64, 5, 5, narrow output: decode body transposed",
        "BF16, F32, 40, 128, 10, 16, narrow but padded: tensor cores",
        "BF16, F32, 300, 1024, 1000, 1024, mma.sync (Hopper off)",
        "F16, F32, 129, 264, 130, 192, mma.sync (Hopper off)",
        "BF16, BF16, 257, 512, 512, 512, mma.sync (Hopper off)",
        "BF16, F32, 40, 0, 64, 64, SIMT (H = 0)",
        "F32, F32, 70, 300, 100, 128, SIMT",
        "BF16, F32, 33, 101, 90, 96, SIMT (odd H)",
        "BF16, F32, 50, 256, 0, 64, no valid rows",
    })
    void matchesTheReference(DType dtype, DType outDtype, int t, int h, int valid, int s, String path) {
        try (Tensor xh = Tensor.ofFloats(dtype, RandomData.floats(t * 7L + h, t * h), t, h);
             Tensor wh = Tensor.ofFloats(dtype, RandomData.floats(h * 13L + valid, valid * h), valid, h);
             Tensor x = xh.copyTo(GPU);
             Tensor w = wh.copyTo(GPU);
             Tensor out = Poison.poison(Tensor.allocate(GPU, outDtype, t, s))) {
            if (path.contains("Hopper off")) {
                LmHead.logits(ExecutionContext.defaultFor(GPU).withTuning(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.OFF)), x, w, out);
            } else if (path.startsWith("pingpong")) {
                LmHead.logits(ExecutionContext.defaultFor(GPU).withTuning(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.PINGPONG)), x, w, out);
            } else {
                LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, out);
            }
            float[] got = out.toFloatArray();
            GemmReference.assertClose(GemmReference.multiplyNT(xh.toFloatArray(), wh.toFloatArray(), t, valid, h), got,
                    s, outDtype != DType.F32, path);
            for (int i = 0; i < t; i++) {
                for (int j = valid; j < s; j++) {
                    assertEquals(Float.NEGATIVE_INFINITY, got[i * s + j], "padding [" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void onAnSm90DeviceThePrefillShapesRunTheHopperKernelAndMatchTheMmaSyncOne() {
        CudaDevice device = CudaDevice.of(GPU);
        org.junit.jupiter.api.Assumptions.assumeTrue(device.computeCapability() == 90,
                () -> "the Hopper kernel runs on sm_90 only, this is " + device);
        int t = 150;
        int h = 320;
        int valid = 700;
        int s = 768;
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.floats(21, t * h), t, h).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.floats(22, valid * h), valid, h).copyTo(GPU);
             Tensor hopper = Poison.poison(Tensor.allocate(GPU, DType.F32, t, s));
             Tensor mmaSync = Poison.poison(Tensor.allocate(GPU, DType.F32, t, s))) {
            LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, hopper);
            assertEquals(1, device.modules().loadCount(KernelNames.MODULE_GEMM_SM90), "the Hopper module was loaded and used");
            LmHead.logits(ExecutionContext.defaultFor(GPU).withTuning(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.OFF)), x, w, mmaSync);
            float[] a = hopper.toFloatArray();
            float[] b = mmaSync.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                // Both sum the same bf16 products in f32, in different orders: close, not equal.
                assertEquals(b[i], a[i], 1e-5f * Math.max(1f, Math.abs(b[i])) * h, "element " + i);
            }
        }
    }

    /**
     * The persistent ping-pong kernel against v1 on a shape with more tiles than SMs (so blocks loop, and both
     * consumers of a block take tiles) and enough k-tiles that the stage ring wraps inside a tile.
     */
    @Test
    void onAnSm90DeviceThePingpongKernelRunsWhenAskedForAndMatchesV1() {
        CudaDevice device = CudaDevice.of(GPU);
        org.junit.jupiter.api.Assumptions.assumeTrue(device.computeCapability() == 90,
                () -> "the Hopper kernels run on sm_90 only, this is " + device);
        int t = 140;
        int h = 456;
        int s = 128 * (device.multiprocessors() + 7); // 2 row tiles: every block takes 2 tiles or more
        int valid = s - 200;
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.floats(31, t * h), t, h).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.floats(32, valid * h), valid, h).copyTo(GPU);
             Tensor pingpong = Poison.poison(Tensor.allocate(GPU, DType.F32, t, s));
             Tensor v1 = Poison.poison(Tensor.allocate(GPU, DType.F32, t, s))) {
            LmHead.logits(ExecutionContext.defaultFor(GPU).withTuning(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.PINGPONG)), x, w, pingpong);
            assertEquals(1, device.modules().loadCount(KernelNames.MODULE_GEMM_SM90_PINGPONG), "the ping-pong module was loaded and used");
            LmHead.logits(ExecutionContext.defaultFor(GPU).withTuning(Tuning.defaults().withHopperGemm(Tuning.HopperGemm.V1)), x, w, v1);
            float[] a = pingpong.toFloatArray();
            float[] b = v1.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                // The same bf16 products in f32; the two may order the tensor cores' sums differently: close.
                assertEquals(b[i], a[i], 1e-5f * Math.max(1f, Math.abs(b[i])) * h, "element " + i);
            }
        }
    }
}
