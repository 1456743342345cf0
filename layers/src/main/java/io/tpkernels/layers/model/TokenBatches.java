package io.tpkernels.layers.model;

/**
 * The token batches of a fine-tuning run (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p3-fine-tuning-steps">P3</a>): step
 * {@code k} (from 0) reads {@code B} rows of {@code T + 1} ids starting at offset {@code o = k·B·(T + 1)}, wrapping
 * around the end of the data; row {@code b} is ids {@code o + b·(T + 1) + j} for {@code j = 0..T}, its inputs the first
 * {@code T} of them and its targets the last {@code T}. Every step's loss is the mean over its {@code B·T} targets.
 */
public final class TokenBatches {
    private final long[] ids;
    private final int seqLen;
    private final int batch;

    private TokenBatches(long[] ids, int seqLen, int batch) {
        this.ids = ids;
        this.seqLen = seqLen;
        this.batch = batch;
    }

    /**
     * The batches of {@code ids} (from {@code source}, named in errors) for a model of {@code vocab} tokens.
     *
     * @param ids the token ids, in order; copied
     * @param source where the ids came from, as messages name it
     * @param vocab {@code V}, the model's vocabulary size
     * @param seqLen {@code T}, the tokens of a row
     * @param batch {@code B}, the rows of a step
     * @return the batches
     * @throws IllegalArgumentException for no ids, an id outside {@code [0, vocab)} (its position and value named),
     *                                  or a sequence length or batch below 1
     */
    public static TokenBatches of(long[] ids, String source, long vocab, int seqLen, int batch) {
        if (seqLen < 1 || batch < 1) {
            throw new IllegalArgumentException("--seq-len and --batch must be at least 1, got " + seqLen + " and "
                    + batch);
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException(source + ": no token ids to train on");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException(source + ": token id " + ids[i] + " at position " + i
                        + " is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        return new TokenBatches(ids.clone(), seqLen, batch);
    }

    /**
     * Step {@code step}'s inputs, row after row: {@code [B·T]}.
     *
     * @param step {@code k}, counted from 0
     * @return the inputs, a new array of {@code B·T} ids
     */
    public long[] inputs(long step) {
        return rows(step, 0);
    }

    /**
     * Step {@code step}'s targets, row after row: {@code [B·T]}, each the id after its input.
     *
     * @param step {@code k}, counted from 0
     * @return the targets, a new array of {@code B·T} ids
     */
    public long[] targets(long step) {
        return rows(step, 1);
    }

    /**
     * B, the rows of a step.
     *
     * @return {@code B}
     */
    public int rows() {
        return batch;
    }

    /**
     * T, the tokens of a row.
     *
     * @return {@code T}
     */
    public int seqLen() {
        return seqLen;
    }

    private long[] rows(long step, int shift) {
        long row = seqLen + 1L;
        long offset = Math.floorMod(Math.multiplyExact(Math.multiplyExact(step, batch), row), (long) ids.length);
        long[] out = new long[Math.multiplyExact(batch, seqLen)];
        for (int b = 0; b < batch; b++) {
            long start = offset + b * row + shift;
            for (int j = 0; j < seqLen; j++) {
                out[b * seqLen + j] = ids[(int) ((start + j) % ids.length)];
            }
        }
        return out;
    }
}
