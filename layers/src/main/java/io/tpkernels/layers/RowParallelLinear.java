package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.Linear;
import io.tpkernels.ops.LinearBackward;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * Megatron's row-parallel linear (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#7-parallel-linear-layers">section 7</a>):
 * {@code W[N, K]}, rank r holds columns {@code ShardRange(K, tp, r)} and computes the partial product {@code x_r·W_rᵀ};
 * the partials are summed by one all-reduce (replicated output) or one reduce-scatter over tokens (sequence parallel).
 * The bias is added once, after the collective. The input is the matching slice {@code x_r} ({@code inputIsParallel},
 * e.g. a column-parallel layer's sharded output) or the full {@code x}, sliced here.
 *
 * <p>Its {@link #backward} (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>)
 * gives the gradient of the input through the frozen weight: with {@code dy} replicated, {@code dx_r = dy·W_r} is
 * local, this rank's columns of {@code dx}, and needs no collective.
 */
public class RowParallelLinear implements AutoCloseable {
    final RankContext ctx;
    final ShardRange inputs;
    final Tensor weight;
    private final long outFeatures;
    final Tensor bias;
    final boolean inputIsParallel;
    final Tokens output;
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
     *
     * @param source where the weights are
     * @param weightName W's name, {@code [outFeatures, inFeatures]}
     * @param biasName the bias's name, {@code [outFeatures]}, or {@code null} for none
     * @param outFeatures {@code N}
     * @param inFeatures {@code K}, divisible by tp
     * @param ctx this rank's group, device and precision
     * @param inputIsParallel whether the input is this rank's slice {@code [T, K/tp]} (else the full {@code [T, K]},
     *     sliced here)
     * @param output how the output's tokens are laid out: replicated (all-reduce) or sequence-parallel (reduce-scatter)
     * @return the layer, owning its shards; the caller closes it
     * @throws IllegalArgumentException when {@code K} does not divide by tp; a
     *     {@link io.tpkernels.layers.weights.WeightException} when a tensor is missing, of another shape or not float
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
     *
     * @param x the input in the layer's precision on the rank's device
     * @return the output in the layer's precision, owned by the caller
     * @throws IllegalArgumentException when {@code x}'s shape, dtype or device does not fit, or a token-sharded
     *     output's {@code T} does not divide by tp
     * @throws IllegalStateException when the layer was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
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
        return PartialSums.sum(ctx, partial, output);
    }

    /** {@code x_r·W_rᵀ}, this rank's partial sum, without the bias. */
    Tensor localProduct(Tensor x) {
        return plan.forward(x);
    }

    /**
     * The gradient of the forward's input from {@code dy}, the gradient of its output (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>).
     * {@code dy} is replicated, or all-gathered over tokens first when the output was token-sharded; then this rank's
     * columns {@code dx_r = dy·W_r} ({@code [T, K/tp]}, F32) are local: with a parallel input that is the whole answer
     * and the plain layer issues no collective. A full input was sliced by the forward, so its gradient is the ranks'
     * column blocks all-gathered ({@code [T, K]}, the slicing's backward). The weight and bias are frozen.
     *
     * <p>{@code dx} is F32 whatever the precision, and is not rounded to the layer's dtype: the next backward takes
     * a {@code dy} of any float dtype.
     *
     * @param x  the forward's input as it was passed to {@link #forward} ({@code [T, K/tp]} parallel, else
     *           {@code [T, K]}): the caller keeps it for the backward. This plain layer does not read it, so
     *           {@code null} will do and nothing need be kept; a LoRA layer needs it
     * @param dy the gradient of the output as {@link #forward} returned it: {@code [T, N]}, or {@code [T/tp, N]}
     *           (this rank's tokens) under sequence parallelism; any float dtype
     * @return {@code dx}, F32, shaped as {@code x}; the caller owns it
     * @throws IllegalArgumentException when {@code x} or {@code dy} has the wrong shape, dtype or device, or a
     *     token-sharded {@code T} does not divide by tp; checked before any collective
     * @throws IllegalStateException when the layer was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor backward(Tensor x, Tensor dy) {
        String layer = getClass().getSimpleName();
        long rows = -1;
        if (x != null) {
            Activations.require(layer, x, -1, inputIsParallel ? inputs.length() : inputs.size(), ctx);
            rows = output == Tokens.SHARDED ? Activations.shardedTokens(layer, x.dim(0), ctx) : x.dim(0);
        }
        GradientChecks.requireOutputGradient(layer, dy, rows, outFeatures, ctx);
        Tensor full = output == Tokens.SHARDED ? ctx.tp().allGather(ctx.exec(), dy, 0) : dy;
        try {
            Tensor local = localInputGradient(x, full);
            if (inputIsParallel) {
                return local;
            }
            try (local) {
                return ctx.tp().allGather(ctx.exec(), local, 1);
            }
        } finally {
            if (full != dy) {
                full.close();
            }
        }
    }

    /** {@code dx_r = dy·W_r}, F32 {@code [T, K/tp]}, from the replicated {@code dy}; {@code x} as the forward had it. */
    Tensor localInputGradient(Tensor x, Tensor dy) {
        return LinearBackward.inputGradient(ctx.exec(), dy, weight);
    }

    /** This rank's columns {@code x_r} of the forward's input: {@code x} itself when it is parallel, else a copy. */
    final Tensor localInput(Tensor x) {
        return inputIsParallel ? x : Slabs.narrow(ctx.exec(), x, 1, inputs.start(), inputs.length());
    }

    /**
     * N.
     *
     * @return {@code N}
     */
    public long outFeatures() {
        return outFeatures;
    }

    /**
     * The full input size K.
     *
     * @return {@code K}
     */
    public long inFeatures() {
        return inputs.size();
    }

    /**
     * The input columns of W this rank holds.
     *
     * @return {@code ShardRange(K, tp, r)}
     */
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
