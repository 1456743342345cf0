package io.tpkernels.layers.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** JSON syntax errors say where, what was expected and what was found, in the project's words. */
class JsonErrorsTest {

    /** The parser's own duplicate detection, whose message is translated too. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Words of the parser that must not reach a user. */
    private static final Pattern PARSER_WORDS = Pattern.compile("code \\d|0x|Source|REDACTED|StreamReadFeature|was "
            + "expecting|Jackson|JsonToken|marker|Feature|enable|StreamReadConstraints|Non-standard|numeric value");

    private static String describe(String json) {
        JsonProcessingException e = assertThrows(JsonProcessingException.class, () -> {
            try (JsonParser p = JSON.createParser(json)) {
                while (p.nextToken() != null) {
                    // every token read, as a reader of the whole text reads them
                }
            }
        }, json);
        return JsonErrors.describe(e);
    }

    @Test
    void aMissingCommaNamesWhatCouldComeThere() {
        assertEquals("line 1, column 9: expected ',' or '}', found '\"'", describe("{\"a\": 1 \"b\": 2}"));
    }

    @Test
    void aTruncatedFileSaysWhatIsMissing() {
        assertEquals("line 1, column 9: expected the rest of an object and its '}', found the end of the text",
                describe("{\"a\": 1,"));
    }

    @Test
    void aMisspelledLiteralIsQuoted() {
        assertEquals("line 1, column 7: expected a value (a string, number, array, object, true, false or null),"
                + " found 'tru'", describe("{\"a\": tru}"));
    }

    @Test
    void aMismatchedCloseSaysWhichWasOpen() {
        assertEquals("line 1, column 3: expected ']', found '}'", describe("[1}"));
    }

    @Test
    void aDuplicateFieldIsNamed() {
        assertEquals("line 1, column 13: the field \"a\" appears twice", describe("{\"a\": 1, \"a\": 2}"));
    }

    @Test
    void aCharacterBeyondAsciiIsQuotedWithoutItsCode() {
        assertEquals("line 1, column 7: expected a value (a string, number, array, object, true, false or null), found"
                + " '\u00e9'", describe("{\"a\": \u00e9}"));
        assertEquals("line 1, column 1: expected a value (a string, number, array, object, true, false or null), found"
                + " a byte order mark (U+FEFF)", describe("\ufeff{}"));
    }

    @Test
    void nanInStrictJsonIsNamedAsNotJson() {
        assertEquals("line 1, column 10: found 'NaN', which is not JSON (it has no NaN or infinities)",
                describe("{\"a\": NaN}"));
    }

    @Test
    void aBrokenNumberSaysWhatIsWrongWithIt() {
        assertEquals("line 1, column 8: found '}' in a number: decimal point not followed by a digit",
                describe("{\"a\": 1.}"));
        assertEquals("line 1, column 8: found '+' in a number: JSON spec does not allow numbers to have plus signs",
                describe("{\"a\": +1}"));
    }

    @Test
    void aCommentIsNamedAsOne() {
        assertEquals("line 1, column 1: found '/': JSON has no comments", describe("// note\n{}"));
    }

    @Test
    void theParsersLimitsAreNamedWithTheirValues() {
        assertEquals("document nesting depth 1001 is over the limit of 1000", describe("[".repeat(1001)));
        assertEquals("number value length 1001 is over the limit of 1000", describe("[" + "9".repeat(1001) + "]"));
    }

    @Test
    void noMessageSpeaksTheParsersLanguage() {
        for (String json : List.of("{\"a\": 1 \"b\": 2}", "{\"a\": 1,", "{\"a\": tru}", "{a: 1}", "{\"a\" 1}",
                "[1 2]", "[1,", "{\"a\": \"x", "{\"a\u0001\": 1}", "{\"a\": 01}", "}", "[1}", "{\"a\": NaN}",
                "{\"a\": -Infinity}", "\ufeff{}", "{\"a\": +1}", "{\"a\": 1e}", "{\"a\": -}", "// c\n{}", "/* c */ {}",
                "{'a': 1}", "{\"a\": \"\\x\"}", "[".repeat(1001), "[" + "9".repeat(1001) + "]")) {
            String said = describe(json);
            assertFalse(PARSER_WORDS.matcher(said).find(), json + " -> " + said);
        }
    }
}
