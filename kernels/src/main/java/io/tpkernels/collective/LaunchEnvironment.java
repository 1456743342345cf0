package io.tpkernels.collective;

import java.util.List;
import java.util.Map;

/**
 * Reads a {@link Rendezvous.Config} from the variables a launcher set (see {@link Launcher} for which launcher's, and
 * why one launcher's only). Every error names the variable and its value.
 */
final class LaunchEnvironment {
    /** Where Slurm lists the hosts, the job step's own list first: a step may run on part of its job's hosts. */
    static final List<String> SLURM_HOST_LISTS = List.of("SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST");

    private LaunchEnvironment() {
    }

    static Rendezvous.Config read(Map<String, String> env) {
        Launcher launcher = Launcher.of(env);
        int worldSize = integer(env, launcher.worldSize);
        if (worldSize < 1) {
            throw new IllegalArgumentException(launcher.worldSize + "=" + worldSize + " must be at least 1");
        }
        int rank = below(env, launcher.rank, worldSize, launcher.worldSize);
        // TPK_LOCAL_RANK picks the GPU whatever launched the process; with no local rank at all, the process is taken
        // to share its host with the whole group, as when all ranks are started by hand on one machine.
        String localName = Launcher.isSet(env, Launcher.TPK.localRank) ? Launcher.TPK.localRank : launcher.localRank;
        int localRank = Launcher.isSet(env, localName) ? below(env, localName, worldSize, launcher.worldSize) : rank;
        return new Rendezvous.Config(rank, worldSize, masterAddr(env, launcher), masterPort(env), localRank);
    }

    /**
     * {@code TPK_MASTER_ADDR}, else {@code MASTER_ADDR} (torchrun's, also what Slurm and mpirun users export), else,
     * under srun, the first host of the step's host list: where Slurm places task 0. mpirun says nothing about the
     * host of rank 0, so under mpirun the address must be given.
     */
    private static String masterAddr(Map<String, String> env, Launcher launcher) {
        for (String name : List.of("TPK_MASTER_ADDR", "MASTER_ADDR")) {
            if (Launcher.isSet(env, name)) {
                return env.get(name).strip();
            }
        }
        if (launcher == Launcher.SLURM) {
            for (String name : SLURM_HOST_LISTS) {
                if (Launcher.isSet(env, name)) {
                    try {
                        return SlurmHostList.first(env.get(name).strip());
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
                    }
                }
            }
            throw new IllegalArgumentException("no master address: neither TPK_MASTER_ADDR nor MASTER_ADDR is set,"
                    + " and no Slurm host list either (" + String.join(", ", SLURM_HOST_LISTS) + ")");
        }
        throw new IllegalArgumentException("no master address: neither TPK_MASTER_ADDR nor MASTER_ADDR is set ("
                + launcher.rank + " and " + launcher.worldSize + " name no host)");
    }

    /**
     * {@code TPK_MASTER_PORT}, else {@code MASTER_PORT}, with no default: the handshake does not say which group a
     * rank belongs to, so two groups whose rank 0 shared a host and a default port could hand each other's ids out.
     * Where torchrun's agent serves its own store on {@code MASTER_PORT} (it says so in
     * {@code TORCHELASTIC_USE_AGENT_STORE}), rank 0 could not listen there, and the others would talk to that store.
     */
    private static int masterPort(Map<String, String> env) {
        if (!Launcher.isSet(env, "TPK_MASTER_PORT") && "True".equals(env.get("TORCHELASTIC_USE_AGENT_STORE"))) {
            throw new IllegalArgumentException("MASTER_PORT=" + env.get("MASTER_PORT") + " is torchrun's own store"
                    + " (TORCHELASTIC_USE_AGENT_STORE=True): set TPK_MASTER_PORT to another free port, the same for"
                    + " every rank");
        }
        for (String name : List.of("TPK_MASTER_PORT", "MASTER_PORT")) {
            if (Launcher.isSet(env, name)) {
                int port = integer(env, name);
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException(name + "=" + port + " is outside [1, 65535]");
                }
                return port;
            }
        }
        throw new IllegalArgumentException("no master port: neither TPK_MASTER_PORT nor MASTER_PORT is set (any free"
                + " port, the same for every rank of the group; torchrun's default is 29500)");
    }

    private static int below(Map<String, String> env, String name, int worldSize, String worldSizeName) {
        int v = integer(env, name);
        if (v < 0 || v >= worldSize) {
            throw new IllegalArgumentException(name + "=" + v + " is outside [0, " + worldSizeName + "=" + worldSize
                    + ")");
        }
        return v;
    }

    private static int integer(Map<String, String> env, String name) {
        String v = env.get(name).strip();
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got \"" + v + "\"");
        }
    }
}
