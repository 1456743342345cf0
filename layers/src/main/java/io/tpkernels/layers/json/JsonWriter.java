package io.tpkernels.layers.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * Writes JSON with jackson-core's generator: a {@link JsonValue}, or plain Java values (a {@code Map} as an object
 * in its iteration order, an {@code Iterable} as an array, strings, numbers, booleans, enums by name, null). A
 * {@code double} is written as the generator writes it ({@code 1.0E-5}; NaN and the infinities as the strings
 * {@code "NaN"}, {@code "Infinity"}); a {@link JsonNumber} as its text, exactly.
 */
public final class JsonWriter {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    private JsonWriter() {
    }

    /** {@code value} as JSON on one line, without spaces. */
    public static String compact(Object value) {
        return text(value, false);
    }

    /** {@code value} as JSON in the generator's default layout: two-space indents, {@code "key" : value}. */
    public static String pretty(Object value) {
        return text(value, true);
    }

    /**
     * {@code value} as compact JSON in UTF-8.
     *
     * @throws IllegalArgumentException when a string cannot be encoded (half of a surrogate pair)
     */
    public static byte[] utf8(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            write(g, value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e); // memory cannot fail to write
        }
        return out.toByteArray();
    }

    private static String text(Object value, boolean pretty) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            if (pretty) {
                g.useDefaultPrettyPrinter();
            }
            write(g, value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e);
        }
        return out.toString();
    }

    /**
     * Writes {@code value} with {@code g}.
     *
     * @throws IllegalArgumentException for a value of no JSON type (a record, say: its fields are the caller's choice)
     */
    private static void write(JsonGenerator g, Object value) throws IOException {
        switch (value) {
            case null -> g.writeNull();
            case JsonValue v -> writeTree(g, v);
            case String s -> g.writeString(s);
            case Boolean b -> g.writeBoolean(b);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Short s -> g.writeNumber(s);
            case Byte b -> g.writeNumber(b);
            case Double d -> g.writeNumber(d);
            case Float f -> g.writeNumber(f);
            case BigInteger i -> g.writeNumber(i);
            case BigDecimal d -> g.writeNumber(d);
            case Enum<?> e -> g.writeString(e.name());
            case Map<?, ?> map -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case Iterable<?> items -> {
                g.writeStartArray();
                for (Object item : items) {
                    write(g, item);
                }
                g.writeEndArray();
            }
            default -> throw new IllegalArgumentException("no JSON form for a " + value.getClass().getName());
        }
    }

    private static void writeTree(JsonGenerator g, JsonValue value) throws IOException {
        switch (value) {
            case JsonObject o -> write(g, o.members());
            case JsonArray a -> write(g, a.elements());
            case JsonString s -> g.writeString(s.value());
            case JsonNumber n -> g.writeNumber(n.text());
            case JsonBoolean b -> g.writeBoolean(b.value());
            case JsonNull n -> g.writeNull();
        }
    }
}
