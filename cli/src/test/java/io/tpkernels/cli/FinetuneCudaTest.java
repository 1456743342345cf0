package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.testing.GpuTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tpk finetune --backend cuda} logs the steps the CPU logs (F32: each loss within 1e-5 relative). */
@GpuTest
class FinetuneCudaTest {
    private static final Pattern LOSS = Pattern.compile("\"loss\": ([-0-9.eE]+)");

    @TempDir
    Path dir;

    @Test
    void theGpuLogsTheCpusLosses() throws IOException {
        SplittableRandom random = new SplittableRandom(3);
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            ids.append(random.nextInt(37)).append(' ');
        }
        Path data = Files.writeString(dir.resolve("ids.txt"), ids);
        List<Double> cpu = losses(data, "cpu");
        List<Double> gpu = losses(data, "cuda");
        assertEquals(cpu.size(), gpu.size());
        for (int k = 0; k < cpu.size(); k++) {
            double want = cpu.get(k);
            assertTrue(Math.abs(gpu.get(k) - want) <= 1e-5 * Math.abs(want), "step " + (k + 1) + ": CPU " + want
                    + ", GPU " + gpu.get(k));
        }
    }

    private List<Double> losses(Path data, String backend) throws IOException {
        Path log = dir.resolve(backend + ".jsonl");
        CliRun r = CliRun.tpk("finetune", "--model", PeftFixtureFiles.in(dir).resolve("base").toString(),
                "--data", data.toString(), "--seq-len", "5", "--batch", "4", "--steps", "4", "--lr", "0.02",
                "--clip-norm", "0.5", "--lora-init", PeftFixtureFiles.in(dir).resolve("rslora").toString(),
                "--tp", "2", "--pp", "2", "--micro-batches", "2", "--backend", backend, "--out",
                dir.resolve(backend).toString(), "--log", log.toString());
        assertEquals(0, r.exit(), r.err());
        return Files.readAllLines(log).stream().map(line -> {
            Matcher m = LOSS.matcher(line);
            assertTrue(m.find(), line);
            return Double.parseDouble(m.group(1));
        }).toList();
    }
}
