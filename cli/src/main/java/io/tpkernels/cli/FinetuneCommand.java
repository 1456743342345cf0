package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.ModelFolder;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoFinetune;
import io.tpkernels.layers.model.DemoForward;
import io.tpkernels.layers.model.TokenBatches;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.train.AdamWConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tpk finetune}: trains a LoRA adapter on the demo model's frozen base on {@code tp·pp} ranks of this process
 * (docs/contract.md, fine-tuning) and writes it as PEFT writes one. Bad input is exit code 2 and one line on stderr,
 * found before training starts where it can be; the adapter folder is written whole or not at all.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a LoRA adapter of the demo model on tp x pp ranks and write it as PEFT does.")
final class FinetuneCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "folder with config.json and model.safetensors (or model.safetensors.index.json)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "token ids to train on, in the format of forward's --tokens-file")
    Path data;

    @Option(names = "--seq-len", required = true, paramLabel = "T", description = "tokens per row, " + OptionRanges.SIZE_RANGE)
    int seqLen;

    @Option(names = "--batch", required = true, paramLabel = "B", description = "rows per step, " + OptionRanges.SIZE_RANGE)
    int batch;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "optimizer steps, 1 to " + OptionRanges.STEPS_MAX)
    int steps;

    @Option(names = "--lr", required = true, paramLabel = "LR", description = "AdamW's learning rate")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0", paramLabel = "W",
            description = "AdamW's decoupled weight decay (default ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--beta1", defaultValue = "0.9", paramLabel = "B1", description = "AdamW's beta1 (default ${DEFAULT-VALUE})")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.999", paramLabel = "B2", description = "AdamW's beta2 (default ${DEFAULT-VALUE})")
    double beta2;

    @Option(names = "--eps", defaultValue = "1e-8", paramLabel = "E", description = "AdamW's epsilon (default ${DEFAULT-VALUE})")
    double eps;

    @Option(names = "--clip-norm", defaultValue = "0", paramLabel = "C",
            description = "clip the global gradient norm to C (default: no clipping)")
    double clipNorm;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Start start;

    static final class Start {
        @Option(names = "--lora-init", paramLabel = "ADAPTER_DIR",
                description = "start from this PEFT adapter (its config gives rank, alpha, targets and layers)")
        Path adapter;

        @ArgGroup(exclusive = false)
        Fresh fresh;
    }

    static final class Fresh {
        @Option(names = "--lora-rank", required = true, paramLabel = "R", description = "a new adapter of rank R, 1 to "
                + OptionRanges.LORA_RANK_MAX)
        int rank;

        @Option(names = "--lora-alpha", paramLabel = "A", description = "lora_alpha (default: 2 x rank)")
        Double alpha;

        @Option(names = "--target-modules", split = ",", defaultValue = "gate_proj,up_proj,down_proj",
                paramLabel = "NAMES", description = "projections that get LoRA (default ${DEFAULT-VALUE})")
        List<String> targets;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
                description = "seed of A's draws, 0 to " + OptionRanges.SEED_MAX + " (default ${DEFAULT-VALUE})")
        long seed;
    }

    @Option(names = "--tp", defaultValue = "1", paramLabel = "N",
            description = "tensor-parallel size, " + OptionRanges.TP_RANGE + " (default ${DEFAULT-VALUE})")
    int tp;

    @Option(names = "--pp", defaultValue = "1", paramLabel = "P", description = "pipeline stages, " + OptionRanges.PP_RANGE
            + " (default ${DEFAULT-VALUE})")
    int pp;

    @Option(names = "--micro-batches", defaultValue = "1", paramLabel = "M",
            description = "micro-batches per step, a divisor of --batch, " + OptionRanges.SIZE_RANGE
                    + " (default ${DEFAULT-VALUE})")
    int microBatches;

    @CommandLine.Mixin
    RunOptions run;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "new folder for the trained adapter")
    Path out;

    @Option(names = "--log", paramLabel = "FILE.jsonl",
            description = "write one JSON object per step: step, loss, gradNorm (before clipping), lr")
    Path log;

    @Option(names = "--debug", description = "show the stack trace of an error")
    boolean debug;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            run(spec.commandLine().getOut(), err);
            return 0;
        } catch (IllegalArgumentException e) {
            return Tpk.badInput("finetune", e, err, debug);
        } catch (UnsupportedOperationException e) {
            return Tpk.badInput("finetune", new IllegalArgumentException(e.getMessage(), e), err, debug);
        }
    }

    private void run(PrintWriter out, PrintWriter err) {
        checkValues();
        Precision precision = run.precision();
        Backend backend = run.backend();
        requireNewFolder(this.out);
        if (log != null) {
            requireParent("--log", log);
        }
        ModelConfig config = ModelConfig.read(ModelFolder.file(model, "config.json"));
        TokenBatches batches = TokenBatches.of(TokenIds.read(data), data.toString(), config.vocabSize(), seqLen, batch);
        AdamWConfig optimizer = new AdamWConfig(lr, beta1, beta2, eps, weightDecay);
        var forward = new DemoForward.Options(tp, pp, backend::deviceOf, precision, VocabShard.DEFAULT_MULTIPLE, false,
                Duration.ofMinutes(5));
        var options = new DemoFinetune.Options(forward, optimizer, clipNorm, microBatches);
        try (WeightSource base = SafetensorsCheckpoint.open(model);
             FinetuneStart adapter = start.adapter != null ? FinetuneStart.peft(start.adapter, config, base)
                     : FinetuneStart.fresh(start.fresh.rank, start.fresh.alpha, start.fresh.targets, start.fresh.seed,
                     config);
             StepLog steps = new StepLog(log, lr)) {
            ProgressBar bar = new ProgressBar(err, "training");
            DemoFinetune.Result result;
            try {
                result = DemoFinetune.run(config, adapter.weightsOver(base), adapter.adapters(), adapter.modules(),
                        batches, this.steps, options, (k, loss, norm) -> {
                            steps.write(k, loss, norm);
                            bar.update(k, this.steps, String.format(Locale.ROOT, "loss %.4f", loss));
                        }, this.out);
            } finally {
                bar.finish();
            }
            double seconds = result.elapsed().toNanos() / 1e9;
            out.printf(Locale.ROOT, "finetune: %d %s (tp %d x pp %d), %d %s, %s %s, loss %.6f -> %.6f, %.2f s"
                            + " (%.0f tokens/s) -> %s%n", tp * pp, tp * pp == 1 ? "rank" : "ranks", tp, pp,
                    this.steps, this.steps == 1 ? "step" : "steps", backend.name().toLowerCase(Locale.ROOT),
                    precision.name().toLowerCase(Locale.ROOT), result.losses()[0],
                    result.losses()[result.losses().length - 1], seconds, result.tokens() / seconds, this.out);
            out.flush();
        }
    }

    private void checkValues() {
        positive("--seq-len", seqLen);
        positive("--batch", batch);
        positive("--steps", steps);
        positive("--micro-batches", microBatches);
        if (batch % microBatches != 0) {
            throw new IllegalArgumentException("--micro-batches " + microBatches + " does not divide --batch " + batch);
        }
        finite("--lr", lr, 0, false);
        finite("--weight-decay", weightDecay, 0, false);
        finite("--eps", eps, 0, true);
        finite("--clip-norm", clipNorm, 0, false);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("--beta1 and --beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (tp < 1 || pp < 1 || (long) tp * pp > OptionRanges.FORWARD_RANKS_MAX) {
            throw new IllegalArgumentException("--tp " + tp + " x --pp " + pp + " must be 1 to "
                    + OptionRanges.FORWARD_RANKS_MAX + " ranks in one process");
        }
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        }
    }

    private static void finite(String option, double value, double min, boolean strictly) {
        if (!Double.isFinite(value) || value < min || (strictly && value == min)) {
            throw new IllegalArgumentException(option + " must be a finite number " + (strictly ? "> " : ">= ")
                    + (long) min + ", got " + value);
        }
    }

    /** {@code --out} must be a new folder in a writable one: found now, not after the training. */
    private static void requireNewFolder(Path folder) {
        if (Files.exists(folder)) {
            throw new IllegalArgumentException("--out " + folder + " exists; name a new folder");
        }
        requireParent("--out", folder);
    }

    private static void requireParent(String option, Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(option + " " + file + ": the folder " + parent + " does not exist");
        }
        if (!Files.isWritable(parent)) {
            throw new IllegalArgumentException(option + " " + file + ": the folder " + parent + " is not writable");
        }
    }

    /** The {@code --log} file: one JSON object per step, written as each step ends. */
    private static final class StepLog implements AutoCloseable {
        private final Writer writer;
        private final double lr;

        StepLog(Path file, double lr) {
            this.lr = lr;
            try {
                this.writer = file == null ? null : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("--log " + file + ": " + e.getMessage(), e);
            }
        }

        void write(int step, double loss, double gradNorm) {
            if (writer == null) {
                return;
            }
            try {
                writer.write("{\"step\": " + step + ", \"loss\": " + json(loss) + ", \"gradNorm\": " + json(gradNorm)
                        + ", \"lr\": " + json(lr) + "}\n");
                writer.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** A number as JSON has it; NaN and infinities as Python's json module writes them. */
        private static String json(double v) {
            if (Double.isNaN(v)) {
                return "NaN";
            }
            if (Double.isInfinite(v)) {
                return v > 0 ? "Infinity" : "-Infinity";
            }
            return Double.toString(v);
        }

        @Override
        public void close() {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
