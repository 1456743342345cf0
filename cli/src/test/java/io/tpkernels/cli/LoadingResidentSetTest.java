package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading releases what it has copied: {@code tpk forward --backend cpu} of a 267 MB F32 model grows its process's
 * peak resident set by at most 1.25 times the weights its ranks hold (all of them, at tp 1 as at tp 2: every
 * tensor of the demo model is split, and the CPU copies each shard out of the mapping), beyond what the same
 * command grows it by for a model of 1 MB. Without the release, the file's mapped pages stay resident beside the
 * shards and the growth is twice the weights.
 *
 * <p>Each run is a JVM of its own ({@link PeakResidentSet}), so that the peak is this load's alone. The heap is
 * small and fixed in both runs: the forward's garbage (the CPU kernels' vectors before they are compiled) would
 * otherwise grow the young generation by a varying hundred MB or so that has nothing to do with loading.
 */
class LoadingResidentSetTest {
    /** 16000 × 512 embedding and LM head, 16 layers of 512 × 2048 projections: 267 MB of F32. */
    private static final DemoModelWriter.Sizes MODEL = new DemoModelWriter.Sizes(16000, 512, 2048, 16, 8, 16, false);
    /** The demo's own model, 1.4 MB: the JVM's growth for the same work without the weights. */
    private static final DemoModelWriter.Sizes TINY = new DemoModelWriter.Sizes(1003, 64, 192, 6, 8, 16, false);
    private static final double BOUND = 1.25;
    private static final Pattern PEAK = Pattern.compile("(?m)^resident kB: start (\\d+) peak (\\d+)$");

    @TempDir
    static Path tmp;

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "reads Linux's /proc/self/status");
    }

    @Test
    void peakResidentGrowthIsTheWeightsHeldAtTp1AndTp2() throws Exception {
        Path model = write("model", MODEL);
        Path tiny = write("tiny", TINY);
        long held = weightBytes(MODEL);
        for (int tp : new int[] {1, 2}) {
            long jvm = growth(tiny, tp);
            long load = growth(model, tp);
            System.out.printf("tpk forward --backend cpu --tp %d: peak resident growth %d MiB for %d MiB of weights"
                    + " (%.2fx beyond the JVM's own), %d MiB for the 1.4 MB model%n", tp, load >> 20, held >> 20,
                    (double) (load - jvm) / held, jvm >> 20);
            assertTrue(load - jvm <= BOUND * held, "tp " + tp + ": the peak resident set grew by " + load
                    + " bytes, " + jvm + " of them the JVM's own; the ranks hold " + held + " bytes of weights");
        }
    }

    private static Path write(String name, DemoModelWriter.Sizes sizes) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        DemoModelWriter.writeModel(dir, sizes, 2026);
        return dir;
    }

    /** The weights' bytes, F32: what the ranks of a forward hold together, whatever tp. */
    private static long weightBytes(DemoModelWriter.Sizes s) {
        long h = s.hidden();
        return 4 * (2L * s.vocab() * h + 3L * s.layers() * h * s.intermediate());
    }

    /** The peak resident set less the resident set at start of a forward of {@code model} at {@code tp}, in bytes. */
    private static long growth(Path model, int tp) throws Exception {
        Path out = tmp.resolve("logits.safetensors");
        Path log = tmp.resolve("forward.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), PeakResidentSet.class.getName(),
                "forward", "--backend", "cpu", "--model", model.toString(), "--tokens", "0,17,511,1002",
                "--tp", Integer.toString(tp), "--out", out.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("tpk forward did not finish in 2 minutes");
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        Matcher m = PEAK.matcher(output);
        assertTrue(m.find(), "no resident line in:\n" + output);
        return (Long.parseLong(m.group(2)) - Long.parseLong(m.group(1))) << 10;
    }
}
