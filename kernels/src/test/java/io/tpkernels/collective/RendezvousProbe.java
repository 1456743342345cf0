package io.tpkernels.collective;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

/**
 * A stand-in for a rank process: reads the group from the environment, exchanges a 128-byte id (the size of NCCL's
 * unique id), prints where it stands and the id.
 */
public final class RendezvousProbe {
    private RendezvousProbe() {
    }

    public static void main(String[] args) {
        Rendezvous.Config config = Rendezvous.Config.fromEnvironment(System.getenv());
        byte[] id = Rendezvous.exchange(config, () -> {
            byte[] b = new byte[128];
            new java.security.SecureRandom().nextBytes(b);
            return b;
        }, Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("PROBE_TIMEOUT_S", "20"))));
        System.out.println("rank " + config.rank() + " of " + config.worldSize() + " master " + config.masterAddr()
                + ":" + config.masterPort() + " local " + config.localRank() + " id " + HexFormat.of().formatHex(id));
    }

    static Map<String, String> env(int rank, int world, int port, boolean torchrunNames) {
        String p = torchrunNames ? "" : "TPK_";
        return Map.of(p + "RANK", "" + rank, p + "WORLD_SIZE", "" + world, p + "MASTER_ADDR", "127.0.0.1",
                p + "MASTER_PORT", "" + port);
    }
}
