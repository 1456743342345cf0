package io.tpkernels.layers;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.runtime.Device;
import java.util.Objects;

/**
 * Where one rank's layers live: its tensor-parallel group (the ranks that share each layer), its device, and
 * the precision of its weights and activations.
 *
 * @param tp        the tensor-parallel group; {@code tp.rank()} picks this rank's shards
 * @param device    where the shards are copied and the kernels run
 * @param precision the weights' and activations' float type
 */
public record RankContext(ProcessGroup tp, Device device, Precision precision) {
    public RankContext {
        Objects.requireNonNull(tp, "tp");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
    }

    /** This rank's index in its tensor-parallel group. */
    public int rank() {
        return tp.rank();
    }

    /** The tensor-parallel size. */
    public int size() {
        return tp.size();
    }
}
