package io.tpkernels.layers.config;

import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNull;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Writes the {@code adapter_config.json} of a LoRA adapter as PEFT 0.21's {@code save_pretrained} writes it (the
 * contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#export">section 9, "Export"</a>):
 * every key PEFT writes, PEFT's defaults for those that describe nothing here, and {@code r}, {@code lora_alpha},
 * {@code use_rslora}, {@code target_modules}, {@code rank_pattern} and {@code alpha_pattern} chosen so that the file
 * reaches exactly the given modules with exactly their rank and alpha, hence their scale. Before returning, the text is
 * read back with {@link AdapterConfig} and checked to say so. The text is laid out as Python's
 * {@code json.dumps(indent=2, sort_keys=True)} lays it out, so that it reads and diffs like a file PEFT wrote.
 */
public final class AdapterConfigWriter {
    private AdapterConfigWriter() {
    }

    /**
     * The configuration of an adapter on {@code modules}: {@code r} and {@code lora_alpha} are the most common rank
     * and alpha, {@code rank_pattern} and {@code alpha_pattern} name the other modules in full (dots escaped), and
     * {@code target_modules} holds the short names ({@code up_proj}) when every module so named is described, else
     * the full names.
     *
     * @param modules       the modules that carry LoRA, each with its rank and alpha; one {@code use_rslora} for all
     * @param linearModules every linear module of the model LoRA could go on (full names, in the model's order): the
     *                      file must reach the described ones and no other
     * @return the file's text, without a final newline (PEFT writes none)
     * @throws IllegalArgumentException when the adapter is empty, DoRA, mixes rsLoRA with plain scaling, describes a
     *                                  module twice, or names a module {@code linearModules} lacks
     * @throws IllegalStateException when the text, read back, does not give every module exactly what was asked
     *                               (a fault of this writer, never of the input)
     */
    public static String json(List<ModuleLora> modules, List<String> linearModules) {
        Map<String, ModuleLora> byName = checked(modules, linearModules);
        List<ModuleLora> ordered = linearModules.stream().filter(byName::containsKey).map(byName::get).toList();
        int r = mostCommon(ordered, ModuleLora::rank);
        double alpha = mostCommon(ordered, ModuleLora::alpha);
        Map<String, JsonValue> root = peftDefaults();
        root.put("r", JsonNumber.of(r));
        root.put("lora_alpha", number(alpha));
        root.put("use_rslora", JsonBoolean.of(ordered.getFirst().rsLora()));
        root.put("target_modules", targets(byName.keySet(), linearModules));
        Map<String, JsonValue> ranks = new LinkedHashMap<>();
        Map<String, JsonValue> alphas = new LinkedHashMap<>();
        for (ModuleLora m : ordered) {
            if (m.rank() != r) {
                ranks.put(exactPattern(m.module()), JsonNumber.of(m.rank()));
            }
            if (m.alpha() != alpha) {
                alphas.put(exactPattern(m.module()), number(m.alpha()));
            }
        }
        root.put("rank_pattern", JsonObject.of(ranks));
        root.put("alpha_pattern", JsonObject.of(alphas));
        String text = PythonJson.dumps(JsonObject.of(root));
        checkReadBack(text, byName, linearModules);
        return text;
    }

    /**
     * Every key PEFT 0.21 writes for a LoRA adapter, with the value it writes when the setting is not used (the key set
     * of the adapters PEFT wrote for this project's tests). {@code inference_mode} is true as {@code save_pretrained}
     * writes it; {@code auto_mapping}, {@code task_type} and {@code base_model_name_or_path} are null: the demo model has
     * no Hugging Face class and no hub name.
     */
    private static Map<String, JsonValue> peftDefaults() {
        Map<String, JsonValue> o = new LinkedHashMap<>();
        for (String key : List.of("alora_invocation_tokens", "arrow_config", "auto_mapping", "base_model_name_or_path",
                "corda_config", "eva_config", "exclude_modules", "kasa_config", "layer_replication", "layers_pattern",
                "layers_to_transform", "lora_ga_config", "megatron_config", "modules_to_save", "monteclora_config",
                "revision", "target_parameters", "task_type", "trainable_token_indices", "use_bdlora",
                "velora_config")) {
            o.put(key, JsonNull.NULL);
        }
        o.put("alpha_pattern", JsonObject.of(Map.of()));
        o.put("rank_pattern", JsonObject.of(Map.of()));
        o.put("loftq_config", JsonObject.of(Map.of()));
        o.put("bias", new JsonString("none"));
        o.put("ensure_weight_tying", JsonBoolean.FALSE);
        o.put("fan_in_fan_out", JsonBoolean.FALSE);
        o.put("inference_mode", JsonBoolean.TRUE);
        o.put("init_lora_weights", JsonBoolean.TRUE);
        o.put("lora_bias", JsonBoolean.FALSE);
        o.put("lora_dropout", JsonNumber.of(0.0));
        o.put("megatron_core", new JsonString("megatron.core"));
        o.put("peft_type", new JsonString("LORA"));
        o.put("peft_version", new JsonString("0.21.0"));
        o.put("qalora_group_size", JsonNumber.of(16));
        o.put("use_dora", JsonBoolean.FALSE);
        o.put("use_qalora", JsonBoolean.FALSE);
        o.put("use_rslora", JsonBoolean.FALSE);
        return o;
    }

    private static Map<String, ModuleLora> checked(List<ModuleLora> modules, List<String> linearModules) {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("the adapter has no module with LoRA: nothing to export");
        }
        Map<String, ModuleLora> byName = new LinkedHashMap<>();
        for (ModuleLora m : modules) {
            if (!linearModules.contains(m.module())) {
                throw new IllegalArgumentException(m.module() + " is not a linear module of this model");
            }
            if (m.dora()) {
                throw new IllegalArgumentException(m.module() + " is DoRA; exporting DoRA's magnitude vectors is not "
                        + "built");
            }
            if (m.rsLora() != modules.getFirst().rsLora()) {
                throw new IllegalArgumentException(m.module() + " has use_rslora " + m.rsLora() + " but "
                        + modules.getFirst().module() + " " + modules.getFirst().rsLora() + ": one adapter_config.json "
                        + "has one use_rslora");
            }
            if (byName.put(m.module(), m) != null) {
                throw new IllegalArgumentException(m.module() + " is described twice");
            }
        }
        return byName;
    }

    /**
     * The modules' last names ({@code ["gate_proj", "down_proj"]}) when the adapter covers every module so named,
     * else their full names, which PEFT matches exactly and applies no layer filter to.
     */
    private static JsonArray targets(Set<String> adapted, List<String> linearModules) {
        Set<String> shortNames = new LinkedHashSet<>();
        for (String m : linearModules) {
            if (adapted.contains(m)) {
                shortNames.add(lastName(m));
            }
        }
        boolean whole = linearModules.stream().allMatch(m -> adapted.contains(m) == shortNames.contains(lastName(m)));
        List<String> names = whole ? List.copyOf(shortNames) : linearModules.stream().filter(adapted::contains).toList();
        return JsonArray.of(names.stream().map(JsonString::new).toList());
    }

    private static String lastName(String module) {
        return module.substring(module.lastIndexOf('.') + 1);
    }

    /** A {@code rank_pattern} / {@code alpha_pattern} key that PEFT's {@code (.*\.)?(key)$} matches to this module only. */
    private static String exactPattern(String module) {
        return module.replace(".", "\\.");
    }

    /** Integral values as integers, as PEFT writes the {@code lora_alpha = 16} users give it. */
    private static JsonNumber number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 0x1p53 ? JsonNumber.of((long) v) : JsonNumber.of(v);
    }

    /** The value most modules have; among equally common ones, the first in the model's order. */
    private static <T> T mostCommon(List<ModuleLora> modules, Function<ModuleLora, T> key) {
        Map<T, Integer> counts = new LinkedHashMap<>();
        modules.forEach(m -> counts.merge(key.apply(m), 1, Integer::sum));
        T best = null;
        int most = 0;
        for (Map.Entry<T, Integer> e : counts.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /** The file, read as any adapter is, gives every module what was asked and no other module anything. */
    private static void checkReadBack(String text, Map<String, ModuleLora> byName, List<String> linearModules) {
        AdapterConfig back = AdapterConfig.parse(text, "the exported adapter_config.json");
        List<String> wrong = new ArrayList<>();
        for (String m : linearModules) {
            Optional<ModuleLora> got = back.loraFor(m, true);
            ModuleLora want = byName.get(m);
            if (!Objects.equals(got.orElse(null), want) || (want != null && got.get().scale() != want.scale())) {
                wrong.add(m + " reads back as " + got.orElse(null) + ", not " + want);
            }
        }
        if (!wrong.isEmpty()) {
            throw new IllegalStateException("the exported adapter_config.json does not describe its adapter: " + wrong);
        }
    }
}
