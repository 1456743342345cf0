package io.tpkernels.layers.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a PEFT {@code adapter_config.json} that define a LoRA adapter (SEMANTICS.md section 6): its rank
 * {@code r}, {@code lora_alpha}, {@code use_rslora} (default false) and {@code target_modules} (a list of module
 * names such as {@code "up_proj"}, or one name). Extra keys are ignored.
 *
 * @param rank          {@code r}
 * @param alpha         {@code lora_alpha}
 * @param rsLora        {@code use_rslora}
 * @param targetModules {@code target_modules}
 */
public record AdapterConfig(int rank, double alpha, boolean rsLora, List<String> targetModules) {
    public AdapterConfig {
        targetModules = List.copyOf(targetModules);
    }

    /** PEFT's scale: {@code alpha / r}, or {@code alpha / √r} with rsLoRA. */
    public float scale() {
        return io.tpkernels.ops.LoraLinear.scale(alpha, rank, rsLora);
    }

    /** Whether the adapter targets modules named {@code module} ("up_proj"). */
    public boolean targets(String module) {
        return targetModules.contains(module);
    }

    /** Reads {@code file}; errors name the file and the key in one sentence. */
    public static AdapterConfig read(Path file) {
        return parse(JsonFiles.read(file), file.toString());
    }

    /** Parses {@code json}; {@code source} names it in errors. */
    public static AdapterConfig parse(String json, String source) {
        JsonNode root = JsonFiles.object(json, source);
        JsonNode r = root.get("r");
        if (r == null || !r.isIntegralNumber() || !r.canConvertToInt() || r.asInt() < 1
                || r.asInt() > io.tpkernels.ops.LoraLinear.MAX_RANK) {
            throw new IllegalArgumentException(source + ": r must be an integer in [1, "
                    + io.tpkernels.ops.LoraLinear.MAX_RANK + "], got " + r);
        }
        JsonNode alpha = root.get("lora_alpha");
        if (alpha == null || !alpha.isNumber() || !Double.isFinite(alpha.asDouble())) {
            throw new IllegalArgumentException(source + ": lora_alpha must be a number, got " + alpha);
        }
        JsonNode rs = root.get("use_rslora");
        if (rs != null && !rs.isNull() && !rs.isBoolean()) {
            throw new IllegalArgumentException(source + ": use_rslora must be true or false, got " + rs);
        }
        return new AdapterConfig(r.asInt(), alpha.asDouble(), rs != null && rs.asBoolean(false),
                modules(root.get("target_modules"), source));
    }

    private static List<String> modules(JsonNode node, String source) {
        List<String> out = new ArrayList<>();
        if (node != null && node.isTextual()) {
            out.add(node.asText());
        } else if (node != null && node.isArray()) {
            for (JsonNode m : node) {
                if (!m.isTextual()) {
                    throw new IllegalArgumentException(source + ": target_modules must hold names, got " + m);
                }
                out.add(m.asText());
            }
        } else {
            throw new IllegalArgumentException(source + ": target_modules must be a list of module names, got " + node);
        }
        return out;
    }
}
