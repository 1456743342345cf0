package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PEFT 0.21's rules for which module an {@code adapter_config.json} reaches, case by case (the fixtures PEFT wrote
 * check them end to end, {@code PeftFixturesTest}), and which keys are ignored because they cannot change a loaded
 * adapter's forward.
 */
class AdapterConfigTest {
    private static final String UP0 = "model.layers.0.mlp.up_proj";

    private static AdapterConfig parse(String keys) {
        return AdapterConfig.parse("{" + withDefaults(keys, "\"r\": 4", "\"lora_alpha\": 8") + "}",
                "adapter_config.json");
    }

    /** {@code keys} after each default whose key they do not set: a file may give a key only once. */
    private static String withDefaults(String keys, String... defaults) {
        StringBuilder out = new StringBuilder();
        for (String d : defaults) {
            if (!keys.contains(d.substring(0, d.indexOf(':') + 1))) {
                out.append(d).append(", ");
            }
        }
        return out + keys;
    }

    private static Optional<ModuleLora> lora(AdapterConfig c, String module) {
        return c.loraFor(module, true);
    }

    @Test
    void aListedNameMatchesTheWholeNameOrItsLastDottedParts() {
        AdapterConfig c = parse("\"target_modules\": [\"up_proj\", \"layers.1.mlp.down_proj\"]");
        assertTrue(lora(c, UP0).isPresent());
        assertTrue(lora(c, "model.layers.1.mlp.down_proj").isPresent());
        assertFalse(lora(c, "model.layers.0.mlp.down_proj").isPresent());
        assertFalse(lora(c, "model.layers.0.mlp.xup_proj").isPresent(), "a suffix matches at a dot only");
    }

    @Test
    void aStringIsARegexFullMatchedAgainstTheWholeName() {
        AdapterConfig c = parse("\"target_modules\": \".*\\\\.layers\\\\.[13]\\\\.mlp\\\\.up\"");
        assertFalse(lora(c, "model.layers.1.mlp.up_proj").isPresent(), "full match, not a prefix");
        AdapterConfig d = parse("\"target_modules\": \"model\\\\.layers\\\\.(?P<i>[13])\\\\.mlp\\\\.up_proj\"");
        assertTrue(lora(d, "model.layers.3.mlp.up_proj").isPresent(), "Python's named groups are read");
        assertFalse(lora(d, "model.layers.2.mlp.up_proj").isPresent());
    }

    @Test
    void layersToTransformLimitsSuffixMatchesButNotFullNames() {
        AdapterConfig c = parse("\"target_modules\": [\"model.layers.1.mlp.up_proj\", \"down_proj\"], "
                + "\"layers_to_transform\": [0, 2]");
        assertTrue(lora(c, "model.layers.1.mlp.up_proj").isPresent(), "named in full: no layer filter (as PEFT)");
        assertTrue(lora(c, "model.layers.2.mlp.down_proj").isPresent());
        assertFalse(lora(c, "model.layers.1.mlp.down_proj").isPresent());
        AdapterConfig p = parse("\"target_modules\": [\"up_proj\"], \"layers_to_transform\": 3, "
                + "\"layers_pattern\": \"blocks\"");
        assertFalse(lora(p, "model.layers.3.mlp.up_proj").isPresent(), "the layer container is not named blocks");
        assertTrue(lora(p, "model.blocks.3.mlp.up_proj").isPresent());
    }

    @Test
    void patternsGiveRankAndAlphaToTheModulesTheyEndIn() {
        AdapterConfig c = parse("\"target_modules\": [\"up_proj\", \"down_proj\"], \"use_rslora\": true, "
                + "\"rank_pattern\": {\"layers.2.mlp.up_proj\": 2, \"up_proj\": 16}, \"alpha_pattern\": {\"down_proj\": 3}");
        ModuleLora two = lora(c, "model.layers.2.mlp.up_proj").orElseThrow();
        assertEquals(2, two.rank(), "the first key that matches wins");
        assertEquals(8.0 / Math.sqrt(2), two.scale(), 1e-6);
        assertEquals(16, lora(c, UP0).orElseThrow().rank());
        ModuleLora down = lora(c, "model.layers.0.mlp.down_proj").orElseThrow();
        assertEquals(4, down.rank());
        assertEquals(3.0 / 2, down.scale(), 1e-6);
        assertEquals(16, lora(c, "model.layers.12.mlp.up_proj").orElseThrow().rank(),
                "layers.12.mlp.up_proj does not end in layers.2.mlp.up_proj");
    }

    @Test
    void excludedAndSavedModulesGetNoLora() {
        AdapterConfig c = parse("\"target_modules\": [\"up_proj\", \"down_proj\"], "
                + "\"exclude_modules\": [\"model.layers.1.mlp.up_proj\"], \"modules_to_save\": [\"layers.2.mlp\"]");
        assertFalse(lora(c, "model.layers.1.mlp.up_proj").isPresent());
        assertFalse(lora(c, "model.layers.2.mlp.down_proj").isPresent(), "inside a saved module");
        assertTrue(lora(c, "model.layers.3.mlp.down_proj").isPresent());
        assertTrue(c.saves("model.layers.2.mlp"));
        assertFalse(c.saves("model.layers.2.mlp.up_proj"));
        AdapterConfig r = parse("\"target_modules\": [\"up_proj\"], \"exclude_modules\": \".*layers\\\\.0\\\\..*\"");
        assertFalse(lora(r, UP0).isPresent());
        assertTrue(lora(r, "model.layers.10.mlp.up_proj").isPresent());
    }

    @Test
    void allLinearReachesTheLinearLayersTheModelNames() {
        AdapterConfig c = parse("\"target_modules\": \"all-linear\"");
        assertTrue(c.loraFor(UP0, true).isPresent());
        assertFalse(c.loraFor("lm_head", false).isPresent());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"lora_dropout\": 0.1", "\"init_lora_weights\": \"gaussian\"", "\"task_type\": \"CAUSAL_LM\"",
        "\"megatron_config\": {\"tensor_model_parallel_size\": 2}", "\"runtime_config\": {\"ephemeral_gpu_offload\": true}",
        "\"inference_mode\": false", "\"use_future_thing\": null", "\"use_future_flag\": false", "\"future_list\": []",
        "\"bias\": \"none\"", "\"peft_type\": \"LORA\"", "\"lora_bias\": false"})
    void keysThatCannotChangeTheForwardAreIgnored(String key) {
        AdapterConfig c = parse("\"target_modules\": [\"up_proj\"], " + key);
        assertEquals(4, lora(c, UP0).orElseThrow().rank());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"use_dora\": \"yes\"", "\"lora_alpha\": \"eight\"", "\"target_modules\": 5",
        "\"target_modules\": []", "\"exclude_modules\": 3", "\"layers_to_transform\": [-1]",
        "\"alpha_pattern\": [1]", "\"rank_pattern\": {\"(\": 2}", "\"r\": 300", "\"init_lora_weights\": \"olora\"",
        "\"use_bdlora\": {\"a\": 1}", "\"modules_to_save\": [\"lm_head(\"]",
        "\"layers_pattern\": \"lay[ers\", \"layers_to_transform\": [1]"})
    void malformedOrUnbuiltValuesAreRefusedNamingFileAndKey(String setting) {
        String key = setting.substring(1, setting.indexOf('"', 1));
        var e = assertThrows(IllegalArgumentException.class,
                () -> parse(withDefaults(setting, "\"target_modules\": [\"up_proj\"]")));
        assertTrue(e.getMessage().startsWith("adapter_config.json: " + key + " = "), e.getMessage());
    }
}
