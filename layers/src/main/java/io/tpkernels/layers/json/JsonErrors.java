package io.tpkernels.layers.json;

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
public final class JsonErrors {
    private JsonErrors() {
    }

    private static final Pattern UNEXPECTED_CHAR =
            Pattern.compile("Unexpected character \\((?:'(.*?)' )?\\(?(?:CTRL-CHAR, )?code (\\d+)\\)\\)(?:: (.*))?",
                    Pattern.DOTALL);
    private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '(.*?)'(?:: (.*))?", Pattern.DOTALL);
    private static final Pattern UNESCAPED =
            Pattern.compile("Illegal unquoted character \\(\\((?:CTRL-CHAR, )?code (\\d+)\\)\\)");
    private static final Pattern CONTROL = Pattern.compile("\\(\\((?:CTRL-CHAR, )?code (\\d+)\\)\\)");
    private static final Pattern CLOSE = Pattern.compile("Unexpected close marker '(.)': (?:expected '(.)')?");
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*?)'");

    /** "line 1, column 9: expected ',' or '}', found '\"'": where the text goes wrong and how. */
    public static String describe(JsonProcessingException e) {
        String where = e.getLocation() == null || e.getLocation().getLineNr() < 0 ? ""
                : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ";
        return where + what(e);
    }

    private static String what(JsonProcessingException e) {
        String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (e instanceof JsonEOFException || message.startsWith("Unexpected end-of-input")) {
            return "expected " + expectedAtEnd(message) + ", found the end of the text";
        }
        Matcher m = UNEXPECTED_CHAR.matcher(message);
        if (m.lookingAt()) {
            String found = m.group(1) != null && !m.group(1).isEmpty() && m.group(1).codePointAt(0) >= 0x20
                    ? "'" + m.group(1) + "'" : "the control character " + codePoint(m.group(2));
            return m.group(3) == null ? "unexpected " + found : "expected " + expected(m.group(3)) + ", found " + found;
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
            return "the field \"" + m.group(1) + "\" appears twice";
        }
        return stripped(message);
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
        if (s.contains("JSON String, Number, Array, Object")) {
            return "a value (a string, number, array, object, true, false or null)";
        }
        return stripped(s);
    }

    /** "U+0001" for the parser's decimal "code 1". */
    private static String codePoint(String decimal) {
        return String.format(Locale.ROOT, "U+%04X", Integer.parseInt(decimal));
    }

    /** The parser's sentence without its source dump, character codes and line breaks. */
    private static String stripped(String message) {
        String s = message;
        for (String cut : new String[] {"\n", " at [Source", " (start marker at", " [Source"}) {
            int at = s.indexOf(cut);
            if (at >= 0) {
                s = s.substring(0, at);
            }
        }
        s = CONTROL.matcher(s).replaceAll(r -> codePoint(r.group(1)));
        return s.replaceAll(" \\(code \\d+\\)", "").replace("was expecting", "expected").strip();
    }
}
