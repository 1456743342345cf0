package io.tpkernels.ops;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.shard.VocabShard;

/**
 * The LM head fused with the vocab-parallel cross-entropy (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p2-the-lm-heads-gradient-and-the-fused-cross-entropy">P2</a>,
 * the fused form of
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#16-vocab-parallel-cross-entropy">section 16</a>):
 * the loss of {@code logits_r = X·W_rᵀ} against the targets, and its gradient {@code dX}, without ever holding the
 * {@code [T, S]} logits. Two forms, one result:
 * <ul>
 *   <li>On a GPU, for F16 and BF16 ({@link Tuning.LmHeadLoss#FUSED}): the LM head's tensor-core GEMM folds each
 *   128 × 128 tile of logits, in its epilogue, into its rows' running statistics, which stay on chip; the backward
 *   computes each tile again, forms {@code dz} in registers and adds {@code dz·W_tile} into {@code dX} on tensor
 *   cores. Scratch: {@code O(T)} statistics per group of column tiles (a few groups, so that the GPU is full).</li>
 *   <li>Elsewhere (the CPU, F32, or {@link Tuning.LmHeadLoss#CHUNKED}): the shard's valid columns a chunk of
 *   {@link #chunkColumns} at a time: the LM head's own GEMM ({@link LmHead}) on that chunk of {@code W_r}'s rows gives
 *   {@code [T, C]} logits, folded at once into the running statistics and dropped; the backward computes each chunk
 *   again, turns it into {@code dz} and adds {@code dz·W_chunk} into {@code dX}. Scratch: {@code O(T)} and two
 *   {@code [T, C]} chunks, {@code C} about 1/64 of the shard and at most 256 columns.</li>
 * </ul>
 * Either way {@code W_r} is read once per pass and the padding columns are never computed.
 *
 * <p>The same collectives as {@link VocabParallelCrossEntropy}, whose {@link VocabParallelCrossEntropy.Forward} the
 * forward returns: this rank's running maximum {@code m_t} and its statistics against it (maximum; against it the
 * ties, the rest of the sum of exponentials, the target logit), then the global maximum {@code M_t} by one all-reduce
 * MAX; the statistics are rebased on it ({@code (ties, rest)} where {@code m_t = M_t}, else
 * {@code (0, (ties + rest)·exp(m_t − M_t))}) and summed by one all-reduce SUM. The loss is then the unfused form's to
 * within F32 rounding (each chunk's or group's rest is rounded once more), and the gradient follows from the same
 * {@code M} and sums; the tile kernels round {@code dz} to the input dtype before its products, so their gradients
 * agree with the unfused ones to that dtype's precision. {@code dX} is this rank's partial (the caller sums it over
 * the group, as the unfused head's backward does); a trainable head also gets {@code dW_r = dz_rᵀ·X} on request.
 */
public final class LmHeadCrossEntropy {
    /** The valid columns are taken in about this many chunks... */
    static final int CHUNKS = 64;
    /** ... of at least this many columns, so that each chunk's GEMM is not a sliver... */
    static final int MIN_CHUNK_COLUMNS = 64;
    /** ... and at most this many (the CPU GEMM's task width), so that the scratch is {@code O(T)} whatever the vocab. */
    static final int MAX_CHUNK_COLUMNS = 256;

    private LmHeadCrossEntropy() {
    }

    /** The columns of logits computed at once for a shard of {@code valid} real columns. */
    static long chunkColumns(long valid) {
        long share = Math.max(Math.min(valid, MIN_CHUNK_COLUMNS), (valid + CHUNKS - 1) / CHUNKS);
        return Math.min(share, MAX_CHUNK_COLUMNS);
    }

    /**
     * The mean loss of this rank's head shard on {@code x} against {@code targets}, with exactly two collectives on
     * {@code group} (whose rank and size must be the shard's).
     *
     * @param x           {@code [T, H]}, F32, F16 or BF16, on the context's device
     * @param weightShard this rank's valid rows {@code W_r [valid, H]}, x's dtype
     * @param targets     {@code [T]}, I64 or I32, global ids or {@link VocabParallelCrossEntropy#IGNORE_INDEX}
     * @param ctx this rank's context; the tensors live on its device
     * @param group the tensor-parallel group, whose rank and size are the shard's
     * @param shard this rank's share of the vocabulary
     * @return what the forward found, as the unfused form returns it, owned by the caller (close it after the
     *     backward); on a GPU this call waits for the stream once, to read the loss
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, the group does not hold the shard,
     *     or a target is outside {@code [0, V)} and not the ignore index
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public static VocabParallelCrossEntropy.Forward forward(ExecutionContext ctx, ProcessGroup group, VocabShard shard,
                                                            Tensor x, Tensor weightShard, Tensor targets) {
        check(ctx, group, shard, x, weightShard, targets);
        long t = x.dim(0);
        long count = ctx.isCuda() ? -1 : VocabParallelCrossEntropyCpu.countTargets(targets, shard.vocabSize());
        Tensor rowMax = Tensor.allocate(ctx, DType.F32, t);
        try (Tensor localMax = Tensor.allocate(ctx, DType.F32, t);
             Tensor packed = Tensor.allocate(ctx, DType.F32, t, 3)) {
            if (LmHeadCrossEntropyCuda.takes(ctx, x, weightShard)) {
                LmHeadCrossEntropyCuda.statistics(ctx, x, weightShard, targets, shard.start(), localMax, rowMax,
                        packed);
            } else {
                chunkedStatistics(ctx, shard, x, weightShard, targets, localMax, packed);
                CrossEntropySteps.copy(ctx, localMax, rowMax);
            }
            group.allReduce(ctx, rowMax, ReduceOp.MAX);
            CrossEntropySteps.rebase(ctx, localMax, rowMax, packed);
            group.allReduce(ctx, packed, ReduceOp.SUM);
            return CrossEntropySteps.finish(ctx, shard, targets, rowMax, packed, count);
        } catch (RuntimeException e) {
            rowMax.close();
            throw e;
        }
    }

    /**
     * This rank's running statistics over its valid columns, a chunk of {@link #chunkColumns} at a time: the LM head's
     * GEMM on the chunk into a {@code [T, C]} buffer, then its row statistics folded into the running ones.
     */
    static void chunkedStatistics(ExecutionContext ctx, VocabShard shard, Tensor x, Tensor weightShard,
                                          Tensor targets, Tensor runMax, Tensor packed) {
        long t = x.dim(0);
        long valid = shard.validRows();
        long chunk = chunkColumns(valid);
        try (Tensor chunkMax = Tensor.allocate(ctx, DType.F32, t);
             Tensor chunkPacked = Tensor.allocate(ctx, DType.F32, t, 3);
             Tensor logits = Tensor.allocate(ctx, DType.F32, t, Math.max(chunk, 1))) {
            // The first chunk's statistics are the running ones; a shard without valid columns folds an empty chunk,
            // whose maximum is −∞ and sums 0.
            long from = 0;
            do {
                long to = Math.min(valid, from + chunk);
                Tensor z = columns(logits, t, to - from);
                if (to > from) {
                    LmHead.logits(ctx, x, weightShard.rows(from, to), z);
                }
                boolean first = from == 0;
                Tensor m = first ? runMax : chunkMax;
                Tensor p = first ? packed : chunkPacked;
                CrossEntropySteps.rowMax(ctx, z, to - from, m);
                CrossEntropySteps.sumAndTarget(ctx, z, targets, shard.start() + from, to - from, m, p);
                if (!first) {
                    CrossEntropySteps.merge(ctx, runMax, packed, chunkMax, chunkPacked);
                }
                from = to;
            } while (from < valid);
        }
    }

    /**
     * This rank's partial {@code dX = Σ_{j < valid} dz[:, j]·W_r[j, :]}, F32 {@code [T, H]}, with
     * {@code dz = gradOutput·(softmax − onehot)/N} computed from the logits recomputed, a tile or a chunk at a time;
     * no collective. With {@code dW} not null ({@code [valid, H]} F32), also adds {@code dz_rᵀ·X} into it.
     *
     * @param ctx this rank's context; the tensors live on its device
     * @param saved what {@link #forward} returned for the same {@code x} and targets
     * @param x the head's input the forward saw, {@code [T, H]}
     * @param weightShard this rank's valid rows {@code W_r [valid, H]}, x's dtype
     * @param targets the targets the forward saw
     * @param gradOutput {@code g}, the gradient of what the loss feeds (1 for the loss itself)
     * @param dW F32 {@code [valid, H]} to add the weight's gradient into, or {@code null} for a frozen head
     * @return this rank's partial {@code dX}, F32 {@code [T, H]}, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or the forward saw another number of
     *     tokens
     */
    public static Tensor backward(ExecutionContext ctx, VocabParallelCrossEntropy.Forward saved, Tensor x,
                                  Tensor weightShard, Tensor targets, double gradOutput, Tensor dW) {
        VocabShard shard = saved.shard();
        if (saved.rowMax().dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("fused LM-head cross-entropy: the forward saw " + saved.rowMax().dim(0)
                    + " tokens, the backward's x is " + x.describe());
        }
        checkOperands(ctx, shard, x, weightShard, targets);
        Tensor dx = Tensor.zeros(ctx, DType.F32, x.dim(0), x.dim(1));
        try {
            if (LmHeadCrossEntropyCuda.takes(ctx, x, weightShard)) {
                LmHeadCrossEntropyCuda.backward(ctx, saved, x, weightShard, targets, gradOutput, dx, dW);
            } else {
                chunkedBackward(ctx, saved, x, weightShard, targets, gradOutput, dx, dW);
            }
            return dx;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
    }

    /**
     * Adds this rank's partial {@code dX} into {@code dx} (and {@code dz_rᵀ·X} into {@code dW} when not null), a chunk of
     * {@link #chunkColumns} at a time: the chunk's logits again, its {@code dz}, then its products.
     */
    private static void chunkedBackward(ExecutionContext ctx, VocabParallelCrossEntropy.Forward saved, Tensor x,
                                        Tensor weightShard, Tensor targets, double gradOutput, Tensor dx, Tensor dW) {
        VocabShard shard = saved.shard();
        long t = x.dim(0);
        long valid = shard.validRows();
        long chunk = chunkColumns(valid);
        try (Tensor logits = Tensor.allocate(ctx, DType.F32, t, Math.max(chunk, 1));
             Tensor grads = Tensor.allocate(ctx, DType.F32, t, Math.max(chunk, 1))) {
            for (long from = 0; from < valid; from += chunk) {
                long to = Math.min(valid, from + chunk);
                Tensor w = weightShard.rows(from, to);
                Tensor z = columns(logits, t, to - from);
                Tensor dz = columns(grads, t, to - from);
                LmHead.logits(ctx, x, w, z);
                CrossEntropySteps.gradient(ctx, z, targets, saved, gradOutput, dz, shard.start() + from, to - from);
                LmHeadBackward.addInputGradient(ctx, dz, w, dx);
                if (dW != null) {
                    LmHeadBackward.addWeightGradient(ctx, dz, x, dW.rows(from, to));
                }
            }
        }
    }

    /** The first {@code t·c} elements of {@code buffer} as a {@code [t, c]} tensor (the last chunk may be narrower). */
    private static Tensor columns(Tensor buffer, long t, long c) {
        return buffer.viewBytes(0, DType.F32, t, c);
    }

    private static void check(ExecutionContext ctx, ProcessGroup group, VocabShard shard, Tensor x, Tensor w,
                              Tensor targets) {
        if (group.rank() != shard.rank() || group.size() != shard.tpSize()) {
            throw new IllegalArgumentException("fused LM-head cross-entropy: group rank " + group.rank() + " of "
                    + group.size() + " does not hold shard " + shard);
        }
        checkOperands(ctx, shard, x, w, targets);
    }

    private static void checkOperands(ExecutionContext ctx, VocabShard shard, Tensor x, Tensor w, Tensor targets) {
        if (w.rank() != 2 || w.dim(0) != shard.validRows() || x.rank() != 2 || x.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException("fused LM-head cross-entropy: x must be [T, H] and the weight shard ["
                    + shard.validRows() + ", H] (the shard's valid rows), got " + x.describe() + " and "
                    + w.describe());
        }
        if (targets.dtype().isFloatingPoint() || targets.rank() != 1 || targets.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("fused LM-head cross-entropy: targets must be I64 or I32 [" + x.dim(0)
                    + "], got " + targets.describe());
        }
        ctx.requireOn("fused LM-head cross-entropy", x);
        ctx.requireOn("fused LM-head cross-entropy", targets);
    }
}
