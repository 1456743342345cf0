package io.tpkernels.layers.json;

import java.util.Objects;

/** A JSON string: {@link #value()} unescaped, {@link #toString()} quoted and escaped as JSON. */
public record JsonString(String value) implements JsonValue {
    public JsonString {
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String kind() {
        return "a string";
    }

    @Override
    public String toString() {
        return JsonWriter.compact(this);
    }
}
