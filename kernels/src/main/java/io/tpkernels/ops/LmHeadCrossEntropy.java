package io.tpkernels.ops;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The LM head fused with the vocab-parallel cross-entropy (docs/contract.md section 16, "fused form"): the loss of
 * {@code logits_r = X·W_rᵀ} ({@code −∞} in the padding columns) against the targets, and its gradient {@code dX},
 * without ever holding the {@code [T, S]} logits. The logits are computed a chunk of {@link #chunkRows} rows at a
 * time by the LM head's own GEMM ({@link LmHead}) and folded at once into per-row statistics; the backward computes
 * each chunk again and turns it into {@code dz} and then {@code dX}'s rows. Scratch: {@code O(T)} statistics and at
 * most two chunks of logits.
 *
 * <p>The same collectives as {@link VocabParallelCrossEntropy}, whose {@link VocabParallelCrossEntropy.Forward} the
 * forward returns: each chunk's rows give this rank's own maximum {@code m_t} and, against it, {@code (ties, rest,
 * target)}; then the global maximum {@code M_t} by one all-reduce MAX; the partials are rebased on it ({@code (ties,
 * rest)} where {@code m_t = M_t}, else {@code (0, (ties + rest)·exp(m_t − M_t))}) and summed by one all-reduce SUM.
 * The loss is then the unfused form's to within F32 rounding (the rebase rounds the rest once more), and the
 * gradient follows from the same {@code M} and sums. {@code dX} is this rank's partial (the caller sums it over the
 * group, as the unfused head's backward does); a trainable head also gets {@code dW_r = dz_rᵀ·X} on request.
 */
public final class LmHeadCrossEntropy {
    /** The logits are taken at most about 1/64 of the rows at a time. */
    static final int CHUNKS = 64;
    /** ... but at least this many rows, so that each chunk's GEMM is not a sliver. */
    static final int MIN_CHUNK_ROWS = 8;

    private LmHeadCrossEntropy() {
    }

    /** The rows of logits computed at once for {@code t} tokens. */
    static long chunkRows(long t) {
        return Math.max(Math.min(t, MIN_CHUNK_ROWS), (t + CHUNKS - 1) / CHUNKS);
    }

    /**
     * The mean loss of this rank's head shard on {@code x} against {@code targets}, with exactly two collectives on
     * {@code group} (whose rank and size must be the shard's).
     *
     * @param x           {@code [T, H]}, F32, F16 or BF16, on the context's device
     * @param weightShard this rank's valid rows {@code W_r [valid, H]}, x's dtype
     * @param targets     {@code [T]}, I64 or I32, global ids or {@link VocabParallelCrossEntropy#IGNORE_INDEX}
     */
    public static VocabParallelCrossEntropy.Forward forward(ExecutionContext ctx, ProcessGroup group, VocabShard shard,
                                                            Tensor x, Tensor weightShard, Tensor targets) {
        check(ctx, group, shard, x, weightShard, targets);
        long t = x.dim(0);
        long count = ctx.isCuda() ? -1 : VocabParallelCrossEntropyCpu.countTargets(targets, shard.vocabSize());
        long chunk = chunkRows(t);
        Tensor rowMax = Tensor.allocate(ctx, DType.F32, t);
        try (Tensor localMax = Tensor.allocate(ctx, DType.F32, t);
             Tensor packed = Tensor.allocate(ctx, DType.F32, t, 3);
             Tensor logits = Tensor.allocate(ctx, DType.F32, Math.max(chunk, 1), shard.shardSize())) {
            for (long from = 0; from < t; from += chunk) {
                long to = Math.min(t, from + chunk);
                Tensor z = logits.rows(0, to - from);
                LmHead.logits(ctx, x.rows(from, to), weightShard, z);
                Tensor m = localMax.rows(from, to);
                CrossEntropySteps.rowMax(ctx, z, shard.validRows(), m);
                CrossEntropySteps.sumAndTarget(ctx, z, targets.rows(from, to), shard, m, packed.rows(from, to));
            }
            CrossEntropySteps.copy(ctx, localMax, rowMax);
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
     * This rank's partial {@code dX = Σ_{j < valid} dz[:, j]·W_r[j, :]}, F32 {@code [T, H]}, with
     * {@code dz = gradOutput·(softmax − onehot)/N} computed a chunk at a time from the logits recomputed; no
     * collective. With {@code dW} not null ({@code [valid, H]} F32), also adds {@code dz_rᵀ·X} into it.
     */
    public static Tensor backward(ExecutionContext ctx, VocabParallelCrossEntropy.Forward saved, Tensor x,
                                  Tensor weightShard, Tensor targets, double gradOutput, Tensor dW) {
        VocabShard shard = saved.shard();
        if (saved.rowMax().dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("fused LM-head cross-entropy: the forward saw " + saved.rowMax().dim(0)
                    + " tokens, the backward's x is " + x.describe());
        }
        checkOperands(ctx, shard, x, weightShard, targets);
        long t = x.dim(0);
        long chunk = chunkRows(t);
        Tensor dx = Tensor.allocate(ctx, DType.F32, t, x.dim(1));
        try (Tensor logits = Tensor.allocate(ctx, DType.F32, Math.max(chunk, 1), shard.shardSize());
             Tensor grads = Tensor.allocate(ctx, DType.F32, Math.max(chunk, 1), shard.shardSize())) {
            for (long from = 0; from < t; from += chunk) {
                long to = Math.min(t, from + chunk);
                Tensor z = logits.rows(0, to - from);
                Tensor dz = grads.rows(0, to - from);
                LmHead.logits(ctx, x.rows(from, to), weightShard, z);
                var rows = new VocabParallelCrossEntropy.Forward(saved.loss(), saved.count(), shard,
                        saved.rowMax().rows(from, to), saved.sumExp().rows(from, to));
                CrossEntropySteps.gradient(ctx, z, targets.rows(from, to), rows, gradOutput, dz);
                LmHeadBackward.inputGradient(ctx, dz, weightShard, dx.rows(from, to));
                if (dW != null) {
                    LmHeadBackward.addWeightGradient(ctx, dz, x.rows(from, to), dW);
                }
            }
            return dx;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
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
