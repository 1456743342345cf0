package io.tpkernels.layers.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The members of a top-level JSON object, read one at a time ({@link JsonReader#members}): for a reader that checks
 * each member before the next is parsed, words a repeated top-level key its own way, or names the member a syntax
 * error is in. A key repeated inside a member's value is refused as {@link JsonReader#read} refuses it.
 *
 * <pre>
 *   if (!members.startObject()) ...not an object...
 *   for (String key; (key = members.nextKey()) != null; ) { JsonValue value = members.value(); ... }
 *   if (!members.atEnd()) ...more after the object...
 * </pre>
 *
 * Every method throws a {@link JsonSyntaxException} where the text is not JSON.
 */
public final class JsonMemberReader implements AutoCloseable {
    private final JsonParser p;
    private String key;

    JsonMemberReader(JsonParser p) {
        this.p = p;
    }

    /** Whether the text begins with an object; false when it is empty or begins with another value. */
    public boolean startObject() {
        return next() == JsonToken.START_OBJECT;
    }

    /** The next member's key, or {@code null} after the last member. */
    public String nextKey() {
        key = next() == JsonToken.FIELD_NAME ? currentName() : null;
        return key;
    }

    /** The value of the member whose key {@link #nextKey()} gave. */
    public JsonValue value() {
        next();
        try {
            return JsonReader.readValue(p, key);
        } catch (JsonProcessingException e) {
            throw new JsonSyntaxException(JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e); // a string cannot fail to read
        }
    }

    /** Whether nothing but white space follows the object. */
    public boolean atEnd() {
        return next() == null;
    }

    private JsonToken next() {
        try {
            return p.nextToken();
        } catch (JsonProcessingException e) {
            throw new JsonSyntaxException(JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e);
        }
    }

    private String currentName() {
        try {
            return p.currentName();
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e);
        }
    }

    @Override
    public void close() {
        try {
            p.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing a parser of text in memory", e); // nothing to fail
        }
    }
}
