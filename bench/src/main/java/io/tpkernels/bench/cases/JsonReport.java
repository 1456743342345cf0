package io.tpkernels.bench.cases;

import io.tpkernels.layers.json.JsonWriter;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tpk bench --json}: an array of rows, the ceilings first, each object written as soon as it is measured,
 * <pre>
 *   {"kernel", "role": "kernel"|"ceiling", "backend", "dtype", "shape": {"M", "N", "K", ...} or {"T", "H", ...},
 *    "medianMs", "gbPerS", "gflopPerS", "percentOfCeiling", "ceiling": "copy"|"gemm",
 *    "baseline", "ratio", "baselines": [{"name", "medianMs", "ratio"}], ...the kernel's own fields}
 * </pre>
 * {@code baseline} and {@code ratio} are the first of {@code baselines} (ratio = baseline time / kernel time:
 * above 1 the kernel is faster); they and the ceiling fields are {@code null} where they do not apply.
 */
final class JsonReport {
    private JsonReport() {
    }

    /** A JSON array written object by object: {@code [} now, each row as it comes, {@code ]} at the end. */
    static ReportStream stream(PrintWriter out) {
        out.println("[");
        out.flush();
        return new ReportStream() {
            private boolean first = true;

            @Override
            void row(Result r) {
                out.print((first ? "  " : ",\n  ") + JsonWriter.compact(fields(roofline, r)));
                first = false;
                out.flush();
            }

            @Override
            void end() {
                out.println(first ? "]" : "\n]");
                out.flush();
            }
        };
    }

    private static Map<String, Object> fields(Roofline roofline, Result r) {
        boolean kernel = r.role() == Result.Role.kernel;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("kernel", r.kernel());
        row.put("role", r.role().name());
        row.put("backend", r.backend().name());
        row.put("dtype", r.dtype());
        row.put("shape", r.shape().sizes());
        row.put("medianMs", r.medianMs());
        row.put("gbPerS", r.gbPerS());
        row.put("gflopPerS", r.gflopPerS());
        row.put("percentOfCeiling", kernel ? roofline.percentOfCeiling(r) : null);
        row.put("ceiling", kernel ? roofline.bound(r).name() : null);
        List<Map<String, Object>> baselines = new ArrayList<>();
        for (Result.Baseline b : r.baselines()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", b.name());
            m.put("medianMs", b.medianMs());
            m.put("ratio", r.speedupOver(b));
            baselines.add(m);
        }
        row.put("baseline", baselines.isEmpty() ? null : baselines.get(0).get("name"));
        row.put("ratio", baselines.isEmpty() ? null : baselines.get(0).get("ratio"));
        row.put("baselines", baselines);
        row.putAll(r.extras());
        return row;
    }
}
