package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.bench.cases.BenchRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code tpk bench}: times the kernels on the issues' shapes against the ceilings and the baselines, all
 * measured in the same run, and prints a table, JSON, or draws a roofline chart. The measuring is the bench
 * module's ({@link BenchRun}); this is its command line.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the kernels against the machine's ceilings (copy bandwidth, GEMM rate) and against"
                + " baselines (the plain lookup, cuBLAS, the unfused LoRA).",
                "All are measured in this run: the median of the timed runs after warm-ups, with input sets cycled"
                        + " so that no run finds its inputs in a cache. On a GPU, CUDA events time each run."})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--backend", paramLabel = "cpu|cuda",
            description = "where to run (default: cuda when a GPU is found, else cpu)")
    Backend backend;

    @Option(names = "--kernel", paramLabel = "NAME", split = ",",
            description = "a kernel to time, repeatable (default: all): cast, embedding, lm-head, lora, argmax,"
                    + " lm-head-ce, finetune-step")
    List<String> kernels = new ArrayList<>();

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.png|FILE.svg", description = "draw the roofline chart into FILE")
    Path plot;

    @Option(names = "--runs", defaultValue = "25", paramLabel = "N",
            description = "timed runs per measurement, of which the median is reported (default: ${DEFAULT-VALUE}; at"
                    + " least " + BenchRun.MIN_RUNS + ", or 1 with --quick; at most " + OptionRanges.RUNS_MAX + ")")
    int runs;

    @Option(names = "--warmup", defaultValue = "3", paramLabel = "N",
            description = "untimed runs before them, lasting at least 0.5 s, " + OptionRanges.WARMUP_RANGE
                    + " (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--quick", description = "tiny shapes: checks that every path runs; the numbers mean nothing")
    boolean quick;

    @Override
    public void run() {
        BenchRun.of(backend, kernels, plot, runs, warmup, quick).run(spec.commandLine().getOut(), json);
    }
}
