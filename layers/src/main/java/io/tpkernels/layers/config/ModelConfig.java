package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonValue;
import java.nio.file.Path;

/**
 * The parts of a Hugging Face {@code config.json} that place a LLaMA-style decoder on ranks and stages. Other keys are
 * not read here: {@link ArchitectureConfig} refuses those that change a parameter count it does not model, and the demo
 * model's forward refuses a config with attention. Without {@code num_attention_heads} the model is MLP-only (the demo
 * model of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">section 13</a>:
 * no attention, no norms); {@code num_key_value_heads} defaults to the head count and {@code head_dim} to
 * {@code hidden_size / num_attention_heads}. A key set to {@code null} reads as absent.
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

    /**
     * Whether the layers have attention (and norms).
     *
     * @return whether {@code num_attention_heads} was given
     */
    public boolean hasAttention() {
        return numAttentionHeads > 0;
    }

    /**
     * Reads {@code file}, a {@code config.json} of at most 16 MiB.
     *
     * @param file the {@code config.json}
     * @return the sizes
     * @throws IllegalArgumentException with one sentence naming the file and the problem: missing or unreadable,
     *                                  not JSON, a key missing, not a positive integer, or inconsistent
     */
    public static ModelConfig read(Path file) {
        return parse(JsonFiles.read(file), file.toString());
    }

    /**
     * Parses {@code json}, the text of a {@code config.json}, as {@link #read} does.
     *
     * @param json the file's text
     * @param source names the file in messages (its path)
     * @return the sizes
     * @throws IllegalArgumentException with one sentence naming {@code source} and the problem: not a JSON object,
     *     one of {@code vocab_size}, {@code hidden_size}, {@code intermediate_size}, {@code num_hidden_layers}
     *     missing, a size not a positive integer, {@code hidden_size} not divisible by {@code num_attention_heads}
     *     without {@code head_dim}, {@code num_attention_heads} not a multiple of {@code num_key_value_heads}, or
     *     {@code tie_word_embeddings} not a boolean
     */
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
