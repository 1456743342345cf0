package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts {@link RendezvousProbe} processes on this machine, each with only the launcher variables a test gives it. */
final class ProbeProcesses {
    private ProbeProcesses() {
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A probe whose environment holds {@code env} and no launcher variable of the environment the tests run in. */
    static Process start(Map<String, String> env) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                RendezvousProbe.class.getName()).redirectErrorStream(true);
        // Tests run under a launcher too (a CI job in a Slurm allocation): its variables would be read first.
        pb.environment().keySet().removeIf(k -> k.startsWith("TPK_") || k.startsWith("SLURM_") || k.startsWith("OMPI_")
                || k.startsWith("TORCHELASTIC_") || k.endsWith("RANK") || k.endsWith("WORLD_SIZE")
                || k.contains("MASTER_"));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** A probe's output once it ended; one still running at the deadline is killed, and the test fails. */
    static String finish(Process p, long deadline) throws Exception {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("a rank process was still running at the deadline and was killed");
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }
}
