package io.tpkernels.layers;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The layer properties with tp ranks sharing one GPU (device copies plus the reduce kernel between them). */
@GpuTest
class LayersCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void columnAndRowParallelLinear(int tp) {
        ParallelLinearPropertiesTest.column(GPU, Precision.F32, tp, 4 * tp, 40, 2 * tp, true, true, true);
        ParallelLinearPropertiesTest.column(GPU, Precision.F32, tp, 4 * tp, 40, 3, false, false, false);
        ParallelLinearPropertiesTest.row(GPU, Precision.F32, tp, 24, 8 * tp, 2 * tp, true, false, true);
        ParallelLinearPropertiesTest.row(GPU, Precision.F32, tp, 24, 8 * tp, 5, false, true, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void columnAndRowParallelLinearInHalfPrecision(int tp) {
        ParallelLinearPropertiesTest.column(GPU, Precision.BF16, tp, 8 * tp, 32, 2 * tp, true, true, false);
        ParallelLinearPropertiesTest.column(GPU, Precision.F16, tp, 8 * tp, 24, 3, false, false, true);
        ParallelLinearPropertiesTest.row(GPU, Precision.BF16, tp, 24, 8 * tp, 3, false, true, false);
        ParallelLinearPropertiesTest.row(GPU, Precision.F16, tp, 16, 16 * tp, 2 * tp, true, false, true);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void embeddingsAndTheHead(int tp) {
        EmbeddingLayersPropertiesTest.check(GPU, tp, 1000, 64, 4 * tp, 64, true, true, DType.BF16);
        EmbeddingLayersPropertiesTest.check(GPU, tp, 1000, 8 * tp, 2 * tp, 1, false, false, DType.F32);
        ParallelLMHeadPropertiesTest.check(GPU, Precision.F32, tp, 1000, 128, 5, 64, 0);
        ParallelLMHeadPropertiesTest.check(GPU, Precision.BF16, tp, 300, 64, 3, 8, 0);
        ParallelLMHeadPropertiesTest.check(GPU, Precision.F16, tp, 90, 6, 4, 4, 5);
    }

    /** BF16 and F16 with H a multiple of 8 take the tile kernels; F32 and H = 12 the chunked form. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void theLmHeadLossInEveryForm(int tp) {
        LmHeadLossFormsTest.check(GPU, Precision.BF16, tp, 300, 24, 37, 1e-2);
        LmHeadLossFormsTest.check(GPU, Precision.F16, tp, 300, 16, 130, 2e-3);
        LmHeadLossFormsTest.check(GPU, Precision.F32, tp, 300, 12, 37, 1e-5);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void theVocabParallelEmbeddingAllocatesOnlyItsValidRows(int tp) {
        EmbeddingLayersPropertiesTest.allocatesOnlyValidRows(GPU, tp, 300, 16, DType.BF16);
        EmbeddingLayersPropertiesTest.allocatesOnlyValidRows(GPU, tp, 37, 8, DType.F32);
    }

    @ParameterizedTest
    @EnumSource(LayerCloseTest.Kind.class)
    void closingGivesBackEveryByteAndLaterUseIsAnIllegalStateException(LayerCloseTest.Kind kind) {
        LayerCloseTest.check(GPU, kind, 3);
    }

    @Test
    void aTiedHeadBorrowsTheEmbeddingsShardAndCannotOutliveIt() {
        LayerCloseTest.tiedHead(GPU, 2);
    }
}
