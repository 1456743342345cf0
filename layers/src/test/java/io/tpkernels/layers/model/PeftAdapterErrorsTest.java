package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * An adapter that does not fit the model is refused when it is resolved, before any rank loads anything, with a
 * message naming the key or the tensor: a target the library does not build LoRA for, a target that reaches no
 * module, a missing or unused tensor, a saved module of another shape.
 */
class PeftAdapterErrorsTest {

    private static String config(String name) throws Exception {
        return Files.readString(PeftFixtures.root().resolve(name).resolve("adapter_config.json"));
    }

    /** {@code name}'s adapter tensors in memory, changed by {@code edit}. */
    private static InMemoryWeights tensors(String name, Consumer<Map<String, Tensor>> edit) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(PeftFixtures.root().resolve(name).resolve("adapter_model.safetensors"))) {
            for (String t : f.names()) {
                out.put(t, f.view(t).copyTo(Device.CPU));
            }
        }
        edit.accept(out);
        return new InMemoryWeights(name + " adapter", out);
    }

    private static String refusal(String json, WeightSource adapter, ModelConfig model) {
        AdapterConfig config = AdapterConfig.parse(json, "adapter_config.json");
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"))) {
            return assertThrows(IllegalArgumentException.class, () -> PeftAdapter.resolve(config, adapter, model, base))
                    .getMessage();
        }
    }

    private static void assertNames(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "names " + p + ": " + message);
        }
    }

    @Test
    void loraOnTheLmHeadIsRefusedByName() throws Exception {
        String json = config("all_linear").replace("\"target_modules\": [", "\"target_modules\": [\"lm_head\", ");
        try (InMemoryWeights adapter = tensors("all_linear", t -> { })) {
            assertNames(refusal(json, adapter, PeftFixtures.modelConfig()), "adapter_config.json", "target_modules",
                    "lm_head");
        }
    }

    @Test
    void aTargetThatReachesNoModuleIsRefused() throws Exception {
        String json = config("suffix_list").replaceAll("\"target_modules\": \\[[^]]*]", "\"target_modules\": [\"q_proj\"]");
        try (InMemoryWeights adapter = tensors("suffix_list", t -> { })) {
            assertNames(refusal(json, adapter, PeftFixtures.modelConfig()), "target_modules", "reaches no module");
        }
    }

    @Test
    void doraWithoutItsMagnitudeNamesTheMissingTensor() throws Exception {
        String json = config("suffix_list").replace("\"use_dora\": false", "\"use_dora\": true");
        try (InMemoryWeights adapter = tensors("suffix_list", t -> { })) {
            assertNames(refusal(json, adapter, PeftFixtures.modelConfig()), "lora_magnitude_vector", "use_dora");
        }
    }

    @Test
    void anUnusedTensorIsNamed() throws Exception {
        String json = config("dora").replace("\"use_dora\": true", "\"use_dora\": false");
        try (InMemoryWeights adapter = tensors("dora", t -> { })) {
            assertNames(refusal(json, adapter, PeftFixtures.modelConfig()), "lora_magnitude_vector", "is used by no module");
        }
    }

    @Test
    void aSavedModuleOfAnotherShapeNamesBothShapes() throws Exception {
        try (InMemoryWeights adapter = tensors("modules_to_save", t -> {
            t.remove("base_model.model.lm_head.weight").close();
            t.put("base_model.model.lm_head.weight", Tensor.ofFloats(DType.F32, new float[36 * 12], 36, 12));
        })) {
            assertNames(refusal(config("modules_to_save"), adapter, PeftFixtures.modelConfig()),
                    "base_model.model.lm_head.weight", "[36, 12]", "[37, 12]", "modules_to_save");
        }
    }

    @Test
    void aSavedLmHeadOfATiedModelIsRefused() throws Exception {
        ModelConfig untied = PeftFixtures.modelConfig();
        ModelConfig tied = new ModelConfig(untied.vocabSize(), untied.hiddenSize(), untied.intermediateSize(),
                untied.numHiddenLayers(), 0, 0, 0, true);
        try (InMemoryWeights adapter = tensors("modules_to_save", t -> { })) {
            assertNames(refusal(config("modules_to_save"), adapter, tied), "modules_to_save", "lm_head",
                    "tie_word_embeddings");
        }
    }

    @Test
    void aTargetedModuleWithoutTensorsNamesTheTensor() throws Exception {
        try (InMemoryWeights adapter = tensors("full_names", t -> { })) {
            assertNames(refusal(config("suffix_list"), adapter, PeftFixtures.modelConfig()),
                    "has no tensor base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight");
        }
    }
}
