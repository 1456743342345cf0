package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelConfigTest {

    @Test
    void aConfigFileLargerThanAnyConfigIsRefusedBeforeItIsRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path big = dir.resolve("config.json");
        try (var f = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.wrap(new byte[] {'{'}), (16L << 20)); // sparse: 16 MiB + 1 byte
        }
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ModelConfig.read(big));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(big.toString())
                && e.getMessage().contains("at most"), e.getMessage());
    }

    @Test
    void readsTheKeysAndIgnoresTheRest() {
        ModelConfig c = ModelConfig.parse("""
                {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                 "num_attention_heads": 32, "torch_dtype": "bfloat16", "rope_scaling": null}""", "config.json");
        assertEquals(new ModelConfig(32000, 4096, 11008, 32, 32, 32, 128, false), c);
        assertTrue(c.hasAttention());
    }

    @Test
    void withoutAttentionKeysTheModelIsMlpOnly() {
        ModelConfig c = ModelConfig.parse("""
                {"vocab_size": 100, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                 "tie_word_embeddings": true}""", "demo");
        assertFalse(c.hasAttention());
        assertTrue(c.tieWordEmbeddings());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "{\"hidden_size\": 4, \"intermediate_size\": 8, \"num_hidden_layers\": 1}| cfg: vocab_size is missing",
        "{\"vocab_size\": 0, \"hidden_size\": 4, \"intermediate_size\": 8, \"num_hidden_layers\": 1}| cfg: vocab_size must be a positive integer, got 0",
        "{\"vocab_size\": \"10\", \"hidden_size\": 4, \"intermediate_size\": 8, \"num_hidden_layers\": 1}| cfg: vocab_size must be a positive integer, got \"10\"",
        "{\"vocab_size\": 10, \"hidden_size\": 4.5, \"intermediate_size\": 8, \"num_hidden_layers\": 1}| cfg: hidden_size must be a positive integer, got 4.5",
        "{\"vocab_size\": 10, \"hidden_size\": 6, \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 4}| cfg: hidden_size 6 is not divisible by num_attention_heads 4 and head_dim is not given",
        "[1, 2]| cfg is not a JSON object",
    })
    void badConfigsAreOneSentenceNamingTheKey(String json, String message) {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(json, "cfg"));
        assertEquals(message.strip(), e.getMessage());
    }

    @Test
    void malformedJsonAndMissingFilesAreNamed() {
        var bad = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse("{\"vocab_size\": 1,", "c.json"));
        assertTrue(bad.getMessage().startsWith("c.json is not valid JSON: ") && bad.getMessage().contains("line 1"),
                bad.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> ModelConfig.read(Path.of("/nonexistent/config.json")));
        assertEquals("/nonexistent/config.json does not exist", missing.getMessage());
    }
}
