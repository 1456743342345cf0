package io.tpkernels.layers.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Java values and trees to JSON text, as the reports and the safetensors writer print them. */
class JsonWriterTest {

    @Test
    void mapsKeepTheirOrderAndNumbersPrintAsJavaPrintsThem() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("kernel", "cast");
        row.put("shape", Map.of("T", 4L));
        row.put("medianMs", 1e-5);
        row.put("ratio", 2.0);
        row.put("count", 3);
        row.put("none", null);
        row.put("nan", Double.NaN);
        row.put("list", Arrays.asList(1L, null, true));
        assertEquals("{\"kernel\":\"cast\",\"shape\":{\"T\":4},\"medianMs\":1.0E-5,\"ratio\":2.0,\"count\":3,\"none\":null,"
                + "\"nan\":\"NaN\",\"list\":[1,null,true]}", JsonWriter.compact(row));
    }

    @Test
    void aTreeIsWrittenAsRead() {
        String text = "{\"a\":[1e-05,18446744073709551617,NaN],\"b\":\"\\u0001é\"}";
        assertEquals(text, JsonWriter.compact(JsonReader.PYTHON.read(text)));
    }

    @Test
    void prettyIsTheGeneratorsDefaultLayout() {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("tp", 8);
        plan.put("notes", List.of());
        plan.put("stages", List.of(Map.of("stage", 0)));
        plan.put("shape", List.of(1, 2));
        String n = System.lineSeparator();
        assertEquals("{" + n + "  \"tp\" : 8," + n + "  \"notes\" : [ ]," + n + "  \"stages\" : [ {" + n
                + "    \"stage\" : 0" + n + "  } ]," + n + "  \"shape\" : [ 1, 2 ]" + n + "}", JsonWriter.pretty(plan));
    }

    @Test
    void utf8IsTheCompactTextsBytes() {
        Map<String, Object> header = Map.of("w\u00e9", Map.of("shape", List.of(2L, 3L)));
        assertArrayEquals("{\"w\u00e9\":{\"shape\":[2,3]}}".getBytes(StandardCharsets.UTF_8), JsonWriter.utf8(header));
    }

    @Test
    void aValueWithNoJsonFormIsRefused() {
        record Point(int x) {
        }
        List<Object> values = new ArrayList<>(List.of(new Point(1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonWriter.compact(values));
        assertEquals("no JSON form for a " + Point.class.getName(), e.getMessage());
    }
}
