package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CPU GEMMs' sums (the forward's and the backward's) are the same bits whatever the machine's vectors: in JVMs
 * limited to 256- and 128-bit vectors ({@code tpk.cpu.vectorBits}), where each kernel runs in parts, and in one
 * without the Vector API, where the scalar kernels run, the fingerprint of {@link LaneWidthProbe}'s GEMMs is this
 * JVM's. The JVM without it says so once on its standard error, with the flag that adds it.
 */
class LaneWidthTest {

    /** The probe's standard output and standard error. */
    private record Probe(String out, String err) {
    }

    private static Probe probe(boolean vectorModule, String vectorBits) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (vectorModule) {
            command.add("--add-modules");
            command.add("jdk.incubator.vector");
        }
        if (vectorBits != null) {
            command.add("-Dtpk.cpu.vectorBits=" + vectorBits);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LaneWidthProbe.class.getName()));
        Path err = Files.createTempFile("lane-width-probe", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            byte[] output = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the probe ended");
            String text = new String(output, StandardCharsets.UTF_8).strip();
            String errText = Files.readString(err);
            assertEquals(0, p.exitValue(), text + "\n" + errText);
            return new Probe(text, errText);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static int lanes(String describe) {
        return describe.equals("scalar") ? 0 : Integer.parseInt(describe.replaceAll("\\D", ""));
    }

    @Test
    void narrowerVectorsAndTheScalarKernelsGiveTheSameBits() throws Exception {
        String here = DotKernels.best().describe();
        String expected = LaneWidthProbe.fingerprint();
        int lanesHere = lanes(here);
        for (String bits : new String[] {"256", "128"}) {
            String[] got = probe(true, bits).out().split("\n", 2);
            int lanesThere = lanes(got[0]);
            assertEquals(lanesHere == 0 ? 0 : Math.min(lanesHere, Integer.parseInt(bits) / 32), lanesThere,
                    "kernels with " + bits + "-bit vectors: " + got[0]);
            assertEquals(expected, got[1], got[0] + " against " + here);
        }
        Probe withoutModule = probe(false, null);
        String[] scalar = withoutModule.out().split("\n", 2);
        assertEquals("scalar", scalar[0]);
        assertEquals(expected, scalar[1], "scalar against " + here);
        // Both kernel families fell back; the warning comes once.
        assertEquals(1, withoutModule.err().split("--add-modules jdk.incubator.vector", -1).length - 1,
                withoutModule.err());
    }
}
