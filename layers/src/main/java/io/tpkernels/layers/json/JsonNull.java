package io.tpkernels.layers.json;

/** JSON's {@code null}. */
public enum JsonNull implements JsonValue {
    NULL;

    @Override
    public String kind() {
        return "null";
    }

    @Override
    public String toString() {
        return "null";
    }
}
