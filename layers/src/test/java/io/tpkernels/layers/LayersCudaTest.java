package io.tpkernels.layers;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The layer properties with tp ranks sharing one GPU (device copies plus the reduce kernel between them). */
@GpuTest
class LayersCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void columnAndRowParallelLinear(int tp) {
        ParallelLinearPropertiesTest.column(GPU, tp, 4 * tp, 40, 2 * tp, true, true, true);
        ParallelLinearPropertiesTest.column(GPU, tp, 4 * tp, 40, 3, false, false, false);
        ParallelLinearPropertiesTest.row(GPU, tp, 24, 8 * tp, 2 * tp, true, false, true);
        ParallelLinearPropertiesTest.row(GPU, tp, 24, 8 * tp, 5, false, true, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void embeddingsAndTheHead(int tp) {
        EmbeddingLayersPropertiesTest.check(GPU, tp, 1000, 64, 4 * tp, 64, true, true, DType.BF16);
        EmbeddingLayersPropertiesTest.check(GPU, tp, 1000, 8 * tp, 2 * tp, 1, false, false, DType.F32);
        ParallelLMHeadPropertiesTest.check(GPU, tp, 1000, 128, 5, 64);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void loraLayers(int tp) {
        LoraLayersPropertiesTest.check(GPU, tp, 16 * tp, 32 * tp, 8, 6, true, false);
        LoraLayersPropertiesTest.check(GPU, tp, 16 * tp, 32 * tp, 16, 20, false, true);
    }
}
