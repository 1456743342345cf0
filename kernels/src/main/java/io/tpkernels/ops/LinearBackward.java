package io.tpkernels.ops;

import io.tpkernels.ops.BackwardGemmCuda.Matrix;
import io.tpkernels.ops.cpu.CpuGemmRows;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * The backward of {@link Linear} through a frozen weight (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>):
 * base weights get no gradient, only the input does,
 * <pre>
 *   dx[t, k] = Σ_n dy[t, n]·W[n, k]        dy [T, N], W [N, K], dx [T, K]
 * </pre>
 * (a bias, frozen too, takes no part). {@code dx} is F32 whatever the compute dtype: gradients are, and a
 * column-parallel layer's {@code dx_r = dy_r·W_r} is a partial sum that the layer reduces over ranks before any
 * rounding. Each element is summed over {@code n} ascending, one f32 chain ({@link CpuGemmRows}), so a row-parallel
 * shard's {@code dx_r} (W sliced by columns) is the unsharded {@code dx}'s column block bit for bit.
 *
 * <p>On a GPU the product is queued on the context's stream, with no host wait: cuBLAS (f32 compute) when it is
 * found and dy and W share a dtype, else a tiled kernel that reads each in its own dtype (backward_gemm.cu); f32
 * accumulation either way, in another order than the CPU's, so the two agree to f32 rounding, not bit for bit.
 */
public final class LinearBackward {
    private LinearBackward() {
    }

    /**
     * {@code dx = dy·W}, F32 {@code [T, K]}, allocated on {@code ctx}; dy in any float dtype, W as the forward's.
     *
     * @param ctx the context the result is allocated on and the product queued on; the tensors live on its device
     * @param dy the gradient of the output, {@code [T, N]} in any float dtype
     * @param w the frozen weight, {@code [N, K]} F32, F16 or BF16
     * @return {@code dx}, F32 {@code [T, K]}, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static Tensor inputGradient(ExecutionContext ctx, Tensor dy, Tensor w) {
        check(ctx, dy, w);
        Tensor dx = Tensor.allocate(ctx, DType.F32, dy.dim(0), w.dim(1));
        try {
            run(ctx, dy, w, dx);
            return dx;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
    }

    /**
     * {@code dx = dy·W} into {@code dx} (F32 {@code [T, K]}: a view into a packed buffer will do).
     *
     * @param ctx the context the product is queued on; the tensors live on its device
     * @param dy the gradient of the output, {@code [T, N]} in any float dtype
     * @param w the frozen weight, {@code [N, K]} F32, F16 or BF16
     * @param dx F32 {@code [T, K]} on the same device, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void inputGradient(ExecutionContext ctx, Tensor dy, Tensor w, Tensor dx) {
        check(ctx, dy, w);
        BackwardChecks.requireF32("linear backward", "dx", dx, dy, dy.dim(0), w.dim(1));
        run(ctx, dy, w, dx);
    }

    private static void run(ExecutionContext ctx, Tensor dy, Tensor w, Tensor dx) {
        if (ctx.isCuda()) {
            BackwardGemmCuda.nn(ctx, Matrix.of(dy), Matrix.of(w), 1f, false, dx);
        } else {
            CpuGemmRows.multiplyNN(BackwardChecks.operand(dy), BackwardChecks.operand(w), 1f, dx.hostSegment(),
                    dx.dim(1));
        }
    }

    private static void check(ExecutionContext ctx, Tensor dy, Tensor w) {
        if (!w.dtype().isFloatingPoint() || w.rank() != 2) {
            throw new IllegalArgumentException("linear backward: W must be F32, F16 or BF16 of shape [N, K], got "
                    + w.describe());
        }
        if (!dy.dtype().isFloatingPoint() || dy.rank() != 2 || dy.dim(1) != w.dim(0)
                || !dy.device().equals(w.device())) {
            throw new IllegalArgumentException("linear backward: dy must be [T, " + w.dim(0) + "] F32, F16 or BF16 on "
                    + w.device() + " like W, got " + dy.describe());
        }
        ctx.requireOn("linear backward", dy);
    }
}
