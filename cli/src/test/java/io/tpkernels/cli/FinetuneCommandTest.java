package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.model.PeftAdapter;
import io.tpkernels.layers.model.TokenBatches;
import io.tpkernels.layers.testing.DemoModelReference;
import io.tpkernels.layers.testing.DemoTrainingReference;
import io.tpkernels.layers.weights.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tpk finetune} as a user runs it: its log against a double-precision reference this test computes itself
 * (forward, backward, AdamW) from a PEFT adapter, the adapter it writes, and bad input.
 */
class FinetuneCommandTest {
    static final int SEQ_LEN = 6;
    static final int BATCH = 4;
    static final int STEPS = 4;

    @TempDir
    Path dir;

    @TempDir
    static Path copied;

    /** The PEFT fixtures, copied out once for the class. */
    static Path fixtures() {
        return PeftFixtureFiles.in(copied);
    }

    private Path data() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 2 * BATCH * (SEQ_LEN + 1) + 3; i++) { // steps 2 and 3 wrap around the file's end
            ids.append(random.nextInt(37)).append(i % 10 == 9 ? "\n" : " ");
        }
        return Files.writeString(dir.resolve("ids.txt"), ids);
    }

    private List<String> args(Path data, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", "--model", fixtures().resolve("base").toString(), "--data",
                data.toString(), "--seq-len", "" + SEQ_LEN, "--batch", "" + BATCH, "--steps", "" + STEPS, "--lr",
                "0.03", "--weight-decay", "0.1", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void theLogFollowsADoublePrecisionReferenceAndTheAdapterIsWhatItTrained() throws IOException {
        Path data = data();
        Path init = fixtures().resolve("rank_alpha_pattern");
        Path out = dir.resolve("trained");
        Path log = dir.resolve("steps.jsonl");
        CliRun r = CliRun.tpk(args(data, "--lora-init", init.toString(), "--clip-norm", "0.3", "--tp", "2", "--pp", "2",
                "--micro-batches", "2", "--out", out.toString(), "--log", log.toString()).toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("finetune: 4 ranks (tp 2 x pp 2), 4 steps"), r.out());

        ModelConfig c = ModelConfig.read(fixtures().resolve("base/config.json"));
        TokenBatches batches = TokenBatches.of(ids(data), "ids", c.vocabSize(), SEQ_LEN, BATCH);
        try (WeightSource base = SafetensorsCheckpoint.open(fixtures().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(init.resolve("adapter_model.safetensors"))) {
            PeftAdapter peft = PeftAdapter.resolve(AdapterConfig.read(init.resolve("adapter_config.json")), adapter, c,
                    base);
            Map<String, DemoModelReference.Lora> factors = new HashMap<>();
            for (ModuleLora m : peft.modules()) {
                factors.put(m.module(), new DemoModelReference.Lora(adapter.view(tensor(m, "lora_A")).toFloatArray(),
                        adapter.view(tensor(m, "lora_B")).toFloatArray(), m.rank(), m.scale()));
            }
            DemoTrainingReference reference = new DemoTrainingReference(base, (int) c.vocabSize(), (int) c.hiddenSize(),
                    (int) c.intermediateSize(), c.numHiddenLayers(), c.tieWordEmbeddings(), factors,
                    new DemoTrainingReference.Optimizer(0.03, 0.8, 0.99, 1e-6, 0.1, 0.3));
            List<String> lines = Files.readAllLines(log);
            assertEquals(STEPS, lines.size(), "one line per step");
            for (int k = 0; k < STEPS; k++) {
                double loss = reference.step(batches.inputs(k), batches.targets(k));
                String line = lines.get(k);
                assertEquals(k + 1, (int) field(line, "step"), line);
                close(loss, field(line, "loss"), 1e-5, "step " + (k + 1) + " loss: " + line);
                close(reference.lastNorm(), field(line, "gradNorm"), 1e-4, "step " + (k + 1) + " gradNorm: " + line);
                assertEquals(0.03, field(line, "lr"), line);
            }
            // The written adapter is the reference's after the last step, named and shaped as PEFT's.
            try (SafetensorsFile written = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                for (ModuleLora m : peft.modules()) {
                    closeAll(reference.a(m.module()), written.view(tensor(m, "lora_A")).toFloatArray(), m.module());
                    closeAll(reference.b(m.module()), written.view(tensor(m, "lora_B")).toFloatArray(), m.module());
                }
            }
            assertEquals(peft.modules(), PeftAdapter.resolve(AdapterConfig.read(out.resolve("adapter_config.json")),
                    SafetensorsCheckpoint.open(out.resolve("adapter_model.safetensors")), c, base).modules());
        }
    }

    @Test
    void badInputIsOneLineAndExitTwoWithNothingWritten() throws IOException {
        Path data = data();
        Path out = dir.resolve("never");
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        Path outside = Files.writeString(dir.resolve("outside.txt"), "1 2 3 37 4");
        Path noTargets = Files.createDirectory(dir.resolve("no_targets"));
        Files.copy(fixtures().resolve("rslora/adapter_model.safetensors"), noTargets.resolve("adapter_model.safetensors"));
        Files.writeString(noTargets.resolve("adapter_config.json"), Files.readString(
                fixtures().resolve("rslora/adapter_config.json")).replace("\"lora_dropout\": 0.0", "\"lora_dropout\": 0.1"));
        Map<String, List<String>> cases = new HashMap<>();
        cases.put("missing.txt", replace(args(dir.resolve("missing.txt"), "--lora-rank", "2"), "--out", out));
        cases.put("no token ids", replace(args(empty, "--lora-rank", "2"), "--out", out));
        cases.put("outside the model's vocabulary", replace(args(outside, "--lora-rank", "2"), "--out", out));
        cases.put("--seq-len must be 1 to", set(replace(args(data, "--lora-rank", "2"), "--out", out),
                "--seq-len", "0"));
        cases.put("--batch must be 1 to", set(replace(args(data, "--lora-rank", "2"), "--out", out), "--batch",
                "-1"));
        cases.put("--steps must be 1 to", set(replace(args(data, "--lora-rank", "2"), "--out", out), "--steps",
                "0"));
        cases.put("lora_dropout", replace(args(data, "--lora-init", noTargets.toString()), "--out", out));
        cases.put("not a module of the demo model", replace(args(data, "--lora-rank", "2", "--target-modules",
                "q_proj"), "--out", out));
        cases.put("does not exist", replace(args(data, "--lora-rank", "2"), "--out", dir.resolve("no/such/folder")));
        cases.put("--micro-batches 3 does not divide --batch 4", replace(args(data, "--lora-rank", "2",
                "--micro-batches", "3"), "--out", out));
        for (Map.Entry<String, List<String>> e : cases.entrySet()) {
            CliRun r = CliRun.tpk(e.getValue().toArray(String[]::new));
            assertEquals(2, r.exit(), e.getKey() + ": " + r.err());
            assertTrue(r.err().contains(e.getKey()), "expected \"" + e.getKey() + "\" in: " + r.err());
            assertEquals(1, r.err().lines().filter(l -> l.startsWith("tpk finetune:")).count(), r.err());
            assertFalse(Files.exists(out), e.getKey() + ": nothing written");
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(4, left.count(), "only the test's own files are left");
        }
    }

    @Test
    void anAdapterAModelLacksIsRefused() throws IOException {
        Path data = data();
        Path foreign = Files.createDirectory(dir.resolve("foreign"));
        Files.copy(fixtures().resolve("rslora/adapter_model.safetensors"), foreign.resolve("adapter_model.safetensors"));
        Files.writeString(foreign.resolve("adapter_config.json"), Files.readString(
                fixtures().resolve("rslora/adapter_config.json")).replaceAll("\"target_modules\": \\[[^]]*]",
                "\"target_modules\": [\"q_proj\", \"v_proj\"]"));
        CliRun r = CliRun.tpk(replace(args(data, "--lora-init", foreign.toString()), "--out", dir.resolve("out"))
                .toArray(String[]::new));
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("tpk finetune: "), r.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }

    private static List<String> replace(List<String> args, String option, Path value) {
        List<String> out = new ArrayList<>(args);
        out.add(option);
        out.add(value.toString());
        return out;
    }

    private static List<String> set(List<String> args, String option, String value) {
        List<String> out = new ArrayList<>(args);
        out.set(out.indexOf(option) + 1, value);
        return out;
    }

    private static String tensor(ModuleLora m, String factor) {
        return DemoModelNames.peftTensor(m.module(), factor + ".weight");
    }

    private static long[] ids(Path file) throws IOException {
        return Stream.of(Files.readString(file).trim().split("\\s+")).mapToLong(Long::parseLong).toArray();
    }

    private static double field(String line, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": ([-0-9.eE]+|NaN)").matcher(line);
        assertTrue(m.find(), name + " in " + line);
        return Double.parseDouble(m.group(1));
    }

    private static void close(double want, double got, double relative, String what) {
        assertTrue(Math.abs(got - want) <= relative * Math.abs(want), what + ": the reference " + want + ", got " + got);
    }

    private static void closeAll(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-4 * scale, what + "[" + i + "]: the reference " + want[i]
                    + ", written " + got[i]);
        }
    }
}
