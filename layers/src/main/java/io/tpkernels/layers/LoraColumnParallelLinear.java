package io.tpkernels.layers;

import io.tpkernels.collective.ReduceOp;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.ops.LoraLinearBackward;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;
import io.tpkernels.train.Placement;

/**
 * A {@link ColumnParallelLinear} with LoRA (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>):
 * {@code A} replicated, {@code B} sharded by rows like {@code W}; {@code y_r = x·W_rᵀ + s·(x·Aᵀ)·B_rᵀ + b_r} in one
 * fused kernel with one output write, followed by the same collectives as the base layer and no other: the LoRA term
 * never adds a collective. With DoRA the kernel's epilogue multiplies each output column by this rank's part of the
 * scale {@code g} before the bias: {@code y_r = g_r ⊙ (x·W_rᵀ + s·(x·Aᵀ)·B_rᵀ) + b_r}.
 *
 * <p>The backward (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>)
 * trains the adapter on the frozen base: with {@code dy_r} this rank's columns of the output's gradient,
 * <pre>
 *   dx_r = dy_r·W_r + s·(dy_r·B_r)·A      partial over ranks
 *   dA_r = s·(dy_r·B_r)ᵀ·x                partial over ranks (A is replicated)
 *   dB_r = s·dy_rᵀ·(x·Aᵀ)                 local: this rank's rows of dB
 * </pre>
 * With a replicated input {@code dx} and {@code dA} travel packed in ONE all-reduce, so the backward, like the
 * forward, issues one collective; under sequence parallelism {@code x} is all-gathered over tokens again (as the
 * forward did, rather than kept), {@code dx} is reduce-scattered over tokens and {@code dA} all-reduced. Summed in
 * rank order, {@code dA} is bitwise the same on every rank, and so is the gradient it is added into.
 */
public final class LoraColumnParallelLinear extends ColumnParallelLinear implements LoraLayer {
    private final LoraShard lora;
    private final LoraLinear.Plan plan;
    private final LoraGradients grads;

    private LoraColumnParallelLinear(ColumnParallelLinear base, Tokens input, boolean gatherOutput, LoraShard lora) {
        super(base.ctx, base.outputs, base.inFeatures(), base.weight, base.bias, input, gatherOutput);
        this.lora = lora;
        this.plan = lora.plan(ctx.exec(), weight, bias, true);
        this.grads = new LoraGradients(lora, ctx.exec());
    }

    /**
     * Like {@link ColumnParallelLinear#load}, plus this rank's part of the adapter from {@code lora}.
     *
     * @param source where the base weights are
     * @param weightName W's name, {@code [outFeatures, inFeatures]}
     * @param biasName the bias's name, {@code [outFeatures]}, or {@code null} for none
     * @param outFeatures {@code N}, divisible by tp
     * @param inFeatures {@code K}
     * @param ctx this rank's group, device and precision
     * @param input how the input's tokens are laid out
     * @param gatherOutput whether the output is all-gathered into {@code [T, N]}
     * @param lora a fresh adapter (rank 0 draws {@code A} and broadcasts it), or an adapter's tensors, each full or
     *     this rank's shard
     * @return the layer, owning its shards and adapter; the caller closes it
     * @throws IllegalArgumentException when {@code N} does not divide by tp; a
     *     {@link io.tpkernels.layers.weights.WeightException} when a base or adapter tensor is missing, not float, of
     *     another shape, or {@code A}'s rank is not the adapter's {@code r} or outside {@code [1, 256]}
     * @throws io.tpkernels.collective.CollectiveException when the group fails while a fresh {@code A} is broadcast
     */
    public static LoraColumnParallelLinear load(WeightSource source, String weightName, String biasName,
                                                long outFeatures, long inFeatures, RankContext ctx, Tokens input,
                                                boolean gatherOutput, LoraSource lora) {
        ColumnParallelLinear base = ColumnParallelLinear.load(source, weightName, biasName, outFeatures, inFeatures, ctx,
                input, gatherOutput);
        try {
            LoraShard shard = LoraShard.forColumn(lora, base.outputShard(), inFeatures, base.weight, ctx);
            try {
                return new LoraColumnParallelLinear(base, input, gatherOutput, shard);
            } catch (RuntimeException e) {
                shard.close();
                throw e;
            }
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    @Override
    Tensor localProduct(Tensor x) {
        return plan.forward(x);
    }

    /**
     * As {@link ColumnParallelLinear#backward}, and adds this backward's {@code dA} and {@code dB} into
     * {@link #loraGradA()} and {@link #loraGradB()}. {@code x} is required: the forward's input as it was passed
     * ({@code [T, K]}, or this rank's tokens {@code [T/tp, K]} under sequence parallelism). A DoRA adapter is
     * refused (its training is out of scope).
     *
     * @param x the forward's input, required
     * @param dy the gradient of the output as {@link #forward} returned it, any float dtype
     * @return {@code dx}, F32, as {@link ColumnParallelLinear#backward} gives it; the caller owns it
     * @throws UnsupportedOperationException for a DoRA adapter
     * @throws IllegalArgumentException when {@code x} is {@code null}, or {@code x} or {@code dy} has the wrong shape,
     *     dtype or device; checked before any collective
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        return super.backward(x, dy);
    }

    @Override
    Tensor inputGradient(Tensor x, Tensor dy) {
        GradientChecks.requireLoraTrainable(getClass().getSimpleName(), lora, x, ctx);
        if (input == Tokens.REPLICATED) {
            return packedBackward(x, dy);
        }
        try (Tensor full = ctx.tp().allGather(ctx.exec(), x, 0)) {
            return sequenceParallelBackward(full, dy);
        }
    }

    /** Replicated input: {@code dx} and {@code dA} as the rows of one F32 {@code [T + R, K]}, ONE all-reduce. */
    private Tensor packedBackward(Tensor x, Tensor dy) {
        long t = x.dim(0);
        long k = x.dim(1);
        long r = lora.a().dim(0);
        try (Tensor packed = Tensor.allocate(ctx.exec(), DType.F32, t + r, k);
             Tensor dB = Tensor.allocate(ctx.exec(), DType.F32, outputs.length(), r)) {
            Tensor dx = packed.rows(0, t);
            Tensor dA = packed.rows(t, t + r);
            LoraLinearBackward.backward(ctx.exec(), x, weight, lora.a(), lora.b(), lora.scale(), dy, dx, dA, dB);
            ctx.tp().allReduce(ctx.exec(), packed, ReduceOp.SUM);
            grads.accumulate(dA, dB);
            Tensor out = Tensor.allocate(ctx.exec(), DType.F32, t, k);
            try {
                out.copyFrom(dx);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
    }

    /** Token-sharded input ({@code x} gathered): {@code dx} reduce-scattered over tokens, {@code dA} all-reduced. */
    private Tensor sequenceParallelBackward(Tensor x, Tensor dy) {
        long r = lora.a().dim(0);
        Tensor dx = Tensor.allocate(ctx.exec(), DType.F32, x.dim(0), x.dim(1));
        try (Tensor dA = Tensor.allocate(ctx.exec(), DType.F32, r, x.dim(1));
             Tensor dB = Tensor.allocate(ctx.exec(), DType.F32, outputs.length(), r)) {
            try {
                LoraLinearBackward.backward(ctx.exec(), x, weight, lora.a(), lora.b(), lora.scale(), dy, dx, dA, dB);
            } catch (RuntimeException e) {
                dx.close();
                throw e;
            }
            Tensor mine = sumOverRanks(dx);
            try {
                ctx.tp().allReduce(ctx.exec(), dA, ReduceOp.SUM);
                grads.accumulate(dA, dB);
                return mine;
            } catch (RuntimeException e) {
                mine.close();
                throw e;
            }
        }
    }

    /**
     * This rank's {@code A} ({@code [R, K]}, all of it; on a GPU with a rank whose rows are not a multiple of 16 bytes,
     * {@code [R', K]} zero-padded, see {@link LoraLinear#padRank}). Not a copy: do not close.
     */
    @Override
    public Tensor loraA() {
        return lora.a();
    }

    /** This rank's rows of {@code B} ({@code [N/tp, R]}, or {@code [N/tp, R']} padded as A is). Not a copy: do not close. */
    @Override
    public Tensor loraB() {
        return lora.b();
    }

    /**
     * The gradient of {@link #loraA()} (F32, its shape), summed over the backwards since {@link #zeroGrad()}: the
     * full {@code dA}, reduced over the ranks, bitwise the same on every rank. Not a copy: do not close.
     */
    @Override
    public Tensor loraGradA() {
        return grads.a();
    }

    /** The gradient of {@link #loraB()} (F32, its shape: this rank's rows of {@code dB}). Not a copy: do not close. */
    @Override
    public Tensor loraGradB() {
        return grads.b();
    }

    /**
     * Sets {@link #loraGradA()} and {@link #loraGradB()} to zero, as before the first backward. (They are allocated,
     * as zeros, at their first use: a layer used only for inference holds none.)
     */
    @Override
    public void zeroGrad() {
        grads.zero();
    }

    /** The adapter's rank R: the rows of {@link #loraA()} and columns of {@link #loraB()} before any padding. */
    @Override
    public int loraRank() {
        return lora.rank();
    }

    /** The scale {@code s} of the LoRA term. */
    @Override
    public float loraScale() {
        return lora.scale();
    }

    /** Whether the adapter is DoRA (it then has an output scale besides A and B). */
    @Override
    public boolean isDora() {
        return lora.doraScale() != null;
    }

    /** DoRA's output scale {@code g} as this rank holds it (F32), or {@code null} for plain LoRA. Do not close. */
    Tensor doraScale() {
        return lora.doraScale();
    }

    @Override
    public Placement placementOfA() {
        return Placement.REPLICATED;
    }

    @Override
    public Placement placementOfB() {
        return Placement.SHARDED;
    }

    @Override
    public RankContext rankContext() {
        return ctx;
    }

    @Override
    public void close() {
        try (lora; grads) {
            super.close();
        }
    }
}
