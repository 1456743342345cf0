package io.tpkernels.layers.json;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A JSON object: its members in the order written (no key twice: {@link JsonReader} refuses a repeated key). The
 * {@code get...} methods read one member as one type; a member missing or of another type is a
 * {@link JsonTypeException} naming its path from the root ({@code quantization_config.weight_block_size}).
 * Equality is the members', wherever the objects were read.
 */
public final class JsonObject implements JsonValue {
    private final Map<String, JsonValue> members;
    private final String path;

    JsonObject(Map<String, ? extends JsonValue> members, String path) {
        Map<String, JsonValue> copy = new LinkedHashMap<>();
        members.forEach((key, value) -> copy.put(Objects.requireNonNull(key, "key"),
                Objects.requireNonNull(value, () -> key + ": a value, JsonNull.NULL for null")));
        this.members = Collections.unmodifiableMap(copy);
        this.path = path;
    }

    /** An object of {@code members}, in the map's order. */
    public static JsonObject of(Map<String, ? extends JsonValue> members) {
        return new JsonObject(members, "");
    }

    /** The members, in the order written. */
    public Map<String, JsonValue> members() {
        return members;
    }

    public Set<String> keys() {
        return members.keySet();
    }

    public int size() {
        return members.size();
    }

    public boolean isEmpty() {
        return members.isEmpty();
    }

    /** Where this object was read, {@code ""} for the root (or an object not read but built). */
    public String path() {
        return path;
    }

    /** The path of member {@code key}, as messages name it. */
    public String pathOf(String key) {
        return JsonPaths.member(path, key);
    }

    /** Whether {@code key} is present, {@code null} or not. */
    public boolean has(String key) {
        return members.containsKey(key);
    }

    /** The value of {@code key}, {@code null} when absent (and {@link JsonNull#NULL} when written as null). */
    public JsonValue get(String key) {
        return members.get(key);
    }

    /** The value of {@code key}, which must be present. */
    public JsonValue require(String key) {
        JsonValue v = members.get(key);
        if (v == null) {
            throw JsonTypeException.missing(pathOf(key));
        }
        return v;
    }

    public JsonObject getObject(String key) {
        return require(key).asObject(pathOf(key));
    }

    public JsonArray getArray(String key) {
        return require(key).asArray(pathOf(key));
    }

    public String getString(String key) {
        return require(key).asString(pathOf(key));
    }

    public boolean getBoolean(String key) {
        return require(key).asBoolean(pathOf(key));
    }

    public double getDouble(String key) {
        return require(key).asDouble(pathOf(key));
    }

    public long getLong(String key) {
        return require(key).asLong(pathOf(key));
    }

    public int getInt(String key) {
        return require(key).asInt(pathOf(key));
    }

    @Override
    public String kind() {
        return "an object";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonObject other && members.equals(other.members);
    }

    @Override
    public int hashCode() {
        return members.hashCode();
    }

    /** Compact JSON text. */
    @Override
    public String toString() {
        return JsonWriter.compact(this);
    }
}
