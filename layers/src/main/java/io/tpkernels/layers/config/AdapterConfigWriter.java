package io.tpkernels.layers.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
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
 * Writes the {@code adapter_config.json} of a LoRA adapter as PEFT 0.21's {@code save_pretrained} writes it
 * (docs/contract.md section 9, "Export"): every key PEFT writes, PEFT's defaults for those that describe nothing
 * here, and {@code r}, {@code lora_alpha}, {@code use_rslora}, {@code target_modules}, {@code rank_pattern} and
 * {@code alpha_pattern} chosen so that the file reaches exactly the given modules with exactly their rank and alpha,
 * hence their scale. Before returning, the text is read back with {@link AdapterConfig} and checked to say so.
 */
public final class AdapterConfigWriter {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private AdapterConfigWriter() {
    }

    /**
     * The configuration of an adapter on {@code modules}.
     *
     * @param modules       the modules that carry LoRA, each with its rank and alpha; one {@code use_rslora} for all
     * @param linearModules every linear module of the model LoRA could go on (full names, in the model's order): the
     *                      file must reach the described ones and no other
     * @throws IllegalArgumentException when the adapter is empty, DoRA, mixes rsLoRA with plain scaling, or names a
     *                                  module {@code linearModules} lacks
     */
    public static String json(List<ModuleLora> modules, List<String> linearModules) {
        Map<String, ModuleLora> byName = checked(modules, linearModules);
        List<ModuleLora> ordered = linearModules.stream().filter(byName::containsKey).map(byName::get).toList();
        int r = mostCommon(ordered, ModuleLora::rank);
        double alpha = mostCommon(ordered, ModuleLora::alpha);
        ObjectNode root = peftDefaults();
        root.put("r", r);
        root.set("lora_alpha", number(alpha));
        root.put("use_rslora", ordered.getFirst().rsLora());
        root.set("target_modules", targets(byName.keySet(), linearModules));
        ObjectNode ranks = root.putObject("rank_pattern");
        ObjectNode alphas = root.putObject("alpha_pattern");
        for (ModuleLora m : ordered) {
            if (m.rank() != r) {
                ranks.put(exactPattern(m.module()), m.rank());
            }
            if (m.alpha() != alpha) {
                alphas.set(exactPattern(m.module()), number(m.alpha()));
            }
        }
        String text = PythonJson.dumps(root);
        checkReadBack(text, byName, linearModules);
        return text;
    }

    /**
     * Every key PEFT 0.21 writes for a LoRA adapter, with the value it writes when the setting is not used (the key set
     * of the adapters PEFT wrote for this project's tests). {@code inference_mode} is true as {@code save_pretrained}
     * writes it; {@code auto_mapping}, {@code task_type} and {@code base_model_name_or_path} are null: the demo model has
     * no Hugging Face class and no hub name.
     */
    private static ObjectNode peftDefaults() {
        ObjectNode o = JSON.objectNode();
        for (String key : List.of("alora_invocation_tokens", "arrow_config", "auto_mapping", "base_model_name_or_path",
                "corda_config", "eva_config", "exclude_modules", "kasa_config", "layer_replication", "layers_pattern",
                "layers_to_transform", "lora_ga_config", "megatron_config", "modules_to_save", "monteclora_config",
                "revision", "target_parameters", "task_type", "trainable_token_indices", "use_bdlora",
                "velora_config")) {
            o.putNull(key);
        }
        o.putObject("alpha_pattern");
        o.putObject("rank_pattern");
        o.putObject("loftq_config");
        o.put("bias", "none");
        o.put("ensure_weight_tying", false);
        o.put("fan_in_fan_out", false);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.put("lora_bias", false);
        o.put("lora_dropout", 0.0);
        o.put("megatron_core", "megatron.core");
        o.put("peft_type", "LORA");
        o.put("peft_version", "0.21.0");
        o.put("qalora_group_size", 16);
        o.put("use_dora", false);
        o.put("use_qalora", false);
        o.put("use_rslora", false);
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
    private static JsonNode targets(Set<String> adapted, List<String> linearModules) {
        Set<String> shortNames = new LinkedHashSet<>();
        for (String m : linearModules) {
            if (adapted.contains(m)) {
                shortNames.add(lastName(m));
            }
        }
        boolean whole = linearModules.stream().allMatch(m -> adapted.contains(m) == shortNames.contains(lastName(m)));
        var list = JSON.arrayNode();
        if (whole) {
            shortNames.forEach(list::add);
        } else {
            linearModules.stream().filter(adapted::contains).forEach(list::add);
        }
        return list;
    }

    private static String lastName(String module) {
        return module.substring(module.lastIndexOf('.') + 1);
    }

    /** A {@code rank_pattern} / {@code alpha_pattern} key that PEFT's {@code (.*\.)?(key)$} matches to this module only. */
    private static String exactPattern(String module) {
        return module.replace(".", "\\.");
    }

    /** Integral values as integers, as PEFT writes the {@code lora_alpha = 16} users give it. */
    private static JsonNode number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 0x1p53 ? JSON.numberNode((long) v) : JSON.numberNode(v);
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
