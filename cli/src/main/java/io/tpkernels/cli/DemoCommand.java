package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code tpk demo}: writes a small random model and adapter to a temporary folder, runs {@code tpk forward}
 * unsharded and at tp 4 × pp 2, with and without the adapter, checks that the layouts agree (and that the
 * adapter changes the result), and prints a table; then fine-tunes the adapter for 20 steps at tp 1, tp 2 and
 * tp 4 × pp 2 and prints the three loss curves side by side with their largest relative difference. Runs anywhere,
 * GPU or not. Exit code 1 if anything disagrees.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Write a random model and adapter, run forward at tp 1 and tp 4 x pp 2 with and without the adapter,"
                + " compare, then fine-tune the adapter at tp 1, tp 2 and tp 4 x pp 2 and compare the loss curves.")
final class DemoCommand implements Callable<Integer> {
    /** Largest difference allowed between layouts, relative to the largest logit: a few roundings of the dtype. */
    private static final double F32_AGREEMENT = 1e-5;
    private static final double BF16_AGREEMENT = 1e-2;
    private static final int FINETUNE_STEPS = 20;
    private static final Pattern LOSS = Pattern.compile("\"loss\": ([-0-9.eE]+|NaN)");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    RunOptions run;

    @Option(names = "--keep", description = "keep the temporary folder (its path is printed)")
    boolean keep;

    private record Run(String layout, boolean adapter, float[] logits, long[] argmax, String summary) {
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Backend resolved = run.backend();
        String dtype = run.precision().name().toLowerCase(java.util.Locale.ROOT);
        var sizes = new DemoModelWriter.Sizes(1003, 64, 192, 6, 8, 16, false);
        Path dir = Files.createTempDirectory("tpk-demo-");
        try {
            Path model = Files.createDirectory(dir.resolve("model"));
            Path adapter = Files.createDirectory(dir.resolve("adapter"));
            DemoModelWriter.writeModel(model, sizes, 2026);
            DemoModelWriter.writeAdapter(adapter, sizes, 1121);
            out.printf("demo model: vocab %d (padded per rank to a multiple of 64), hidden %d, intermediate %d, %d layers;"
                    + " LoRA r %d on gate/up/down; %s %s; files in %s%n", sizes.vocab(), sizes.hidden(),
                    sizes.intermediate(), sizes.layers(), sizes.loraRank(), resolved.name().toLowerCase(), dtype, dir);
            long[] ids = {0, 17, 511, 1002, 64, 999, 3, 128};
            List<Run> runs = new ArrayList<>();
            for (boolean withAdapter : new boolean[] {false, true}) {
                for (int[] layout : new int[][] {{1, 1}, {4, 2}}) {
                    runs.add(forward(dir, model, withAdapter ? adapter : null, layout[0], layout[1], ids, resolved));
                }
            }
            boolean agrees = report(out, runs);
            return finetune(out, dir, model, adapter, resolved) && agrees ? 0 : 1;
        } finally {
            if (!keep) {
                deleteTree(dir);
            }
        }
    }

    /**
     * Fine-tunes the demo adapter for {@link #FINETUNE_STEPS} steps at tp 1, tp 2 and tp 4 x pp 2 with {@code tpk
     * finetune} and prints the three loss curves side by side; true when they agree and the loss falls.
     */
    private boolean finetune(PrintWriter out, Path dir, Path model, Path adapter, Backend resolved) throws IOException {
        int seqLen = 16;
        int batch = 4;
        SplittableRandom random = new SplittableRandom(7);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < batch * (seqLen + 1); i++) { // one batch, read again by every step: it is learned
            text.append(random.nextInt(1003)).append(' ');
        }
        Path data = Files.writeString(dir.resolve("finetune-ids.txt"), text);
        int[][] layouts = {{1, 1}, {2, 1}, {4, 2}};
        List<double[]> curves = new ArrayList<>();
        for (int[] layout : layouts) {
            String name = "finetune-tp" + layout[0] + "-pp" + layout[1];
            Path log = dir.resolve(name + ".jsonl");
            List<String> args = List.of("finetune", "--model", model.toString(), "--data", data.toString(), "--seq-len",
                    "" + seqLen, "--batch", "" + batch, "--steps", "" + FINETUNE_STEPS, "--lr", "1e-3", "--clip-norm",
                    "1", "--lora-init", adapter.toString(), "--tp", "" + layout[0], "--pp", "" + layout[1],
                    "--micro-batches", "" + layout[1], "--backend", resolved.name().toLowerCase(), "--dtype",
                    run.dtype, "--out", dir.resolve(name).toString(), "--log", log.toString());
            StringWriter output = new StringWriter();
            CommandLine cl = Tpk.commandLine();
            cl.setOut(new PrintWriter(output));
            cl.setErr(new PrintWriter(output));
            if (cl.execute(args.toArray(String[]::new)) != 0) {
                throw new IllegalStateException("tpk " + String.join(" ", args) + " failed: " + output);
            }
            curves.add(Files.readAllLines(log).stream().mapToDouble(DemoCommand::loss).toArray());
        }
        double tolerance = run.precision() == io.tpkernels.layers.Precision.BF16 ? BF16_AGREEMENT : F32_AGREEMENT;
        double worst = 0;
        out.printf("%nfine-tuning the adapter, %d steps of %d x %d tokens (AdamW lr 1e-3, clip 1):%n", FINETUNE_STEPS,
                batch, seqLen);
        out.printf("%-6s %-12s %-12s %-12s%n", "step", "tp 1", "tp 2", "tp 4 x pp 2");
        for (int k = 0; k < FINETUNE_STEPS; k++) {
            double ref = curves.get(0)[k];
            for (double[] c : curves) {
                worst = Math.max(worst, Math.abs(c[k] - ref) / Math.abs(ref));
            }
            out.printf("%-6d %-12.6f %-12.6f %-12.6f%n", k + 1, ref, curves.get(1)[k], curves.get(2)[k]);
        }
        boolean agree = worst <= tolerance;
        boolean learns = curves.get(0)[FINETUNE_STEPS - 1] < curves.get(0)[0];
        out.printf("largest relative difference from tp 1: %.2e %s; the loss %s%n", worst, agree ? "ok" : "TOO LARGE",
                learns ? "falls" : "DOES NOT FALL");
        out.flush();
        return agree && learns;
    }

    /** The loss of one line of a {@code --log} file. */
    private static double loss(String line) {
        Matcher m = LOSS.matcher(line);
        if (!m.find()) {
            throw new IllegalStateException("no loss in the log line " + line);
        }
        return Double.parseDouble(m.group(1));
    }

    private Run forward(Path dir, Path model, Path adapter, int tp, int pp, long[] ids, Backend resolved) {
        String name = "tp" + tp + "-pp" + pp + (adapter == null ? "" : "-lora");
        Path logitsFile = dir.resolve(name + ".safetensors");
        Path argmaxFile = dir.resolve(name + "-argmax.safetensors");
        String summary = null;
        for (Path outFile : new Path[] {logitsFile, argmaxFile}) {
            List<String> args = new ArrayList<>(List.of("forward", "--model", model.toString(), "--tokens",
                    join(ids), "--tp", "" + tp, "--pp", "" + pp, "--backend", resolved.name().toLowerCase(),
                    "--dtype", run.dtype, "--out", outFile.toString()));
            if (adapter != null) {
                args.addAll(List.of("--lora", adapter.toString()));
            }
            if (outFile == argmaxFile) {
                args.add("--argmax");
            }
            StringWriter text = new StringWriter();
            CommandLine cl = Tpk.commandLine();
            cl.setOut(new PrintWriter(text));
            cl.setErr(new PrintWriter(text));
            if (cl.execute(args.toArray(String[]::new)) != 0) {
                throw new IllegalStateException("tpk " + String.join(" ", args) + " failed: " + text);
            }
            summary = summary == null ? text.toString().strip() : summary;
        }
        try (SafetensorsFile logits = SafetensorsFile.open(logitsFile);
             SafetensorsFile argmax = SafetensorsFile.open(argmaxFile)) {
            Tensor ids64 = argmax.view("argmax");
            long[] tokens = new long[(int) ids64.numel()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = ids64.dtype().getLong(ids64.hostSegment(), i);
            }
            return new Run("tp " + tp + " x pp " + pp, adapter != null, logits.view("logits").toFloatArray(), tokens,
                    summary);
        }
    }

    /** Prints the table; true when every layout agrees with tp 1 and the adapter changes the logits. */
    private boolean report(PrintWriter out, List<Run> runs) {
        double tolerance = run.precision() == io.tpkernels.layers.Precision.BF16 ? BF16_AGREEMENT : F32_AGREEMENT;
        boolean ok = true;
        out.printf("%-12s %-8s %-14s %-16s %s%n", "layout", "adapter", "max |logit|", "max |Δ| vs tp 1", "argmax");
        Run reference = null;
        for (Run r : runs) {
            if (r.layout().startsWith("tp 1 ")) {
                reference = r;
            }
            double scale = maxAbs(r.logits());
            String diff = "(reference)";
            String argmax = "(reference)";
            if (r != reference) {
                double d = maxDiff(r.logits(), reference.logits());
                boolean agrees = d <= tolerance * scale;
                boolean sameTokens = java.util.Arrays.equals(r.argmax(), reference.argmax());
                ok &= agrees && sameTokens;
                diff = String.format("%.2e %s", d, agrees ? "ok" : "TOO LARGE");
                argmax = sameTokens ? "same tokens" : "DIFFERENT tokens";
            }
            out.printf("%-12s %-8s %-14.4f %-16s %s%n", r.layout(), r.adapter() ? "yes" : "no", scale, diff, argmax);
        }
        double adapterEffect = maxDiff(runs.get(0).logits(), runs.get(2).logits());
        boolean changes = adapterEffect > tolerance * maxAbs(runs.get(0).logits());
        ok &= changes;
        out.printf("the adapter changes the logits by up to %.3f%s%n", adapterEffect, changes ? "" : " (TOO LITTLE)");
        out.println(runs.get(1).summary());
        out.println(ok ? "demo: every layout agrees with the unsharded run" : "demo: FAILED, see the table");
        out.flush();
        return ok;
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    private static String join(long[] ids) {
        StringBuilder sb = new StringBuilder();
        for (long id : ids) {
            sb.append(sb.isEmpty() ? "" : ",").append(id);
        }
        return sb.toString();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
