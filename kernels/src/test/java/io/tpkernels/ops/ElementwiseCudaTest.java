package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code elementwise.cu} against the same definitions as the CPU path. */
@GpuTest
class ElementwiseCudaTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void siluMulMatchesTheFormula(DType dtype) {
        ElementwiseTest.check(Device.cuda(0), dtype, 100_003, 4);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void addsAreBitExact(DType dtype) {
        ElementwiseTest.checkAdds(Device.cuda(0), dtype, 257, 391);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void scaleColumnsIsBitExact(DType dtype) {
        ElementwiseTest.checkScaleColumns(Device.cuda(0), dtype, 257, 391);
        ElementwiseTest.checkScaleColumns(Device.cuda(0), dtype, 3, 1);
    }
}
