package io.tpkernels.layers.json;

import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A JSON array. The {@code get...} methods read one element as one type; an index out of range or an element of
 * another type is a {@link JsonTypeException} naming its path ({@code stages[4]}). Equality is the elements',
 * wherever the arrays were read.
 */
public final class JsonArray implements JsonValue, Iterable<JsonValue> {
    private final List<JsonValue> elements;
    private final String path;

    JsonArray(List<? extends JsonValue> elements, String path) {
        elements.forEach(e -> Objects.requireNonNull(e, "an element, JsonNull.NULL for null"));
        this.elements = List.copyOf(elements);
        this.path = path;
    }

    public static JsonArray of(List<? extends JsonValue> elements) {
        return new JsonArray(elements, "");
    }

    public List<JsonValue> elements() {
        return elements;
    }

    public int size() {
        return elements.size();
    }

    public boolean isEmpty() {
        return elements.isEmpty();
    }

    @Override
    public Iterator<JsonValue> iterator() {
        return elements.iterator();
    }

    /** Where this array was read, {@code ""} for the root (or an array not read but built). */
    public String path() {
        return path;
    }

    /** The path of element {@code index}, as messages name it. */
    public String pathOf(int index) {
        return JsonPaths.element(path, index);
    }

    /** Element {@code index}, which must exist. */
    public JsonValue get(int index) {
        if (index < 0 || index >= elements.size()) {
            throw JsonTypeException.outOfRange(pathOf(index), elements.size());
        }
        return elements.get(index);
    }

    public JsonObject getObject(int index) {
        return get(index).asObject(pathOf(index));
    }

    public JsonArray getArray(int index) {
        return get(index).asArray(pathOf(index));
    }

    public String getString(int index) {
        return get(index).asString(pathOf(index));
    }

    public boolean getBoolean(int index) {
        return get(index).asBoolean(pathOf(index));
    }

    public double getDouble(int index) {
        return get(index).asDouble(pathOf(index));
    }

    public long getLong(int index) {
        return get(index).asLong(pathOf(index));
    }

    public int getInt(int index) {
        return get(index).asInt(pathOf(index));
    }

    /** Every element as an object, in order. */
    public List<JsonObject> objects() {
        return IntStream.range(0, elements.size()).mapToObj(this::getObject).toList();
    }

    @Override
    public String kind() {
        return "an array";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonArray other && elements.equals(other.elements);
    }

    @Override
    public int hashCode() {
        return elements.hashCode();
    }

    /** Compact JSON text. */
    @Override
    public String toString() {
        return JsonWriter.compact(this);
    }
}
