package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * The column-wise (hidden-parallel) embedding of docs/contract.md section 4: rank r holds all {@code V} rows and
 * columns {@code ShardRange(H, tp, r)}; a plain lookup, then an all-gather along the hidden dimension
 * (replicated {@code [T, H]}) or an all-to-all that trades hidden columns for tokens (sequence-parallel
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

    /** This rank's columns of {@code weightName} ({@code [vocabSize, hidden]}). */
    public static ColumnParallelEmbedding load(WeightSource source, String weightName, long vocabSize, long hidden,
                                               RankContext ctx, Tokens output) {
        ShardRange columns = ShardRange.of(weightName + " dimension 1", hidden, ctx.size(), ctx.rank());
        Tensor w = ShardLoader.load(source, weightName, new long[] {vocabSize, hidden}, Split.COLUMNS, columns.start(),
                columns.end(), ctx.device(), ctx.precision().dtype());
        return new ColumnParallelEmbedding(ctx, columns, w, output);
    }

    /** The embeddings of {@code ids} ({@code [T]}, I32 or I64, any device); the caller owns the result. */
    public Tensor forward(Tensor ids) {
        if (output == Tokens.SHARDED) {
            Activations.shardedTokens("ColumnParallelEmbedding", ids.numel(), ctx);
        }
        Tensor slice = Ids.lookup("ColumnParallelEmbedding", ids, ctx, i -> EmbeddingLookup.hiddenParallel(ctx.exec(), i, weight));
        try (slice) {
            return output == Tokens.REPLICATED ? ctx.tp().allGather(ctx.exec(), slice, 1) : ctx.tp().allToAll(ctx.exec(), slice, 0, 1);
        }
    }

    /** The hidden columns this rank holds. */
    public ShardRange columnShard() {
        return columns;
    }

    @Override
    public void close() {
        weight.close();
    }
}
