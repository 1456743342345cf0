package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Two processes on this machine, each given only what one launcher would set for it, find each other through the
 * real rendezvous and agree on the ranks, the world size and the master, and on rank 0's 128-byte id.
 */
class LauncherProcessesTest {
    private static final Pattern LINE = Pattern.compile(
            "rank (\\d+) of (\\d+) master (\\S+) local (\\d+) id ([0-9a-f]+)");

    @Test
    void torchrun() throws Exception {
        twoRanks((rank, port) -> Map.of("RANK", "" + rank, "WORLD_SIZE", "2", "LOCAL_RANK", "" + rank,
                "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port));
    }

    /** No master address: srun's host list names it, here a loopback address behind Slurm's brackets. */
    @Test
    void slurm() throws Exception {
        twoRanks((rank, port) -> Map.of("SLURM_PROCID", "" + rank, "SLURM_NTASKS", "2", "SLURM_LOCALID", "" + rank,
                "SLURM_JOB_NODELIST", "127.0.0.[1-2]", "MASTER_PORT", "" + port));
    }

    @Test
    void openMpi() throws Exception {
        twoRanks((rank, port) -> Map.of("OMPI_COMM_WORLD_RANK", "" + rank, "OMPI_COMM_WORLD_SIZE", "2",
                "OMPI_COMM_WORLD_LOCAL_RANK", "" + rank, "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port));
    }

    private static void twoRanks(BiFunction<Integer, Integer, Map<String, String>> launcherEnv) throws Exception {
        int port = ProbeProcesses.freePort();
        List<Process> ps = new ArrayList<>();
        try {
            ps.add(ProbeProcesses.start(launcherEnv.apply(1, port))); // the peer first: it retries until rank 0 listens
            ps.add(ProbeProcesses.start(launcherEnv.apply(0, port)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<Matcher> lines = new ArrayList<>();
            for (Process p : ps) {
                String out = ProbeProcesses.finish(p, deadline);
                assertEquals(0, p.exitValue(), out);
                Matcher m = LINE.matcher(out);
                assertTrue(m.matches(), out);
                lines.add(m);
            }
            Matcher peer = lines.get(0);
            Matcher root = lines.get(1);
            assertEquals(List.of("1", "0"), List.of(peer.group(1), root.group(1)), "ranks");
            assertEquals(List.of("1", "0"), List.of(peer.group(4), root.group(4)), "local ranks");
            for (Matcher m : lines) {
                assertEquals("2", m.group(2), "world size");
                assertEquals("127.0.0.1:" + port, m.group(3), "master");
            }
            assertEquals(root.group(5), peer.group(5), "rank 0's id");
            assertEquals(2 * 128, root.group(5).length(), "NCCL's unique id is 128 bytes");
        } finally {
            ps.forEach(Process::destroyForcibly); // none outlives the test, whatever failed
        }
    }
}
