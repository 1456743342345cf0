package io.tpkernels.layers;

/** How an activation's tokens (dimension 0) are laid out across the ranks of a tensor-parallel group. */
public enum Tokens {
    /** Every rank holds all {@code T} tokens. */
    REPLICATED,
    /** Sequence parallel: rank {@code r} holds tokens {@code ShardRange(T, tp, r)}. */
    SHARDED
}
