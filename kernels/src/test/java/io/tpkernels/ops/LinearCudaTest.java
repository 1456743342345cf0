package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The plain linear map on a GPU (each GEMM body) against the double reference, outputs poisoned first. */
@GpuTest
class LinearCudaTest {

    @ParameterizedTest(name = "{0}: T={1} K={2} N={3} bias={4}")
    @CsvSource({
        "BF16, 4, 512, 300, true",
        "BF16, 200, 512, 384, true",
        "F16, 130, 264, 200, false",
        "F32, 70, 300, 100, true",
        "BF16, 33, 101, 90, false",
    })
    void matchesTheReference(DType dtype, int t, int k, int n, boolean bias) {
        LinearTest.check(Device.cuda(0), dtype, t, k, n, bias);
    }
}
