package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The row-wise (vocab-parallel) embedding of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#4-embedding">section 4</a>. Rank r holds
 * only the {@code valid(r)} real rows of its padded vocab shard: padding rows are never allocated. One fused kernel
 * looks up the ids that fall in the shard and writes zeros for the rest; one SUM collective combines the ranks, either
 * an all-reduce (replicated {@code [T, H]}) or a reduce-scatter over tokens (sequence-parallel {@code [T/tp, H]}).
 * Exactly one rank contributes each row, so the result equals the unsharded lookup bit for bit.
 */
public final class VocabParallelEmbedding implements AutoCloseable {
    private final RankContext ctx;
    private final VocabShard shard;
    private final long hidden;
    private final Tensor weight;
    private final Tokens output;
    private volatile boolean closed;

    private VocabParallelEmbedding(RankContext ctx, VocabShard shard, long hidden, Tensor weight, Tokens output) {
        this.ctx = ctx;
        this.shard = shard;
        this.hidden = hidden;
        this.weight = weight;
        this.output = output;
    }

    /**
     * This rank's valid rows of {@code weightName} ({@code [vocabSize, hidden]}), the vocab padded to a
     * multiple of {@code multiple·tp}.
     *
     * @param source where the weight is
     * @param weightName the embedding's name ({@code model.embed_tokens.weight})
     * @param vocabSize {@code V}, the weight's rows
     * @param hidden {@code H}, its columns
     * @param multiple the padding multiple {@code m} ({@link VocabShard#DEFAULT_MULTIPLE} unless the model says
     *     otherwise)
     * @param ctx this rank's group, device and precision
     * @param output how the output's tokens are laid out: replicated (all-reduce) or sequence-parallel (reduce-scatter)
     * @return the layer, owning this rank's {@code [valid(r), H]} rows; the caller closes it
     * @throws IllegalArgumentException when {@code V} or {@code m} is out of range; a
     *     {@link io.tpkernels.layers.weights.WeightException} when the weight is missing, of another shape or not float
     */
    public static VocabParallelEmbedding load(WeightSource source, String weightName, long vocabSize, long hidden,
                                              int multiple, RankContext ctx, Tokens output) {
        VocabShard shard = VocabShard.of(vocabSize, ctx.size(), ctx.rank(), multiple);
        return new VocabParallelEmbedding(ctx, shard, hidden, loadValidRows(source, weightName, shard, hidden, ctx), output);
    }

    /**
     * Rows {@code [start, start + valid)} of {@code weightName} ({@code [V, H]}): the shard's real rows and
     * nothing of its padding. A shard without real rows (tiny V, many ranks) may start past V: it loads none.
     */
    static Tensor loadValidRows(WeightSource source, String weightName, VocabShard shard, long hidden, RankContext ctx) {
        long from = shard.validRows() == 0 ? 0 : shard.start();
        return ShardLoader.load(source, weightName, new long[] {shard.vocabSize(), hidden}, Split.ROWS, from,
                from + shard.validRows(), ctx.device(), ctx.precision().dtype());
    }

    /**
     * The embeddings of {@code ids} ({@code [T]}, I32 or I64, any device); the caller owns the result.
     *
     * @param ids the token ids, in {@code [0, V)}; copied to the rank's device first if they are elsewhere
     * @return the embeddings in the layer's precision, replicated {@code [T, H]} or this rank's {@code [T/tp, H]},
     *     owned by the caller
     * @throws IllegalArgumentException when the ids are not I32 or I64 {@code [T]}, {@code T} does not divide by tp
     *     under sequence parallelism, or an id is outside {@code [0, V)} (on the CPU at the call, on a GPU at the
     *     context's next synchronization or host read, naming the first bad position)
     * @throws IllegalStateException when the layer was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor forward(Tensor ids) {
        if (output == Tokens.SHARDED) {
            Activations.shardedTokens("VocabParallelEmbedding", ids.numel(), ctx);
        }
        Tensor rows = Ids.lookup("VocabParallelEmbedding", ids, ctx, i -> EmbeddingLookup.vocabParallel(ctx.exec(), i, weight, shard));
        return PartialSums.sum(ctx, rows, output);
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
     * H.
     *
     * @return {@code H}
     */
    public long hiddenSize() {
        return hidden;
    }

    /** The valid rows {@code [valid, H]}, for an LM head tied to this embedding (not a copy: do not close). */
    Tensor weightShard() {
        return weight;
    }

    RankContext context() {
        return ctx;
    }

    /** Throws {@link IllegalStateException}, naming {@code user}, once this embedding is closed. */
    void requireOpen(String user) {
        if (closed) {
            throw new IllegalStateException(user + ": the VocabParallelEmbedding of rank " + ctx.rank()
                    + " is closed (a tied LM head borrows its weight shard: close the head before the embedding)");
        }
    }

    /** Frees the weight shard (a head {@link ParallelLMHead#tiedTo tied} to it can no longer be used). */
    @Override
    public void close() {
        closed = true;
        weight.close();
    }
}
