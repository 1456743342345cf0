package io.tpkernels.layers.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** JSON syntax errors say where, what was expected and what was found, in the project's words. */
class JsonErrorsTest {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Words of the parser that must not reach a user. */
    private static final Pattern PARSER_WORDS =
            Pattern.compile("code \\d|Source|REDACTED|StreamReadFeature|was expecting|Jackson|JsonToken|marker");

    private static String describe(String json) {
        JsonProcessingException e = assertThrows(JsonProcessingException.class, () -> JSON.readTree(json), json);
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
    void noMessageSpeaksTheParsersLanguage() {
        for (String json : List.of("{\"a\": 1 \"b\": 2}", "{\"a\": 1,", "{\"a\": tru}", "{a: 1}", "{\"a\" 1}",
                "[1 2]", "[1,", "{\"a\": \"x", "{\"a\u0001\": 1}", "{\"a\": 01}", "}", "[1}")) {
            String said = describe(json);
            assertFalse(PARSER_WORDS.matcher(said).find(), json + " -> " + said);
        }
    }
}
