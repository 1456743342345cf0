package io.tpkernels.layers;

import io.tpkernels.collective.ReduceOp;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.ops.LoraLinearBackward;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.train.Placement;

/**
 * A {@link RowParallelLinear} with LoRA (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>):
 * {@code A} sharded by columns like {@code W}, {@code B} replicated; the partial
 * {@code p_r = x_r·W_rᵀ + s·(x_r·A_rᵀ)·Bᵀ} comes from one fused kernel, and the base and LoRA parts are summed across
 * ranks by the base layer's ONE collective; the bias after it. With DoRA the summed output's columns are multiplied by
 * the scale {@code g} between the collective and the bias (its norms were summed over the ranks once, at load).
 *
 * <p>The backward (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>)
 * trains the adapter on the frozen base: with {@code dy} replicated (all-gathered over tokens under sequence
 * parallelism),
 * <pre>
 *   dx_r = dy·W_r + s·(dy·B)·A_r          local: this rank's columns of dx
 *   dA_r = s·(dy·B)ᵀ·x_r                  local: this rank's columns of dA
 *   dB   = s·dyᵀ·Σ_r (x_r·A_rᵀ)           ONE all-reduce of the partials s·dyᵀ·(x_r·A_rᵀ)
 * </pre>
 * Summed in rank order, {@code dB} is bitwise the same on every rank, and so is the gradient it is added into.
 */
public final class LoraRowParallelLinear extends RowParallelLinear implements LoraLayer {
    private final LoraShard lora;
    private final LoraLinear.Plan plan;
    private final LoraGradients grads;

    private LoraRowParallelLinear(RowParallelLinear base, boolean inputIsParallel, Tokens output, LoraShard lora) {
        super(base.ctx, base.inputs, base.outFeatures(), base.weight, base.bias, inputIsParallel, output);
        this.lora = lora;
        this.plan = lora.plan(ctx.exec(), weight, null, false);
        this.grads = new LoraGradients(lora, ctx.exec());
    }

    /**
     * Like {@link RowParallelLinear#load}, plus this rank's part of the adapter from {@code lora}.
     *
     * @param source where the base weights are
     * @param weightName W's name, {@code [outFeatures, inFeatures]}
     * @param biasName the bias's name, {@code [outFeatures]}, or {@code null} for none
     * @param outFeatures {@code N}
     * @param inFeatures {@code K}, divisible by tp
     * @param ctx this rank's group, device and precision
     * @param inputIsParallel whether the input is this rank's slice {@code [T, K/tp]}
     * @param output how the output's tokens are laid out
     * @param lora a fresh adapter (rank 0 draws the full {@code A} and scatters its columns), or an adapter's tensors,
     *     each full or this rank's shard
     * @return the layer, owning its shards and adapter; the caller closes it
     * @throws IllegalArgumentException when {@code K} does not divide by tp; a
     *     {@link io.tpkernels.layers.weights.WeightException} when a base or adapter tensor is missing, not float, of
     *     another shape, or {@code A}'s rank is not the adapter's {@code r} or outside {@code [1, 256]}
     * @throws io.tpkernels.collective.CollectiveException when the group fails while a fresh {@code A} is scattered or
     *     DoRA's row norms are summed
     */
    public static LoraRowParallelLinear load(WeightSource source, String weightName, String biasName, long outFeatures,
                                             long inFeatures, RankContext ctx, boolean inputIsParallel, Tokens output,
                                             LoraSource lora) {
        RowParallelLinear base = RowParallelLinear.load(source, weightName, biasName, outFeatures, inFeatures, ctx,
                inputIsParallel, output);
        try {
            LoraShard shard = LoraShard.forRow(lora, base.inputShard(), outFeatures, base.weight, ctx);
            try {
                return new LoraRowParallelLinear(base, inputIsParallel, output, shard);
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

    @Override
    void scaleReduced(Tensor y) {
        if (lora.doraScale() != null) {
            Elementwise.scaleColumnsInPlace(ctx.exec(), y, lora.doraScale());
        }
    }

    /**
     * As {@link RowParallelLinear#backward}, and adds this backward's {@code dA} and {@code dB} into
     * {@link #loraGradA()} and {@link #loraGradB()}. {@code x} is required: the forward's input as it was passed
     * ({@code [T, K/tp]} parallel, else {@code [T, K]}). A DoRA adapter is refused (its training is out of scope).
     *
     * @param x the forward's input, required
     * @param dy the gradient of the output as {@link #forward} returned it, any float dtype
     * @return {@code dx}, F32, as {@link RowParallelLinear#backward} gives it; the caller owns it
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
    Tensor localInputGradient(Tensor x, Tensor dy) {
        GradientChecks.requireLoraTrainable(getClass().getSimpleName(), lora, x, ctx);
        Tensor mine = localInput(x);
        try {
            long t = dy.dim(0);
            long r = lora.a().dim(0);
            Tensor dx = Tensor.allocate(ctx.exec(), DType.F32, t, mine.dim(1));
            try (Tensor dA = Tensor.allocate(ctx.exec(), DType.F32, r, mine.dim(1));
                 Tensor dB = Tensor.allocate(ctx.exec(), DType.F32, outFeatures(), r)) {
                LoraLinearBackward.backward(ctx.exec(), mine, weight, lora.a(), lora.b(), lora.scale(), dy, dx, dA,
                        dB);
                ctx.tp().allReduce(ctx.exec(), dB, ReduceOp.SUM);
                grads.accumulate(dA, dB);
                return dx;
            } catch (RuntimeException e) {
                dx.close();
                throw e;
            }
        } finally {
            if (mine != x) {
                mine.close();
            }
        }
    }

    /**
     * This rank's columns of {@code A} ({@code [R, K/tp]}; on a GPU with a rank whose rows are not a multiple of 16
     * bytes, {@code [R', K/tp]} zero-padded, see {@link LoraLinear#padRank}). Not a copy: do not close.
     */
    @Override
    public Tensor loraA() {
        return lora.a();
    }

    /** This rank's {@code B} ({@code [N, R]}, all of it, or {@code [N, R']} padded as A is). Not a copy: do not close. */
    @Override
    public Tensor loraB() {
        return lora.b();
    }

    /** The gradient of {@link #loraA()} (F32, its shape: this rank's columns of {@code dA}). Not a copy: do not close. */
    @Override
    public Tensor loraGradA() {
        return grads.a();
    }

    /**
     * The gradient of {@link #loraB()} (F32, its shape), summed over the backwards since {@link #zeroGrad()}: the
     * full {@code dB}, reduced over the ranks, bitwise the same on every rank. Not a copy: do not close.
     */
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
        return Placement.SHARDED;
    }

    @Override
    public Placement placementOfB() {
        return Placement.REPLICATED;
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
