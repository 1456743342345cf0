package io.tpkernels.layers.model;

import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The demo model's stages with every rank of the tp × pp mesh (pp up to 4) sharing one GPU. */
@GpuTest
class PipelineStageCudaTest {

    @ParameterizedTest(name = "tp {0} × pp {1}, tied {4}, LoRA {5}")
    @CsvSource({
        "1, 1, 1, 130, false, false, 5",
        "2, 2, 2, 150, true, true, 4",
        "4, 2, 1, 77, false, true, 3",
        "8, 1, 2, 300, true, false, 2",
        "1, 4, 1, 90, true, true, 3",
        "2, 4, 2, 120, false, true, 4",
        "3, 4, 1, 61, true, false, 2",
    })
    void equalsTheReference(int tp, int pp, int extraLayers, int vocab, boolean tied, boolean lora, int t) {
        PipelineStagePropertiesTest.check(Device.cuda(0), tp, pp, extraLayers, vocab, tied, lora, t);
    }

    @ParameterizedTest(name = "tp {0} × pp {1}, tied {2}")
    @CsvSource({"2, 1, true", "2, 2, false"})
    void closingAStageGivesBackEveryByte(int tp, int pp, boolean tied) {
        PipelineStageCloseTest.check(Device.cuda(0), tp, pp, tied);
    }
}
