package io.tpkernels.bench.cases;

import io.tpkernels.shard.VocabShard;

/**
 * The vocabulary the vocab-parallel shapes split, in {@code tpk bench} and in the JMH benchmarks alike: LLaMA-3's
 * 128256 tokens over tp 8 at the default multiple 64, so {@code S = 16064} rows per shard; the quick shapes split
 * 4000 tokens the same way ({@code S = 512}).
 */
public final class Vocab {
    /** LLaMA-3's vocabulary size. */
    public static final long LLAMA3 = 128256;
    static final long QUICK = 4000;
    /** The tensor-parallel size the shapes assume. */
    public static final int TP = 8;

    private Vocab() {
    }

    /** Rank 0's shard of LLaMA-3's vocabulary, whose 16064 rows are all real. */
    public static VocabShard firstShard() {
        return firstShard(LLAMA3);
    }

    /** The last rank's shard of LLaMA-3's vocabulary, the one with padding rows (15808 real rows of 16064). */
    public static VocabShard lastShard() {
        return lastShard(LLAMA3);
    }

    /** Rank 0's shard of the bench's vocabulary (all its rows real). */
    static VocabShard firstShard(Bench bench) {
        return firstShard(bench.quick() ? QUICK : LLAMA3);
    }

    /** The last rank's shard of the bench's vocabulary, the one with padding rows past the vocabulary. */
    static VocabShard lastShard(Bench bench) {
        return lastShard(bench.quick() ? QUICK : LLAMA3);
    }

    private static VocabShard firstShard(long vocabSize) {
        return VocabShard.of(vocabSize, TP, 0, VocabShard.DEFAULT_MULTIPLE);
    }

    private static VocabShard lastShard(long vocabSize) {
        return firstShard(vocabSize).ofRank(TP - 1);
    }
}
