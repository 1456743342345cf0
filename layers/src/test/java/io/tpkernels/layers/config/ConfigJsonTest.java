package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The JSON of config files as Python's {@code json} writes it, which Hugging Face and PEFT use: its NaN and
 * infinities read, and are refused only where a key needs a finite number; a key written twice, which Python would
 * silently read as the last one, is refused by name, as is anything after the object.
 */
class ConfigJsonTest {
    private static final String SIZES = "\"vocab_size\": 100, \"hidden_size\": 16, \"intermediate_size\": 32, "
            + "\"num_hidden_layers\": 2";
    private static final String ADAPTER = "\"r\": 4, \"target_modules\": [\"up_proj\"]";

    private static String modelError(String json) {
        return assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(json, "config.json")).getMessage();
    }

    private static String adapterError(String json) {
        return assertThrows(IllegalArgumentException.class,
                () -> AdapterConfig.parse(json, "adapter_config.json")).getMessage();
    }

    @Test
    void pythonsNanAndInfinityReadInKeysThatAreIgnored() {
        ModelConfig c = ModelConfig.parse("{" + SIZES + ", \"initializer_range\": NaN, \"rope_theta\": Infinity, "
                + "\"min_value\": -Infinity}", "config.json");
        assertEquals(100, c.vocabSize());
    }

    @Test
    void aKeyThatNeedsANumberRefusesNanAndInfinityByName() {
        assertEquals("adapter_config.json: lora_alpha = NaN must be a number",
                adapterError("{" + ADAPTER + ", \"lora_alpha\": NaN}"));
        assertEquals("adapter_config.json: lora_dropout = Infinity must be a number",
                adapterError("{" + ADAPTER + ", \"lora_alpha\": 8, \"lora_dropout\": Infinity}"));
        assertEquals("adapter_config.json: alpha_pattern = {\"up\":-Infinity} maps \"up\" to -Infinity, not a number",
                adapterError("{" + ADAPTER + ", \"lora_alpha\": 8, \"alpha_pattern\": {\"up\": -Infinity}}"));
        assertEquals("config.json: vocab_size must be a positive integer, got NaN",
                modelError("{" + SIZES.replace("100", "NaN") + "}"));
    }

    @Test
    void aKeyWrittenTwiceIsRefusedNamingTheKey() {
        assertEquals("config.json is not valid JSON: line 1, column 89: the field \"vocab_size\" appears twice",
                modelError("{" + SIZES + ", \"vocab_size\": 7}"));
        assertEquals("adapter_config.json is not valid JSON: line 2, column 2: the field \"r\" appears twice",
                adapterError("{" + ADAPTER + ",\n \"r\": 8}"));
        assertEquals("adapter_config.json is not valid JSON: line 2, column 28: the field \"up\" appears twice",
                adapterError("{" + ADAPTER + ",\n \"rank_pattern\": {\"up\": 2, \"up\": 3}}"));
    }

    @Test
    void textAfterTheObjectIsRefused() {
        assertEquals("config.json is not valid JSON: line 1, column 89: expected the end of the text after the value, "
                + "found more JSON", modelError("{" + SIZES + "} {\"vocab_size\": 7}"));
    }

    @Test
    void aNumberIsQuotedAsWritten() {
        assertEquals("config.json: hidden_size must be a positive integer, got 1.6e1",
                modelError("{" + SIZES.replace("16", "1.6e1") + "}"));
        assertEquals("config.json: vocab_size must be a positive integer, got 123456789012345678901234567890",
                modelError("{" + SIZES.replace("100", "123456789012345678901234567890") + "}"));
    }
}
