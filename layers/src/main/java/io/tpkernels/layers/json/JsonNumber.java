package io.tpkernels.layers.json;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * A JSON number, kept as the text it was written as, so that nothing is rounded before a reader decides what the
 * number must be: {@code 128}, {@code 4.5}, {@code 1e-05}, {@code 18446744073709551617} all stay exact. A number
 * written without fraction or exponent is {@link #integral()}, as in Python, whose {@code json} writes every float
 * with one ({@code 8.0}). Besides JSON's numbers the text may be {@code NaN}, {@code Infinity} or {@code -Infinity},
 * which Python's {@code json} writes for those floats.
 *
 * @param text the number as written
 */
public record JsonNumber(String text) implements JsonValue {
    private static final Pattern JSON_NUMBER = Pattern.compile("-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?");

    public JsonNumber {
        if (!JSON_NUMBER.matcher(text).matches() && !isNonFinite(text)) {
            throw new IllegalArgumentException("not a JSON number: " + text);
        }
    }

    public static JsonNumber of(long value) {
        return new JsonNumber(Long.toString(value));
    }

    /** {@code value} as Java prints it ({@code 1.0E-5}); NaN and the infinities as Python's {@code json} does. */
    public static JsonNumber of(double value) {
        if (Double.isNaN(value)) {
            return new JsonNumber("NaN");
        }
        if (Double.isInfinite(value)) {
            return new JsonNumber(value > 0 ? "Infinity" : "-Infinity");
        }
        return new JsonNumber(Double.toString(value));
    }

    public static JsonNumber of(BigDecimal value) {
        return new JsonNumber(value.toString());
    }

    private static boolean isNonFinite(String text) {
        return text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity");
    }

    /** Whether it was written without fraction or exponent ({@code 8}, not {@code 8.0} or {@code 8e0}). */
    public boolean integral() {
        return !isNonFinite(text) && text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
    }

    /** Whether it is a number rather than {@code NaN} or an infinity. */
    public boolean finite() {
        return !isNonFinite(text);
    }

    /** The nearest {@code double} (an infinity for a finite number beyond its range). */
    public double doubleValue() {
        return Double.parseDouble(text);
    }

    /** Whether it is {@link #integral()} and within {@code long}'s range. */
    public boolean fitsLong() {
        if (!integral()) {
            return false;
        }
        try {
            Long.parseLong(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Whether it is {@link #integral()} and within {@code int}'s range. */
    public boolean fitsInt() {
        return fitsLong() && longValue() == (int) longValue();
    }

    /**
     * The number as a {@code long}.
     *
     * @throws ArithmeticException unless it {@link #fitsLong()}: never rounded, never wrapped
     */
    public long longValue() {
        if (!fitsLong()) {
            throw new ArithmeticException(text + " is not an integer of at most 64 bits");
        }
        return Long.parseLong(text);
    }

    /**
     * The number exactly.
     *
     * @throws ArithmeticException for {@code NaN} and the infinities, which have no decimal value
     */
    public BigDecimal decimal() {
        if (!finite()) {
            throw new ArithmeticException(text + " has no decimal value");
        }
        return new BigDecimal(text);
    }

    @Override
    public String kind() {
        return "a number";
    }

    @Override
    public String toString() {
        return text;
    }
}
