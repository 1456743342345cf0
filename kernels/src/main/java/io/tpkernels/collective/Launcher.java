package io.tpkernels.collective;

import java.util.Map;

/**
 * The launchers whose variables say where a process stands in its group, in the order they are looked at. A process
 * takes its rank, world size and local rank from one launcher's variables, never mixed: launchers nest (torchrun
 * under srun, mpirun inside an sbatch script), and the outer one's variables describe its own tasks, not this
 * process.
 *
 * <p>The order puts the launcher that started the process first. The {@code TPK_} names are the user's own word;
 * torchrun's are set only by torchrun, which is often itself started by srun; Open MPI's only by mpirun, whose
 * processes inherit the Slurm variables of the allocation around it (an sbatch script runs as Slurm task 0, so every
 * process mpirun starts on the first node would otherwise read {@code SLURM_PROCID=0}); Slurm's come last.
 */
enum Launcher {
    TPK("TPK_RANK", "TPK_WORLD_SIZE", "TPK_LOCAL_RANK"),
    TORCHRUN("RANK", "WORLD_SIZE", "LOCAL_RANK"),
    OPEN_MPI("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
    SLURM("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID");

    final String rank;
    final String worldSize;
    final String localRank;

    Launcher(String rank, String worldSize, String localRank) {
        this.rank = rank;
        this.worldSize = worldSize;
        this.localRank = localRank;
    }

    /**
     * The first launcher that set its rank or its world size. It must have set both: a rank from one launcher with a
     * world size from another would describe no real group.
     */
    static Launcher of(Map<String, String> env) {
        for (Launcher l : values()) {
            boolean hasRank = isSet(env, l.rank);
            boolean hasWorldSize = isSet(env, l.worldSize);
            if (hasRank != hasWorldSize) {
                String set = hasRank ? l.rank : l.worldSize;
                String unset = hasRank ? l.worldSize : l.rank;
                throw new IllegalArgumentException(set + " is set but " + unset + " is not: the rank and the world"
                        + " size are read from one launcher's variables together, never from two launchers'");
            }
            if (hasRank) {
                return l;
            }
        }
        throw new IllegalArgumentException("no rank and world size in the environment: set TPK_RANK and"
                + " TPK_WORLD_SIZE, or start the process with torchrun (RANK, WORLD_SIZE), mpirun"
                + " (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE) or srun (SLURM_PROCID, SLURM_NTASKS)");
    }

    static boolean isSet(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }
}
