package io.tpkernels.layers.json;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON syntax error in the project's words: where (line and column), what was expected and what was found, never
 * the parser's own vocabulary (its class names, "code 34", "[Source: REDACTED ...]", feature flags). A message this
 * does not recognise keeps the parser's sentence with those parts cut out, so nothing is lost.
 */
final class JsonErrors {
    private JsonErrors() {
    }

    /** "Unexpected character ('x' (code 120)): reason", the code also in hex for a character outside ASCII. */
    private static final Pattern UNEXPECTED_CHAR = Pattern.compile("Unexpected character \\((?:'(.*?)' )?\\(?"
            + "(?:CTRL-CHAR, )?code (\\d+)(?: / 0x\\p{XDigit}+)?\\)\\)( in numeric value)?(?:: (.*))?", Pattern.DOTALL);
    private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '(.*?)'(?:: (.*))?", Pattern.DOTALL);
    private static final Pattern UNESCAPED =
            Pattern.compile("Illegal unquoted character \\(\\((?:CTRL-CHAR, )?code (\\d+)\\)\\)");
    private static final Pattern CONTROL = Pattern.compile("\\(\\((?:CTRL-CHAR, )?code (\\d+)\\)\\)");
    private static final Pattern CLOSE = Pattern.compile("Unexpected close marker '(.)': (?:expected '(.)')?");
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'$", Pattern.DOTALL);
    private static final Pattern NON_STANDARD = Pattern.compile("Non-standard token '(.*?)'");
    /** The parser's list of what may start a value, with "(or 'NaN'/'+INF'/'-INF')" when it accepts those. */
    private static final Pattern ANY_VALUE = Pattern.compile("JSON String, Number.*, Array, Object");
    private static final Pattern INVALID_NUMBER = Pattern.compile("Invalid numeric value: (.*)", Pattern.DOTALL);
    private static final Pattern ENABLE_FEATURE = Pattern.compile(":? ?(?:enable|Feature) `?[\\w.]+`? to allow");
    private static final Pattern LIMIT =
            Pattern.compile("(\\w+(?: \\w+)*) \\((\\d+)\\) exceeds the maximum allowed \\((\\d+)\\b.*", Pattern.DOTALL);

    /** "line 1, column 9: expected ',' or '}', found '\"'": where the text goes wrong and how. */
    static String describe(JsonProcessingException e) {
        return at(e.getLocation()) + what(e);
    }

    /** "line 1, column 9: ", or nothing when {@code location} is unknown. */
    static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 0 ? ""
                : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
    }

    private static String what(JsonProcessingException e) {
        if (e instanceof RefusedJsonException r) {
            return r.reason();
        }
        String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (e instanceof JsonEOFException || message.startsWith("Unexpected end-of-input")) {
            return "expected " + expectedAtEnd(message) + ", found the end of the text";
        }
        Matcher m = UNEXPECTED_CHAR.matcher(message);
        if (m.lookingAt()) {
            int code = Integer.parseInt(m.group(2));
            String found = code < 0x20 || code == 0x7f ? "the control character " + codePoint(m.group(2))
                    : code == 0xfeff ? "a byte order mark (U+FEFF)"
                    : m.group(1) == null || m.group(1).isEmpty() ? codePoint(m.group(2)) : "'" + m.group(1) + "'";
            String reason = m.group(4);
            if (m.group(3) != null) {
                return "found " + found + " in a number" + (reason == null ? "" : ": " + sentence(reason));
            }
            if (reason != null && reason.contains("comment")) {
                return "found " + found + ": JSON has no comments";
            }
            return reason == null ? "unexpected " + found : "expected " + expected(reason) + ", found " + found;
        }
        m = NON_STANDARD.matcher(message);
        if (m.lookingAt()) {
            return "found '" + m.group(1) + "', which is not JSON (it has no NaN or infinities)";
        }
        m = INVALID_NUMBER.matcher(message);
        if (m.lookingAt()) {
            return "invalid number: " + sentence(m.group(1));
        }
        m = UNRECOGNIZED.matcher(message);
        if (m.lookingAt()) {
            return "expected " + (m.group(2) == null ? "a value" : expected(m.group(2))) + ", found '" + m.group(1)
                    + "'";
        }
        m = UNESCAPED.matcher(message);
        if (m.lookingAt()) {
            return "the control character " + codePoint(m.group(1)) + " must be escaped (\\u"
                    + codePoint(m.group(1)).substring(2) + ")";
        }
        m = CLOSE.matcher(message);
        if (m.lookingAt()) {
            return m.group(2) != null ? "expected '" + m.group(2) + "', found '" + m.group(1) + "'"
                    : "found '" + m.group(1) + "' with nothing open to close";
        }
        m = DUPLICATE.matcher(message);
        if (m.lookingAt()) {
            return appearsTwice(m.group(1));
        }
        m = LIMIT.matcher(message);
        if (m.lookingAt()) {
            return m.group(1).toLowerCase(Locale.ROOT) + " " + m.group(2) + " is over the limit of " + m.group(3);
        }
        return stripped(message);
    }

    /** The key quoted as JSON quotes it, so that a key holding a line break keeps the message on one line. */
    static String appearsTwice(String key) {
        return "the field " + new JsonString(key) + " appears twice";
    }

    /** What the text needed where it ended, from the parser's "within/between Object entries" and the like. */
    private static String expectedAtEnd(String message) {
        if (message.contains("Object")) {
            return "the rest of an object and its '}'";
        }
        if (message.contains("Array")) {
            return "the rest of an array and its ']'";
        }
        if (message.toLowerCase(Locale.ROOT).contains("string")) {
            return "the closing quote of a string";
        }
        return "a value";
    }

    /** The parser's "was expecting ..." in ours. */
    private static String expected(String jackson) {
        String s = jackson.replaceFirst("^(?:was )?expecting ", "");
        if (s.contains("double-quote to start field name")) {
            return "a field name in double quotes";
        }
        if (s.contains("comma to separate Object entries")) {
            return "',' or '}'";
        }
        if (s.contains("comma to separate Array entries")) {
            return "',' or ']'";
        }
        if (s.contains("colon to separate field name and value")) {
            return "':' after the field name";
        }
        if (ANY_VALUE.matcher(s).find()) {
            return "a value (a string, number, array, object, true, false or null)";
        }
        return stripped(s);
    }

    /** "U+0001" for the parser's decimal "code 1". */
    private static String codePoint(String decimal) {
        return String.format(Locale.ROOT, "U+%04X", Integer.parseInt(decimal));
    }

    /** A reason the parser gives, as the rest of a sentence: "decimal point not followed by a digit". */
    private static String sentence(String reason) {
        String s = stripped(reason);
        return s.isEmpty() || s.startsWith("JSON") ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    /** The parser's sentence without its source dump, character codes, feature names and line breaks. */
    private static String stripped(String message) {
        String s = message;
        for (String cut : new String[] {"\n", " at [Source", " (start marker at", " [Source"}) {
            int at = s.indexOf(cut);
            if (at >= 0) {
                s = s.substring(0, at);
            }
        }
        s = CONTROL.matcher(s).replaceAll(r -> codePoint(r.group(1)));
        s = ENABLE_FEATURE.matcher(s).replaceAll("");
        return s.replaceAll(" \\(code \\d+\\)", "").replace(", for valid numeric value", "")
                .replace("was expecting", "expected").strip();
    }
}
