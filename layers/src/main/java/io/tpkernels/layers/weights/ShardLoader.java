package io.tpkernels.layers.weights;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;

/**
 * Loads one rank's shard of a named weight: checks the tensor's full shape and dtype against what the layer
 * expects, then copies only the shard ({@link ShardCopy}) to the rank's device in the layer's dtype, releasing a
 * mapped file's pages as it goes. A view that cannot be read (a mapped file cut short while in use, which the JVM
 * reports as an {@link InternalError}) is the source's own error naming the file and the tensor
 * ({@link WeightSource#unreadable}).
 */
public final class ShardLoader {
    private ShardLoader() {
    }

    /** How a tensor is split across ranks. */
    public enum Split {
        /** Every rank holds all of it. */
        REPLICATED,
        /** Rank r holds rows {@code [from, to)} (dimension 0). */
        ROWS,
        /** Rank r holds columns {@code [from, to)} (the last dimension of a 2-D tensor). */
        COLUMNS
    }

    /**
     * The part {@code [from, to)} along {@code split} of {@code name}, which must have {@code fullShape} and a
     * float dtype, as {@code dtype} on {@code device}.
     *
     * @param source where the tensor is
     * @param name the tensor's name
     * @param fullShape the full (unsharded) shape the layer expects
     * @param split how the tensor is split across ranks
     * @param from the part's first index along the split (ignored when replicated)
     * @param to one past its last index
     * @param device the rank's device
     * @param dtype the layer's dtype
     * @return this rank's part, owned by the caller
     * @throws WeightException when the tensor is missing, has another shape, is not float, or cannot be read (a mapped
     *     file cut short)
     * @throws IllegalArgumentException when the range is out of bounds
     */
    public static Tensor load(WeightSource source, String name, long[] fullShape, Split split, long from, long to,
                              Device device, DType dtype) {
        TensorInfo info = source.require(name, fullShape);
        requireFloat(source, info);
        try {
            return switch (split) {
                case REPLICATED -> ShardCopy.whole(source, name, device, dtype);
                case ROWS -> ShardCopy.rows(source, name, from, to, device, dtype);
                case COLUMNS -> ShardCopy.columns(source, name, from, to, device, dtype);
            };
        } catch (InternalError fault) {
            throw source.unreadable(name, fault);
        }
    }

    /**
     * An adapter tensor (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>):
     * one whose shape is the full logical {@code fullShape} is cut to this rank's part {@code [from, to)} along
     * {@code split}; one whose shape is already the local shard's is taken as is; any other shape is an error naming
     * the tensor, both shapes, tp and the rank.
     *
     * @param source where the adapter's tensors are
     * @param name the tensor's name
     * @param fullShape the full logical shape
     * @param split how the tensor is split across ranks
     * @param from this rank's first index along the split
     * @param to one past its last index
     * @param tp the tensor-parallel size, for the message
     * @param rank this rank, for the message
     * @param device the rank's device
     * @param dtype the layer's dtype
     * @return this rank's part, owned by the caller
     * @throws WeightException when the tensor is missing, is not float, has neither the full nor the local shape, or
     *     cannot be read
     */
    public static Tensor loadFullOrLocal(WeightSource source, String name, long[] fullShape, Split split, long from,
                                         long to, int tp, int rank, Device device, DType dtype) {
        TensorInfo info = source.info(name);
        requireFloat(source, info);
        long[] local = fullShape.clone();
        if (split != Split.REPLICATED) {
            local[split == Split.ROWS ? 0 : local.length - 1] = to - from;
        }
        if (info.hasShape(fullShape)) {
            return load(source, name, fullShape, split, from, to, device, dtype);
        }
        if (info.hasShape(local)) {
            try {
                return ShardCopy.whole(source, name, device, dtype);
            } catch (InternalError fault) {
                throw source.unreadable(name, fault);
            }
        }
        throw new WeightException(source.describe() + ": tensor " + name + " has shape " + Arrays.toString(info.shape())
                + ", expected the full " + Arrays.toString(fullShape) + " or rank " + rank + "'s shard "
                + Arrays.toString(local) + " of tp " + tp);
    }

    private static void requireFloat(WeightSource source, TensorInfo info) {
        if (!info.dtype().isFloatingPoint()) {
            throw new WeightException(source.describe() + ": tensor " + info.describe()
                    + " is not a float tensor; layers take F32, F16 or BF16 weights");
        }
    }
}
