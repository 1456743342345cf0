package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of a {@code config.json}'s keys; every failure is one sentence naming the file, the key and the
 * value. A key set to {@code null} reads as absent, as Hugging Face's config classes read it.
 */
final class ConfigKeys {
    private final JsonObject root;
    private final String source;
    private final String prefix;

    ConfigKeys(JsonObject root, String source) {
        this(root, source, "");
    }

    private ConfigKeys(JsonObject root, String source, String prefix) {
        this.root = root;
        this.source = source;
        this.prefix = prefix;
    }

    String source() {
        return source;
    }

    /** {@code key} as errors name it: {@code quantization_config.quant_method} for a nested key. */
    String name(String key) {
        return prefix + key;
    }

    /** One sentence naming the file and the key: {@code "config.json: key problem"}. */
    IllegalArgumentException error(String key, String problem) {
        return new IllegalArgumentException(source + ": " + name(key) + " " + problem);
    }

    /** Whether {@code key} is present and not {@code null}. */
    boolean has(String key) {
        JsonValue v = root.get(key);
        return v != null && !v.isNull();
    }

    /** Whether {@code key} is present, {@code null} or not. */
    boolean present(String key) {
        return root.has(key);
    }

    JsonValue get(String key) {
        return root.get(key);
    }

    /** {@code key} as an integer {@code >= min}; a missing key is an error naming why it is needed. */
    long required(String key, long min, String why) {
        if (!has(key)) {
            throw error(key, "is missing (" + why + ")");
        }
        return integer(key, min);
    }

    /** {@code key} as an integer {@code >= min}, or {@code fallback} when absent or {@code null}. */
    long optional(String key, long min, long fallback) {
        return has(key) ? integer(key, min) : fallback;
    }

    /** {@code key} as an integer {@code >= min}, or {@code null} when absent or {@code null}. */
    Long nullable(String key, long min) {
        return has(key) ? integer(key, min) : null;
    }

    private long integer(String key, long min) {
        JsonValue v = root.get(key);
        if (v instanceof JsonNumber n && n.fitsLong() && n.longValue() > Integer.MAX_VALUE) {
            throw error(key, "must be at most " + Integer.MAX_VALUE + ", got " + v);
        }
        if (!(v instanceof JsonNumber n && n.fitsLong() && n.longValue() >= min)) {
            throw error(key, "must be " + (min == 0 ? "a non-negative" : min == 1 ? "a positive" : "an") + " integer"
                    + (min > 1 ? " >= " + min : "") + ", got " + v);
        }
        return n.longValue();
    }

    /** {@code key} as a boolean, or {@code fallback} when absent or {@code null}. */
    boolean flag(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonValue v = root.get(key);
        if (!(v instanceof JsonBoolean b)) {
            throw error(key, "must be true or false, got " + v);
        }
        return b.value();
    }

    /** {@code key} as a string, or {@code null} when absent or {@code null}. */
    String text(String key) {
        if (!has(key)) {
            return null;
        }
        JsonValue v = root.get(key);
        if (!(v instanceof JsonString s)) {
            throw error(key, "must be a string, got " + v);
        }
        return s.value();
    }

    /** {@code key} as a list of strings, empty when absent or {@code null}. */
    List<String> texts(String key) {
        List<String> out = new ArrayList<>();
        if (has(key)) {
            JsonValue v = root.get(key);
            if (!(v instanceof JsonArray a)) {
                throw error(key, "must be a list of strings, got " + v);
            }
            for (JsonValue e : a) {
                if (!(e instanceof JsonString s)) {
                    throw error(key, "must be a list of strings, got " + v);
                }
                out.add(s.value());
            }
        }
        return out;
    }

    /** {@code key} as a list of non-negative integers, empty when absent or {@code null}. */
    List<Integer> indices(String key) {
        List<Integer> out = new ArrayList<>();
        if (has(key)) {
            JsonValue v = root.get(key);
            if (!(v instanceof JsonArray a)) {
                throw error(key, "must be a list of layer indices, got " + v);
            }
            for (JsonValue e : a) {
                if (!(e instanceof JsonNumber n && n.fitsInt() && n.longValue() >= 0)) {
                    throw error(key, "must be a list of layer indices, got " + v);
                }
                out.add((int) n.longValue());
            }
        }
        return out;
    }

    /** The object under {@code key}, whose keys errors name {@code key.inner}; {@code null} when absent. */
    ConfigKeys object(String key) {
        if (!has(key)) {
            return null;
        }
        JsonValue v = root.get(key);
        if (!(v instanceof JsonObject o)) {
            throw error(key, "must be an object, got " + v);
        }
        return new ConfigKeys(o, source, name(key) + ".");
    }
}
