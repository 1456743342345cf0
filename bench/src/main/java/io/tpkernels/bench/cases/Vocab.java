package io.tpkernels.bench.cases;

import io.tpkernels.shard.VocabShard;

/**
 * The vocabulary the shapes split: LLaMA-3's 128256 tokens over tp 8 at the default multiple 64, so
 * {@code S = 16064} rows per shard; the quick shapes split 4000 tokens the same way ({@code S = 512}).
 */
final class Vocab {
    static final long LLAMA3 = 128256;
    static final long QUICK = 4000;
    static final int TP = 8;

    private Vocab() {
    }

    /** Rank 0's shard, whose rows are all real (16064 of them). */
    static VocabShard firstShard(Bench bench) {
        return VocabShard.of(bench.quick() ? QUICK : LLAMA3, TP, 0, VocabShard.DEFAULT_MULTIPLE);
    }

    /** The last rank's shard, the one with padding rows past the vocabulary (15808 real rows of 16064). */
    static VocabShard lastShard(Bench bench) {
        return firstShard(bench).ofRank(TP - 1);
    }
}
