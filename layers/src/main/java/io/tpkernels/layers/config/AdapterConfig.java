package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import io.tpkernels.ops.LoraLinear;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A PEFT LoRA {@code adapter_config.json} as PEFT 0.21 writes it, every key honoured, ignored or refused by name (the
 * contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#every-key-honoured-ignored-or-refused">section 9</a>).
 * Honoured: {@code r}, {@code lora_alpha}, {@code use_rslora}, {@code use_dora}, {@code target_modules},
 * {@code exclude_modules}, {@code layers_to_transform}, {@code layers_pattern}, {@code rank_pattern},
 * {@code alpha_pattern}, {@code modules_to_save}; {@code fan_in_fan_out} is ignored on linear layers as PEFT ignores it
 * ({@link #fanInFanOutIgnored()}). Keys that would change the math and are not built are refused by name:
 * {@code peft_type} other than {@code LORA}, {@code bias} other than {@code none}, an {@code init_lora_weights} that
 * rewrites the base weights (PiSSA, CorDA, OLoRA, LoftQ, LoRA-GA), and {@code lora_bias}, {@code layer_replication},
 * {@code use_qalora} and the other variants when set. Keys that do not change the math at inference (bookkeeping,
 * {@code lora_dropout}, initialisations the file's tensors overwrite) are ignored. Any other key, a later PEFT's, is
 * refused unless it is unset ({@code null}, {@code false}, {@code ""}, {@code []} or <code>{}</code>): a setting is
 * never dropped silently.
 *
 * <p>Which modules an adapter reaches is decided as PEFT decides it ({@link #loraFor}, {@link #saves}; the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#which-modules-get-lora">section 9</a>).
 * Python regexes are read with Java's syntax, Python's named groups {@code (?P<name>...)} and {@code (?P=name)}
 * translated. Every refusal is an {@link IllegalArgumentException} naming the file, the key and its value. An instance
 * is immutable, and safe to share between threads.
 */
public final class AdapterConfig {
    /** PEFT's {@code target_modules} shorthand for "every linear layer but the output layer". */
    public static final String ALL_LINEAR = "all-linear";

    private final String source;
    private final int rank;
    private final double alpha;
    private final boolean rsLora;
    private final boolean dora;
    private final ModulePatterns.Selector targets;
    private final ModulePatterns.Selector excluded;
    private final List<Integer> layersToTransform;
    private final List<String> layersPattern;
    private final Map<String, Integer> rankPattern;
    private final Map<String, Double> alphaPattern;
    private final List<String> modulesToSave;
    private final boolean fanInFanOutIgnored;
    private final double dropout;

    private AdapterConfig(Builder b) {
        this.source = b.source;
        this.rank = b.rank;
        this.alpha = b.alpha;
        this.rsLora = b.rsLora;
        this.dora = b.dora;
        this.targets = b.targets;
        this.excluded = b.excluded;
        this.layersToTransform = List.copyOf(b.layersToTransform);
        this.layersPattern = List.copyOf(b.layersPattern);
        this.rankPattern = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.rankPattern));
        this.alphaPattern = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.alphaPattern));
        this.modulesToSave = List.copyOf(b.modulesToSave);
        this.fanInFanOutIgnored = b.fanInFanOut;
        this.dropout = b.dropout;
    }

    /**
     * A plain adapter: rank {@code r}, {@code lora_alpha}, rsLoRA or not, and {@code target_modules} as a list of
     * names (suffix-matched); no patterns, no DoRA, nothing saved. Messages name it "adapter config".
     *
     * @param rank {@code r}, in {@code [1, }{@link LoraLinear#MAX_RANK}{@code ]}
     * @param alpha {@code lora_alpha}
     * @param rsLora {@code use_rslora}: scale by {@code alpha / √r} rather than {@code alpha / r}
     * @param targetModules the {@code target_modules} names: each reaches a module whose full name equals it or ends
     *     with {@code .} and it
     * @return the configuration
     * @throws IllegalArgumentException when {@code rank} is outside {@code [1, MAX_RANK]}
     */
    public static AdapterConfig of(int rank, double alpha, boolean rsLora, List<String> targetModules) {
        Builder b = new Builder("adapter config");
        b.rank = checkRank(rank, "r", b.source);
        b.alpha = alpha;
        b.rsLora = rsLora;
        b.targets = ModulePatterns.Selector.names(targetModules);
        return new AdapterConfig(b);
    }

    /**
     * Reads {@code file}: one JSON object of at most 16 MiB, read as Python's {@code json} writes it ({@code NaN} and
     * the infinities included), a key written twice refused.
     *
     * @param file the {@code adapter_config.json}
     * @return the configuration, which names {@code file} in messages
     * @throws IllegalArgumentException in one sentence naming the file (and the key and its value): the file is
     *     missing, unreadable, too large or not a JSON object; a key is refused (see above); or a key has a value of
     *     the wrong type or range: {@code r} (or a {@code rank_pattern} value) not an integer in {@code [1, 256]},
     *     {@code lora_alpha} missing or not a finite number, {@code target_modules} missing or naming no module, a
     *     regex that does not compile, {@code layers_pattern} without {@code layers_to_transform}, or
     *     {@code layers_to_transform} beside a regex {@code target_modules}
     */
    public static AdapterConfig read(Path file) {
        return parse(JsonFiles.read(file), file.toString());
    }

    /**
     * Parses {@code json}, the text of an {@code adapter_config.json}, as {@link #read} does.
     *
     * @param json the file's text
     * @param source names the file in messages (its path)
     * @return the configuration
     * @throws IllegalArgumentException in one sentence naming {@code source}, the key and its value, as
     *     {@link #read} says (but for reading the file)
     */
    public static AdapterConfig parse(String json, String source) {
        JsonObject root = JsonFiles.object(json, source);
        AdapterConfigKeys.refuseUnbuilt(root, source);
        Builder b = new Builder(source);
        JsonValue r = root.get("r");
        if (!(r instanceof JsonNumber rank && rank.fitsInt())) {
            throw bad(source, "r", r, "must be an integer in [1, " + LoraLinear.MAX_RANK + "]");
        }
        b.rank = checkRank((int) rank.longValue(), "r", source);
        b.alpha = number(root, "lora_alpha", source).orElseThrow(() -> bad(source, "lora_alpha", null, "must be a number"));
        b.rsLora = flag(root, "use_rslora", source);
        b.dora = flag(root, "use_dora", source);
        b.fanInFanOut = flag(root, "fan_in_fan_out", source);
        b.dropout = number(root, "lora_dropout", source).orElse(0.0);
        b.targets = targets(root.get("target_modules"), source);
        b.excluded = selector(root.get("exclude_modules"), "exclude_modules", source);
        b.layersToTransform = layers(root.get("layers_to_transform"), source);
        b.layersPattern = strings(root.get("layers_pattern"), "layers_pattern", source, true);
        for (String p : b.layersPattern) {
            ModulePatterns.compile(p, "layers_pattern", source); // a regex in PEFT's layer-index pattern
        }
        if (!b.layersPattern.isEmpty() && b.layersToTransform.isEmpty()) {
            throw bad(source, "layers_pattern", root.get("layers_pattern"), "needs layers_to_transform (as PEFT says)");
        }
        if (b.targets.isRegex() && !b.layersToTransform.isEmpty()) {
            throw bad(source, "layers_to_transform", root.get("layers_to_transform"),
                    "cannot be used when target_modules is a regex string (as PEFT says)");
        }
        for (Map.Entry<String, JsonValue> e : entries(root.get("rank_pattern"), "rank_pattern", source)) {
            JsonValue v = e.getValue();
            if (!(v instanceof JsonNumber moduleRank && moduleRank.fitsInt())) {
                throw bad(source, "rank_pattern", root.get("rank_pattern"), "maps \"" + e.getKey() + "\" to " + v
                        + ", not an integer rank");
            }
            ModulePatterns.compile(e.getKey(), "rank_pattern", source);
            b.rankPattern.put(e.getKey(), checkRank((int) moduleRank.longValue(),
                    "rank_pattern \"" + e.getKey() + "\"", source));
        }
        for (Map.Entry<String, JsonValue> e : entries(root.get("alpha_pattern"), "alpha_pattern", source)) {
            JsonValue v = e.getValue();
            if (!(v instanceof JsonNumber moduleAlpha && Double.isFinite(moduleAlpha.doubleValue()))) {
                throw bad(source, "alpha_pattern", root.get("alpha_pattern"), "maps \"" + e.getKey() + "\" to " + v
                        + ", not a number");
            }
            ModulePatterns.compile(e.getKey(), "alpha_pattern", source);
            b.alphaPattern.put(e.getKey(), moduleAlpha.doubleValue());
        }
        b.modulesToSave = strings(root.get("modules_to_save"), "modules_to_save", source, false);
        for (String m : b.modulesToSave) {
            ModulePatterns.compile(savedModulePattern(m), "modules_to_save", source); // PEFT reads each as a regex too
        }
        return new AdapterConfig(b);
    }

    /**
     * Names this configuration in messages.
     *
     * @return its file, as given to {@link #read} or {@link #parse}
     */
    public String source() {
        return source;
    }

    /**
     * {@code r}: the rank of modules no {@code rank_pattern} names.
     *
     * @return the rank, in {@code [1, }{@link LoraLinear#MAX_RANK}{@code ]}
     */
    public int rank() {
        return rank;
    }

    /**
     * {@code lora_alpha}: the alpha of modules no {@code alpha_pattern} names.
     *
     * @return the alpha, a finite number
     */
    public double alpha() {
        return alpha;
    }

    /**
     * {@code use_rslora}: whether every module's scale is {@code alpha / √r} rather than {@code alpha / r}.
     *
     * @return the flag, false when absent or {@code null}
     */
    public boolean rsLora() {
        return rsLora;
    }

    /**
     * {@code use_dora}: whether every module is DoRA, with a magnitude vector in the adapter's tensors (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#10-dora">section 10</a>).
     *
     * @return the flag, false when absent or {@code null}
     */
    public boolean dora() {
        return dora;
    }

    /**
     * {@code lora_dropout}: the dropout PEFT applies to the LoRA path's input while training (0 when absent). It does
     * not change a forward at inference, where it is ignored; a trainer must honour or refuse it.
     *
     * @return the dropout probability as written (a finite number), 0 when absent or {@code null}
     */
    public double loraDropout() {
        return dropout;
    }

    /**
     * {@code modules_to_save}, as written: modules whose weights the adapter's full copy replaces ({@link #saves}).
     *
     * @return the entries in the file's order, unmodifiable; empty when absent
     */
    public List<String> modulesToSave() {
        return modulesToSave;
    }

    /**
     * Whether the file asks for {@code fan_in_fan_out}, which PEFT (and so this library) ignores on linear layers; a
     * caller says so once.
     *
     * @return whether {@code fan_in_fan_out} is true
     */
    public boolean fanInFanOutIgnored() {
        return fanInFanOutIgnored;
    }

    /**
     * The LoRA that module {@code module} (its full name, {@code model.layers.3.mlp.up_proj}) gets, or empty when
     * the adapter does not reach it: not targeted, excluded, outside {@code layers_to_transform}, or saved whole
     * ({@code modules_to_save}). As PEFT's {@code check_target_module_exists}: a listed name matches when it equals
     * the module's name (then the layer filter does not apply) or is its last dotted part(s); a string is a regex
     * full-matched against the whole name; {@code all-linear} reaches every linear layer the caller says it has.
     *
     * @param module the module's full name, as PyTorch's {@code named_modules} gives it
     * @param isLinear whether the module is a linear layer that {@code all-linear} covers (not the output layer)
     * @return its rank, alpha, rsLoRA and DoRA ({@code rank_pattern} and {@code alpha_pattern} applied), or empty
     */
    public Optional<ModuleLora> loraFor(String module, boolean isLinear) {
        if (excluded.matches(module) || savedModuleCovers(module) || !targeted(module, isLinear)) {
            return Optional.empty();
        }
        int r = ModulePatterns.lookup(rankPattern, module).orElse(rank);
        double a = ModulePatterns.lookup(alphaPattern, module).orElse(alpha);
        return Optional.of(new ModuleLora(module, r, a, rsLora, dora));
    }

    /**
     * Whether {@code module} is one that {@code modules_to_save} replaces whole: its name ends with an entry.
     *
     * @param module the module's full name
     * @return whether the adapter's copy of it replaces the base's weights
     */
    public boolean saves(String module) {
        for (String m : modulesToSave) {
            if (module.endsWith(m)) {
                return true;
            }
        }
        return false;
    }

    /** PEFT puts no LoRA on a module inside (or equal to) a saved one: {@code (^|.*\.)m($|\..*)}. */
    private boolean savedModuleCovers(String module) {
        for (String m : modulesToSave) {
            if (java.util.regex.Pattern.compile(ModulePatterns.pythonToJava(savedModulePattern(m))).matcher(module)
                    .lookingAt()) {
                return true;
            }
        }
        return false;
    }

    /** The pattern PEFT matches a {@code modules_to_save} entry {@code m} with, to keep LoRA out of saved modules. */
    private static String savedModulePattern(String m) {
        return "(^|.*\\.)" + m + "($|\\..*)";
    }

    private boolean targeted(String module, boolean isLinear) {
        if (targets.isAllLinear()) {
            return isLinear; // PEFT expands it to the linear layers' full names, which no layer filter limits
        }
        if (targets.isRegex()) {
            return targets.matches(module);
        }
        if (targets.names().contains(module)) {
            return true; // named in full: PEFT applies no layer filter
        }
        return targets.matches(module) && inLayers(module);
    }

    /** {@code layers_to_transform} with {@code layers_pattern}, as PEFT reads the layer index out of the name. */
    private boolean inLayers(String module) {
        if (layersToTransform.isEmpty()) {
            return true;
        }
        OptionalLayer index = ModulePatterns.layerIndex(module, layersPattern);
        return index.present() && layersToTransform.contains(index.value());
    }

    /** A layer index read from a module name, or none. */
    record OptionalLayer(boolean present, int value) {
    }

    /**
     * What one module gets: rank, alpha, rsLoRA, DoRA.
     *
     * @param module the module's full name ({@code model.layers.3.mlp.up_proj})
     * @param rank its rank {@code r}: its {@code rank_pattern} entry's, else the file's {@code r}
     * @param alpha its alpha: its {@code alpha_pattern} entry's, else the file's {@code lora_alpha}
     * @param rsLora whether its scale is {@code alpha / √r} ({@code use_rslora})
     * @param dora whether it is DoRA ({@code use_dora})
     */
    public record ModuleLora(String module, int rank, double alpha, boolean rsLora, boolean dora) {
        /**
         * The LoRA scale {@code s}: {@code alpha / r}, or {@code alpha / √r} with rsLoRA.
         *
         * @return {@code s}, computed in double and rounded to F32
         * @throws IllegalArgumentException when {@code rank < 1}
         */
        public float scale() {
            return LoraLinear.scale(alpha, rank, rsLora);
        }
    }

    // ---- parsing

    private static final class Builder {
        final String source;
        int rank;
        double alpha;
        boolean rsLora;
        boolean dora;
        boolean fanInFanOut;
        double dropout;
        ModulePatterns.Selector targets;
        ModulePatterns.Selector excluded = ModulePatterns.Selector.NONE;
        List<Integer> layersToTransform = List.of();
        List<String> layersPattern = List.of();
        final Map<String, Integer> rankPattern = new LinkedHashMap<>();
        final Map<String, Double> alphaPattern = new LinkedHashMap<>();
        List<String> modulesToSave = List.of();

        Builder(String source) {
            this.source = source;
        }
    }

    static IllegalArgumentException bad(String source, String key, JsonValue value, String why) {
        return new IllegalArgumentException(source + ": " + key + " = " + (value == null ? "(missing)" : value) + " "
                + why);
    }

    private static int checkRank(int r, String key, String source) {
        if (r < 1 || r > LoraLinear.MAX_RANK) {
            throw new IllegalArgumentException(source + ": " + key + " = " + r + " must be an integer in [1, "
                    + LoraLinear.MAX_RANK + "]");
        }
        return r;
    }

    /** {@code key} as a finite number (NaN, an infinity or a number beyond a double's range is refused). */
    private static Optional<Double> number(JsonObject root, String key, String source) {
        JsonValue v = root.get(key);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!(v instanceof JsonNumber n && Double.isFinite(n.doubleValue()))) {
            throw bad(source, key, v, "must be a number");
        }
        return Optional.of(n.doubleValue());
    }

    private static boolean flag(JsonObject root, String key, String source) {
        JsonValue v = root.get(key);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!(v instanceof JsonBoolean b)) {
            throw bad(source, key, v, "must be true or false");
        }
        return b.value();
    }

    private static ModulePatterns.Selector targets(JsonValue node, String source) {
        if (node == null || node.isNull()) {
            throw bad(source, "target_modules", node, "is needed: this model has no PEFT default targets");
        }
        if (node instanceof JsonString s && s.value().equals(ALL_LINEAR)) {
            return ModulePatterns.Selector.ALL_LINEAR;
        }
        ModulePatterns.Selector s = selector(node, "target_modules", source);
        if (!s.isRegex() && s.names().isEmpty()) {
            throw bad(source, "target_modules", node, "names no module");
        }
        return s;
    }

    private static ModulePatterns.Selector selector(JsonValue node, String key, String source) {
        if (node == null || node.isNull()) {
            return ModulePatterns.Selector.NONE;
        }
        if (node instanceof JsonString s) {
            return ModulePatterns.Selector.regex(ModulePatterns.compile(s.value(), key, source));
        }
        return ModulePatterns.Selector.names(strings(node, key, source, false));
    }

    private static List<String> strings(JsonValue node, String key, String source, boolean oneAllowed) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (oneAllowed && node instanceof JsonString s) {
            out.add(s.value());
            return out;
        }
        if (!(node instanceof JsonArray names)) {
            throw bad(source, key, node, "must be a list of module names");
        }
        for (JsonValue m : names) {
            if (!(m instanceof JsonString name && !name.value().isEmpty())) {
                throw bad(source, key, node, "must hold non-empty names, not " + m);
            }
            out.add(name.value());
        }
        return out;
    }

    private static List<Integer> layers(JsonValue node, String source) {
        List<Integer> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (isLayerIndex(node)) {
            out.add((int) ((JsonNumber) node).longValue());
            return out;
        }
        if (!(node instanceof JsonArray indices)) {
            throw bad(source, "layers_to_transform", node, "must be a layer index or a list of them");
        }
        for (JsonValue i : indices) {
            if (!isLayerIndex(i)) {
                throw bad(source, "layers_to_transform", node, "must hold layer indices >= 0, not " + i);
            }
            out.add((int) ((JsonNumber) i).longValue());
        }
        return out;
    }

    private static boolean isLayerIndex(JsonValue v) {
        return v instanceof JsonNumber n && n.fitsInt() && n.longValue() >= 0;
    }

    private static List<Map.Entry<String, JsonValue>> entries(JsonValue node, String key, String source) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!(node instanceof JsonObject patterns)) {
            throw bad(source, key, node, "must map module patterns to values");
        }
        return List.copyOf(patterns.members().entrySet());
    }
}
