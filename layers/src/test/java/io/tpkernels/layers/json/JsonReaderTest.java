package io.tpkernels.layers.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** JSON text to a tree: syntax errors say where, a repeated key is refused, numbers stay as written. */
class JsonReaderTest {

    private static String syntaxError(JsonReader reader, String text) {
        return assertThrows(JsonSyntaxException.class, () -> reader.read(text), text).getMessage();
    }

    @Test
    void aSyntaxErrorNamesItsLineAndColumn() {
        assertEquals("line 3, column 10: expected ',' or '}', found '\"'",
                syntaxError(JsonReader.STRICT, "{\n  \"a\": 1,\n  \"b\": 2 \"c\": 3}"));
    }

    @Test
    void aKeyWrittenTwiceIsRefusedWhereItIsWrittenAgain() {
        assertEquals("line 1, column 10: the field \"a\" appears twice",
                syntaxError(JsonReader.STRICT, "{\"a\": 1, \"a\": 1}"));
        assertEquals("line 2, column 27: the field \"r\" appears twice",
                syntaxError(JsonReader.PYTHON, "{\"x\": [1],\n \"y\": [{\"r\": 1}, {\"r\": 2, \"r\": 3}]}"));
    }

    @Test
    void aRepeatedKeyWithALineBreakStaysOnOneLine() {
        String said = syntaxError(JsonReader.STRICT, "{\"a\\nb\": 1, \"a\\nb\": 2}");
        assertEquals("line 1, column 13: the field \"a\\nb\" appears twice", said);
    }

    @Test
    void theSameKeyInDifferentObjectsIsNoRepetition() {
        JsonObject root = JsonReader.STRICT.read("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}").asObject("");
        assertEquals(2, root.getObject("b").getLong("a"));
    }

    @Test
    void textAfterTheValueIsRefused() {
        assertEquals("line 1, column 4: expected the end of the text after the value, found more JSON",
                syntaxError(JsonReader.STRICT, "{} {}"));
        assertEquals("line 1, column 3: found '}' with nothing open to close", syntaxError(JsonReader.STRICT, "{}}"));
    }

    @Test
    void anEmptyTextIsNoValue() {
        assertEquals("line 1, column 3: expected a value, found the end of the text",
                syntaxError(JsonReader.STRICT, "  "));
    }

    @Test
    void numbersKeepTheTextTheyWereWrittenAs() {
        JsonArray a = JsonReader.STRICT.read("[8, 8.0, 1e-05, 0.1, 18446744073709551617, 9223372036854775807, -0]")
                .asArray("");
        assertEquals(List.of("8", "8.0", "1e-05", "0.1", "18446744073709551617", "9223372036854775807", "-0"),
                a.elements().stream().map(JsonValue::toString).toList());
        JsonNumber eight = (JsonNumber) a.get(0);
        JsonNumber eightFloat = (JsonNumber) a.get(1);
        assertTrue(eight.integral() && eight.fitsInt());
        assertFalse(eightFloat.integral() || eightFloat.fitsLong(), "8.0 is a float, as Python reads it");
        assertEquals(new BigDecimal("0.1"), ((JsonNumber) a.get(3)).decimal(), "exact, not the double nearest 0.1");
        assertEquals(1e-5, a.getDouble(2));
        JsonNumber beyond = (JsonNumber) a.get(4);
        assertTrue(beyond.integral() && !beyond.fitsLong(), "beyond 64 bits: neither rounded nor wrapped");
        assertThrows(ArithmeticException.class, beyond::longValue);
        assertEquals(Long.MAX_VALUE, a.getLong(5));
        assertEquals(0, a.getLong(6));
    }

    @Test
    void pythonsNanAndInfinitiesAreNumbersInPythonsJsonOnly() {
        JsonArray a = JsonReader.PYTHON.read("[NaN, Infinity, -Infinity, 1.5]").asArray("");
        assertEquals("[NaN,Infinity,-Infinity,1.5]", a.toString());
        assertTrue(Double.isNaN(a.getDouble(0)));
        assertEquals(Double.POSITIVE_INFINITY, a.getDouble(1));
        assertEquals(Double.NEGATIVE_INFINITY, a.getDouble(2));
        assertFalse(((JsonNumber) a.get(0)).finite());
        assertThrows(ArithmeticException.class, ((JsonNumber) a.get(1))::decimal);
        assertTrue(((JsonNumber) a.get(3)).finite());
        assertEquals("line 1, column 5: found 'NaN', which is not JSON (it has no NaN or infinities)",
                syntaxError(JsonReader.STRICT, "[NaN]"));
    }

    @Test
    void onlyPythonsSpellingsOfNanAndInfinityAreTaken() {
        assertEquals("line 1, column 2: found '+Infinity', which is not JSON (Python's json writes NaN, Infinity and "
                + "-Infinity only)", syntaxError(JsonReader.PYTHON, "[+Infinity]"));
        assertEquals("line 1, column 2: found '-INF', which is not JSON (Python's json writes NaN, Infinity and "
                + "-Infinity only)", syntaxError(JsonReader.PYTHON, "[-INF]"));
        assertEquals("line 1, column 7: expected a value (a string, number, array, object, true, false or null), "
                + "found 'nan'", syntaxError(JsonReader.PYTHON, "{\"a\": nan}"));
    }

    @Test
    void objectsKeepTheirMembersInTheOrderWritten() {
        JsonObject o = JsonReader.STRICT.read("{\"z\": 1, \"a\": [true, null], \"m\": \"x\\ty\"}").asObject("");
        assertEquals(List.of("z", "a", "m"), List.copyOf(o.keys()));
        assertEquals("{\"z\":1,\"a\":[true,null],\"m\":\"x\\ty\"}", o.toString());
        assertEquals(o, JsonReader.STRICT.read(o.toString()), "its text reads back as the same tree");
    }

    @Test
    void aValueOfTheWrongTypeNamesItsPathWhatWasWantedAndWhatWasFound() {
        JsonObject root = JsonReader.STRICT.read("{\"stages\": [{\"layers\": 4}, {\"layers\": \"4\"}]}").asObject("");
        JsonArray stages = root.getArray("stages");
        assertEquals(4, stages.getObject(0).getInt("layers"));
        JsonTypeException e = assertThrows(JsonTypeException.class, () -> stages.getObject(1).getInt("layers"));
        assertEquals("stages[1].layers must be an integer of at most 32 bits, got a string: \"4\"", e.getMessage());
        e = assertThrows(JsonTypeException.class, () -> stages.getObject(1).getString("name"));
        assertEquals("stages[1].name is missing", e.getMessage());
        e = assertThrows(JsonTypeException.class, () -> stages.get(2));
        assertEquals("stages[2] is missing (the array has 2 elements)", e.getMessage());
        e = assertThrows(JsonTypeException.class, () -> root.getObject("stages"));
        assertEquals("stages must be an object, got an array: [{\"layers\":4},{\"layers\":\"4\"}]", e.getMessage());
    }

    @Test
    void aNumberIsNotRoundedIntoAnInteger() {
        JsonObject o = JsonReader.STRICT.read("{\"a\": 4.0, \"b\": 2147483648, \"c\": null}").asObject("");
        assertEquals("a must be an integer of at most 64 bits, got a number: 4.0",
                assertThrows(JsonTypeException.class, () -> o.getLong("a")).getMessage());
        assertEquals("b must be an integer of at most 32 bits, got a number: 2147483648",
                assertThrows(JsonTypeException.class, () -> o.getInt("b")).getMessage());
        assertEquals("c must be true or false, got null",
                assertThrows(JsonTypeException.class, () -> o.getBoolean("c")).getMessage());
    }

    @Test
    void aPathWithAControlCharacterStaysOnOneLine() {
        JsonObject o = JsonReader.STRICT.read("{\"a\\nb\": {}}").asObject("");
        assertEquals("a\\u000ab.c is missing",
                assertThrows(JsonTypeException.class, () -> o.getObject("a\nb").getLong("c")).getMessage());
    }

    @Test
    void membersAreReadOneAtATimeAndAKeyMayRepeatAtTheTop() {
        try (JsonMemberReader members = JsonReader.STRICT.members("{\"w\": {\"shape\": [1]}, \"b\": 2, \"w\": 3} ")) {
            assertTrue(members.startObject());
            assertEquals("w", members.nextKey());
            assertEquals(1, members.value().asObject("w").getArray("shape").getLong(0));
            assertEquals("b", members.nextKey());
            assertEquals(2, members.value().asLong("b"));
            assertEquals("w", members.nextKey(), "the caller words a repeated top-level key its own way");
            assertEquals(3, members.value().asLong("w"));
            assertEquals(null, members.nextKey());
            assertTrue(members.atEnd());
        }
        try (JsonMemberReader members = JsonReader.STRICT.members("{\"w\": {\"a\": 1, \"a\": 2}}")) {
            assertTrue(members.startObject());
            members.nextKey();
            assertEquals("line 1, column 16: the field \"a\" appears twice",
                    assertThrows(JsonSyntaxException.class, members::value).getMessage());
        }
        try (JsonMemberReader members = JsonReader.STRICT.members("[]")) {
            assertFalse(members.startObject());
        }
    }
}
