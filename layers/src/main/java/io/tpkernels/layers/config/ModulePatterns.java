package io.tpkernels.layers.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** How PEFT matches module names against the names and patterns of an {@code adapter_config.json}. */
final class ModulePatterns {
    private ModulePatterns() {
    }

    /** {@code target_modules} or {@code exclude_modules}: nothing, a list of names, one regex, or {@code all-linear}. */
    record Selector(List<String> names, Pattern regex, boolean isAllLinear) {
        static final Selector NONE = new Selector(List.of(), null, false);
        static final Selector ALL_LINEAR = new Selector(List.of(), null, true);

        static Selector names(List<String> names) {
            return new Selector(List.copyOf(names), null, false);
        }

        static Selector regex(Pattern regex) {
            return new Selector(List.of(), regex, false);
        }

        boolean isRegex() {
            return regex != null;
        }

        /**
         * A regex full-matches the whole name; a list entry matches a name it equals or that ends with {@code .}
         * and the entry.
         */
        boolean matches(String module) {
            if (regex != null) {
                return regex.matcher(module).matches();
            }
            for (String n : names) {
                if (module.equals(n) || module.endsWith("." + n)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** {@code pattern}, a Python regex from {@code key}, as a Java one; a bad one names the file, key and pattern. */
    static Pattern compile(String pattern, String key, String source) {
        try {
            return Pattern.compile(pythonToJava(pattern));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(source + ": " + key + " = \"" + pattern + "\" is not a valid regex: "
                    + e.getDescription());
        }
    }

    /** Python's named-group syntax in Java's spelling; the rest of the common syntax is the same in both. */
    static String pythonToJava(String pattern) {
        return pattern.replace("(?P<", "(?<").replaceAll("\\(\\?P=(\\w+)\\)", "\\\\k<$1>");
    }

    /**
     * The value of the first key of {@code patterns} (in the file's order) that names {@code module}, as PEFT's
     * {@code get_pattern_key}: the key matches when {@code (.*\.)?(key)$} matches the name from its start.
     */
    static <V> Optional<V> lookup(Map<String, V> patterns, String module) {
        for (Map.Entry<String, V> e : patterns.entrySet()) {
            if (Pattern.compile("(.*\\.)?(" + pythonToJava(e.getKey()) + ")").matcher(module).matches()) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /**
     * The layer index PEFT reads from a module name for {@code layers_to_transform}: the first number that follows
     * {@code <pattern>.} for one of {@code layersPattern}, or without patterns the first number that is a whole
     * dotted part after at least two others ({@code model.layers.3.mlp.up_proj} gives 3).
     */
    static AdapterConfig.OptionalLayer layerIndex(String module, List<String> layersPattern) {
        if (layersPattern.isEmpty()) {
            return index(Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\.").matcher(module));
        }
        for (String p : layersPattern) {
            AdapterConfig.OptionalLayer found =
                    index(Pattern.compile("(?:^|.*?\\.)" + pythonToJava(p) + "\\.(\\d+)\\.").matcher(module));
            if (found.present()) {
                return found;
            }
        }
        return new AdapterConfig.OptionalLayer(false, 0);
    }

    private static AdapterConfig.OptionalLayer index(Matcher m) {
        if (!m.lookingAt()) {
            return new AdapterConfig.OptionalLayer(false, 0);
        }
        try {
            return new AdapterConfig.OptionalLayer(true, Integer.parseInt(m.group(1)));
        } catch (NumberFormatException e) {
            return new AdapterConfig.OptionalLayer(false, 0); // more digits than any model has layers
        }
    }
}
