package io.tpkernels.layers.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads JSON text into a {@link JsonValue} with jackson-core's streaming parser. A key repeated inside one object is
 * refused, naming the key and where it is repeated: a file that says two things about one setting is ambiguous,
 * and silently keeping one would drop the other. Numbers keep their text ({@link JsonNumber}). The parser's
 * limits apply (nesting 1000 deep, numbers of 1000 digits, strings of 20 million characters), so no text can
 * exhaust the stack or the heap.
 */
public final class JsonReader {
    /** JSON as RFC 8259 defines it: safetensors headers and indexes. */
    public static final JsonReader STRICT = new JsonReader(JsonFactory.builder().build());

    /**
     * JSON as Python's {@code json} module writes it: also {@code NaN}, {@code Infinity} and {@code -Infinity},
     * which it writes for those floats by default. Hugging Face and PEFT write their configs with it, so a config
     * with such a value in a key this library ignores still reads; where a key needs a finite number, its reader
     * says so.
     */
    public static final JsonReader PYTHON = new JsonReader(JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build());

    private static final Set<String> PYTHON_NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

    private final JsonFactory factory;

    private JsonReader(JsonFactory factory) {
        this.factory = factory;
    }

    /**
     * The one JSON value {@code text} holds.
     *
     * @throws JsonSyntaxException when the text is not JSON, repeats a key, is empty or holds more after its value
     */
    public JsonValue read(String text) {
        try (JsonParser p = parser(text)) {
            if (p.nextToken() == null) {
                throw new JsonEOFException(p, null, "Unexpected end-of-input: expected a value");
            }
            JsonValue root = readValue(p, "");
            if (p.nextToken() != null) {
                throw new RefusedJsonException(p, "expected the end of the text after the value, found more JSON");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new JsonSyntaxException(JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e); // a string cannot fail to read
        }
    }

    /** The members of the object {@code text} holds, one at a time, for a reader that walks the top level itself. */
    public JsonMemberReader members(String text) {
        return new JsonMemberReader(parser(text));
    }

    private JsonParser parser(String text) {
        try {
            return factory.createParser(text);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e); // a string cannot fail to read
        }
    }

    /**
     * The value whose first token {@code p} is on, read to its last token, where {@code p} is left.
     *
     * @param path where the value is, for the {@link JsonObject#path()} of the objects and arrays in it
     * @throws JsonProcessingException when the text is not JSON or repeats a key ({@link JsonErrors#describe})
     */
    static JsonValue readValue(JsonParser p, String path) throws IOException {
        JsonToken token = p.currentToken();
        if (token == null) {
            throw new JsonEOFException(p, null, "Unexpected end-of-input: expected a value");
        }
        return switch (token) {
            case START_OBJECT -> object(p, path);
            case START_ARRAY -> array(p, path);
            case VALUE_STRING -> new JsonString(p.getText());
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(p);
            case VALUE_TRUE -> JsonBoolean.TRUE;
            case VALUE_FALSE -> JsonBoolean.FALSE;
            case VALUE_NULL -> JsonNull.NULL;
            // The parser never starts a value with these when reading text.
            default -> throw new RefusedJsonException(p, "expected a value");
        };
    }

    private static JsonObject object(JsonParser p, String path) throws IOException {
        Map<String, JsonValue> members = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (members.containsKey(key)) {
                throw new RefusedJsonException(p, JsonErrors.appearsTwice(key));
            }
            p.nextToken();
            members.put(key, readValue(p, JsonPaths.member(path, key)));
        }
        return new JsonObject(members, path);
    }

    private static JsonArray array(JsonParser p, String path) throws IOException {
        List<JsonValue> elements = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            elements.add(readValue(p, JsonPaths.element(path, elements.size())));
        }
        return new JsonArray(elements, path);
    }

    /**
     * Its text as written. Of the parser's spellings of NaN and the infinities, only Python's are taken
     * ({@code +Infinity} or {@code -INF} come from no writer this library reads).
     */
    private static JsonNumber number(JsonParser p) throws IOException {
        String text = p.getText();
        if (p.isNaN() && !PYTHON_NON_FINITE.contains(text)) {
            throw new RefusedJsonException(p, "found '" + text + "', which is not JSON (Python's json writes NaN, "
                    + "Infinity and -Infinity only)");
        }
        return new JsonNumber(text);
    }
}
