package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every key of PEFT's {@code LoraConfig} (PEFT 0.21), sorted into what this library does with it. A key not listed
 * here (a later PEFT's) is refused when set to anything but its empty value: an adapter is never run with a
 * setting silently dropped.
 */
final class AdapterConfigKeys {
    private AdapterConfigKeys() {
    }

    /** Read by {@link AdapterConfig}. */
    static final Set<String> HONOURED = Set.of("r", "lora_alpha", "use_rslora", "use_dora", "target_modules",
            "exclude_modules", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern",
            "modules_to_save", "fan_in_fan_out");

    /**
     * Keys that do not change a loaded adapter's forward: bookkeeping, dropout (training only), initialisations
     * that only draw A and B (which the file then overwrites), Megatron's layer classes (the same math) and
     * run-time placement.
     */
    static final Set<String> IGNORED = Set.of("task_type", "auto_mapping", "peft_version", "base_model_name_or_path",
            "revision", "inference_mode", "lora_dropout", "megatron_config", "megatron_core", "loftq_config",
            "eva_config", "corda_config", "lora_ga_config", "runtime_config", "qalora_group_size");

    /** Initialisations that rewrite the base weights, so that the adapter only fits a base model no file holds. */
    private static final Set<String> BASE_REWRITING_INITS = Set.of("olora", "loftq", "lora_ga");

    /**
     * Keys that change the math and are not built, refused when set: a LoRA bias, layer replication, parameter
     * targets, QA-LoRA, activated LoRA, trainable tokens and the other method variants PEFT adds to LoRA.
     */
    static final Set<String> REFUSED_WHEN_SET = Set.of("lora_bias", "layer_replication", "target_parameters",
            "use_qalora", "alora_invocation_tokens", "trainable_token_indices", "velora_config", "monteclora_config",
            "arrow_config", "kasa_config", "use_bdlora", "ensure_weight_tying");

    /** Refuses, naming the file, the key and its value, every key that would change the math and is not built. */
    static void refuseUnbuilt(JsonObject root, String source) {
        JsonValue type = root.get("peft_type");
        if (type != null && !type.isNull() && !isString(type, "LORA")) {
            throw AdapterConfig.bad(source, "peft_type", type, "is not LORA: only LoRA adapters (and DoRA) are built");
        }
        JsonValue bias = root.get("bias");
        if (bias != null && !bias.isNull() && !isString(bias, "none")) {
            throw AdapterConfig.bad(source, "bias", bias, "trains the base layers' biases; only \"none\" is built");
        }
        JsonValue init = root.get("init_lora_weights");
        if (init instanceof JsonString s && rewritesBase(s.value())) {
            throw AdapterConfig.bad(source, "init_lora_weights", init, "rewrites the base weights, so the adapter does "
                    + "not fit the unmodified base model; convert it to plain LoRA first (PEFT's "
                    + "path_initial_model_for_weight_conversion)");
        }
        for (Map.Entry<String, JsonValue> e : root.members().entrySet()) {
            String key = e.getKey();
            if (HONOURED.contains(key) || IGNORED.contains(key) || key.equals("peft_type") || key.equals("bias")
                    || key.equals("init_lora_weights") || isUnset(e.getValue())) {
                continue;
            }
            String why = REFUSED_WHEN_SET.contains(key) ? "changes the adapter's math and is not built"
                    : "is not a LoRA setting this library knows; refused rather than ignored";
            throw AdapterConfig.bad(source, key, e.getValue(), why);
        }
    }

    private static boolean isString(JsonValue v, String text) {
        return v instanceof JsonString s && s.value().equals(text);
    }

    private static boolean rewritesBase(String init) {
        String lower = init.toLowerCase(Locale.ROOT);
        return lower.startsWith("pissa") || lower.startsWith("corda") || BASE_REWRITING_INITS.contains(lower);
    }

    /** The values that mean "not used": null, false, an empty string, list or object. */
    private static boolean isUnset(JsonValue v) {
        return switch (v) {
            case JsonBoolean b -> !b.value();
            case JsonString s -> s.value().isEmpty();
            case JsonArray a -> a.isEmpty();
            case JsonObject o -> o.isEmpty();
            default -> v.isNull();
        };
    }
}
