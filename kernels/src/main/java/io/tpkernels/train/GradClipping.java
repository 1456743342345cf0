package io.tpkernels.train;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Global-norm gradient clipping across a tensor-parallel group (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#17-adamw-and-gradient-clipping">section 17</a>):
 * <pre>
 *   n = √(Σ g²)                           over all parameters, each counted once
 *   g ← g · min(1, c / (n + 1e-6))        every gradient, when clipping to c
 * </pre>
 * "Once" is what {@link Placement} is for. A {@link Placement#SHARDED} parameter's square-sum is split over the
 * ranks: the partial sums are added by one all-reduce SUM. A {@link Placement#REPLICATED} one is whole on every rank,
 * with the same gradient: its square-sum is computed locally and added after the reduction, so it counts once and
 * not {@code tp} times. Every rank then holds the same {@code n} and scales by the same factor, so replicated
 * gradients stay bit-identical across ranks. The square-sums are taken in double (a rank's sharded partial is
 * rounded once to F32 for the reduction), the factor in double, and each scaled gradient is rounded once to F32.
 * A NaN or infinite gradient makes {@code n} NaN or infinite, and the scaled gradients show it.
 *
 * <p>On a GPU ({@link GradClippingCuda}) the same sums are taken in double by kernels queued on the context's stream,
 * each a tree in an order fixed by the gradient's size (so a replicated parameter's square-sum, the norm and the
 * factor are the same on every rank), the sharded partial reduced on device memory; the norm, a host value, costs one
 * host wait, and the scaling none. The trees add in another order than the CPU's loop: the two paths agree to the
 * last bits of a double sum (and of its F32 rounding, for the sharded partial). Gradients live on the context's
 * device.
 */
public final class GradClipping {
    /** Added to the norm before dividing, as PyTorch's {@code clip_grad_norm_}. */
    public static final double EPSILON = 1e-6;

    private GradClipping() {
    }

    /**
     * {@code n = √(Σ g²)} over {@code parameters}, each counted once, identical on every rank of {@code group}: one
     * all-reduce SUM when any parameter is sharded, none otherwise. Every rank passes its parameters in the same
     * order with the same placements.
     *
     * @param ctx this rank's context; the gradients live on its device
     * @param group this rank's tensor-parallel group
     * @param parameters this rank's parameters, in the same order and with the same placements on every rank
     * @return the global norm; on a GPU the host waits for it
     * @throws IllegalArgumentException when a gradient is not on {@code ctx}'s device
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public static double globalNorm(ExecutionContext ctx, ProcessGroup group, List<Parameter> parameters) {
        for (Parameter p : parameters) {
            ctx.requireOn("gradient clipping: parameter " + p.name(), p.grad());
        }
        if (ctx.isCuda()) {
            return GradClippingCuda.globalNorm(ctx, group, parameters);
        }
        double replicated = 0;
        double sharded = 0;
        boolean anySharded = false;
        for (Parameter p : parameters) {
            if (p.placement() == Placement.SHARDED) {
                sharded += squareSum(p.grad());
                anySharded = true;
            } else {
                replicated += squareSum(p.grad());
            }
        }
        if (anySharded) {
            try (Tensor partial = Tensor.ofFloats(DType.F32, new float[] {(float) sharded}, 1)) {
                group.allReduce(ctx, partial, ReduceOp.SUM);
                sharded = partial.toFloatArray()[0];
            }
        }
        return Math.sqrt(replicated + sharded);
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / (n + 1e-6))} and returns {@code n}, the global norm before
     * scaling ({@link #globalNorm}). A factor of 1 leaves the gradients untouched.
     *
     * @param ctx this rank's context; the gradients live on its device
     * @param group this rank's tensor-parallel group
     * @param parameters this rank's parameters, in the same order and with the same placements on every rank
     * @param maxNorm the largest norm let through, finite and {@code > 0}
     * @return the global norm before scaling
     * @throws IllegalArgumentException when {@code maxNorm} is not finite and positive, or a gradient is not on
     *     {@code ctx}'s device
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public static double clip(ExecutionContext ctx, ProcessGroup group, List<Parameter> parameters, double maxNorm) {
        requireMaxNorm(maxNorm);
        return scaleToNorm(ctx, parameters, globalNorm(ctx, group, parameters), maxNorm);
    }

    /**
     * {@code n} over the parameters of every pipeline stage: this stage's {@code n_s} over its tensor-parallel
     * {@code group} ({@link #globalNorm(ExecutionContext, ProcessGroup, List)}), then {@code n = √(Σ_s n_s²)} by one
     * all-reduce SUM over {@code pipeline} (the ranks of the other stages with this rank's place in their groups,
     * which hold the same {@code n_s} as their group's other ranks). Identical on every rank of the mesh.
     *
     * @param ctx this rank's context; the gradients live on its device
     * @param group this rank's tensor-parallel group (its stage's)
     * @param pipeline this rank's pipeline group, one rank per stage
     * @param parameters this rank's parameters, in the same order and with the same placements on every rank of the
     *     stage
     * @return the norm over every stage
     * @throws IllegalArgumentException when a gradient is not on {@code ctx}'s device
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public static double globalNorm(ExecutionContext ctx, ProcessGroup group, ProcessGroup pipeline,
                                    List<Parameter> parameters) {
        double stage = globalNorm(ctx, group, parameters);
        if (pipeline.size() == 1) {
            return stage;
        }
        try (Tensor host = Tensor.ofFloats(DType.F32, new float[] {(float) (stage * stage)}, 1);
             Tensor squares = ctx.isCuda() ? host.copyTo(ctx.device()) : host) {
            pipeline.allReduce(ctx, squares, ReduceOp.SUM); // on the device where there is one, as NCCL needs
            return Math.sqrt(squares.toFloatArray()[0]);
        }
    }

    /**
     * As {@link #clip(ExecutionContext, ProcessGroup, List, double)}, with the norm taken over every pipeline stage.
     *
     * @param ctx this rank's context; the gradients live on its device
     * @param group this rank's tensor-parallel group (its stage's)
     * @param pipeline this rank's pipeline group, one rank per stage
     * @param parameters this rank's parameters, in the same order and with the same placements on every rank of the
     *     stage
     * @param maxNorm the largest norm let through, finite and {@code > 0}
     * @return the norm over every stage before scaling
     * @throws IllegalArgumentException when {@code maxNorm} is not finite and positive, or a gradient is not on
     *     {@code ctx}'s device
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public static double clip(ExecutionContext ctx, ProcessGroup group, ProcessGroup pipeline,
                              List<Parameter> parameters, double maxNorm) {
        requireMaxNorm(maxNorm);
        return scaleToNorm(ctx, parameters, globalNorm(ctx, group, pipeline, parameters), maxNorm);
    }

    private static void requireMaxNorm(double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("gradient clipping: the maximum norm must be finite and > 0, got "
                    + maxNorm);
        }
    }

    /** Scales every gradient by {@code min(1, maxNorm / (norm + 1e-6))}; returns {@code norm}. */
    private static double scaleToNorm(ExecutionContext ctx, List<Parameter> parameters, double norm,
                                      double maxNorm) {
        double factor = Math.min(1, maxNorm / (norm + EPSILON));
        if (!(factor >= 1)) { // a NaN factor goes through, so that a NaN norm shows in every gradient
            for (Parameter p : parameters) {
                if (ctx.isCuda()) {
                    GradClippingCuda.scale(ctx, p.grad(), factor);
                } else {
                    scale(p.grad(), factor);
                }
            }
        }
        return norm;
    }

    /** {@code Σ g²} in double, in element order. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private static double squareSum(Tensor g) {
        try (Memory.Access use = g.acquire()) {
            MemorySegment s = g.hostSegment();
            double sum = 0;
            for (long i = 0; i < g.numel(); i++) {
                double x = DType.F32.getFloat(s, i);
                sum += x * x;
            }
            return sum;
        }
    }

    @SuppressWarnings("try")
    private static void scale(Tensor g, double factor) {
        try (Memory.Access use = g.acquire()) {
            MemorySegment s = g.hostSegment();
            for (long i = 0; i < g.numel(); i++) {
                DType.F32.setFloat(s, i, (float) (DType.F32.getFloat(s, i) * factor));
            }
        }
    }
}
