package io.tpkernels.train;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@link GradClipping} on a GPU (train.cu): per parameter, block square-sums in double added in a fixed order into a
 * device total, the replicated and the sharded parameters apart; the sharded total rounded to F32 and all-reduced on
 * device memory; one host wait to read the two totals; then the scaling, queued without a wait.
 */
final class GradClippingCuda {
    private static final int THREADS = KernelConstants.ELEMENTWISE_THREADS;
    /** The square-sum's grid for large gradients: a constant, so that the order of its sum depends on n alone. */
    private static final int MAX_BLOCKS = 1024;
    private static final int SCALE_BLOCKS_PER_SM = 8;

    private GradClippingCuda() {
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static double globalNorm(ExecutionContext ctx, ProcessGroup group, List<Parameter> parameters) {
        boolean anySharded = parameters.stream().anyMatch(p -> p.placement() == Placement.SHARDED);
        // Doubles, in I64 tensors: the replicated total, and each block's partial sum of one parameter.
        try (Tensor replicated = Tensor.zeros(ctx, DType.I64, 1);
             Tensor sharded = Tensor.zeros(ctx, DType.I64, 1);
             Tensor shardedF32 = Tensor.zeros(ctx, DType.F32, 1);
             Tensor partials = Tensor.allocate(ctx, DType.I64, MAX_BLOCKS);
             Tensor hostReplicated = Tensor.allocate(Device.CPU, DType.I64, 1);
             Tensor hostSharded = Tensor.allocate(Device.CPU, DType.F32, 1)) {
            for (Parameter p : parameters) {
                boolean isSharded = p.placement() == Placement.SHARDED;
                addSquareSum(ctx, p.grad(), partials, isSharded ? sharded : replicated, isSharded ? shardedF32 : null);
            }
            if (anySharded) {
                group.allReduce(ctx, shardedF32, ReduceOp.SUM);
            }
            hostReplicated.copyFromAsync(replicated, ctx.stream());
            hostSharded.copyFromAsync(shardedF32, ctx.stream());
            ctx.synchronize(); // the one host wait: the norm is a host value
            try (Memory.Access use = Tensor.acquireAll(hostReplicated, hostSharded)) {
                double r = hostReplicated.hostSegment().getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
                double s = anySharded ? hostSharded.hostSegment().getAtIndex(ValueLayout.JAVA_FLOAT, 0) : 0;
                return Math.sqrt(r + s);
            }
        }
    }

    /** {@code total += Σ g²}, and {@code totalF32} (where not null) its new value rounded to F32; queued. */
    @SuppressWarnings("try")
    private static void addSquareSum(ExecutionContext ctx, Tensor grad, Tensor partials, Tensor total,
                                     Tensor totalF32) {
        long n = grad.numel();
        if (n == 0) {
            return;
        }
        int blocks = (int) Math.min((n + THREADS - 1) / THREADS, MAX_BLOCKS);
        try (Memory.Access use = Tensor.acquireAll(grad, partials, total, totalF32)) {
            ctx.kernel(KernelNames.MODULE_TRAIN, KernelNames.TPK_SQUARE_SUM_BLOCKS_F32).launch(ctx, blocks, THREADS, 0,
                    KernelArgs.begin().ptr(partials.devicePointer()).ptr(grad.devicePointer()).i64(n));
            ctx.kernel(KernelNames.MODULE_TRAIN, KernelNames.TPK_SQUARE_SUM_ADD).launch(ctx, 1, THREADS, 0,
                    KernelArgs.begin().ptr(total.devicePointer()).ptr(totalF32 == null ? 0 : totalF32.devicePointer())
                            .ptr(partials.devicePointer()).i32(blocks));
        }
        ctx.wrote(total);
        if (totalF32 != null) {
            ctx.wrote(totalF32);
        }
    }

    /** {@code g ← round(g·factor)}, queued. */
    @SuppressWarnings("try")
    static void scale(ExecutionContext ctx, Tensor grad, double factor) {
        long n = grad.numel();
        if (n == 0) {
            return;
        }
        int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS,
                (long) ctx.cudaDevice().multiprocessors() * SCALE_BLOCKS_PER_SM));
        try (Memory.Access use = grad.acquire()) {
            ctx.kernel(KernelNames.MODULE_TRAIN, KernelNames.TPK_SCALE_F32).launch(ctx, blocks, THREADS, 0,
                    KernelArgs.begin().ptr(grad.devicePointer()).i64(n).f64(factor));
        }
        ctx.wrote(grad);
    }
}
