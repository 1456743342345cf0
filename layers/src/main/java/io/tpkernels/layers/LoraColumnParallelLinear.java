package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;

/**
 * A {@link ColumnParallelLinear} with LoRA (docs/contract.md section 8): {@code A} replicated, {@code B} sharded by
 * rows like {@code W}; {@code y_r = x·W_rᵀ + s·(x·Aᵀ)·B_rᵀ + b_r} in one fused kernel with one output write,
 * followed by the same collectives as the base layer and no other: the LoRA term never adds a collective. With
 * DoRA the kernel's epilogue multiplies each output column by this rank's part of the scale {@code g} before the
 * bias: {@code y_r = g_r ⊙ (x·W_rᵀ + s·(x·Aᵀ)·B_rᵀ) + b_r}.
 */
public final class LoraColumnParallelLinear extends ColumnParallelLinear {
    private final LoraShard lora;
    private final LoraLinear.Plan plan;

    private LoraColumnParallelLinear(ColumnParallelLinear base, Tokens input, boolean gatherOutput, LoraShard lora) {
        super(base.ctx, base.outputs, base.inFeatures(), base.weight, base.bias, input, gatherOutput);
        this.lora = lora;
        this.plan = lora.plan(ctx.exec(), weight, bias, true);
    }

    /** Like {@link ColumnParallelLinear#load}, plus this rank's part of the adapter from {@code lora}. */
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
     * This rank's {@code A} ({@code [R, K]}, all of it; on a GPU with a rank whose rows are not a multiple of 16 bytes,
     * {@code [R', K]} zero-padded, see {@link LoraLinear#padRank}). Not a copy: do not close.
     */
    public Tensor loraA() {
        return lora.a();
    }

    /** This rank's rows of {@code B} ({@code [N/tp, R]}, or {@code [N/tp, R']} padded as A is). Not a copy: do not close. */
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
