package io.tpkernels.bench.cases;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The table {@code tpk bench} prints: a header saying where and how it measured, then one line per ceiling and
 * per kernel shape with the median time, the rates, the percent of the ceiling that bounds it and its speed
 * against each baseline ({@code 1.25x cublas}: 1.25 times as fast as cuBLAS).
 */
final class TableReport {
    private TableReport() {
    }

    static void print(PrintWriter out, Report report) {
        out.println(report.device() + ": " + report.method());
        out.println("ceilings: " + report.ceilings());
        out.println();
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"kernel", "shape", "dtype", "median ms", "GB/s", report.backend().flopUnit(),
            "of ceiling", "vs baseline"});
        for (Result r : report.rows()) {
            lines.add(new String[] {r.kernel(), r.shape().toString(), r.dtype(), significant(r.medianMs()),
                significant(r.gbPerS()), r.flops() == 0 ? "-" : significant(report.backend().inFlopUnit(r.flopPerS())),
                ofCeiling(report.roofline(), r), versus(r)});
        }
        int[] widths = new int[lines.get(0).length];
        for (String[] line : lines) {
            for (int c = 0; c < line.length; c++) {
                widths[c] = Math.max(widths[c], line[c].length());
            }
        }
        for (String[] line : lines) {
            StringBuilder b = new StringBuilder();
            for (int c = 0; c < line.length; c++) {
                boolean number = c >= 3 && c <= 5;
                String cell = number ? " ".repeat(widths[c] - line[c].length()) + line[c]
                        : line[c] + " ".repeat(widths[c] - line[c].length());
                b.append(c == 0 ? "" : "  ").append(cell);
            }
            out.println(b.toString().stripTrailing());
        }
    }

    private static String ofCeiling(Roofline roofline, Result r) {
        return r.role() == Result.Role.ceiling ? "ceiling"
                : format("%.1f%% ", roofline.percentOfCeiling(r)) + roofline.bound(r);
    }

    private static String versus(Result r) {
        return r.baselines().stream().map(b -> format("%.2fx ", r.speedupOver(b)) + b.name())
                .collect(Collectors.joining(", "));
    }

    /** Three significant digits, or the whole number from 100 up: 0.00412, 2.35, 12.3, 3067. */
    static String significant(double value) {
        if (Math.abs(value) >= 100 || value == 0) {
            return format("%.0f", value);
        }
        return new BigDecimal(value).round(new MathContext(3)).toPlainString();
    }

    private static String format(String format, double value) {
        return String.format(Locale.ROOT, format, value);
    }
}
