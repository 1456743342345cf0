package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CPU GEMMs' sums (the forward's and the backward's) are the same bits whatever the machine's vectors: in JVMs
 * limited to 256- and 128-bit vectors ({@code tpk.cpu.vectorBits}), where each kernel runs in parts, and in one
 * without the Vector API, where the scalar kernels run, the fingerprint of {@link LaneWidthProbe}'s GEMMs is this
 * JVM's.
 */
class LaneWidthTest {

    private static String probe(boolean vectorModule, String vectorBits) throws Exception {
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
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the probe ended");
        String text = new String(output, StandardCharsets.UTF_8).strip();
        assertEquals(0, p.exitValue(), text);
        // Drop the JVM's warning about the incubator module.
        return String.join("\n", text.lines().filter(l -> !l.startsWith("WARNING")).toList());
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
            String[] got = probe(true, bits).split("\n", 2);
            int lanesThere = lanes(got[0]);
            assertEquals(lanesHere == 0 ? 0 : Math.min(lanesHere, Integer.parseInt(bits) / 32), lanesThere,
                    "kernels with " + bits + "-bit vectors: " + got[0]);
            assertEquals(expected, got[1], got[0] + " against " + here);
        }
        String[] scalar = probe(false, null).split("\n", 2);
        assertEquals("scalar", scalar[0]);
        assertEquals(expected, scalar[1], "scalar against " + here);
    }
}
