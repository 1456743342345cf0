package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fused LoRA linear on a GPU (every kernel body) against the double reference; B = 0 is exact. */
@GpuTest
class LoraLinearCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0}: T={1} K={2} N={3} R={4}")
    @CsvSource({
        "BF16, 1, 4096, 512, 16",     // decode
        "BF16, 16, 1024, 384, 64",    // decode, every token slot
        "F16, 200, 1024, 256, 16",    // tensor cores
        "BF16, 130, 512, 260, 8",     // tensor cores, ragged tiles
        "BF16, 70, 512, 128, 12",     // R not a multiple of 8: SIMT
        "F32, 50, 300, 100, 7",       // SIMT
        "BF16, 3, 256, 64, 256",      // the largest rank
    })
    void matchesTheReference(DType dtype, int t, int k, int n, int r) {
        LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, 1.5f, true, t * 31L + k);
    }

    @Test
    void withBZeroTheResultIsTheBaseProductExactly() {
        int t = 200;
        int k = 1024;
        int n = 256;
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.moderate(1, t * k), t, k).copyTo(GPU);
             Tensor w = Tensor.ofFloats(DType.BF16, RandomData.moderate(2, n * k), n, k).copyTo(GPU);
             Tensor a = Tensor.ofFloats(DType.BF16, RandomData.moderate(3, 16 * k), 16, k).copyTo(GPU);
             Tensor b = Tensor.zeros(GPU, DType.BF16, n, 16);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n);
             Tensor base = LmHead.logits(x, w, n)) {
            LoraLinear.forward(x, w, a, b, 2f, null, y);
            float[] got = y.toFloatArray();
            float[] expected = base.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "element " + i);
            }
        }
    }
}
