package io.tpkernels.collective;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How the processes of a multi-process group find each other: rank 0 serves a small payload (NCCL's 128-byte
 * unique id) over TCP on {@code MASTER_PORT}; every other rank connects to {@code MASTER_ADDR:MASTER_PORT}, with
 * retries until the timeout, and fetches it. Rank 0 listens on every interface (the wildcard address), as
 * torchrun's store does: {@code MASTER_ADDR} is how the others reach it, which need not be an address rank 0
 * would bind by resolving that name itself (Debian resolves a host's own name to 127.0.1.1, which no other host
 * can reach). The configuration comes from the environment ({@link Config#fromEnvironment}): the variables of the
 * {@code TPK_} names, torchrun, Open MPI's mpirun or Slurm's srun.
 */
public final class Rendezvous {
    private static final int MAGIC = 0x54504B31; // "TPK1"

    private Rendezvous() {
    }

    /**
     * Where this process stands in the group.
     *
     * @param rank this process's rank, in [0, {@code worldSize})
     * @param worldSize how many processes the group has
     * @param masterAddr the host the other ranks reach rank 0 at
     * @param masterPort the port rank 0 serves the id on
     * @param localRank this process's index among the group's processes on its host, which picks its GPU
     */
    public record Config(int rank, int worldSize, String masterAddr, int masterPort, int localRank) {
        /** Checks the ranks and the port. */
        public Config {
            if (worldSize < 1 || rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("rank " + rank + " is outside [0, " + worldSize + ")");
            }
            if (localRank < 0 || localRank >= worldSize) {
                throw new IllegalArgumentException("local rank " + localRank + " is outside [0, " + worldSize + ")");
            }
            if (masterPort < 1 || masterPort > 65535) {
                throw new IllegalArgumentException("master port " + masterPort + " is outside [1, 65535]");
            }
        }

        /**
         * A group whose processes all share one host, so the local rank is the rank.
         *
         * @param rank this process's rank, in [0, {@code worldSize})
         * @param worldSize how many processes the group has
         * @param masterAddr the host the other ranks reach rank 0 at
         * @param masterPort the port rank 0 serves the id on
         */
        public Config(int rank, int worldSize, String masterAddr, int masterPort) {
            this(rank, worldSize, masterAddr, masterPort, rank);
        }

        /**
         * Read from {@code env}. The rank, the world size and the local rank come from one launcher's variables, the
         * first of these that set a rank or a world size (the launcher that started the process comes first, as
         * they nest: torchrun under srun, mpirun inside an sbatch script):
         * <ol>
         * <li>{@code TPK_RANK}, {@code TPK_WORLD_SIZE} ({@code TPK_LOCAL_RANK});
         * <li>torchrun's {@code RANK}, {@code WORLD_SIZE} ({@code LOCAL_RANK});
         * <li>Open MPI's {@code OMPI_COMM_WORLD_RANK}, {@code OMPI_COMM_WORLD_SIZE}
         * ({@code OMPI_COMM_WORLD_LOCAL_RANK});
         * <li>Slurm's {@code SLURM_PROCID}, {@code SLURM_NTASKS} ({@code SLURM_LOCALID}).
         * </ol>
         * A launcher that set one of its rank and world size but not the other is an error naming both: the two are
         * never taken from different launchers. {@code TPK_LOCAL_RANK}, when set, is the local rank whatever the
         * launcher; with no local rank at all it is the rank. The master address is {@code TPK_MASTER_ADDR}, else
         * {@code MASTER_ADDR}, else, under Slurm, the first host of {@code SLURM_STEP_NODELIST},
         * {@code SLURM_JOB_NODELIST} or {@code SLURM_NODELIST} (where srun places task 0). The port is
         * {@code TPK_MASTER_PORT}, else {@code MASTER_PORT}, with no default: two groups sharing a host and a
         * default port would hand each other's ids out. Where torchrun's agent serves its own store on
         * {@code MASTER_PORT} ({@code TORCHELASTIC_USE_AGENT_STORE=True}), {@code TPK_MASTER_PORT} must be set. Every
         * error names the variable and its value.
         *
         * @param env the environment, e.g. {@link System#getenv()}
         * @return the configuration it describes
         * @throws IllegalArgumentException when a variable is missing, not an integer or out of range
         */
        public static Config fromEnvironment(Map<String, String> env) {
            return LaunchEnvironment.read(env);
        }

        /**
         * The CUDA device ordinal this process uses: its local rank modulo the devices it sees. The modulo keeps
         * a launcher that shows each process only its own GPU (srun's {@code --gpus-per-task=1} sets
         * {@code CUDA_VISIBLE_DEVICES} per task) working: there every process sees one device, ordinal 0.
         *
         * @param deviceCount how many CUDA devices this process sees, at least 1
         * @return the ordinal, in [0, {@code deviceCount})
         */
        public int device(int deviceCount) {
            if (deviceCount < 1) {
                throw new IllegalArgumentException("rank " + rank + " sees " + deviceCount + " CUDA devices: it needs"
                        + " at least one");
            }
            return localRank % deviceCount;
        }
    }

    /**
     * Rank 0 serves {@code payloadOnRank0.get()} to the other {@code worldSize − 1} ranks and returns it; the
     * others fetch and return it. Fails with a {@link CollectiveException} naming what did not happen in time.
     *
     * @param config where this process stands and where rank 0 serves
     * @param payloadOnRank0 makes the payload; called on rank 0 only
     * @param timeout how long to wait for the other ranks, in all
     * @return the payload, the same bytes on every rank
     * @throws CollectiveException when a rank does not connect or answer in time, or the connection fails
     */
    public static byte[] exchange(Config config, Supplier<byte[]> payloadOnRank0, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            return config.rank() == 0 ? serve(config, payloadOnRank0.get(), deadline) : fetch(config, deadline);
        } catch (IOException e) {
            throw new CollectiveException("rendezvous of rank " + config.rank() + " at " + config.masterAddr() + ":"
                    + config.masterPort() + " failed: " + e.getMessage(), e);
        }
    }

    /** How long rank 0 waits for one connection to say who it is before dropping it. */
    private static final int PER_CONNECTION_MILLIS = 5000;

    private static int millisLeft(long deadline) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000));
    }

    private static byte[] serve(Config config, byte[] payload, long deadline) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(config.masterPort())); // the wildcard address: every interface
            boolean[] served = new boolean[config.worldSize()];
            for (int n = 1; n < config.worldSize(); ) {
                server.setSoTimeout(millisLeft(deadline));
                Socket accepted;
                try {
                    accepted = server.accept();
                } catch (SocketTimeoutException e) {
                    StringBuilder missing = new StringBuilder();
                    for (int r = 1; r < served.length; r++) {
                        if (!served[r]) {
                            missing.append(missing.isEmpty() ? "" : ", ").append(r);
                        }
                    }
                    throw new CollectiveException("rendezvous: rank 0 timed out waiting for ranks [" + missing + "]");
                }
                // Listening on every interface, rank 0 may be reached by anything (a port scan, a health check, a
                // rank that died mid-handshake): such a connection is dropped, and the ranks retry theirs.
                try (Socket s = accepted) {
                    s.setSoTimeout(Math.min(millisLeft(deadline), PER_CONNECTION_MILLIS));
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    if (in.readInt() != MAGIC) {
                        continue; // not one of ours
                    }
                    int peer = in.readInt();
                    if (peer <= 0 || peer >= config.worldSize() || served[peer]) {
                        out.writeInt(-1);
                        continue;
                    }
                    out.writeInt(payload.length);
                    out.write(payload);
                    out.flush();
                    served[peer] = true;
                    n++;
                } catch (IOException e) {
                    continue; // a stray, silent or broken connection
                }
            }
            return payload;
        }
    }

    private static byte[] fetch(Config config, long deadline) throws IOException {
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(config.masterAddr(), config.masterPort()), millisLeft(deadline));
                s.setSoTimeout(millisLeft(deadline));
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(MAGIC);
                out.writeInt(config.rank());
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int n = in.readInt();
                if (n < 0 || n > 1 << 20) {
                    throw new CollectiveException("rendezvous: rank 0 refused rank " + config.rank()
                            + " (already served, or outside the world size)");
                }
                byte[] payload = in.readNBytes(n);
                if (payload.length != n) {
                    // The connection closed early: a truncated id would make NCCL fail later, far from the cause.
                    throw new CollectiveException("rendezvous: rank " + config.rank() + " got " + payload.length
                            + " of the " + n + " bytes rank 0 at " + config.masterAddr() + ":" + config.masterPort()
                            + " announced before the connection closed");
                }
                return payload;
            } catch (IOException e) {
                last = e; // rank 0 not listening yet: retry
                try {
                    Thread.sleep(Math.min(100, millisLeft(deadline)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CollectiveException("rendezvous of rank " + config.rank() + " was interrupted");
                }
            }
        }
        throw new CollectiveException("rendezvous: rank " + config.rank() + " could not reach rank 0 at "
                + config.masterAddr() + ":" + config.masterPort() + " before the timeout"
                + (last == null ? "" : " (" + last.getMessage() + ")"));
    }
}
