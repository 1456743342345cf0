package io.tpkernels.layers;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import java.util.Objects;

/**
 * Where one rank's layers live: its tensor-parallel group (the ranks that share each layer), its execution context
 * (device, stream, tuning: where the shards are copied and the kernels queued), and the precision of its weights and
 * activations. A layer's forward queues its work on {@code exec} and returns without waiting; the host waits where
 * the caller reads a result.
 *
 * @param tp        the tensor-parallel group; {@code tp.rank()} picks this rank's shards
 * @param exec      the rank's execution context
 * @param precision the weights' and activations' float type
 */
public record RankContext(ProcessGroup tp, ExecutionContext exec, Precision precision) {
    /**
     * Checks that no part is {@code null}.
     *
     * @param tp the tensor-parallel group
     * @param exec the rank's execution context
     * @param precision the weights' and activations' float type
     * @throws NullPointerException when a part is {@code null}
     */
    public RankContext {
        Objects.requireNonNull(tp, "tp");
        Objects.requireNonNull(exec, "exec");
        Objects.requireNonNull(precision, "precision");
    }

    /**
     * Where the shards are copied and the kernels run.
     *
     * @return the execution context's device
     */
    public Device device() {
        return exec.device();
    }

    /**
     * This rank's index in its tensor-parallel group.
     *
     * @return {@code tp().rank()}, in {@code [0, size())}
     */
    public int rank() {
        return tp.rank();
    }

    /**
     * The tensor-parallel size.
     *
     * @return {@code tp().size()}
     */
    public int size() {
        return tp.size();
    }
}
