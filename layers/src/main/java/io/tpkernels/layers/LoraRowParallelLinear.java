package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.Tensor;

/**
 * A {@link RowParallelLinear} with LoRA (docs/contract.md section 8): {@code A} sharded by columns like {@code W},
 * {@code B} replicated; the partial {@code p_r = x_r·W_rᵀ + s·(x_r·A_rᵀ)·Bᵀ} comes from one fused kernel, and
 * the base and LoRA parts are summed across ranks by the base layer's ONE collective; the bias after it. With DoRA
 * the summed output's columns are multiplied by the scale {@code g} between the collective and the bias (its norms
 * were summed over the ranks once, at load).
 */
public final class LoraRowParallelLinear extends RowParallelLinear {
    private final LoraShard lora;
    private final LoraLinear.Plan plan;

    private LoraRowParallelLinear(RowParallelLinear base, boolean inputIsParallel, Tokens output, LoraShard lora) {
        super(base.ctx, base.inputs, base.outFeatures(), base.weight, base.bias, inputIsParallel, output);
        this.lora = lora;
        this.plan = lora.plan(ctx.exec(), weight, null, false);
    }

    /** Like {@link RowParallelLinear#load}, plus this rank's part of the adapter from {@code lora}. */
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
     * This rank's columns of {@code A} ({@code [R, K/tp]}; on a GPU with a rank whose rows are not a multiple of 16
     * bytes, {@code [R', K/tp]} zero-padded, see {@link LoraLinear#padRank}). Not a copy: do not close.
     */
    public Tensor loraA() {
        return lora.a();
    }

    /** This rank's {@code B} ({@code [N, R]}, all of it, or {@code [N, R']} padded as A is). Not a copy: do not close. */
    public Tensor loraB() {
        return lora.b();
    }

    /** The adapter's rank R: the rows of {@link #loraA()} and columns of {@link #loraB()} before any padding. */
    public int loraRank() {
        return lora.rank();
    }

    /** The scale {@code s} of the LoRA term. */
    public float loraScale() {
        return lora.scale();
    }

    /** Whether the adapter is DoRA (it then has an output scale besides A and B). */
    public boolean isDora() {
        return lora.doraScale() != null;
    }

    /** DoRA's output scale {@code g} as this rank holds it (F32), or {@code null} for plain LoRA. Do not close. */
    Tensor doraScale() {
        return lora.doraScale();
    }

    @Override
    public void close() {
        try (lora) {
            super.close();
        }
    }
}
