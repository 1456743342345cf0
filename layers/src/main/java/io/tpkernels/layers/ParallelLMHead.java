package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LmHeadBackward;
import io.tpkernels.ops.LmHeadCrossEntropy;
import io.tpkernels.ops.VocabParallelCrossEntropy;
import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.shard.VocabShard;
import java.util.function.LongToDoubleFunction;

/**
 * The LM head (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#5-lm-head-the-vocab-padded-gemm">section 5</a>):
 * column-parallel over the padded vocabulary. Rank r holds the {@code valid(r)} real rows of its shard; its kernel
 * writes {@code −∞} logits for the padding columns without any memory behind them. {@link #logits} all-gathers the
 * shards and drops the padding ({@code [T, V]} F32); {@link #argmax} reduces each shard to {@code (max, argmax)} and
 * combines the ranks without gathering logits.
 *
 * <p>Never quantized: its weights are stored in the context's {@link Precision}, a float type by
 * construction, and nothing else reaches it. It shares the embedding's weight shard when the model ties them
 * and both live on the same stage ({@link #tiedTo}).
 */
public final class ParallelLMHead implements AutoCloseable {
    private final RankContext ctx;
    private final VocabShard shard;
    private final long hidden;
    private final Tensor weight;
    /** The embedding whose weight shard this head uses, or {@code null} when the head owns its weight. */
    private final VocabParallelEmbedding tiedTo;
    private volatile boolean closed;

    private ParallelLMHead(RankContext ctx, VocabShard shard, long hidden, Tensor weight,
                           VocabParallelEmbedding tiedTo) {
        this.ctx = ctx;
        this.shard = shard;
        this.hidden = hidden;
        this.weight = weight;
        this.tiedTo = tiedTo;
    }

    /**
     * This rank's valid rows of {@code weightName} ({@code [vocabSize, hidden]}), padded to {@code multiple·tp}.
     *
     * @param source where the weight is
     * @param weightName the head's name ({@code lm_head.weight}, or the embedding's on a stage that does not hold it)
     * @param vocabSize {@code V}, the weight's rows
     * @param hidden {@code H}, its columns
     * @param multiple the padding multiple {@code m}
     * @param ctx this rank's group, device and precision
     * @return the head, owning this rank's {@code [valid(r), H]} rows; the caller closes it
     * @throws IllegalArgumentException when {@code V} or {@code m} is out of range; a
     *     {@link io.tpkernels.layers.weights.WeightException} when the weight is missing, of another shape or not float
     */
    public static ParallelLMHead load(WeightSource source, String weightName, long vocabSize, long hidden, int multiple,
                                      RankContext ctx) {
        VocabShard shard = VocabShard.of(vocabSize, ctx.size(), ctx.rank(), multiple);
        return new ParallelLMHead(ctx, shard, hidden,
                VocabParallelEmbedding.loadValidRows(source, weightName, shard, hidden, ctx), null);
    }

    /**
     * A head that uses {@code embedding}'s weight shard (tied embeddings): no second copy; it stays the embedding's.
     * The head borrows that shard, so the embedding must outlive it: close the head first (closing the head frees
     * nothing). Using the head once the embedding is closed is an {@link IllegalStateException}.
     *
     * @param embedding the open embedding of the same rank
     * @return the head; closing it frees nothing
     * @throws IllegalStateException when the embedding is already closed
     */
    public static ParallelLMHead tiedTo(VocabParallelEmbedding embedding) {
        embedding.requireOpen("ParallelLMHead.tiedTo");
        return new ParallelLMHead(embedding.context(), embedding.shard(), embedding.hiddenSize(),
                embedding.weightShard(), embedding);
    }

    /**
     * This rank's {@code [T, S]} F32 logits, {@code −∞} in its padding columns.
     *
     * @param x the hidden states {@code [T, H]} in the layer's precision on the rank's device
     * @return the logits, owned by the caller
     * @throws IllegalArgumentException when {@code x}'s shape, dtype or device does not fit
     * @throws IllegalStateException when the head, or the embedding it is tied to, was closed
     */
    public Tensor localLogits(Tensor x) {
        requireUsable();
        Activations.require("ParallelLMHead", x, -1, hidden, ctx);
        return LmHead.logits(ctx.exec(), x, weight, shard.shardSize());
    }

    /**
     * {@code [T, V]} F32 logits on every rank: the shards all-gathered, padding columns dropped.
     *
     * @param x the hidden states {@code [T, H]} in the layer's precision on the rank's device
     * @return the logits, owned by the caller
     * @throws IllegalArgumentException when {@code x}'s shape, dtype or device does not fit
     * @throws IllegalStateException when the head, or the embedding it is tied to, was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor logits(Tensor x) {
        try (Tensor local = localLogits(x); Tensor padded = ctx.tp().allGather(ctx.exec(), local, 1)) {
            return Slabs.narrow(ctx.exec(), padded, 1, 0, shard.vocabSize());
        }
    }

    /**
     * The greedy token per row of {@code x} on every rank: the largest logit, ties to the smallest id, found
     * per shard and combined without gathering logits: one all-gather of each rank's {@code T} values and ids,
     * packed together ({@link VocabArgmax#localPacked}).
     *
     * @param x the hidden states {@code [T, H]} in the layer's precision on the rank's device
     * @return the global token id of each row, the same on every rank; the host waits for them
     * @throws IllegalArgumentException when {@code x}'s shape, dtype or device does not fit
     * @throws IllegalStateException when the head, or the embedding it is tied to, was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public long[] argmax(Tensor x) {
        long t = x.dim(0);
        try (Tensor local = localLogits(x);
             Tensor mine = VocabArgmax.localPacked(ctx.exec(), local, shard.validRows(), shard.start());
             Tensor all = ctx.tp().allGather(ctx.exec(), mine, 0)) {
            return VocabArgmax.combineGathered(all, ctx.size(), t);
        }
    }

    /**
     * The gradient of the head's input from {@code dz}, the gradient of this rank's padded logits {@code [T, S]}
     * (F32, as {@link io.tpkernels.ops.VocabParallelCrossEntropy#backward} gives it): {@code dx = Σ_r dz_r·W_r}, each
     * rank's partial over its valid columns ({@link LmHeadBackward}) summed by ONE all-reduce. The weight is frozen:
     * no gradient. Returns F32 {@code [T, H]}, replicated; the caller owns it.
     *
     * @param dz the gradient of this rank's padded logits, {@code [T, S]} in a float dtype (F32 from the loss)
     * @return {@code dx}, F32 {@code [T, H]}, owned by the caller
     * @throws IllegalArgumentException when {@code dz}'s shape, dtype or device does not fit; checked before the
     *     collective
     * @throws IllegalStateException when the head, or the embedding it is tied to, was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor backward(Tensor dz) {
        requireUsable();
        GradientChecks.requireOutputGradient("ParallelLMHead", dz, -1, shard.shardSize(), ctx);
        return PartialSums.sum(ctx, LmHeadBackward.inputGradient(ctx.exec(), dz, weight), Tokens.REPLICATED);
    }

    /**
     * The loss of this head's logits on {@code x} against {@code targets} and the gradient of the head's input, in one
     * call (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#16-vocab-parallel-cross-entropy">section 16</a>
     * and
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p2-the-lm-heads-gradient-and-the-fused-cross-entropy">P2</a>):
     * the loss as {@link VocabParallelCrossEntropy} gives it (every rank the same), and {@code dx = Σ_r dz_r·W_r} after
     * one all-reduce, with {@code dz} the gradient of {@code g·loss}, {@code g =}
     * {@code gradOutput.applyAsDouble(count)} for the forward's count of non-ignored targets (1 for the loss itself;
     * {@code count / N_step} when micro-batches share one mean). The context's {@link Tuning#lmHeadLoss()} decides how:
     * fused ({@link LmHeadCrossEntropy}: never the {@code [T, S]} logits) or unfused (the logits, then the loss).
     *
     * @param targets {@code [T]}, I64 or I32, on the context's device
     * @param x the hidden states {@code [T, H]} in the layer's precision on the rank's device
     * @param gradOutput {@code g} for the forward's count of non-ignored targets
     * @return the loss and {@code dx}, owned by the caller (closing the record frees both)
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or a target is outside
     *     {@code [0, V)} and not the ignore index
     * @throws IllegalStateException when the head, or the embedding it is tied to, was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public LossAndGradient lossAndGradient(Tensor x, Tensor targets, LongToDoubleFunction gradOutput) {
        requireUsable();
        Activations.require("ParallelLMHead", x, -1, hidden, ctx);
        var exec = ctx.exec();
        if (exec.tuning().lmHeadLoss() != Tuning.LmHeadLoss.UNFUSED) {
            VocabParallelCrossEntropy.Forward loss = LmHeadCrossEntropy.forward(exec, ctx.tp(), shard, x, weight,
                    targets);
            try {
                Tensor dx = LmHeadCrossEntropy.backward(exec, loss, x, weight, targets,
                        gradOutput.applyAsDouble(loss.count()), null);
                return new LossAndGradient(loss, PartialSums.sum(ctx, dx, Tokens.REPLICATED));
            } catch (RuntimeException e) {
                loss.close();
                throw e;
            }
        }
        try (Tensor logits = localLogits(x)) {
            VocabParallelCrossEntropy.Forward loss = VocabParallelCrossEntropy.forward(exec, ctx.tp(), shard, logits,
                    targets);
            try (Tensor dz = VocabParallelCrossEntropy.backward(exec, loss, logits, targets,
                    gradOutput.applyAsDouble(loss.count()))) {
                return new LossAndGradient(loss, backward(dz));
            } catch (RuntimeException e) {
                loss.close();
                throw e;
            }
        }
    }

    /**
     * The loss (its statistics, which it owns) and the gradient of the head's input (F32 {@code [T, H]}).
     *
     * @param loss the forward's loss and statistics, owned by this record
     * @param inputGradient {@code dx}, F32 {@code [T, H]} replicated, owned by this record
     */
    public record LossAndGradient(VocabParallelCrossEntropy.Forward loss, Tensor inputGradient)
            implements AutoCloseable {
        @Override
        public void close() {
            try (Tensor g = inputGradient) {
                loss.close();
            }
        }
    }

    /**
     * This rank's vocab shard.
     *
     * @return the shard of this rank of the padded vocabulary
     */
    public VocabShard shard() {
        return shard;
    }

    /**
     * Whether the weight shard is the tied embedding's.
     *
     * @return {@code true} for a head made by {@link #tiedTo}
     */
    public boolean isTied() {
        return tiedTo != null;
    }

    private void requireUsable() {
        if (closed) {
            throw new IllegalStateException("ParallelLMHead on rank " + ctx.rank() + " was used after it was closed");
        }
        if (tiedTo != null) {
            tiedTo.requireOpen("ParallelLMHead on rank " + ctx.rank() + " (tied)");
        }
    }

    /** Frees the weight shard, unless it is the tied embedding's; any later use is an {@link IllegalStateException}. */
    @Override
    public void close() {
        closed = true;
        if (tiedTo == null) {
            weight.close();
        }
    }
}
