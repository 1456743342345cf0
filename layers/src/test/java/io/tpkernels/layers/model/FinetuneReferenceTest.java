package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.TrainingRun.Faults;
import io.tpkernels.layers.model.TrainingRun.Layout;
import io.tpkernels.layers.model.TrainingRun.Outcome;
import io.tpkernels.layers.testing.DemoModelReference;
import io.tpkernels.layers.testing.DemoTrainingReference;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.train.AdamWConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer against a double-precision reference written from the contract alone ({@link DemoTrainingReference}):
 * from an adapter PEFT wrote (B not zero, several ranks and alphas), every step's loss and gradient norm, at tp 1
 * and sharded and pipelined, within F32 rounding of the reference's.
 */
class FinetuneReferenceTest {
    static final int STEPS = 5;

    static Stream<Layout> layouts() {
        return Stream.of(Layout.cpu(1, 1, 1), Layout.cpu(2, 2, 2));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void stepsFollowTheDoublePrecisionReference(Layout layout) {
        for (String fixture : new String[] {"rank_alpha_pattern", "rslora"}) {
            for (double clip : new double[] {0, 0.05}) {
                check(fixture, layout, clip);
            }
        }
    }

    private static void check(String fixture, Layout layout, double clip) {
        String what = fixture + " at " + layout + (clip > 0 ? ", clipped to " + clip : "");
        ModelConfig c = PeftFixtures.modelConfig();
        Path folder = PeftFixtures.root().resolve(fixture);
        TokenBatches data = TrainingRun.data(3);
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(folder.resolve("adapter_model.safetensors"))) {
            PeftAdapter peft = PeftAdapter.resolve(AdapterConfig.read(folder.resolve("adapter_config.json")), adapter,
                    c, base);
            Outcome got = TrainingRun.run(peft.weightsOver(base, adapter), peft, data, STEPS, layout, clip,
                    Faults.NONE);
            AdamWConfig o = TrainingRun.optimizer();
            DemoTrainingReference reference = new DemoTrainingReference(base, (int) c.vocabSize(), (int) c.hiddenSize(),
                    (int) c.intermediateSize(), c.numHiddenLayers(), c.tieWordEmbeddings(), factors(peft, adapter),
                    new DemoTrainingReference.Optimizer(o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), clip));
            for (int k = 0; k < STEPS; k++) {
                double loss = reference.step(data.inputs(k), data.targets(k));
                close(loss, got.losses()[k], 1e-5, what + ": step " + (k + 1) + " loss");
                close(reference.lastNorm(), got.norms()[k], 1e-4, what + ": step " + (k + 1) + " gradient norm");
            }
        }
    }

    /** {@code got} within {@code relative} of {@code want}; NaN never passes. */
    static void close(double want, double got, double relative, String what) {
        assertTrue(Math.abs(got - want) <= relative * Math.abs(want), what + ": " + got + ", the reference "
                + want + " (relative difference " + Math.abs(got - want) / Math.abs(want) + ")");
    }

    /** The adapter's factors as the reference takes them: full A and B per module, with the module's scale. */
    static Map<String, DemoModelReference.Lora> factors(PeftAdapter peft, WeightSource adapter) {
        Map<String, DemoModelReference.Lora> out = new HashMap<>();
        for (ModuleLora m : peft.modules()) {
            out.put(m.module(), new DemoModelReference.Lora(adapter.view(peftName(m.module(), "lora_A")).toFloatArray(),
                    adapter.view(peftName(m.module(), "lora_B")).toFloatArray(), m.rank(), m.scale()));
        }
        return out;
    }

    static String peftName(String module, String factor) {
        return DemoModelNames.peftTensor(module, factor + ".weight");
    }
}
