package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Linear;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * Megatron's column-parallel linear (docs/contract.md section 7): {@code W[N, K]}, rank r holds rows
 * {@code ShardRange(N, tp, r)} and the matching bias slice, and computes {@code y_r = x·W_rᵀ + b_r}.
 * With {@code gatherOutput} the slices are all-gathered along the last dimension into {@code [T, N]};
 * otherwise the output stays sharded ({@code [T, N/tp]}), ready for a row-parallel layer. With a
 * token-sharded input (sequence parallel) the tokens are all-gathered first.
 */
public class ColumnParallelLinear implements AutoCloseable {
    final RankContext ctx;
    final ShardRange outputs;
    final Tensor weight;
    final Tensor bias;
    private final long inFeatures;
    private final Tokens input;
    private final boolean gatherOutput;
    private final Linear.Plan plan;

    ColumnParallelLinear(RankContext ctx, ShardRange outputs, long inFeatures, Tensor weight, Tensor bias, Tokens input,
                         boolean gatherOutput) {
        this.ctx = ctx;
        this.outputs = outputs;
        this.inFeatures = inFeatures;
        this.weight = weight;
        this.bias = bias;
        this.input = input;
        this.gatherOutput = gatherOutput;
        this.plan = Linear.plan(ctx.exec(), weight, bias);
    }

    /**
     * This rank's shard of {@code weightName} ({@code [outFeatures, inFeatures]}) and of {@code biasName}
     * ({@code [outFeatures]}, or {@code null} for none) from {@code source}.
     */
    public static ColumnParallelLinear load(WeightSource source, String weightName, String biasName, long outFeatures,
                                            long inFeatures, RankContext ctx, Tokens input, boolean gatherOutput) {
        ShardRange outputs = ShardRange.of(weightName + " dimension 0", outFeatures, ctx.size(), ctx.rank());
        Tensor w = ShardLoader.load(source, weightName, new long[] {outFeatures, inFeatures}, Split.ROWS,
                outputs.start(), outputs.end(), ctx.device(), ctx.precision().dtype());
        try {
            Tensor b = biasName == null ? null : ShardLoader.load(source, biasName, new long[] {outFeatures},
                    Split.ROWS, outputs.start(), outputs.end(), ctx.device(), ctx.precision().dtype());
            try {
                return new ColumnParallelLinear(ctx, outputs, inFeatures, w, b, input, gatherOutput);
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

    /** {@code [T, N]} gathered or {@code [T, N/tp]} sharded, from {@code x} ({@code [T, K]}, or {@code [T/tp, K]}
     * when the input is token-sharded); the caller owns the result. */
    public Tensor forward(Tensor x) {
        Activations.require(getClass().getSimpleName(), x, -1, inFeatures, ctx);
        Tensor full = input == Tokens.SHARDED ? ctx.tp().allGather(ctx.exec(), x, 0) : x;
        try {
            Tensor local = localProduct(full);
            if (!gatherOutput) {
                return local;
            }
            try (local) {
                return ctx.tp().allGather(ctx.exec(), local, 1);
            }
        } finally {
            if (full != x) {
                full.close();
            }
        }
    }

    /** {@code y_r = x·W_rᵀ + b_r}: this rank's columns of the output. */
    Tensor localProduct(Tensor x) {
        return plan.forward(x);
    }

    /** The full output size N. */
    public long outFeatures() {
        return outputs.size();
    }

    /** K. */
    public long inFeatures() {
        return inFeatures;
    }

    /** The output rows of W this rank holds. */
    public ShardRange outputShard() {
        return outputs;
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
    }
}
