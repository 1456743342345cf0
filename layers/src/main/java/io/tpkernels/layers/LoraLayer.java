package io.tpkernels.layers;

import io.tpkernels.runtime.Tensor;
import io.tpkernels.train.Placement;

/**
 * What the two LoRA layers share for training and export: this rank's factors {@code A} and {@code B}, their F32
 * gradients, and how the tensor-parallel group holds each (docs/contract.md section 8): a column-parallel layer
 * replicates {@code A} and shards {@code B} by rows; a row-parallel one shards {@code A} by columns and replicates
 * {@code B}.
 */
public sealed interface LoraLayer permits LoraColumnParallelLinear, LoraRowParallelLinear {

    /** This rank's {@code A} (its shard, or all of it when replicated), in the layer's dtype. Do not close. */
    Tensor loraA();

    /** This rank's {@code B}, in the layer's dtype. Do not close. */
    Tensor loraB();

    /**
     * The gradient of {@link #loraA()}, F32 of its shape, summed over the backwards since {@link #zeroGrad()}; a
     * replicated factor's is reduced over the ranks and bitwise the same on each. Do not close.
     */
    Tensor loraGradA();

    /** The gradient of {@link #loraB()}, as {@link #loraGradA()} is of A. Do not close. */
    Tensor loraGradB();

    /** Sets both gradients to zero, as before the first backward. */
    void zeroGrad();

    /** The adapter's rank R, before any padding of A's rows and B's columns. */
    int loraRank();

    /** The scale {@code s} of the LoRA term. */
    float loraScale();

    /** Whether the adapter is DoRA. */
    boolean isDora();

    /** How the group holds {@code A}. */
    Placement placementOfA();

    /** How the group holds {@code B}. */
    Placement placementOfB();

    /** The layer's rank context (its group, device and precision). */
    RankContext rankContext();
}
