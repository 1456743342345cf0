package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tpk bench} writes each row the moment it is measured: a run cut short keeps every finished row. */
class ReportStreamTest {

    private static final Roofline ROOFLINE = new Roofline(
            new Result("copy", Result.Role.ceiling, Backend.cpu, "-", Shape.of("bytes", 1 << 20), 0.1, 2 << 20, 0,
                    List.of()),
            null);

    private static Result kernel(String name, double ms) {
        return new Result(name, Result.Role.kernel, Backend.cpu, "BF16", Shape.of("T", 4), ms, 1 << 20, 1 << 20,
                List.of(new Result.Baseline("plain", 2 * ms)));
    }

    @Test
    void aTableRowIsOutAsSoonAsItIsMeasured() {
        StringWriter text = new StringWriter();
        ReportStream stream = TableReport.stream(new PrintWriter(text), "cpu", "median of 3", "copy", Backend.cpu);
        assertTrue(text.toString().contains("kernel"), "the header first: " + text);
        stream.ceilings(ROOFLINE);
        assertTrue(text.toString().lines().anyMatch(l -> l.startsWith("copy")), text.toString());
        stream.row(kernel("cast", 0.5));
        assertTrue(text.toString().lines().anyMatch(l -> l.startsWith("cast") && l.contains("2.00x plain")),
                "before the next row is measured: " + text);
        assertFalse(text.toString().contains("lora"));
        stream.row(kernel("lora", 0.25));
        stream.end();
        assertEquals(List.of("copy", "cast", "lora"), text.toString().lines().map(l -> l.split(" ")[0])
                .filter(w -> List.of("copy", "cast", "lora").contains(w)).toList(), text.toString());
    }

    @Test
    void aJsonRowIsOutAsSoonAsItIsMeasuredAndTheArrayIsWholeAtTheEnd() throws Exception {
        StringWriter text = new StringWriter();
        ReportStream stream = JsonReport.stream(new PrintWriter(text));
        stream.ceilings(ROOFLINE);
        stream.row(kernel("cast", 0.5));
        String soFar = text.toString();
        assertTrue(soFar.contains("\"kernel\":\"cast\""), soFar);
        // What was written so far, closed, is already a valid array of the finished rows.
        JsonArray partial = JsonReader.STRICT.read(soFar + "]").asArray("rows");
        assertEquals(2, partial.size());
        stream.row(kernel("lora", 0.25));
        stream.end();
        JsonArray rows = JsonReader.STRICT.read(text.toString()).asArray("rows");
        assertEquals(List.of("copy", "cast", "lora"), List.of(rows.getObject(0).getString("kernel"),
                rows.getObject(1).getString("kernel"), rows.getObject(2).getString("kernel")));
        assertEquals("ceiling", rows.getObject(0).getString("role"));
        assertEquals(2.0, rows.getObject(1).getDouble("ratio"), 1e-12);
        assertEquals("copy", rows.getObject(1).getString("ceiling"));
    }
}
