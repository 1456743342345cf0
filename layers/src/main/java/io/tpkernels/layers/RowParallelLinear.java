package io.tpkernels.layers;

import io.tpkernels.collective.ReduceOp;
import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.Linear;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * Megatron's row-parallel linear (docs/contract.md section 7): {@code W[N, K]}, rank r holds columns
 * {@code ShardRange(K, tp, r)} and computes the partial product {@code x_r·W_rᵀ}; the partials are summed by
 * one all-reduce (replicated output) or one reduce-scatter over tokens (sequence parallel). The bias is
 * added once, after the collective. The input is the matching slice {@code x_r} ({@code inputIsParallel},
 * e.g. a column-parallel layer's sharded output) or the full {@code x}, sliced here.
 */
public class RowParallelLinear implements AutoCloseable {
    final RankContext ctx;
    final ShardRange inputs;
    final Tensor weight;
    private final long outFeatures;
    final Tensor bias;
    private final boolean inputIsParallel;
    private final Tokens output;
    private final Linear.Plan plan;

    RowParallelLinear(RankContext ctx, ShardRange inputs, long outFeatures, Tensor weight, Tensor bias,
                      boolean inputIsParallel, Tokens output) {
        this.ctx = ctx;
        this.inputs = inputs;
        this.outFeatures = outFeatures;
        this.weight = weight;
        this.bias = bias;
        this.inputIsParallel = inputIsParallel;
        this.output = output;
        this.plan = Linear.plan(ctx.exec(), weight, null);
    }

    /**
     * This rank's columns of {@code weightName} ({@code [outFeatures, inFeatures]}) and all of {@code biasName}
     * ({@code [outFeatures]}, or {@code null} for none) from {@code source}.
     */
    public static RowParallelLinear load(WeightSource source, String weightName, String biasName, long outFeatures,
                                         long inFeatures, RankContext ctx, boolean inputIsParallel, Tokens output) {
        ShardRange inputs = ShardRange.of(weightName + " dimension 1", inFeatures, ctx.size(), ctx.rank());
        Tensor w = ShardLoader.load(source, weightName, new long[] {outFeatures, inFeatures}, Split.COLUMNS,
                inputs.start(), inputs.end(), ctx.device(), ctx.precision().dtype());
        try {
            Tensor b = biasName == null ? null : ShardLoader.load(source, biasName, new long[] {outFeatures},
                    Split.REPLICATED, 0, outFeatures, ctx.device(), ctx.precision().dtype());
            try {
                return new RowParallelLinear(ctx, inputs, outFeatures, w, b, inputIsParallel, output);
            } catch (RuntimeException e) {
                if (b != null) {
                    b.close();
                }
                throw e;
            }
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /**
     * {@code [T, N]} (or {@code [T/tp, N]} token-sharded) from {@code x}: {@code [T, K/tp]} when the input is
     * parallel, else {@code [T, K]}. The caller owns the result.
     */
    public Tensor forward(Tensor x) {
        String layer = getClass().getSimpleName();
        Activations.require(layer, x, -1, inputIsParallel ? inputs.length() : inputs.size(), ctx);
        if (output == Tokens.SHARDED) {
            Activations.shardedTokens(layer, x.dim(0), ctx);
        }
        Tensor mine = inputIsParallel ? x : Slabs.narrow(ctx.exec(), x, 1, inputs.start(), inputs.length());
        Tensor y;
        try {
            Tensor partial = localProduct(mine);
            y = reduce(partial);
        } finally {
            if (mine != x) {
                mine.close();
            }
        }
        try {
            scaleReduced(y);
            if (bias != null) {
                Elementwise.addBiasInPlace(ctx.exec(), y, bias);
            }
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return y;
    }

    /** What happens to the summed output before the bias: nothing here; DoRA scales its columns. */
    void scaleReduced(Tensor y) {
    }

    /** The one collective: the partials summed in place (replicated) or reduce-scattered over tokens. */
    private Tensor reduce(Tensor partial) {
        try {
            if (output == Tokens.REPLICATED) {
                ctx.tp().allReduce(ctx.exec(), partial, ReduceOp.SUM);
                return partial;
            }
            Tensor mine = ctx.tp().reduceScatter(ctx.exec(), partial, 0, ReduceOp.SUM);
            partial.close();
            return mine;
        } catch (RuntimeException e) {
            partial.close();
            throw e;
        }
    }

    /** {@code x_r·W_rᵀ}, this rank's partial sum, without the bias. */
    Tensor localProduct(Tensor x) {
        return plan.forward(x);
    }

    /** N. */
    public long outFeatures() {
        return outFeatures;
    }

    /** The full input size K. */
    public long inFeatures() {
        return inputs.size();
    }

    /** The input columns of W this rank holds. */
    public ShardRange inputShard() {
        return inputs;
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
    }
}
