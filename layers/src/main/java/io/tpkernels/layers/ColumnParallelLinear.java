package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Linear;
import io.tpkernels.ops.LinearBackward;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * Megatron's column-parallel linear (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#7-parallel-linear-layers">section 7</a>):
 * {@code W[N, K]}, rank r holds rows {@code ShardRange(N, tp, r)} and the matching bias slice, and computes
 * {@code y_r = x·W_rᵀ + b_r}. With {@code gatherOutput} the slices are all-gathered along the last dimension into
 * {@code [T, N]}; otherwise the output stays sharded ({@code [T, N/tp]}), ready for a row-parallel layer. With a
 * token-sharded input (sequence parallel) the tokens are all-gathered first.
 *
 * <p>Its {@link #backward} (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>)
 * gives the gradient of the input through the frozen weight, {@code dx = Σ_r dy_r·W_r}, a sum over ranks reduced by the
 * layer's one collective.
 */
public class ColumnParallelLinear implements AutoCloseable {
    final RankContext ctx;
    final ShardRange outputs;
    final Tensor weight;
    final Tensor bias;
    private final long inFeatures;
    final Tokens input;
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
     *
     * @param source where the weights are
     * @param weightName W's name, {@code [outFeatures, inFeatures]}
     * @param biasName the bias's name, {@code [outFeatures]}, or {@code null} for none
     * @param outFeatures {@code N}, divisible by tp
     * @param inFeatures {@code K}
     * @param ctx this rank's group, device and precision
     * @param input how the input's tokens are laid out: replicated, or sequence-parallel (all-gathered first)
     * @param gatherOutput whether the output is all-gathered into {@code [T, N]} (else it stays {@code [T, N/tp]})
     * @return the layer, owning its shards; the caller closes it
     * @throws IllegalArgumentException when {@code N} does not divide by tp; a
     *     {@link io.tpkernels.layers.weights.WeightException} when a tensor is missing, of another shape or not float
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

    /**
     * {@code [T, N]} gathered or {@code [T, N/tp]} sharded, from {@code x} ({@code [T, K]}, or {@code [T/tp, K]}
     * when the input is token-sharded); the caller owns the result.
     *
     * @param x the input in the layer's precision on the rank's device
     * @return the output in the layer's precision, owned by the caller
     * @throws IllegalArgumentException when {@code x}'s shape, dtype or device does not fit (the message names the
     *     layer, the rank and both shapes)
     * @throws IllegalStateException when the layer was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
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

    /**
     * The gradient of the forward's input from {@code dy}, the gradient of its output (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>):
     * this rank's partial {@code dx_r = dy_r·W_r} in F32, summed over the ranks by ONE all-reduce, or by one
     * reduce-scatter over tokens when the input was token-sharded. The weight and bias are frozen: no gradient.
     *
     * <p>{@code dx} is F32 whatever the precision, and stays F32: the partials are summed in F32 and the sum is
     * not rounded to the layer's dtype (the next backward takes a {@code dy} of any float dtype, and a rounding here
     * would only lose bits of the gradient).
     *
     * @param x  the forward's input, as it was passed to {@link #forward}: the caller keeps it for the backward.
     *           This plain layer does not read it ({@code dy·W} needs only {@code dy}), so {@code null} will do and
     *           nothing need be kept; a LoRA layer needs it
     * @param dy the gradient of the output as {@link #forward} returned it: {@code [T, N]} with
     *           {@code gatherOutput} (this rank reads its columns {@code ShardRange(N)}), else {@code [T, N/tp]}; any
     *           float dtype
     * @return {@code dx}, F32: {@code [T, K]} replicated, or {@code [T/tp, K]} (this rank's tokens) for a
     *         token-sharded input; the caller owns it
     * @throws IllegalArgumentException when {@code x} or {@code dy} has the wrong shape, dtype or device, or a
     *     token-sharded {@code T} does not divide by tp; checked before any collective
     * @throws IllegalStateException when the layer was closed
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor backward(Tensor x, Tensor dy) {
        String layer = getClass().getSimpleName();
        long tokens = -1;
        if (x != null) {
            Activations.require(layer, x, -1, inFeatures, ctx);
            tokens = input == Tokens.SHARDED ? x.dim(0) * ctx.size() : x.dim(0);
        }
        GradientChecks.requireOutputGradient(layer, dy, tokens, gatherOutput ? outputs.size() : outputs.length(), ctx);
        if (input == Tokens.SHARDED) {
            Activations.shardedTokens(layer, dy.dim(0), ctx);
        }
        Tensor mine = gatherOutput ? Slabs.narrow(ctx.exec(), dy, 1, outputs.start(), outputs.length()) : dy;
        try {
            return inputGradient(x, mine);
        } finally {
            if (mine != dy) {
                mine.close();
            }
        }
    }

    /** {@code dx = Σ_r dy_r·W_r} from this rank's columns {@code dy_r} of dy ({@code [T, N/tp]}). */
    Tensor inputGradient(Tensor x, Tensor dy) {
        return sumOverRanks(LinearBackward.inputGradient(ctx.exec(), dy, weight));
    }

    /**
     * The ranks' partial input gradients {@code [T, K]} summed: in place by an all-reduce for a replicated input, or
     * reduce-scattered over tokens for a token-sharded one (this rank's {@code [T/tp, K]}). Takes {@code partial}.
     */
    final Tensor sumOverRanks(Tensor partial) {
        return PartialSums.sum(ctx, partial, input);
    }

    /**
     * The full output size N.
     *
     * @return {@code N}
     */
    public long outFeatures() {
        return outputs.size();
    }

    /**
     * K.
     *
     * @return {@code K}
     */
    public long inFeatures() {
        return inFeatures;
    }

    /**
     * The output rows of W this rank holds.
     *
     * @return {@code ShardRange(N, tp, r)}
     */
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
