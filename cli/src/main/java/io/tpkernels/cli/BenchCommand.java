package io.tpkernels.cli;

import io.tpkernels.cli.OptionRanges;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tpk bench}: times the kernels on the issues' shapes against the ceilings and the baselines, all
 * measured in the same run, and prints a table, JSON, or draws a roofline chart.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the kernels against the machine's ceilings (copy bandwidth, GEMM rate)",
                "and against baselines (the plain lookup, cuBLAS, the unfused LoRA),",
                "all measured in this run: the median of the timed runs after warm-ups, with",
                "input sets cycled so that no run finds its inputs in a cache. On a GPU, CUDA",
                "events time each run."})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--backend", paramLabel = "cpu|cuda",
            description = "where to run (default: cuda when a GPU is found, else cpu)")
    Backend backend;

    @Option(names = "--kernel", paramLabel = "NAME", split = ",",
            description = "a kernel to time, repeatable (default: all): cast, embedding, lm-head, lora, argmax")
    List<String> kernels = new ArrayList<>();

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.png|FILE.svg", description = "draw the roofline chart into FILE")
    Path plot;

    /** The fewest timed runs a measurement's median is taken over. */
    static final int MIN_RUNS = 20;

    @Option(names = "--runs", defaultValue = "25", paramLabel = "N",
            description = "timed runs per measurement, of which the median is reported (default: ${DEFAULT-VALUE}; at"
                    + " least 20, or 1 with --quick; at most " + OptionRanges.RUNS_MAX + ")")
    int runs;

    @Option(names = "--warmup", defaultValue = "3", paramLabel = "N",
            description = "untimed runs before them, lasting at least 0.5 s, " + OptionRanges.WARMUP_RANGE
                    + " (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--quick", description = "tiny shapes: checks that every path runs; the numbers mean nothing")
    boolean quick;

    @Override
    public void run() {
        List<KernelCase> cases = kernels.isEmpty() ? KernelCase.all() : KernelCase.named(kernels);
        PlotFile plotFile = plot == null ? null : PlotFile.of(plot);
        // A median of fewer runs moves with one slow run; --quick only checks that every path runs.
        int leastRuns = quick ? 1 : MIN_RUNS;
        if (runs < leastRuns || warmup < 0) {
            throw new IllegalArgumentException("--runs must be at least " + leastRuns + (quick ? "" : " (1 with --quick)")
                    + " and --warmup at least 0, got " + runs + " and " + warmup);
        }
        Report report;
        try (Bench bench = Bench.open(backend != null ? backend : Backend.detect(), warmup, runs, quick)) {
            Roofline roofline = Ceilings.measure(bench);
            List<Result> rows = new ArrayList<>();
            for (KernelCase c : cases) {
                rows.addAll(c.measure(bench));
            }
            String method = String.format(Locale.ROOT, "median of %d runs after at least %d warm-ups and %.2f s,"
                    + " input sets cycled over at least %d MiB%s", runs, warmup, bench.warmupSeconds(),
                    bench.rotationBytes() >> 20, quick ? " (--quick: tiny shapes, not a measurement)" : "");
            report = new Report(bench.describe(), bench.backend(), method, Ceilings.describe(bench), roofline, rows);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonReport.toJson(report));
        } else {
            TableReport.print(out, report);
        }
        out.flush();
        if (plotFile != null) {
            RooflinePlot.write(plotFile, report);
        }
    }
}
