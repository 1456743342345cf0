package io.tpkernels.ops;


import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.testing.GpuTest;
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
        "BF16, 1, 4096, 512, 16",     // decode
        "BF16, 16, 1024, 384, 64",    // decode, every token slot
        "F16, 200, 1024, 256, 16",    // tensor cores
        "BF16, 130, 512, 260, 8",     // tensor cores, ragged tiles
        "BF16, 150, 200, 600, 72",    // tensor cores: K and R ragged against the 64-wide k-tiles
        "BF16, 70, 512, 128, 12",     // R not a multiple of 8: SIMT
        "F32, 50, 300, 100, 7",       // SIMT
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
        HopperGemm.disabledDuring(() -> LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, 1.5f, true, t * 17L + k));
    }

    @Test
    void withBZeroTheResultIsTheBaseProductExactly() {
        LoraLinearCpuTest.assertBZeroGivesTheBase(GPU, 200, 1024, 256);
    }
}
