package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused LoRA linear on a GPU (every kernel body: on sm_90 the tensor-core shapes go through wgmma, and through
 * mma.sync with the Hopper kernel off) against the double reference; B = 0 is exact.
 */
@GpuTest
class LoraLinearCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "BF16, 1, 4096, 512, 16",     // decode: one launch, 16 k-splits of the shrink
        "BF16, 16, 1024, 384, 64",    // decode, every token slot
        "F16, 7, 2056, 200, 72",      // decode: two 64-row blocks of A, a short last k-split, a ragged last column block
        "BF16, 2, 64, 96, 8",         // decode: K under one k-split
        "F16, 200, 1024, 256, 16",    // tensor cores
        "BF16, 130, 512, 260, 8",     // tensor cores, ragged tiles
        "BF16, 150, 200, 600, 72",    // tensor cores: K and R ragged against the 64-wide k-tiles
        "BF16, 70, 512, 128, 12",     // R not a multiple of 8: A and B staged zero-padded to R = 16
        "F16, 9, 1000, 100, 3",       // the same at decode: staged, then one launch
        "F32, 50, 300, 100, 7",       // F32 at T > 16: SIMT (R staged to 8)
        "BF16, 3, 256, 64, 256",      // the largest rank
    })
    void matchesTheReference(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, 1.5f, true, t * 31L + k);
    }

    @ParameterizedTest(name = "mma.sync (Hopper off) {0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "F16, 200, 1024, 256, 16",
        "BF16, 150, 200, 600, 72",
    })
    void theMmaSyncBodyMatchesTheReferenceWithTheHopperKernelOff(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.check(hopper(Tuning.HopperGemm.OFF), dtype, t, k, n, r, 1.5f, true, t * 17L + k);
    }

    @ParameterizedTest(name = "pingpong (Hopper v2) {0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "F16, 200, 1024, 256, 16",    // R = 16: one LoRA k-tile, zero-filled past 16
        "BF16, 130, 512, 260, 8",     // ragged tiles
        "BF16, 150, 200, 600, 72",    // K and R ragged against the 64-wide k-tiles
        "BF16, 300, 392, 8000, 24",   // 189 tiles on 132 SMs: blocks take 1 or 2 tiles, one per consumer; 8 k-tiles
    })
    void thePingpongKernelMatchesTheReference(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.check(hopper(Tuning.HopperGemm.PINGPONG), dtype, t, k, n, r, 1.5f, true, t * 19L + k);
    }

    @Test
    void withBZeroTheResultIsTheBaseProductExactly() {
        LoraLinearCpuTest.assertBZeroGivesTheBase(GPU, 200, 1024, 256);
        LoraLinearCpuTest.assertBZeroGivesTheBase(GPU, 5, 1024, 256); // decode: one launch against the LM head's
    }

    /**
     * Ranks whose rows are not a multiple of 16 bytes are staged zero-padded, so they take the base product's kernel:
     * on the SIMT kernel the base sums would run in another order and differ in the last bits.
     */
    @ParameterizedTest(name = "{0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "BF16, 70, 512, 128, 12",     // tensor cores
        "BF16, 70, 512, 128, 4",
        "F16, 40, 1024, 64, 1",
        "BF16, 5, 1024, 256, 3",      // decode: the one-launch kernel
        "F16, 16, 512, 96, 9",
        "F32, 5, 512, 128, 3",        // the F32 decode body
        "F32, 40, 256, 72, 1",        // SIMT, both
    })
    void withBZeroAnUnalignedRankIsTheBaseProductExactlyToo(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.assertBZeroGivesTheBase(GPU, dtype, t, k, n, r);
    }

    /**
     * A B that is a view 2 bytes past a 16-byte boundary is staged too (the fused kernel reads B with the base
     * product's tiles): B = 0 still gives the base bit for bit.
     */
    @ParameterizedTest(name = "T={0}")
    @CsvSource({"40", "5"})
    void aMisalignedViewOfBIsStagedToo(int t) {
        int k = 512, n = 64, r = 16;
        CudaDevice device = CudaDevice.of(GPU);
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.moderate(1, t * k), t, k).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.moderate(2, n * k), n, k).copyTo(GPU);
             Tensor a = Tensor.ofFloats(DType.BF16, RandomData.moderate(3, r * k), r, k).copyTo(GPU);
             Tensor backing = Tensor.zeros(GPU, DType.BF16, n * r + 8);
             Tensor b = Tensor.view(io.tpkernels.runtime.DeviceBuffer.wrap(device, backing.devicePointer() + 2,
                     (long) n * r * 2), 0, DType.BF16, n, r)) {
            LoraLinearCpuTest.assertLoraIsTheBase(x, w, a, b, "B at +2 bytes, T=" + t);
        }
    }

    /**
     * The one-launch decode kernel carries an arrival counter in the stream's scratch from launch to launch: each
     * launch must leave it at 0, or the next one, with another number of shrink blocks, picks the wrong last block.
     */
    @Test
    void decodeLaunchesOfDifferentShapesInARowEachMatchTheReference() {
        LoraLinearCpuTest.check(GPU, DType.BF16, 16, 8192, 64, 16, 0.5f, true, 1);  // 32 k-splits
        LoraLinearCpuTest.check(GPU, DType.F16, 3, 1000, 80, 200, 2f, false, 2);     // 4 row blocks x 3 k-splits
        LoraLinearCpuTest.check(GPU, DType.BF16, 1, 40, 64, 8, 1f, true, 3);         // 1 k-split
        LoraLinearCpuTest.check(GPU, DType.BF16, 16, 8192, 64, 16, 0.5f, true, 4);
    }

    /** The shrink's splits are added in a fixed order: the same inputs give the same bits, on any stream. */
    @Test
    void decodeIsBitwiseRepeatableOnTheDefaultStreamAndOnAStreamOfItsOwn() {
        int t = 9, k = 2048, n = 128, r = 32;
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.moderate(11, t * k), t, k).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.moderate(12, n * k), n, k).copyTo(GPU);
             Tensor a = Tensor.ofFloats(DType.BF16, RandomData.moderate(13, r * k), r, k).copyTo(GPU);
             Tensor b = Tensor.ofFloats(DType.BF16, RandomData.moderate(14, n * r), n, r).copyTo(GPU);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n);
             ExecutionContext ctx = ExecutionContext.create(GPU)) {
            LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b, 1.5f, null, y);
            float[] first = y.toFloatArray();
            for (int run = 0; run < 2; run++) {
                y.fillBytes((byte) 0xFF);
                LoraLinear.forward(ctx, x, w, a, b, 1.5f, null, y);
                ctx.synchronize();
                float[] again = y.toFloatArray();
                for (int i = 0; i < first.length; i++) {
                    assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(again[i]), "run " + run + ", element " + i);
                }
            }
        }
    }

    /** A context on the GPU's legacy default stream with this Hopper choice. */
    private static ExecutionContext hopper(Tuning.HopperGemm variant) {
        return ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)),
                Tuning.defaults().withHopperGemm(variant));
    }
}
