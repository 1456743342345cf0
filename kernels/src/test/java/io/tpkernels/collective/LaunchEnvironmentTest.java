package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Rendezvous.Config#fromEnvironment} for each launcher's variables, their nesting, and what is an error. */
class LaunchEnvironmentTest {

    private static Rendezvous.Config read(String... nameValues) {
        return Rendezvous.Config.fromEnvironment(env(nameValues));
    }

    private static Map<String, String> env(String... nameValues) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            env.put(nameValues[i], nameValues[i + 1]);
        }
        return env;
    }

    private static String error(String... nameValues) {
        return assertThrows(IllegalArgumentException.class, () -> read(nameValues)).getMessage();
    }

    @Test
    void tpkNames() {
        assertEquals(new Rendezvous.Config(1, 2, "h", 7, 1), read("TPK_RANK", "1", "TPK_WORLD_SIZE", "2",
                "TPK_MASTER_ADDR", "h", "TPK_MASTER_PORT", "7"));
        assertEquals(0, read("TPK_RANK", "1", "TPK_WORLD_SIZE", "2", "TPK_LOCAL_RANK", "0", "MASTER_ADDR", "h",
                "MASTER_PORT", "7").localRank());
    }

    @Test
    void torchrun() {
        assertEquals(new Rendezvous.Config(5, 8, "10.0.0.1", 29500, 1), read("RANK", "5", "WORLD_SIZE", "8",
                "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.1", "MASTER_PORT", "29500"));
    }

    /** torchrun's agent serves its own store on MASTER_PORT: the id goes through another port, TPK_MASTER_PORT. */
    @Test
    void underTorchrunsAgentStoreTheIdTakesItsOwnPort() {
        assertEquals("MASTER_PORT=29500 is torchrun's own store (TORCHELASTIC_USE_AGENT_STORE=True): set"
                + " TPK_MASTER_PORT to another free port, the same for every rank", error("RANK", "0", "WORLD_SIZE",
                "2", "MASTER_ADDR", "h", "MASTER_PORT", "29500", "TORCHELASTIC_USE_AGENT_STORE", "True"));
        assertEquals(29501, read("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "29500",
                "TORCHELASTIC_USE_AGENT_STORE", "True", "TPK_MASTER_PORT", "29501").masterPort());
        assertEquals(29500, read("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "29500",
                "TORCHELASTIC_USE_AGENT_STORE", "False").masterPort(), "a port the agent only found free");
    }

    @Test
    void slurmTakesTheMasterFromTheFirstHostOfTheStepsNodes() {
        assertEquals(new Rendezvous.Config(3, 4, "node003", 29500, 1), read("SLURM_PROCID", "3", "SLURM_NTASKS", "4",
                "SLURM_LOCALID", "1", "SLURM_JOB_NODELIST", "node[003-010,015],gpu01", "MASTER_PORT", "29500"));
        assertEquals("gpu-7", read("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_NODELIST", "gpu-[7,9]",
                "MASTER_PORT", "1").masterAddr());
        assertEquals("b2", read("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_STEP_NODELIST", "b2,c3",
                "SLURM_JOB_NODELIST", "a1,b2,c3", "MASTER_PORT", "1").masterAddr(), "the step's hosts first");
        assertEquals("login", read("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_JOB_NODELIST", "a1",
                "MASTER_ADDR", "login", "MASTER_PORT", "1").masterAddr(), "a given address wins");
    }

    @Test
    void openMpiNeedsTheMasterGiven() {
        assertEquals(new Rendezvous.Config(2, 3, "h", 9, 0), read("OMPI_COMM_WORLD_RANK", "2", "OMPI_COMM_WORLD_SIZE",
                "3", "OMPI_COMM_WORLD_LOCAL_RANK", "0", "MASTER_ADDR", "h", "MASTER_PORT", "9"));
        assertEquals("no master address: neither TPK_MASTER_ADDR nor MASTER_ADDR is set (OMPI_COMM_WORLD_RANK and"
                + " OMPI_COMM_WORLD_SIZE name no host)", error("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2",
                "SLURM_JOB_NODELIST", "a1", "MASTER_PORT", "9"));
    }

    /** Launchers nest; the one that started the process is read, whole, and the outer one's variables are not. */
    @Test
    void theInnerLauncherIsReadWhole() {
        // srun torchrun ...: Slurm's task is the torchrun agent of one node, torchrun's ranks are the processes.
        assertEquals(new Rendezvous.Config(6, 8, "node001", 1, 2), read("SLURM_PROCID", "1", "SLURM_NTASKS", "2",
                "SLURM_LOCALID", "0", "SLURM_JOB_NODELIST", "node[001-002]", "RANK", "6", "WORLD_SIZE", "8",
                "LOCAL_RANK", "2", "MASTER_ADDR", "node001", "MASTER_PORT", "1"));
        // mpirun inside an sbatch script: every process inherits the script's SLURM_PROCID=0.
        assertEquals(new Rendezvous.Config(3, 4, "h", 1, 3), read("SLURM_PROCID", "0", "SLURM_NTASKS", "4",
                "SLURM_LOCALID", "0", "OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "4",
                "OMPI_COMM_WORLD_LOCAL_RANK", "3", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
        // The TPK_ names are the user's word over any launcher's.
        assertEquals(new Rendezvous.Config(0, 1, "h", 1, 0), read("TPK_RANK", "0", "TPK_WORLD_SIZE", "1", "RANK", "3",
                "WORLD_SIZE", "4", "LOCAL_RANK", "3", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
        assertEquals(1, read("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "3", "TPK_LOCAL_RANK", "1", "MASTER_ADDR",
                "h", "MASTER_PORT", "1").localRank(), "TPK_LOCAL_RANK picks the GPU under any launcher");
    }

    @Test
    void aRankFromOneLauncherAndAWorldSizeFromAnotherIsAnErrorNamingBoth() {
        assertEquals("RANK is set but WORLD_SIZE is not: the rank and the world size are read from one launcher's"
                + " variables together, never from two launchers'", error("RANK", "1", "SLURM_PROCID", "1",
                "SLURM_NTASKS", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
        assertEquals("TPK_WORLD_SIZE is set but TPK_RANK is not: the rank and the world size are read from one"
                + " launcher's variables together, never from two launchers'", error("TPK_WORLD_SIZE", "2", "RANK",
                "1", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
    }

    @Test
    void errorsNameTheVariableAndItsValue() {
        assertEquals("SLURM_PROCID must be an integer, got \"x\"", error("SLURM_PROCID", "x", "SLURM_NTASKS", "2",
                "SLURM_JOB_NODELIST", "a", "MASTER_PORT", "1"));
        assertEquals("OMPI_COMM_WORLD_RANK=4 is outside [0, OMPI_COMM_WORLD_SIZE=4)", error("OMPI_COMM_WORLD_RANK", "4",
                "OMPI_COMM_WORLD_SIZE", "4", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
        assertEquals("LOCAL_RANK=-1 is outside [0, WORLD_SIZE=2)", error("RANK", "0", "WORLD_SIZE", "2", "LOCAL_RANK",
                "-1", "MASTER_ADDR", "h", "MASTER_PORT", "1"));
        assertEquals("SLURM_NTASKS=0 must be at least 1", error("SLURM_PROCID", "0", "SLURM_NTASKS", "0",
                "SLURM_JOB_NODELIST", "a", "MASTER_PORT", "1"));
        assertEquals("MASTER_PORT=70000 is outside [1, 65535]", error("RANK", "0", "WORLD_SIZE", "1", "MASTER_ADDR",
                "h", "MASTER_PORT", "70000"));
        assertEquals("SLURM_JOB_NODELIST: \"node[1-\" is not a Slurm host list: a '[' with no ']' after it",
                error("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_JOB_NODELIST", "node[1-", "MASTER_PORT", "1"));
        assertEquals("no master address: neither TPK_MASTER_ADDR nor MASTER_ADDR is set, and no Slurm host list either"
                + " (SLURM_STEP_NODELIST, SLURM_JOB_NODELIST, SLURM_NODELIST)", error("SLURM_PROCID", "0",
                "SLURM_NTASKS", "2", "MASTER_PORT", "1"));
        assertEquals("no master port: neither TPK_MASTER_PORT nor MASTER_PORT is set (any free port, the same for every"
                + " rank of the group; torchrun's default is 29500)", error("SLURM_PROCID", "0", "SLURM_NTASKS", "2",
                "SLURM_JOB_NODELIST", "a"));
        assertEquals("no rank and world size in the environment: set TPK_RANK and TPK_WORLD_SIZE, or start the process"
                + " with torchrun (RANK, WORLD_SIZE), mpirun (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE) or srun"
                + " (SLURM_PROCID, SLURM_NTASKS)", error("MASTER_ADDR", "h", "MASTER_PORT", "1", "RANK", " "));
    }

    @Test
    void theDeviceIsTheLocalRankModuloTheVisibleDevices() {
        Rendezvous.Config third = new Rendezvous.Config(6, 8, "h", 1, 2);
        assertEquals(2, third.device(4));
        assertEquals(2, third.device(8), "the local rank, not the rank (6)");
        assertEquals(0, third.device(1), "srun --gpus-per-task=1 shows each task its own GPU only");
        assertEquals(3, new Rendezvous.Config(3, 4, "h", 1).device(8), "no local rank: all on one host");
        assertThrows(IllegalArgumentException.class, () -> third.device(0));
    }
}
