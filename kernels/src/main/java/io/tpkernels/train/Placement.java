package io.tpkernels.train;

/**
 * How a trained parameter is held across the ranks of a tensor-parallel group, which decides how it counts in
 * the global gradient norm ({@link GradClipping}): every parameter counts once, however many ranks hold it.
 */
public enum Placement {
    /**
     * Every rank holds the whole parameter and the same gradient, bit for bit (a column-parallel layer's LoRA
     * {@code A}, a row-parallel layer's {@code B}). Its {@code Σ g²} is the same on every rank and counts once, not
     * {@code tp} times.
     */
    REPLICATED,
    /**
     * Each rank holds a disjoint slice, and the slices together are the parameter (a column-parallel layer's LoRA
     * {@code B}, a row-parallel layer's {@code A}). Its {@code Σ g²} is the sum of the ranks' partial sums.
     */
    SHARDED
}
