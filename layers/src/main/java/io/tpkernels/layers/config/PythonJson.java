package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * JSON text as Python's {@code json.dumps(value, indent=2, sort_keys=True)} writes it, the form of PEFT's
 * {@code adapter_config.json}: keys sorted, two spaces per level, {@code ": "} between key and value, {@code {}} and
 * {@code []} when empty, floats as Python's {@code repr} ({@code 8.0}, {@code 1e-05}), characters outside
 * printable ASCII as six-character escapes (backslash, u, four hex digits).
 * So that a file this library writes reads, and diffs, like one PEFT wrote.
 */
final class PythonJson {
    private PythonJson() {
    }

    /** {@code node} as text, without a final newline (PEFT writes none). */
    static String dumps(JsonValue node) {
        StringBuilder out = new StringBuilder();
        write(node, 0, out);
        return out.toString();
    }

    private static void write(JsonValue node, int depth, StringBuilder out) {
        switch (node) {
            case JsonObject o -> {
                List<String> keys = new ArrayList<>(o.keys());
                keys.sort(null); // Python sorts str by code point; for the BMP, as String.compareTo does
                container(keys.size(), depth, '{', '}', out, (i, d) -> {
                    string(keys.get(i), out);
                    out.append(": ");
                    write(o.get(keys.get(i)), d, out);
                });
            }
            case JsonArray a -> container(a.size(), depth, '[', ']', out, (i, d) -> write(a.get(i), d, out));
            case JsonString s -> string(s.value(), out);
            // An int as Python's int prints it (-0 is 0); a float, however written, as its repr.
            case JsonNumber n -> out.append(n.integral() ? new BigInteger(n.text()).toString()
                    : floatRepr(n.doubleValue()));
            default -> out.append(node); // null, true and false read the same in both languages
        }
    }

    /** One element of a container, written at nesting depth {@code depth}. */
    private interface Element {
        void write(int index, int depth);
    }

    private static void container(int size, int depth, char open, char close, StringBuilder out, Element element) {
        out.append(open);
        if (size == 0) {
            out.append(close);
            return;
        }
        for (int i = 0; i < size; i++) {
            out.append(i == 0 ? "\n" : ",\n").append("  ".repeat(depth + 1));
            element.write(i, depth + 1);
        }
        out.append('\n').append("  ".repeat(depth)).append(close);
    }

    /** A string as {@code json.dumps} escapes it ({@code ensure_ascii}: only printable ASCII stays as is). */
    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that read back as {@code v} (Java's {@link Double#toString}
     * gives the same digits), plain for a decimal exponent in {@code [-4, 16)}, else {@code d.ddde±XX}.
     */
    static String floatRepr(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    }
}
