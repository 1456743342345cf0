package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonValue;
import java.nio.file.Path;

/**
 * The parts of a Hugging Face {@code config.json} that place a LLaMA-style decoder on ranks and stages.
 * Extra keys are ignored. Without {@code num_attention_heads} the model is MLP-only (the demo model of
 * docs/contract.md section 13: no attention, no norms); {@code num_key_value_heads} defaults to the head count and
 * {@code head_dim} to {@code hidden_size / num_attention_heads}.
 *
 * @param vocabSize           {@code vocab_size}
 * @param hiddenSize          {@code hidden_size}
 * @param intermediateSize    {@code intermediate_size}
 * @param numHiddenLayers     {@code num_hidden_layers}
 * @param numAttentionHeads   {@code num_attention_heads}, 0 for an MLP-only model
 * @param numKeyValueHeads    {@code num_key_value_heads}, 0 for an MLP-only model
 * @param headDim             {@code head_dim}, 0 for an MLP-only model
 * @param tieWordEmbeddings   {@code tie_word_embeddings} (default false)
 */
public record ModelConfig(long vocabSize, long hiddenSize, long intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, long headDim, boolean tieWordEmbeddings) {

    /** Whether the layers have attention (and norms). */
    public boolean hasAttention() {
        return numAttentionHeads > 0;
    }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException with one sentence naming the file and the problem: missing or unreadable,
     *                                  not JSON, a key missing, not a positive integer, or inconsistent
     */
    public static ModelConfig read(Path file) {
        return parse(JsonFiles.read(file), file.toString());
    }

    /** Parses {@code json}; {@code source} names it in errors. */
    public static ModelConfig parse(String json, String source) {
        JsonObject root = JsonFiles.object(json, source);
        long vocab = positive(root, "vocab_size", source);
        long hidden = positive(root, "hidden_size", source);
        long intermediate = positive(root, "intermediate_size", source);
        long layers = positive(root, "num_hidden_layers", source);
        if (layers > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": num_hidden_layers " + layers + " is too large");
        }
        int heads = 0;
        int kvHeads = 0;
        long headDim = 0;
        if (root.has("num_attention_heads") && !root.get("num_attention_heads").isNull()) {
            heads = (int) positive(root, "num_attention_heads", source);
            kvHeads = root.has("num_key_value_heads") && !root.get("num_key_value_heads").isNull()
                    ? (int) positive(root, "num_key_value_heads", source) : heads;
            if (root.has("head_dim") && !root.get("head_dim").isNull()) {
                headDim = positive(root, "head_dim", source);
            } else if (hidden % heads != 0) {
                throw new IllegalArgumentException(source + ": hidden_size " + hidden + " is not divisible by "
                        + "num_attention_heads " + heads + " and head_dim is not given");
            } else {
                headDim = hidden / heads;
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException(source + ": num_attention_heads " + heads
                        + " is not a multiple of num_key_value_heads " + kvHeads);
            }
        }
        JsonValue tie = root.get("tie_word_embeddings");
        if (tie != null && !tie.isNull() && !(tie instanceof JsonBoolean)) {
            throw new IllegalArgumentException(source + ": tie_word_embeddings must be true or false, got " + tie);
        }
        return new ModelConfig(vocab, hidden, intermediate, (int) layers, heads, kvHeads, headDim,
                tie instanceof JsonBoolean b && b.value());
    }

    private static long positive(JsonObject root, String key, String source) {
        JsonValue v = root.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(source + ": " + key + " is missing");
        }
        if (!(v instanceof JsonNumber n && n.fitsLong() && n.longValue() >= 1)) {
            throw new IllegalArgumentException(source + ": " + key + " must be a positive integer, got " + v);
        }
        return n.longValue();
    }
}
