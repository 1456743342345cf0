package io.tpkernels.layers.model;

import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames.Kind;
import io.tpkernels.layers.model.DemoModelNames.Module;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.WeightException;
import io.tpkernels.layers.weights.WeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A PEFT adapter resolved against the demo model (the contract, sections
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#9-peft-adapters">9</a> and
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">13</a>): which
 * projections get LoRA (or DoRA) with which rank and scale, decided from {@code adapter_config.json} as PEFT decides
 * it, and which base tensors {@code modules_to_save} replaces. Resolving checks the tensors against the decision: every
 * targeted module has its {@code lora_A}, {@code lora_B} (and DoRA's {@code lora_magnitude_vector}), every saved module
 * its copy with the base's shape, and every tensor of the file is used; anything else is an error naming the tensor.
 * {@code A}'s rank is checked against the module's {@code r} where each rank loads its layer, so that the error names
 * tp and the rank too.
 */
public final class PeftAdapter implements LoraAdapters {
    private final AdapterConfig config;
    private final Map<String, ModuleLora> lora;
    private final Map<String, LoraSource.FromAdapter> sources;
    private final Map<String, String> savedTensors;
    private final List<String> savedModules;

    private PeftAdapter(AdapterConfig config, Map<String, ModuleLora> lora, Map<String, LoraSource.FromAdapter> sources,
                        Map<String, String> savedTensors, List<String> savedModules) {
        this.config = config;
        this.lora = lora;
        this.sources = sources;
        this.savedTensors = savedTensors;
        this.savedModules = savedModules;
    }

    /**
     * Resolves {@code config} over the modules of the model {@code model} describes, with the adapter's tensors in
     * {@code adapter} and the base model's in {@code base} (for the shapes {@code modules_to_save} must keep).
     *
     * @param config the adapter's {@code adapter_config.json}, read
     * @param adapter the adapter's tensors ({@code adapter_model.safetensors})
     * @param model the base model's configuration
     * @param base the base model's tensors
     * @return the resolved adapter; it owns neither source
     * @throws IllegalArgumentException naming the file and key, or the tensor, that does not fit
     */
    public static PeftAdapter resolve(AdapterConfig config, WeightSource adapter, ModelConfig model, WeightSource base) {
        Map<String, ModuleLora> lora = new LinkedHashMap<>();
        List<String> saved = new ArrayList<>();
        for (Module m : DemoModelNames.modules(model.numHiddenLayers())) {
            if (config.saves(m.name()) && saved.stream().noneMatch(s -> m.name().startsWith(s + "."))) {
                saved.add(m.name());
            }
            Optional<ModuleLora> l = config.loraFor(m.name(), m.kind() == Kind.PROJECTION);
            if (l.isEmpty()) {
                continue;
            }
            if (m.kind() != Kind.PROJECTION) {
                throw new IllegalArgumentException(config.source() + ": target_modules reaches " + m.name() + " ("
                        + describe(m.kind()) + "), where LoRA is not built: only the MLP projections take it");
            }
            lora.put(m.name(), l.get());
        }
        if (lora.isEmpty()) {
            throw new IllegalArgumentException(config.source() + ": target_modules reaches no module of this model "
                    + "(its linear layers are model.layers.<i>.mlp.{gate,up,down}_proj for i < "
                    + model.numHiddenLayers() + ", after exclude_modules, layers_to_transform and modules_to_save)");
        }
        Set<String> used = new LinkedHashSet<>();
        Map<String, LoraSource.FromAdapter> sources = new LinkedHashMap<>();
        for (ModuleLora l : lora.values()) {
            String a = DemoModelNames.peftTensor(l.module(), "lora_A.weight");
            String b = DemoModelNames.peftTensor(l.module(), "lora_B.weight");
            String mag = l.dora() ? DemoModelNames.peftTensor(l.module(), "lora_magnitude_vector") : null;
            for (String name : l.dora() ? List.of(a, b, mag) : List.of(a, b)) {
                if (!adapter.contains(name)) {
                    throw new WeightException(adapter.describe() + " has no tensor " + name + ", but the adapter targets "
                            + l.module() + (l.dora() ? " with DoRA (use_dora)" : ""));
                }
                used.add(name);
            }
            sources.put(l.module(), new LoraSource.FromAdapter(adapter, a, b, l.scale(), l.rank(), mag));
        }
        Map<String, String> savedTensors = savedTensors(config, saved, adapter, base, model);
        used.addAll(savedTensors.values());
        for (String name : adapter.names()) {
            if (!used.contains(name)) {
                throw new WeightException(adapter.describe() + ": tensor " + name + " is used by no module that "
                        + config.source() + " gives LoRA or saves (check target_modules, exclude_modules, "
                        + "layers_to_transform, use_dora and modules_to_save)");
            }
        }
        return new PeftAdapter(config, lora, sources, savedTensors, saved);
    }

    /** Each base tensor of a saved module, mapped to the adapter's copy of it (same shape). */
    private static Map<String, String> savedTensors(AdapterConfig config, List<String> saved, WeightSource adapter,
                                                   WeightSource base, ModelConfig model) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String module : saved) {
            if (model.tieWordEmbeddings() && (module.equals("lm_head") || module.equals("model.embed_tokens")
                    || module.equals("model"))) {
                throw new IllegalArgumentException(config.source() + ": modules_to_save = " + config.modulesToSave()
                        + " saves " + module + " of a model with tie_word_embeddings, which PEFT unties; not built");
            }
            List<String> baseNames = base.names().stream().filter(n -> n.startsWith(module + ".")).sorted().toList();
            if (baseNames.isEmpty()) {
                throw new IllegalArgumentException(config.source() + ": modules_to_save names " + module + ", which has "
                        + "no tensors in " + base.describe());
            }
            for (String baseName : baseNames) {
                String copy = DemoModelNames.PEFT_PREFIX + baseName;
                if (!adapter.contains(copy)) {
                    throw new WeightException(adapter.describe() + " has no tensor " + copy + ", but modules_to_save "
                            + "saves " + module);
                }
                long[] mine = adapter.info(copy).shape();
                long[] theirs = base.info(baseName).shape();
                if (!Arrays.equals(mine, theirs)) {
                    throw new WeightException(adapter.describe() + ": tensor " + copy + " has shape "
                            + Arrays.toString(mine) + ", but the base model's " + baseName + " it replaces has "
                            + Arrays.toString(theirs) + " (modules_to_save)");
                }
                out.put(baseName, copy);
            }
        }
        return out;
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case CONTAINER -> "a container of other modules";
            case EMBEDDING -> "the token embedding";
            case OUTPUT -> "the LM head";
            case PROJECTION -> "an MLP projection";
        };
    }

    @Override
    public Optional<LoraSource> forProjection(int layer, Projection projection) {
        return Optional.ofNullable(sources.get(DemoModelNames.module(layer, projection)));
    }

    /**
     * The modules that get LoRA, in the model's order, with their rank, alpha and DoRA.
     *
     * @return the modules, an unmodifiable list
     */
    public List<ModuleLora> modules() {
        return List.copyOf(lora.values());
    }

    /**
     * {@code base} with the modules {@code modules_to_save} replaces read from the adapter: the weights to load the
     * model from. Neither source is owned by the result.
     *
     * @param base the base model's tensors
     * @param adapter the adapter's tensors
     * @return the source to load the model from: {@code base} itself when nothing is saved
     */
    public WeightSource weightsOver(WeightSource base, WeightSource adapter) {
        return savedTensors.isEmpty() ? base : new SavedModules(base, adapter, savedTensors);
    }

    /**
     * What the adapter does, a line per group of modules with the same projection and settings ({@code up_proj}
     * layers 0-3: r 4, alpha 8, scale 2), then the saved modules and the ignored {@code fan_in_fan_out}.
     *
     * @return the lines, in order
     */
    public List<String> summary() {
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (ModuleLora l : lora.values()) {
            String[] parts = l.module().split("\\.");
            String key = String.format(java.util.Locale.ROOT, "%s: r %d, alpha %s, scale %s%s",
                    parts[parts.length - 1], l.rank(), number(l.alpha()), number(l.scale()),
                    (l.rsLora() ? " (rsLoRA)" : "") + (l.dora() ? ", DoRA" : ""));
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(Integer.parseInt(parts[2]));
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
            int colon = g.getKey().indexOf(':');
            out.add("lora " + g.getKey().substring(0, colon) + " in layers " + ranges(g.getValue())
                    + g.getKey().substring(colon));
        }
        for (String m : savedModules) {
            out.add("modules_to_save: " + m + " replaced by the adapter's copy");
        }
        if (config.fanInFanOutIgnored()) {
            out.add("fan_in_fan_out = true ignored: the targets are linear layers, where PEFT ignores it too");
        }
        return out;
    }

    /** Six significant digits, no trailing zeros: 2, 0.5, 2.12132. */
    private static String number(double v) {
        return new java.math.BigDecimal(v, new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    }

    /** {@code [0, 1, 2, 5]} as {@code 0-2,5}. */
    private static String ranges(List<Integer> layers) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            int start = layers.get(i);
            int end = start;
            while (i + 1 < layers.size() && layers.get(i + 1) == end + 1) {
                end = layers.get(++i);
            }
            sb.append(sb.isEmpty() ? "" : ",").append(start).append(end > start ? "-" + end : "");
        }
        return sb.toString();
    }
}
