package io.tpkernels.layers.json;

/**
 * An immutable JSON value, as {@link JsonReader} reads it: an object (members in the order written), an array, a
 * string, a number (its exact text), true or false, or null. Its {@code toString()} is the value as compact JSON text,
 * what messages quote.
 *
 * <p>The {@code as...} methods read this value as one type or throw a {@link JsonTypeException} naming {@code path}
 * (where the value is, {@code stages[4].layers}), the type wanted and the value found.
 */
public sealed interface JsonValue permits JsonObject, JsonArray, JsonString, JsonNumber, JsonBoolean, JsonNull {

    /** "an object", "an array", "a string", "a number", "a boolean" or "null", for messages. */
    String kind();

    /** Whether this is JSON's {@code null}. */
    default boolean isNull() {
        return this == JsonNull.NULL;
    }

    default JsonObject asObject(String path) {
        if (this instanceof JsonObject o) {
            return o;
        }
        throw JsonTypeException.expected(path, "an object", this);
    }

    default JsonArray asArray(String path) {
        if (this instanceof JsonArray a) {
            return a;
        }
        throw JsonTypeException.expected(path, "an array", this);
    }

    default String asString(String path) {
        if (this instanceof JsonString s) {
            return s.value();
        }
        throw JsonTypeException.expected(path, "a string", this);
    }

    default boolean asBoolean(String path) {
        if (this instanceof JsonBoolean b) {
            return b.value();
        }
        throw JsonTypeException.expected(path, "true or false", this);
    }

    /** This number as a {@code double}, rounded as Java's parsing rounds it. */
    default double asDouble(String path) {
        if (this instanceof JsonNumber n) {
            return n.doubleValue();
        }
        throw JsonTypeException.expected(path, "a number", this);
    }

    /** This number, written without fraction or exponent, as a {@code long}: never rounded, never wrapped. */
    default long asLong(String path) {
        if (this instanceof JsonNumber n && n.fitsLong()) {
            return n.longValue();
        }
        throw JsonTypeException.expected(path, "an integer of at most 64 bits", this);
    }

    /** This number, written without fraction or exponent, as an {@code int}: never rounded, never wrapped. */
    default int asInt(String path) {
        if (this instanceof JsonNumber n && n.fitsInt()) {
            return (int) n.longValue();
        }
        throw JsonTypeException.expected(path, "an integer of at most 32 bits", this);
    }
}
