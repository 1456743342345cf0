package io.tpkernels.layers;

import io.tpkernels.runtime.Tensor;
import io.tpkernels.train.Placement;

/**
 * What the two LoRA layers share for training and export: this rank's factors {@code A} and {@code B}, their F32
 * gradients, and how the tensor-parallel group holds each (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>):
 * a column-parallel layer replicates {@code A} and shards {@code B} by rows; a row-parallel one shards {@code A} by
 * columns and replicates {@code B}.
 */
public sealed interface LoraLayer permits LoraColumnParallelLinear, LoraRowParallelLinear {

    /**
     * This rank's {@code A} (its shard, or all of it when replicated), in the layer's dtype. Do not close.
     *
     * @return {@code [R', K]} (column-parallel) or {@code [R', K/tp]} (row-parallel), where {@code R'} is {@code R},
     *     or on a GPU {@code R} zero-padded to 16-byte rows ({@link io.tpkernels.ops.LoraLinear#paddedRank})
     */
    Tensor loraA();

    /**
     * This rank's {@code B}, in the layer's dtype. Do not close.
     *
     * @return {@code [N/tp, R']} (column-parallel) or {@code [N, R']} (row-parallel)
     */
    Tensor loraB();

    /**
     * The gradient of {@link #loraA()}, F32 of its shape, summed over the backwards since {@link #zeroGrad()}; a
     * replicated factor's is reduced over the ranks and bitwise the same on each. Do not close.
     *
     * @return the gradient, allocated as zeros on first use
     */
    Tensor loraGradA();

    /**
     * The gradient of {@link #loraB()}, as {@link #loraGradA()} is of A. Do not close.
     *
     * @return the gradient, allocated as zeros on first use
     */
    Tensor loraGradB();

    /** Sets both gradients to zero, as before the first backward. */
    void zeroGrad();

    /**
     * The adapter's rank R, before any padding of A's rows and B's columns.
     *
     * @return {@code R}
     */
    int loraRank();

    /**
     * The scale {@code s} of the LoRA term.
     *
     * @return {@code s}
     */
    float loraScale();

    /**
     * Whether the adapter is DoRA.
     *
     * @return {@code true} for DoRA
     */
    boolean isDora();

    /**
     * How the group holds {@code A}.
     *
     * @return {@link Placement#REPLICATED} for a column-parallel layer, {@link Placement#SHARDED} for a row-parallel
     *     one
     */
    Placement placementOfA();

    /**
     * How the group holds {@code B}.
     *
     * @return {@link Placement#SHARDED} for a column-parallel layer, {@link Placement#REPLICATED} for a row-parallel
     *     one
     */
    Placement placementOfB();

    /**
     * The layer's rank context (its group, device and precision).
     *
     * @return the rank context the layer was built with
     */
    RankContext rankContext();
}
