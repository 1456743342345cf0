package io.tpkernels.ops;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The loss of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#16-vocab-parallel-cross-entropy">section 16</a>,
 * computed without gathering the logits. Each rank holds its padded shard {@code z_r[T, S]} of the logits ({@code −∞}
 * in the padding columns, as {@link LmHead} writes them); for the target {@code y_t} of token {@code t}
 * ({@link #IGNORE_INDEX} = ignored):
 * <pre>
 *   loss_t = log Σ_j exp(z_tj) − z_{t, y_t}
 *   loss   = (1/N) Σ_{t not ignored} loss_t          N = the number of non-ignored tokens
 *   dz_r   = (softmax_r − onehot_r) / N              0 in ignored rows and in padding columns
 * </pre>
 * The forward issues exactly two collectives: the row maximum {@code M_t} by one all-reduce MAX, then for every row
 * the sum {@code Σ_j exp(z_tj − M_t)} and the target logit {@code z_{t, y_t}}, packed as {@code [T, 3]}, in one
 * all-reduce SUM. The target logit comes from the one rank whose valid columns hold {@code y_t}; the others add 0.
 * The sum travels as two terms, {@code ties_t} (the columns equal to {@code M_t}, each {@code exp(0) = 1}, counted
 * exactly) and {@code rest_t} (the others), so that {@code log(ties_t + rest_t)} keeps its relative accuracy when the
 * target is the maximum and the loss is tiny (a confident, right prediction). Every rank then computes
 * {@code loss_t = log(ties_t + rest_t) + (M_t − z_{t, y_t})} from the same reduced values, in the same order, so the
 * loss is identical on every rank. {@link Forward} keeps {@code M} and the sums, so the backward is local: no
 * collective.
 *
 * <p>With every token ignored ({@code N = 0}) the loss is NaN, as PyTorch's mean over no elements, and the gradient
 * is 0 everywhere: a step with nothing to learn from changes nothing, and its NaN loss is seen rather than hidden.
 * A target outside {@code [0, V)} other than {@link #IGNORE_INDEX} is an error naming its position and value.
 *
 * <p>The CPU computes a rank's {@code rest_t} in double, rounded once to F32 before the reduction, and the loss and
 * the gradient in double; each gradient element is rounded once to F32. On a GPU
 * ({@link VocabParallelCrossEntropyCuda}) the same arithmetic runs as kernels queued on the context's stream, with the
 * collectives on device memory; a row's sums are taken as a tree rather than left to right, so the two paths agree to
 * f32 rounding. Its forward waits on the host once, for the loss (a host value), and checks the targets there, after
 * the collectives; its backward does not wait. Logits and targets live on the context's device.
 */
public final class VocabParallelCrossEntropy {
    /** The target that marks a token to leave out of the loss and its mean, as PyTorch's default. */
    public static final long IGNORE_INDEX = -100;

    private VocabParallelCrossEntropy() {
    }

    /**
     * What the forward found, and what its backward needs: the mean loss (identical on every rank), the count
     * {@code N} of non-ignored tokens, and per row the global maximum {@code M_t} (F32 {@code [T]}) and
     * {@code Σ_j exp(z_tj − M_t)} as its two terms {@code (ties_t, rest_t)} (F32 {@code [T, 2]}), owned by this
     * record. Ignored rows hold {@code (0, 0)}.
     *
     * @param loss the mean loss over the non-ignored tokens, NaN when every token is ignored
     * @param count {@code N}, the number of non-ignored tokens
     * @param shard the vocabulary shard the forward ran on
     * @param rowMax {@code M}, F32 {@code [T]} on the forward's device; freed by {@link #close()}
     * @param sumExp {@code (ties, rest)}, F32 {@code [T, 2]} on the forward's device; freed by {@link #close()}
     */
    public record Forward(double loss, long count, VocabShard shard, Tensor rowMax, Tensor sumExp)
            implements AutoCloseable {
        @Override
        public void close() {
            rowMax.close();
            sumExp.close();
        }
    }

    /**
     * The mean loss of this rank's logits shard {@code [T, S]} (F32, {@code S = shard.shardSize()}) against the
     * targets ({@code [T]}, I64 or I32, global ids), with exactly two collectives on {@code group}, whose rank and size
     * must be the shard's.
     *
     * @param ctx this rank's context; the logits and targets live on its device
     * @param group the tensor-parallel group, whose rank and size are the shard's
     * @param shard this rank's share of the vocabulary
     * @param logits the rank's padded logits, F32 {@code [T, S]}, {@code −∞} in the padding columns
     * @param targets {@code [T]} I64 or I32 global ids, or {@link #IGNORE_INDEX}
     * @return what the forward found, owned by the caller (close it after the backward); the loss is read on the host,
     *     so on a GPU this call waits for the stream once
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, the group does not hold the shard,
     *     or a target is outside {@code [0, V)} and not {@link #IGNORE_INDEX} (on the CPU before any collective, on a
     *     GPU after them, on every rank alike)
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public static Forward forward(ExecutionContext ctx, ProcessGroup group, VocabShard shard, Tensor logits,
                                  Tensor targets) {
        check(ctx, shard, logits, targets);
        if (group.rank() != shard.rank() || group.size() != shard.tpSize()) {
            throw new IllegalArgumentException("cross-entropy: group rank " + group.rank() + " of " + group.size()
                    + " does not hold shard " + shard);
        }
        long t = logits.dim(0);
        long count = ctx.isCuda() ? -1 : VocabParallelCrossEntropyCpu.countTargets(targets, shard.vocabSize());
        Tensor rowMax = Tensor.allocate(ctx, DType.F32, t);
        try (Tensor packed = Tensor.allocate(ctx, DType.F32, t, 3)) {
            CrossEntropySteps.rowMax(ctx, logits, shard.validRows(), rowMax);
            group.allReduce(ctx, rowMax, ReduceOp.MAX);
            CrossEntropySteps.sumAndTarget(ctx, logits, targets, shard, rowMax, packed);
            group.allReduce(ctx, packed, ReduceOp.SUM);
            return CrossEntropySteps.finish(ctx, shard, targets, rowMax, packed, count);
        } catch (RuntimeException e) {
            rowMax.close();
            throw e;
        }
    }

    /**
     * {@code dz_r = (softmax_r − onehot_r) / N}, F32 {@code [T, S]}, allocated on {@code ctx}; no collective.
     *
     * @param ctx this rank's context; the logits and targets live on its device
     * @param saved what the forward of the same logits and targets returned
     * @param logits the logits the forward saw
     * @param targets the targets the forward saw
     * @return {@code dz_r}, F32 {@code [T, S]}, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or the forward saw another number of
     *     tokens
     */
    public static Tensor backward(ExecutionContext ctx, Forward saved, Tensor logits, Tensor targets) {
        return backward(ctx, saved, logits, targets, 1.0);
    }

    /**
     * {@code dz_r = g · (softmax_r − onehot_r) / N} for the gradient {@code g} of what the loss feeds (1 for the
     * loss itself; {@code N_micro / N_step} when micro-batches share one mean), F32 {@code [T, S]}, allocated on
     * {@code ctx}; no collective. {@code logits} and {@code targets} are those the forward saw.
     *
     * @param ctx this rank's context; the logits and targets live on its device
     * @param saved what the forward of the same logits and targets returned
     * @param logits the logits the forward saw
     * @param targets the targets the forward saw
     * @param gradOutput {@code g}, the gradient of what the loss feeds
     * @return {@code dz_r}, F32 {@code [T, S]}, owned by the caller: 0 in ignored rows and padding columns
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or the forward saw another number of
     *     tokens
     */
    public static Tensor backward(ExecutionContext ctx, Forward saved, Tensor logits, Tensor targets,
                                  double gradOutput) {
        check(ctx, saved.shard(), logits, targets);
        if (saved.rowMax().dim(0) != logits.dim(0)) {
            throw new IllegalArgumentException("cross-entropy: the forward saw " + saved.rowMax().dim(0)
                    + " tokens, the backward's logits are " + logits.describe());
        }
        Tensor dz = Tensor.allocate(ctx, DType.F32, logits.dim(0), logits.dim(1));
        try {
            CrossEntropySteps.gradient(ctx, logits, targets, saved, gradOutput, dz);
            return dz;
        } catch (RuntimeException e) {
            dz.close();
            throw e;
        }
    }

    private static void check(ExecutionContext ctx, VocabShard shard, Tensor logits, Tensor targets) {
        if (logits.dtype() != DType.F32 || logits.rank() != 2 || logits.dim(1) != shard.shardSize()) {
            throw new IllegalArgumentException("cross-entropy: logits must be F32 [T, " + shard.shardSize()
                    + "] (the padded shard), got " + logits.describe());
        }
        if (targets.dtype().isFloatingPoint() || targets.rank() != 1 || targets.dim(0) != logits.dim(0)) {
            throw new IllegalArgumentException("cross-entropy: targets must be I64 or I32 [" + logits.dim(0)
                    + "], got " + targets.describe());
        }
        ctx.requireOn("cross-entropy", logits);
        ctx.requireOn("cross-entropy", targets);
    }

    static IllegalArgumentException badTarget(long position, long target, long vocabSize) {
        return new IllegalArgumentException("cross-entropy: target " + target + " at position " + position
                + " is outside [0, " + vocabSize + ") and is not the ignore index " + IGNORE_INDEX);
    }
}
