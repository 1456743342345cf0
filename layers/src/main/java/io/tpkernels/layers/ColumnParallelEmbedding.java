package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * The column-wise (hidden-parallel) embedding of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#4-embedding">section 4</a>: rank r holds
 * all {@code V} rows and columns {@code ShardRange(H, tp, r)}; a plain lookup, then an all-gather along the hidden
 * dimension (replicated {@code [T, H]}) or an all-to-all that trades hidden columns for tokens (sequence-parallel
 * {@code [T/tp, H]}).
 */
public final class ColumnParallelEmbedding implements AutoCloseable {
    private final RankContext ctx;
    private final ShardRange columns;
    private final Tensor weight;
    private final Tokens output;

    private ColumnParallelEmbedding(RankContext ctx, ShardRange columns, Tensor weight, Tokens output) {
        this.ctx = ctx;
        this.columns = columns;
        this.weight = weight;
        this.output = output;
    }

    /**
     * This rank's columns of {@code weightName} ({@code [vocabSize, hidden]}).
     *
     * @param source where the weight is
     * @param weightName the embedding's name ({@code model.embed_tokens.weight})
     * @param vocabSize {@code V}, the weight's rows
     * @param hidden {@code H}, its columns; divisible by tp
     * @param ctx this rank's group, device and precision
     * @param output how the output's tokens are laid out: replicated {@code [T, H]}, or sequence-parallel
     *     {@code [T/tp, H]}
     * @return the layer, owning this rank's {@code [V, H/tp]} columns; the caller closes it
     * @throws IllegalArgumentException when {@code H} does not divide by tp; a
     *     {@link io.tpkernels.layers.weights.WeightException} when the weight is missing, of another shape or not float
     */
    public static ColumnParallelEmbedding load(WeightSource source, String weightName, long vocabSize, long hidden,
                                               RankContext ctx, Tokens output) {
        ShardRange columns = ShardRange.of(weightName + " dimension 1", hidden, ctx.size(), ctx.rank());
        Tensor w = ShardLoader.load(source, weightName, new long[] {vocabSize, hidden}, Split.COLUMNS, columns.start(),
                columns.end(), ctx.device(), ctx.precision().dtype());
        return new ColumnParallelEmbedding(ctx, columns, w, output);
    }

    /**
     * The embeddings of {@code ids} ({@code [T]}, I32 or I64, any device); the caller owns the result.
     *
     * @param ids the token ids, in {@code [0, V)}; copied to the rank's device first if they are elsewhere
     * @return the embeddings in the layer's precision, replicated {@code [T, H]} or this rank's {@code [T/tp, H]},
     *     owned by the caller
     * @throws IllegalArgumentException when the ids are not I32 or I64 {@code [T]}, {@code T} does not divide by tp
     *     under sequence parallelism, or an id is outside {@code [0, V)} (on a GPU at the context's next
     *     synchronization or host read)
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor forward(Tensor ids) {
        if (output == Tokens.SHARDED) {
            Activations.shardedTokens("ColumnParallelEmbedding", ids.numel(), ctx);
        }
        Tensor slice = Ids.lookup("ColumnParallelEmbedding", ids, ctx, i -> EmbeddingLookup.hiddenParallel(ctx.exec(), i, weight));
        try (slice) {
            return output == Tokens.REPLICATED ? ctx.tp().allGather(ctx.exec(), slice, 1) : ctx.tp().allToAll(ctx.exec(), slice, 0, 1);
        }
    }

    /**
     * The hidden columns this rank holds.
     *
     * @return {@code ShardRange(H, tp, r)}
     */
    public ShardRange columnShard() {
        return columns;
    }

    @Override
    public void close() {
        weight.close();
    }
}
