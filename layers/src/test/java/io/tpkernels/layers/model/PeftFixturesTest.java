package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.weights.WeightSource;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every adapter PEFT wrote for the demo model ({@link PeftFixtures}) gives PEFT's logits at tp 1, 2 and 3, with
 * pp 2 and tp 2 × pp 2, and adapts exactly the modules PEFT adapted, with PEFT's rank, alpha, scale and DoRA.
 */
class PeftFixturesTest {
    private static final int[][] LAYOUTS = {{1, 1}, {2, 1}, {3, 1}, {1, 2}, {2, 2}};

    static Stream<Arguments> fixturesAndLayouts() {
        List<Arguments> out = new ArrayList<>();
        for (String name : PeftFixtures.names()) {
            for (int[] layout : LAYOUTS) {
                out.add(Arguments.of(name, layout[0], layout[1]));
            }
        }
        return out.stream();
    }

    static Stream<String> fixtures() {
        return PeftFixtures.names().stream();
    }

    @ParameterizedTest(name = "{0} at tp {1} x pp {2}")
    @MethodSource("fixturesAndLayouts")
    void givesPeftsLogits(String name, int tp, int pp) {
        float[] expected = PeftFixtures.expected(name, "logits");
        float[] got = PeftFixtures.forward(name, tp, pp, -1, Precision.F32);
        PeftFixtures.assertLogits(expected, got, (int) PeftFixtures.modelConfig().vocabSize(), 1e-5,
                name + " at tp " + tp + " x pp " + pp);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void theAdapterChangesTheLogits(String name) {
        float[] base = PeftFixtures.expected(name, "base_logits");
        float[] adapted = PeftFixtures.expected(name, "logits");
        double largest = 0;
        for (int i = 0; i < base.length; i++) {
            largest = Math.max(largest, Math.abs(base[i] - adapted[i]));
        }
        assertTrue(largest > 1e-2, name + ": the adapter moves PEFT's logits by only " + largest
                + ", too little for the comparison to tell a setting honoured from one ignored");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void adaptsTheModulesPeftAdapted(String name) {
        List<String> expected = new ArrayList<>();
        for (JsonObject m : PeftFixtures.manifest(name).getArray("lora_modules").objects()) {
            expected.add(String.format("%s r %d alpha %s scale %.5f dora %s", m.getString("module"), m.getInt("r"),
                    m.getDouble("lora_alpha"), m.getDouble("scaling"), m.getBoolean("use_dora")));
        }
        AdapterConfig config = AdapterConfig.read(PeftFixtures.root().resolve(name).resolve("adapter_config.json"));
        List<String> got = new ArrayList<>();
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(
                     PeftFixtures.root().resolve(name).resolve("adapter_model.safetensors"))) {
            for (ModuleLora m : PeftAdapter.resolve(config, adapter, PeftFixtures.modelConfig(), base).modules()) {
                got.add(String.format("%s r %d alpha %s scale %.5f dora %s", m.module(), m.rank(), m.alpha(),
                        m.scale(), m.dora()));
            }
        }
        expected.sort(null);
        got.sort(null);
        assertEquals(expected, got, name);
    }
}
