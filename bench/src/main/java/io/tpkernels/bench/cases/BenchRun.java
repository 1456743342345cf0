package io.tpkernels.bench.cases;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One {@code tpk bench} run as asked for: which kernels, where, how many runs, and where the roofline chart goes.
 * Everything that can be checked before measuring is checked by {@link #of}, so bad input never waits for a
 * measurement; {@link #run} measures the ceilings and the kernels, writing each row as it is measured, then draws
 * the chart.
 */
public final class BenchRun {
    /** The fewest timed runs a measurement's median is taken over. */
    public static final int MIN_RUNS = 20;

    private final Backend backend;
    private final List<KernelCase> cases;
    private final PlotFile plotFile;
    private final int runs;
    private final int warmup;
    private final boolean quick;

    private BenchRun(Backend backend, List<KernelCase> cases, PlotFile plotFile, int runs, int warmup, boolean quick) {
        this.backend = backend;
        this.cases = cases;
        this.plotFile = plotFile;
        this.runs = runs;
        this.warmup = warmup;
        this.quick = quick;
    }

    /**
     * A run of the kernels named (all of them when none is), on {@code backend} (null: the GPU when one is found),
     * with {@code runs} timed runs after {@code warmup} untimed ones, on the tiny shapes when {@code quick}.
     *
     * @param plot where to draw the roofline chart ({@code .png} or {@code .svg}), or null for none
     * @throws IllegalArgumentException naming the first problem: an unknown kernel, a plot file that cannot be
     *                                  written, too few runs
     */
    public static BenchRun of(Backend backend, List<String> kernels, Path plot, int runs, int warmup, boolean quick) {
        List<KernelCase> cases = kernels.isEmpty() ? KernelCase.all() : KernelCase.named(kernels);
        PlotFile plotFile = plot == null ? null : PlotFile.of(plot);
        // A median of fewer runs moves with one slow run; --quick only checks that every path runs.
        int leastRuns = quick ? 1 : MIN_RUNS;
        if (runs < leastRuns || warmup < 0) {
            throw new IllegalArgumentException("--runs must be at least " + leastRuns + (quick ? "" : " (1 with --quick)")
                    + " and --warmup at least 0, got " + runs + " and " + warmup);
        }
        return new BenchRun(backend, cases, plotFile, runs, warmup, quick);
    }

    /**
     * Measures, prints the report to {@code out} (a table, or JSON when {@code json}) and then draws the chart.
     *
     * @throws IllegalArgumentException for {@code cuda} where no GPU is found (the message says why)
     */
    public void run(PrintWriter out, boolean json) {
        Report report;
        try (Bench bench = Bench.open(backend != null ? backend : Backend.detect(), warmup, runs, quick)) {
            String method = String.format(Locale.ROOT, "median of %d runs after at least %d warm-ups and %.2f s,"
                    + " input sets cycled over at least %d MiB%s", runs, warmup, bench.warmupSeconds(),
                    bench.rotationBytes() >> 20, quick ? " (--quick: tiny shapes, not a measurement)" : "");
            String ceilings = Ceilings.describe(bench);
            ReportStream stream = json ? JsonReport.stream(out)
                    : TableReport.stream(out, bench.describe(), method, ceilings, bench.backend());
            Roofline roofline = Ceilings.measure(bench);
            stream.ceilings(roofline);
            List<Result> rows = new ArrayList<>();
            for (KernelCase c : cases) {
                c.measure(bench, r -> {
                    rows.add(r);
                    stream.row(r);
                });
            }
            stream.end();
            report = new Report(bench.describe(), bench.backend(), method, ceilings, roofline, rows);
        }
        if (plotFile != null) {
            RooflinePlot.write(plotFile, report);
        }
    }
}
