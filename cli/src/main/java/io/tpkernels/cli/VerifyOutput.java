package io.tpkernels.cli;

import io.tpkernels.bench.verify.VerifyRow;
import io.tpkernels.layers.json.JsonWriter;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How {@code tpk verify} prints its rows: each one written and flushed as soon as its check ends, as a line of a
 * table or an object of a JSON array, so that whatever ends the run early (a hang, a crash, a time limit) leaves
 * every finished row behind.
 */
abstract class VerifyOutput {
    final PrintWriter out;

    private VerifyOutput(PrintWriter out) {
        this.out = out;
    }

    abstract void row(VerifyRow row);

    /** After the last row: closes the array, or prints the summary line. */
    abstract void end(int failed);

    static VerifyOutput table(PrintWriter out, String device) {
        out.println("tpk verify on " + device + ": each path against the CPU reference (error relative to the"
                + " result's largest magnitude)");
        out.printf(Locale.ROOT, "%-6s %-48s %-30s %-14s %10s %10s  %s%n", "status", "path", "shape", "dtype",
                "max error", "tolerance", "kernel");
        out.flush();
        return new VerifyOutput(out) {
            private int rows;

            @Override
            void row(VerifyRow r) {
                rows++;
                out.printf(Locale.ROOT, "%-6s %-48s %-30s %-14s %10s %10s  %s%s%n", r.status(), r.path(), r.shape(),
                        r.dtype(), number(r.maxError()), number(r.tolerance()), r.kernel(),
                        r.note().isEmpty() ? "" : "  (" + r.note() + ")");
                out.flush();
            }

            @Override
            void end(int failed) {
                out.println(failed == 0 ? Plural.of(rows, "path") + " checked: none failed" : failed + " of "
                        + Plural.of(rows, "path") + " FAILED");
                out.flush();
            }
        };
    }

    static VerifyOutput json(PrintWriter out) {
        out.println("[");
        out.flush();
        return new VerifyOutput(out) {
            private boolean first = true;

            @Override
            void row(VerifyRow r) {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("path", r.path());
                fields.put("kernel", r.kernel());
                fields.put("shape", r.shape());
                fields.put("dtype", r.dtype());
                fields.put("maxError", jsonNumber(r.maxError()));
                fields.put("tolerance", jsonNumber(r.tolerance()));
                fields.put("pass", r.status() == VerifyRow.Status.pass);
                fields.put("status", r.status().name());
                fields.put("note", r.note());
                out.print((first ? "  " : ",\n  ") + JsonWriter.compact(fields));
                first = false;
                out.flush();
            }

            @Override
            void end(int failed) {
                out.println(first ? "]" : "\n]");
                out.flush();
            }
        };
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3g", v);
    }

    /** A JSON number, or null for NaN (JSON has none) and a string for an infinity. */
    private static Object jsonNumber(double v) {
        if (Double.isNaN(v)) {
            return null;
        }
        return Double.isInfinite(v) ? (v > 0 ? "Infinity" : "-Infinity") : v;
    }
}
