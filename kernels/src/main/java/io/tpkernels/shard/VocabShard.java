package io.tpkernels.shard;

/**
 * One tensor-parallel rank's share of a padded vocabulary (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#2-vocabulary-padding">section 2</a>), the
 * one place in the code where the padding formula lives:
 * <pre>
 *   padded(V) = ceil(V / (m·tp)) · (m·tp)
 *   S         = padded / tp                   rows per shard (a multiple of m)
 *   start(r)  = r·S,   end(r) = (r+1)·S        the shard's padded range
 *   valid(r)  = clamp(V − r·S, 0, S)           real rows; the rest are padding rows
 * </pre>
 * Padding rows are virtual: nothing allocates or reads them. A shard may hold no real row ({@code valid = 0}).
 * Immutable; equal inputs give equal values.
 *
 * @param vocabSize the real vocabulary size {@code V}
 * @param tpSize    the tensor-parallel size {@code tp}
 * @param rank      this rank, in {@code [0, tp)}
 * @param multiple  the padding multiple {@code m} (64 by default; 1 pads only to {@code tp})
 */
public record VocabShard(long vocabSize, int tpSize, int rank, int multiple) {

    /** The padding multiple used when none is given (Megatron uses 128, vLLM 64). */
    public static final int DEFAULT_MULTIPLE = 64;

    /**
     * Validates the arguments; see {@link #of}.
     *
     * @param vocabSize the real vocabulary size {@code V}, {@code >= 1}
     * @param tpSize the tensor-parallel size {@code tp}, {@code >= 1}
     * @param rank this rank, in {@code [0, tp)}
     * @param multiple the padding multiple {@code m}, {@code >= 1}
     * @throws IllegalArgumentException naming the value that breaks a rule, or when the padded size overflows 64 bits
     */
    public VocabShard {
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocab size must be >= 1, got " + vocabSize);
        }
        if (tpSize < 1) {
            throw new IllegalArgumentException("tp size must be >= 1, got " + tpSize);
        }
        if (rank < 0 || rank >= tpSize) {
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + tpSize + ") for tp " + tpSize);
        }
        if (multiple < 1) {
            throw new IllegalArgumentException("padding multiple must be >= 1, got " + multiple);
        }
        long unit = unit(vocabSize, tpSize, multiple);
        if (Math.ceilDiv(vocabSize, unit) > Long.MAX_VALUE / unit) {
            throw new IllegalArgumentException("vocab " + vocabSize + " padded to a multiple of " + unit + " overflows");
        }
    }

    /**
     * The shard of rank {@code rank} of a vocabulary of {@code vocabSize} split over {@code tpSize} ranks,
     * padded to a multiple of {@code multiple·tpSize}.
     *
     * @param vocabSize the real vocabulary size {@code V}
     * @param tpSize the tensor-parallel size {@code tp}
     * @param rank the rank, in {@code [0, tp)}
     * @param multiple the padding multiple {@code m} ({@link #DEFAULT_MULTIPLE} unless a model says otherwise)
     * @return the shard
     * @throws IllegalArgumentException naming the values, if {@code vocabSize < 1}, {@code tpSize < 1},
     *                                  {@code rank} is outside {@code [0, tpSize)} or {@code multiple < 1}
     */
    public static VocabShard of(long vocabSize, int tpSize, int rank, int multiple) {
        return new VocabShard(vocabSize, tpSize, rank, multiple);
    }

    private static long unit(long vocabSize, int tpSize, int multiple) {
        try {
            return Math.multiplyExact((long) multiple, (long) tpSize);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("multiple " + multiple + " times tp " + tpSize + " overflows");
        }
    }

    /**
     * {@code padded(V) = ceil(V / (m·tp))·(m·tp)}.
     *
     * @return the padded vocabulary size, a multiple of {@code m·tp}
     */
    public long paddedVocabSize() {
        long unit = (long) multiple * tpSize;
        return Math.ceilDiv(vocabSize, unit) * unit;
    }

    /**
     * {@code S = padded / tp}: rows per shard, padding included.
     *
     * @return {@code S}, a multiple of {@code m}
     */
    public long shardSize() {
        return paddedVocabSize() / tpSize;
    }

    /**
     * {@code r·S}: the first global id of this shard.
     *
     * @return {@code start(r)}
     */
    public long start() {
        return rank * shardSize();
    }

    /**
     * {@code (r+1)·S}: one past the last padded id of this shard.
     *
     * @return {@code end(r)}
     */
    public long end() {
        return start() + shardSize();
    }

    /**
     * {@code clamp(V − r·S, 0, S)}: the real rows of this shard.
     *
     * @return {@code valid(r)}, in {@code [0, S]}
     */
    public long validRows() {
        return Math.clamp(vocabSize - start(), 0, shardSize());
    }

    /**
     * {@code S − valid}: the virtual padding rows at the end of this shard.
     *
     * @return {@code padding(r)}, in {@code [0, S]}
     */
    public long paddingRows() {
        return shardSize() - validRows();
    }

    /**
     * Whether {@code start ≤ tokenId < start + valid}: the token's row lives on this rank.
     *
     * @param tokenId a global token id
     * @return whether this shard's valid rows hold it (never for a padding id)
     */
    public boolean contains(long tokenId) {
        return tokenId >= start() && tokenId < start() + validRows();
    }

    /**
     * The shard of another rank of the same vocabulary.
     *
     * @param otherRank the rank, in {@code [0, tp)}
     * @return its shard
     * @throws IllegalArgumentException when {@code otherRank} is out of range
     */
    public VocabShard ofRank(int otherRank) {
        return new VocabShard(vocabSize, tpSize, otherRank, multiple);
    }

    /**
     * The rank whose valid rows hold {@code tokenId}, which must lie in {@code [0, V)}.
     *
     * @param tokenId a global token id
     * @return the rank, in {@code [0, tp)}
     * @throws IllegalArgumentException when {@code tokenId} is outside {@code [0, V)}
     */
    public int ownerOf(long tokenId) {
        if (tokenId < 0 || tokenId >= vocabSize) {
            throw new IllegalArgumentException("token id " + tokenId + " is outside [0, " + vocabSize + ")");
        }
        return (int) (tokenId / shardSize());
    }
}
