package io.tpkernels.layers.json;

import java.util.Locale;

/**
 * A JSON value that is missing or not of the type a reader needs, in one line: where it is, what was wanted and
 * what was found ({@code stages[4].layers must be an integer of at most 64 bits, got a string: "4"}).
 */
public final class JsonTypeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Longest piece of a value quoted: a file may hold megabytes in one value. */
    private static final int QUOTE_LIMIT = 60;

    private JsonTypeException(String message) {
        super(message);
    }

    static JsonTypeException expected(String path, String wanted, JsonValue found) {
        return new JsonTypeException(where(path) + " must be " + wanted + ", got " + found(found));
    }

    static JsonTypeException missing(String path) {
        return new JsonTypeException(where(path) + " is missing");
    }

    static JsonTypeException outOfRange(String path, int size) {
        return new JsonTypeException(where(path) + " is missing (the array has " + size + " elements)");
    }

    private static String found(JsonValue value) {
        return value.isNull() ? "null" : value.kind() + ": " + quote(value);
    }

    /** {@code value} as JSON text, cut short for a message. */
    static String quote(JsonValue value) {
        String text = value.toString();
        return text.length() <= QUOTE_LIMIT ? text : text.substring(0, QUOTE_LIMIT) + "...";
    }

    /** The path with its control characters escaped, so that a key from a hostile file keeps the message one line. */
    private static String where(String path) {
        if (path.isEmpty()) {
            return "the JSON text";
        }
        StringBuilder out = new StringBuilder(path.length());
        path.chars().forEach(c -> out.append(c < 0x20 || c == 0x7f ? String.format(Locale.ROOT, "\\u%04x", c)
                : String.valueOf((char) c)));
        return out.toString();
    }
}
