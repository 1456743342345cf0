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
 * per kernel shape, each printed as soon as it is measured, with the median time, the rates, the percent of the ceiling that bounds it and its speed
 * against each baseline ({@code 1.25x cublas}: 1.25 times as fast as cuBLAS).
 */
final class TableReport {
    private TableReport() {
    }

    /** Column widths: wide enough for the issues' shapes; a longer cell widens its line only. */
    private static final int[] WIDTHS = {18, 30, 10, 9, 8, 8, 20};

    /** A table written line by line: the header now, each row as it comes. */
    static ReportStream stream(PrintWriter out, String device, String method, String ceilings, Backend backend) {
        out.println(device + ": " + method);
        out.println("ceilings: " + ceilings);
        out.println();
        line(out, new String[] {"kernel", "shape", "dtype", "median ms", "GB/s", backend.flopUnit(), "of ceiling",
            "vs baseline"});
        out.flush();
        return new ReportStream() {

            @Override
            void row(Result r) {
                line(out, new String[] {r.kernel(), r.shape().toString(), r.dtype(), significant(r.medianMs()),
                    significant(r.gbPerS()), r.flops() == 0 ? "-" : significant(backend.inFlopUnit(r.flopPerS())),
                    ofCeiling(roofline, r), versus(r)});
                out.flush();
            }

            @Override
            void end() {
                out.flush();
            }
        };
    }

    /** One line: text columns left-aligned, the three numbers right-aligned, two spaces between columns. */
    private static void line(PrintWriter out, String[] cells) {
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            int width = c < WIDTHS.length ? WIDTHS[c] : 0;
            String pad = " ".repeat(Math.max(0, width - cells[c].length()));
            boolean number = c >= 3 && c <= 5;
            b.append(c == 0 ? "" : "  ").append(number ? pad + cells[c] : cells[c] + pad);
        }
        out.println(b.toString().stripTrailing());
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
