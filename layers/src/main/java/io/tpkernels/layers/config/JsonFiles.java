package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.json.JsonSyntaxException;
import io.tpkernels.layers.json.JsonValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading the small JSON files of a model folder: every failure one sentence naming the file. */
final class JsonFiles {
    private JsonFiles() {
    }

    /** The largest JSON file read: a config or adapter config is a few kilobytes; anything huge is not one. */
    static final long MAX_BYTES = 16L << 20;

    /** The text of {@code file}. */
    static String read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new IllegalArgumentException(file + " is " + size + " bytes; a JSON config is at most " + MAX_BYTES);
            }
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage());
        }
    }

    /**
     * {@code json} as a JSON object; {@code source} names it in errors. Read as Python's {@code json} writes
     * ({@code NaN} and the infinities included: {@link JsonReader#PYTHON}), with a key written twice refused.
     */
    static JsonObject object(String json, String source) {
        JsonValue root;
        try {
            root = JsonReader.PYTHON.read(json);
        } catch (JsonSyntaxException e) {
            throw new IllegalArgumentException(source + " is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof JsonObject object)) {
            throw new IllegalArgumentException(source + " is not a JSON object");
        }
        return object;
    }
}
