package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.ModelFolder;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoForward;
import io.tpkernels.layers.model.LoraAdapters;
import io.tpkernels.layers.model.PeftAdapter;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code tpk forward}: runs the demo model of docs/contract.md section 13 from a Hugging Face folder on {@code tp·pp}
 * ranks of this process and writes {@code logits} ({@code [T, V]} F32) or {@code argmax} ({@code [T]} I64) to a
 * safetensors file. Bad input is exit code 2 and one line on stderr; the output file is written whole or not at all.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run the demo model (MLP-stack LLaMA) on tp x pp ranks and write its logits or argmax.")
final class ForwardCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "folder with config.json and model.safetensors (or model.safetensors.index.json)")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Tokens tokens;

    static final class Tokens {
        @Option(names = "--tokens", paramLabel = "IDS", description = "token ids separated by commas, each ASCII digits"
                + " 0-9 (no sign), optionally with spaces or tabs around it: 1,2,3 or \"1, 2, 3\"; at most "
                + TokenIds.MAX_IDS)
        String inline;

        @Option(names = "--tokens-file", paramLabel = "FILE", description = "an ASCII file of token ids (ASCII digits"
                + " 0-9) separated by whitespace, commas or both, at most one comma between two ids: one per line,"
                + " or 1, 2, 3; at most " + TokenIds.MAX_IDS)
        Path file;
    }

    @Option(names = "--tp", defaultValue = "1", paramLabel = "N",
            description = "tensor-parallel size, " + OptionRanges.TP_RANGE + " (default ${DEFAULT-VALUE})")
    int tp;

    @Option(names = "--pp", defaultValue = "1", paramLabel = "P", description = "pipeline stages, " + OptionRanges.PP_RANGE
            + " (default ${DEFAULT-VALUE}); tp x pp at most " + OptionRanges.FORWARD_RANKS_MAX + " ranks")
    int pp;

    @Option(names = "--lora", paramLabel = "DIR", description = "a PEFT adapter folder (adapter_config.json, adapter_model.safetensors)")
    Path lora;

    @CommandLine.Mixin
    RunOptions run;

    @Option(names = "--argmax", description = "write the greedy token ids (tensor argmax, I64 [T]) instead of logits")
    boolean argmax;

    @Option(names = "--vocab-multiple", defaultValue = "" + VocabShard.DEFAULT_MULTIPLE, paramLabel = "M",
            description = "pad the vocab to a multiple of this times tp, " + OptionRanges.MULTIPLE_RANGE
                    + " (default ${DEFAULT-VALUE})")
    int vocabMultiple;

    @Option(names = "--out", required = true, paramLabel = "FILE.safetensors", description = "where to write the result")
    Path out;

    @Option(names = "--debug", description = "show the stack trace of an error")
    boolean debug;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            run(spec.commandLine().getOut(), err);
            return 0;
        } catch (IllegalArgumentException e) {
            return Tpk.badInput("forward", e, err, debug); // a missing or broken file, a bad value
        }
    }

    private void run(PrintWriter out, PrintWriter err) {
        if ((long) tp * pp > OptionRanges.FORWARD_RANKS_MAX) {
            throw new IllegalArgumentException("--tp " + tp + " x --pp " + pp + " is " + (long) tp * pp
                    + " ranks; forward runs at most " + OptionRanges.FORWARD_RANKS_MAX + " in one process");
        }
        Precision precision = run.precision();
        Backend resolved = run.backend();
        long[] ids = tokens.inline != null ? TokenIds.parse(tokens.inline) : TokenIds.read(tokens.file);
        Path parent = this.out.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("--out " + this.out + ": the folder " + parent + " does not exist");
        }
        ModelConfig config = ModelConfig.read(ModelFolder.file(model, "config.json"));
        ProgressBar bar = new ProgressBar(err, "loading");
        try (WeightSource base = SafetensorsCheckpoint.open(model);
             AdapterSource adapter = AdapterSource.open(lora, config, base)) {
            adapter.summary().forEach(line -> out.println("forward: " + line));
            out.flush();
            var options = new DemoForward.Options(tp, pp, resolved::deviceOf, precision, vocabMultiple, argmax,
                    Duration.ofMinutes(5));
            try (DemoForward.Result result = DemoForward.run(config, adapter.weightsOver(base), adapter.adapters(), ids,
                    options, bar::update)) {
                bar.finish();
                warnOfUnusedTensors(err, config, base);
                write(result);
                out.printf("forward: %s (tp %d x pp %d), %s, %s %s, %.2f s -> %s (%s)%n", Plural.of(result.ranks(), "rank"),
                        tp, pp, Plural.of(ids.length, "token"), resolved.name().toLowerCase(Locale.ROOT), precision.name().toLowerCase(Locale.ROOT),
                        result.elapsed().toNanos() / 1e9, this.out, argmax ? "argmax I64 [" + ids.length + "]"
                                : "logits F32 [" + ids.length + ", " + config.vocabSize() + "]");
                out.flush();
            }
        } finally {
            bar.finish();
        }
    }

    /**
     * One line on stderr when the checkpoint holds tensors the model does not read (a config with fewer layers than
     * the checkpoint): how many and the first one's name, as Hugging Face's loader warns. Not an error.
     */
    private static void warnOfUnusedTensors(PrintWriter err, ModelConfig config, WeightSource weights) {
        List<String> unused = DemoForward.unusedTensors(config, weights);
        if (!unused.isEmpty()) {
            err.println(Tpk.prefix("forward") + "warning: " + Plural.of(unused.size(), "tensor") + " of "
                    + weights.describe() + " not used by the model of config.json (num_hidden_layers "
                    + config.numHiddenLayers() + "), the first \"" + unused.get(0).replaceAll("\\p{Cntrl}", "?") + "\"");
            err.flush();
        }
    }

    private void write(DemoForward.Result result) {
        if (argmax) {
            try (Tensor t = Tensor.ofLongs(DType.I64, result.tokens(), result.tokens().length)) {
                SafetensorsWriter.write(out, Map.of("argmax", t), Map.of());
            }
        } else {
            SafetensorsWriter.write(out, Map.of("logits", result.logits()), Map.of());
        }
    }

    /** The adapter named by {@code --lora} resolved against the model, or none; closes its weights. */
    private record AdapterSource(WeightSource weights, PeftAdapter peft) implements AutoCloseable {
        static AdapterSource open(Path dir, ModelConfig model, WeightSource base) {
            if (dir == null) {
                return new AdapterSource(null, null);
            }
            AdapterConfig config = AdapterConfig.read(ModelFolder.file(dir, "adapter_config.json"));
            WeightSource weights = SafetensorsCheckpoint.open(ModelFolder.file(dir, "adapter_model.safetensors"));
            try {
                return new AdapterSource(weights, PeftAdapter.resolve(config, weights, model, base));
            } catch (RuntimeException e) {
                weights.close();
                throw e;
            }
        }

        LoraAdapters adapters() {
            return peft == null ? LoraAdapters.NONE : peft;
        }

        /** The base model's weights, with what the adapter's modules_to_save replaces. */
        WeightSource weightsOver(WeightSource base) {
            return peft == null ? base : peft.weightsOver(base, weights);
        }

        /** What the adapter does, a line per group of modules; nothing without one. */
        List<String> summary() {
            return peft == null ? List.of() : peft.summary();
        }

        @Override
        public void close() {
            if (weights != null) {
                weights.close();
            }
        }
    }
}
