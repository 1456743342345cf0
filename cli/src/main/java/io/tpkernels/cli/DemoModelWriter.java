package io.tpkernels.cli;

import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a small random demo model (docs/contract.md section 13) and a PEFT adapter for it, as Hugging Face and PEFT
 * lay them out: {@code config.json} + {@code model.safetensors}, {@code adapter_config.json} +
 * {@code adapter_model.safetensors}. Weights are Gaussian scaled by {@code 0.5/√fan_in}, as real initialisations
 * are, so activations keep their size through the layers (the demo model has no norms to hold them); the adapter's {@code B} is non-zero (a trained
 * adapter), so it visibly changes the logits.
 */
final class DemoModelWriter {
    private DemoModelWriter() {
    }

    /** The demo model's sizes, and whether the LM head is the embedding ({@code tie_word_embeddings}). */
    record Sizes(int vocab, int hidden, int intermediate, int layers, int loraRank, double loraAlpha, boolean tied) {
    }

    static void writeModel(Path dir, Sizes s, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            tensors.put(DemoModelNames.EMBED, gaussian(random, s.vocab(), s.hidden(), 1.0));
            for (int l = 0; l < s.layers(); l++) {
                tensors.put(DemoModelNames.weight(l, Projection.GATE), scaled(random, s.intermediate(), s.hidden()));
                tensors.put(DemoModelNames.weight(l, Projection.UP), scaled(random, s.intermediate(), s.hidden()));
                tensors.put(DemoModelNames.weight(l, Projection.DOWN), scaled(random, s.hidden(), s.intermediate()));
            }
            if (!s.tied()) {
                tensors.put(DemoModelNames.LM_HEAD, scaled(random, s.vocab(), s.hidden()));
            }
            writeJson(dir.resolve("config.json"), String.format(
                    "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": %d, \"hidden_size\": %d, "
                            + "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"tie_word_embeddings\": %s}%n",
                    s.vocab(), s.hidden(), s.intermediate(), s.layers(), s.tied()));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    static void writeAdapter(Path dir, Sizes s, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            for (int l = 0; l < s.layers(); l++) {
                for (Projection p : Projection.values()) {
                    long in = p == Projection.DOWN ? s.intermediate() : s.hidden();
                    long out = p == Projection.DOWN ? s.hidden() : s.intermediate();
                    tensors.put(DemoModelNames.loraA(l, p), scaled(random, s.loraRank(), in));
                    tensors.put(DemoModelNames.loraB(l, p), gaussian(random, out, s.loraRank(), 0.02));
                }
            }
            writeJson(dir.resolve("adapter_config.json"), String.format(
                    "{\"peft_type\": \"LORA\", \"r\": %d, \"lora_alpha\": %s, \"use_rslora\": false, "
                            + "\"target_modules\": [\"gate_proj\", \"up_proj\", \"down_proj\"]}%n",
                    s.loraRank(), s.loraAlpha()));
            SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    /** Gaussian with standard deviation {@code 0.5/√cols}: without norms, larger weights grow h layer by layer. */
    private static Tensor scaled(SplittableRandom random, long rows, long cols) {
        return gaussian(random, rows, cols, 0.5 / Math.sqrt(cols));
    }

    private static Tensor gaussian(SplittableRandom random, long rows, long cols, double std) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.ofFloats(DType.F32, v, rows, cols);
    }

    private static void writeJson(Path file, String json) {
        try {
            Files.writeString(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
