package io.tpkernels.bench;

import io.tpkernels.shard.VocabShard;

/**
 * The vocabulary the vocab-parallel benchmarks split, as {@code tpk bench} does: LLaMA-3's 128256 tokens over
 * tp 8 at the default padding multiple, so {@code S = 16064} rows per shard.
 */
final class Llama3Vocab {
    /** LLaMA-3's vocabulary size. */
    static final long SIZE = 128256;
    /** The tensor-parallel size the benchmarks assume. */
    static final int TP = 8;

    private Llama3Vocab() {
    }

    /** Rank 0's shard, whose 16064 rows are all real. */
    static VocabShard firstShard() {
        return VocabShard.of(SIZE, TP, 0, VocabShard.DEFAULT_MULTIPLE);
    }

    /** The last rank's shard, the one with padding rows past the vocabulary (15808 real rows of 16064). */
    static VocabShard lastShard() {
        return VocabShard.of(SIZE, TP, TP - 1, VocabShard.DEFAULT_MULTIPLE);
    }
}
