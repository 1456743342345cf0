package io.tpkernels.layers.model;

import io.tpkernels.layers.Precision;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PEFT's adapters ({@link PeftFixtures}) on a GPU: DoRA's scale in the fused kernel's epilogue (column-parallel) and
 * after the collective (row-parallel), per-module ranks and scales, and a saved module, against PEFT's float64
 * logits. F32 within 1e-5 of each token's largest logit; BF16 within 2e-2 (weights and activations rounded to 8 bits
 * of mantissa through four layers).
 */
@GpuTest
class PeftFixturesCudaTest {

    @ParameterizedTest(name = "{0} at tp {1} x pp {2}, {3}")
    @CsvSource({
        "dora, 2, 2, F32",
        "dora, 3, 1, BF16",
        "dora_rslora_patterns, 2, 1, F32",
        "dora_layers, 1, 2, BF16",
        "rank_alpha_pattern, 2, 2, BF16",
        "modules_to_save_embed, 2, 1, F32",
    })
    void givesPeftsLogits(String name, int tp, int pp, Precision precision) {
        float[] got = PeftFixtures.forward(name, tp, pp, 0, precision);
        PeftFixtures.assertLogits(PeftFixtures.expected(name, "logits"), got,
                (int) PeftFixtures.modelConfig().vocabSize(), precision == Precision.F32 ? 1e-5 : 2e-2,
                name + " at tp " + tp + " x pp " + pp + " in " + precision);
    }
}
