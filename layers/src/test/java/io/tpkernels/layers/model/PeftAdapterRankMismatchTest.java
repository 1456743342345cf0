package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.AdapterErrors;
import io.tpkernels.layers.Harness;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A PEFT adapter whose {@code lora_A} has another rank than the config's {@code r} is an error that names the
 * tensor, its shape, the shape {@code r} asks for, tp and the rank (issue 8), for a column-parallel (up) and a
 * row-parallel (down) projection. The layer is {@code H = 6}, {@code I = 9} on tp 3; {@code r = 4}, the
 * checkpoint's A has 3 rows.
 */
class PeftAdapterRankMismatchTest {
    private static final int TP = 3;
    private static final int H = 6;
    private static final int I = 9;

    @ParameterizedTest
    @EnumSource(value = Projection.class, names = {"UP", "DOWN"})
    void aLoraAOfAnotherRankThanRIsNamedWithTpAndTheRank(Projection projection) {
        long width = projection == Projection.DOWN ? I : H;
        long height = projection == Projection.DOWN ? H : I;
        long[] a = {3, width};
        Map<String, long[]> adapterShapes = new LinkedHashMap<>();
        adapterShapes.put(DemoModelNames.loraA(0, projection), a);
        adapterShapes.put(DemoModelNames.loraB(0, projection), new long[] {height, 3});
        var config = AdapterConfig.of(4, 8, false, List.of(projection.module()));
        try (InMemoryWeights model = Harness.randomWeights(1, DType.F32, PipelineStagePropertiesTest.shapes(10, H, I, 1,
                true));
             InMemoryWeights adapter = Harness.randomWeights(2, DType.F32, adapterShapes)) {
            var modelConfig = new ModelConfig(10, H, I, 1, 0, 0, 0, true);
            PeftAdapter peft = PeftAdapter.resolve(config, adapter, modelConfig, model);
            List<String> messages = AdapterErrors.messages(TP, ctx -> MlpBlock.load(model, 0, H, I, ctx, peft));
            String[] expected = projection == Projection.DOWN
                    ? new String[] {"[4, " + I + "]", "[4, " + I / TP + "]", "r is 4"} : new String[] {"[4, " + H + "]", "r is 4"};
            AdapterErrors.assertNamed(messages, DemoModelNames.loraA(0, projection), a, expected);
            assertTrue(messages.get(0).contains(adapter.describe()), "the adapter: " + messages.get(0));
        }
    }
}
