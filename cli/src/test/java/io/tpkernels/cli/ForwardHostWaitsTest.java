package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.testing.GpuTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulator's counts (TPK_EMU_STATS=1, cuda-emulator/src/main/native/driver.c) of a whole
 * {@code tpk forward --backend cuda} of the demo model, in a process of its own (the driver prints its line at
 * exit): the line is there, and the launches grow with the layers. Host waits grow with the layers too as long as
 * every op synchronises; the goal is that they stop growing once the runtime is stream-ordered, so they are
 * reported, not asserted (cuda-src/PERF-NOTES.md, "Host waits per forward (emulator counts)").
 */
@GpuTest
class ForwardHostWaitsTest {

    private static final Pattern COUNTS = Pattern.compile("(?m)^tpk-emulator: launches=(\\d+) host-waits=(\\d+)$");

    @TempDir
    Path tmp;

    private record Counts(long launches, long hostWaits) {
    }

    @Test
    void theEmulatorCountsTheLaunchesAndHostWaitsOfAForward() throws Exception {
        assumeTrue(CudaDevice.of(0).isEmulator(), "the counts are the CPU emulator's; CUDA device 0 is a GPU");
        assumeFalse("reverse".equals(System.getenv("TPK_EMU_BLOCK_ORDER")), "counted once, with blocks in order");
        Counts two = forward(2);
        Counts eight = forward(8);
        System.out.printf("emulator counts of tpk forward --backend cuda, demo model, 8 tokens: "
                + "2 layers %s, 8 layers %s%n", two, eight);
        assertTrue(two.launches() > 0 && two.hostWaits() > 0, two.toString());
        assertTrue(eight.launches() > two.launches(), two + " then " + eight);
    }

    /** The counts of one forward of the demo model's sizes with that many layers, 8 tokens, tp 1, no adapter. */
    private Counts forward(int layers) throws Exception {
        var sizes = new DemoModelWriter.Sizes(1003, 64, 192, layers, 8, 16, false);
        Path model = Files.createDirectories(tmp.resolve("model-" + layers));
        DemoModelWriter.writeModel(model, sizes, 2026);
        Path out = tmp.resolve("logits-" + layers + ".safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Tpk.class.getName(), "forward", "--model", model.toString(), "--tokens", "0,17,511,1002,64,999,3,128",
                "--backend", "cuda", "--out", out.toString()));
        pb.environment().put("TPK_EMU_STATS", "1");
        pb.environment().remove("TPK_EMU_TRACE");
        Path log = tmp.resolve("forward-" + layers + ".log");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("tpk forward with " + layers + " layers did not finish in 5 minutes");
        }
        String output = read(log);
        assertEquals(0, p.exitValue(), output);
        assertTrue(Files.exists(out), output);
        Matcher m = COUNTS.matcher(output);
        assertTrue(m.find(), "no counts line in:\n" + output);
        Counts counts = new Counts(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        assertTrue(!m.find(), "one counts line only:\n" + output);
        return counts;
    }

    private static String read(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }
}
