package io.tpkernels.ops;

import static io.tpkernels.ops.BackwardChecks.operand;

import io.tpkernels.ops.cpu.CpuGemmRows;
import io.tpkernels.ops.cpu.CpuGemmRows.Term;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.List;

/**
 * The backward of {@link LoraLinear} on a frozen base (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>):
 * for {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ} and {@code dy} the gradient of {@code y},
 * <pre>
 *   dx = dy·W + s·(dy·B)·A        [T, K]
 *   dB = s·dyᵀ·xa                 [N, R]        xa = x·Aᵀ
 *   dA = s·(dy·B)ᵀ·x              [R, K]
 * </pre>
 * W gets no gradient. The same call serves both tensor-parallel forms, each rank with its own slices: column-parallel
 * (A replicated, B and W by rows, {@code dy_r} the rank's columns of dy) gives partial sums {@code dx_r} and
 * {@code dA_r} and the rank's rows {@code dB_r} of dB, bit for bit; row-parallel (A and W by columns, B and dy
 * replicated) gives {@code dx_r} and {@code dA_r} as the column blocks of the unsharded ones, bit for bit, and a
 * partial sum {@code dB_r}.
 *
 * <p>How it computes, on the CPU ({@link CpuGemmRows}, each element one f32 chain in a fixed order):
 * <ol>
 *   <li>{@code g = dy·B}, F32 {@code [T, R]}, the gradient of the intermediate, used twice;</li>
 *   <li>{@code dx = dy·W + (s·g)·A} in one accumulation, {@code n} then {@code r} ascending;</li>
 *   <li>{@code dA = (s·g)ᵀ·x}, summed over tokens ascending;</li>
 *   <li>{@code dB = dyᵀ·xs} with {@code xs = round(s·x·Aᵀ)}, summed over tokens ascending.</li>
 * </ol>
 * {@code xs} is recomputed, not kept from the forward: it is the forward's own intermediate, by the same shrink, so
 * the same bits ({@code s·xa} rounded to x's dtype, as the forward rounds it, which makes {@code dB} the gradient of
 * the y the forward wrote); the forward does not hand it out (on a GPU it may never leave the registers); and it
 * costs {@code T·R·K} multiply-adds, as {@code dA} does, beside the {@code T·N·K} of {@code dy·W}.
 *
 * <p>All three gradients are F32 whatever the compute dtype: parameters and their state are F32, and {@code dx} is
 * a partial sum in the column-parallel form, summed over ranks before any rounding (a layer may write {@code dx}
 * and {@code dA} into one packed buffer, {@link Tensor#viewBytes}, for its one all-reduce). x, W, A and B share the
 * forward's dtype; dy may be any float dtype. DoRA's column scale is not taken: its training is not built.
 *
 * <p>On a GPU ({@link LoraLinearBackwardCuda}) the same steps are queued on the context's stream with no host wait:
 * {@code xs} by the forward's shrink GEMM, the other products by cuBLAS (f32 compute) where it is found and both
 * operands share a dtype, else by a tiled kernel that reads each operand in its own dtype (backward_gemm.cu); F32
 * accumulation throughout, {@code dx} as {@code dy·W} then {@code + s·g·A}. The sums run in other orders than the
 * CPU's: the two agree to f32 rounding, and the bit-for-bit sharding identities above are the CPU path's.
 */
public final class LoraLinearBackward {
    private static final String OP = "LoRA linear backward";

    private LoraLinearBackward() {
    }

    /**
     * The three F32 gradients of one call; owns them when {@link #backward} allocated them.
     *
     * @param dx the input's gradient, F32 {@code [T, K]}
     * @param dA A's gradient, F32 {@code [R, K]}
     * @param dB B's gradient, F32 {@code [N, R]}
     */
    public record Gradients(Tensor dx, Tensor dA, Tensor dB) implements AutoCloseable {
        @Override
        public void close() {
            dx.close();
            dA.close();
            dB.close();
        }
    }

    /**
     * {@code dx}, {@code dA} and {@code dB} as above, F32, allocated on {@code ctx}.
     *
     * @param x     {@code [T, K]}, the forward's input
     * @param w     {@code [N, K]} like x (frozen)
     * @param a     {@code [R, K]} like x
     * @param b     {@code [N, R]} like x
     * @param scale the forward's {@code s}
     * @param dy    {@code [T, N]}, F32, F16 or BF16
     * @param ctx the context the gradients are allocated on and the work queued on; the tensors live on its device
     * @return the three gradients, owned by the caller (closing the record closes them)
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, {@code R} is outside
     *     {@code [1, 256]}, or {@code scale} is not finite
     */
    public static Gradients backward(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                                     Tensor dy) {
        check(ctx, x, w, a, b, scale, dy);
        long t = x.dim(0);
        long k = x.dim(1);
        Tensor dx = Tensor.allocate(ctx, DType.F32, t, k);
        Tensor dA = null;
        Tensor dB = null;
        try {
            dA = Tensor.allocate(ctx, DType.F32, a.dim(0), k);
            dB = Tensor.allocate(ctx, DType.F32, w.dim(0), a.dim(0));
            run(ctx, x, w, a, b, scale, dy, dx, dA, dB);
            return new Gradients(dx, dA, dB);
        } catch (RuntimeException e) {
            dx.close();
            if (dA != null) {
                dA.close();
            }
            if (dB != null) {
                dB.close();
            }
            throw e;
        }
    }

    /**
     * As {@link #backward(ExecutionContext, Tensor, Tensor, Tensor, Tensor, float, Tensor)}, into F32 tensors.
     *
     * @param ctx the context the work is queued on; the tensors live on its device
     * @param x {@code [T, K]}, the forward's input
     * @param w {@code [N, K]} like x (frozen)
     * @param a {@code [R, K]} like x
     * @param b {@code [N, R]} like x
     * @param scale the forward's {@code s}, finite
     * @param dy {@code [T, N]}, F32, F16 or BF16
     * @param dx F32 {@code [T, K]} on x's device, overwritten (a view into a packed buffer will do)
     * @param dA F32 {@code [R, K]} on x's device, overwritten
     * @param dB F32 {@code [N, R]} on x's device, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, {@code R} is outside
     *     {@code [1, 256]}, or {@code scale} is not finite
     */
    public static void backward(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor dy,
                                Tensor dx, Tensor dA, Tensor dB) {
        check(ctx, x, w, a, b, scale, dy);
        BackwardChecks.requireF32(OP, "dx", dx, x, x.dim(0), x.dim(1));
        BackwardChecks.requireF32(OP, "dA", dA, x, a.dim(0), x.dim(1));
        BackwardChecks.requireF32(OP, "dB", dB, x, w.dim(0), a.dim(0));
        run(ctx, x, w, a, b, scale, dy, dx, dA, dB);
    }

    private static void run(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor dy,
                            Tensor dx, Tensor dA, Tensor dB) {
        if (ctx.isCuda()) {
            LoraLinearBackwardCuda.run(ctx, x, w, a, b, scale, dy, dx, dA, dB);
            return;
        }
        long t = x.dim(0);
        long r = a.dim(0);
        try (Tensor xs = Tensor.allocate(Device.CPU, LoraLinear.intermediateDtype(x.dtype()), t, r);
             Tensor g = Tensor.allocate(Device.CPU, DType.F32, t, r)) {
            LoraLinearCpu.shrink(x, a, scale, xs);
            CpuGemmRows.multiplyNN(operand(dy), operand(b), 1f, g.hostSegment(), r);
            CpuGemmRows.multiply(List.of(Term.nn(1f, operand(dy), operand(w)), Term.nn(scale, operand(g), operand(a))),
                    dx.hostSegment(), x.dim(1));
            CpuGemmRows.multiplyTN(operand(g), operand(x), scale, dA.hostSegment(), x.dim(1));
            CpuGemmRows.multiplyTN(operand(dy), operand(xs), 1f, dB.hostSegment(), r);
        }
    }

    private static void check(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor dy) {
        if (!x.dtype().isFloatingPoint() || x.rank() != 2) {
            throw new IllegalArgumentException(OP + ": x must be F32, F16 or BF16 of shape [T, K], got "
                    + x.describe());
        }
        long k = x.dim(1);
        expect("W", w, x, -1, k);
        expect("A", a, x, -1, k);
        long r = a.dim(0);
        if (r < 1 || r > LoraLinear.MAX_RANK) {
            throw new IllegalArgumentException(OP + ": rank " + r + " (A " + a.describe() + ") is outside [1, "
                    + LoraLinear.MAX_RANK + "]");
        }
        expect("B", b, x, w.dim(0), r);
        if (!dy.dtype().isFloatingPoint() || dy.rank() != 2 || dy.dim(0) != x.dim(0) || dy.dim(1) != w.dim(0)
                || !dy.device().equals(x.device())) {
            throw new IllegalArgumentException(OP + ": dy must be [" + x.dim(0) + ", " + w.dim(0)
                    + "] F32, F16 or BF16 on " + x.device() + ", got " + dy.describe());
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(OP + ": the scale s must be finite, got " + scale);
        }
        ctx.requireOn(OP, x);
    }

    private static void expect(String name, Tensor t, Tensor x, long rows, long cols) {
        if (t.dtype() != x.dtype() || t.rank() != 2 || (rows >= 0 && t.dim(0) != rows) || t.dim(1) != cols
                || !t.device().equals(x.device())) {
            throw new IllegalArgumentException(OP + ": " + name + " must be [" + (rows >= 0 ? rows : "rows") + ", "
                    + cols + "] " + x.dtype() + " on " + x.device() + ", got " + t.describe());
        }
    }
}
