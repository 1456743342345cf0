package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The backward of the SwiGLU gate {@code a = silu(g)⊙u} ({@link Elementwise#siluMul}), element by element:
 * <pre>
 *   dg = da⊙u⊙silu'(g)        silu'(g) = σ(g)·(1 + g·(1 − σ(g)))        σ(g) = 1 / (1 + e^−g)
 *   du = da⊙silu(g)           silu(g)  = g / (1 + e^−g)
 * </pre>
 * computed in f32 ({@code silu(g)} as the forward computes it) and written once as F32, whatever the dtype of
 * {@code g} and {@code u}: gradients are F32. Where {@code e^−g} overflows f32 ({@code g < −88}), {@code σ = 0}
 * and both gradients are 0 (or −0), never NaN. On a GPU the same f32 arithmetic runs as one kernel queued on the
 * context's stream ({@link SwiGluBackwardCuda}), {@code silu(g)} as {@code g·σ} there (one division per element, not
 * two), agreeing with the CPU within an ulp or two and {@code expf}'s error.
 */
public final class SwiGluBackward {
    private static final String OP = "SwiGLU backward";

    private SwiGluBackward() {
    }

    /**
     * {@code dg} and {@code du}, F32 of the gate's shape; owns them when {@link #backward} allocated them.
     *
     * @param dGate the gate's gradient {@code dg}, F32
     * @param dUp the up projection's gradient {@code du}, F32
     */
    public record Gradients(Tensor dGate, Tensor dUp) implements AutoCloseable {
        @Override
        public void close() {
            dGate.close();
            dUp.close();
        }
    }

    /**
     * {@code dg} and {@code du} as above, allocated on {@code ctx}.
     *
     * @param gate {@code g}, the forward's gate input
     * @param up   {@code u}, of g's shape, dtype and device
     * @param da   the gradient of {@code a}, of g's shape and device, F32, F16 or BF16
     * @param ctx the context the gradients are allocated on and the work queued on; the tensors live on its device
     * @return both gradients, owned by the caller (closing the record closes them)
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static Gradients backward(ExecutionContext ctx, Tensor gate, Tensor up, Tensor da) {
        check(ctx, gate, up, da);
        Tensor dg = Tensor.allocate(ctx, DType.F32, gate.shape());
        try {
            Tensor du = Tensor.allocate(ctx, DType.F32, gate.shape());
            try {
                run(ctx, gate, up, da, dg, du);
                return new Gradients(dg, du);
            } catch (RuntimeException e) {
                du.close();
                throw e;
            }
        } catch (RuntimeException e) {
            dg.close();
            throw e;
        }
    }

    /**
     * As {@link #backward(ExecutionContext, Tensor, Tensor, Tensor)}, into F32 tensors of the gate's shape.
     *
     * @param ctx the context the work is queued on; the tensors live on its device
     * @param gate {@code g}, the forward's gate input, F32, F16 or BF16
     * @param up {@code u}, of g's shape, dtype and device
     * @param da the gradient of {@code a}, of g's shape and device, F32, F16 or BF16
     * @param dGate F32 of g's shape on its device, overwritten
     * @param dUp F32 of g's shape on its device, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void backward(ExecutionContext ctx, Tensor gate, Tensor up, Tensor da, Tensor dGate, Tensor dUp) {
        check(ctx, gate, up, da);
        for (Tensor out : new Tensor[] {dGate, dUp}) {
            if (out.dtype() != DType.F32 || !Arrays.equals(out.shape(), gate.shape())
                    || !out.device().equals(gate.device())) {
                throw new IllegalArgumentException(OP + ": gradients must be F32 " + Arrays.toString(gate.shape())
                        + " on " + gate.device() + ", got " + out.describe());
            }
        }
        run(ctx, gate, up, da, dGate, dUp);
    }

    private static void run(ExecutionContext ctx, Tensor gate, Tensor up, Tensor da, Tensor dGate, Tensor dUp) {
        if (ctx.isCuda()) {
            SwiGluBackwardCuda.run(ctx, gate, up, da, dGate, dUp);
            return;
        }
        DType d = gate.dtype();
        DType dd = da.dtype();
        MemorySegment g = gate.hostSegment();
        MemorySegment u = up.hostSegment();
        MemorySegment a = da.hostSegment();
        MemorySegment dg = dGate.hostSegment();
        MemorySegment du = dUp.hostSegment();
        for (long i = 0; i < gate.numel(); i++) {
            float x = d.getFloat(g, i);
            float grad = dd.getFloat(a, i);
            float e = 1f + (float) Math.exp(-x);
            float sigma = 1f / e;
            DType.F32.setFloat(dg, i, grad * d.getFloat(u, i) * (sigma * (1f + x * (1f - sigma))));
            DType.F32.setFloat(du, i, grad * (x / e));
        }
    }

    private static void check(ExecutionContext ctx, Tensor gate, Tensor up, Tensor da) {
        if (!gate.dtype().isFloatingPoint() || gate.dtype() != up.dtype() || !Arrays.equals(gate.shape(), up.shape())
                || !gate.device().equals(up.device())) {
            throw new IllegalArgumentException(OP + ": gate and up must be float tensors of one shape, dtype and "
                    + "device, got " + gate.describe() + " and " + up.describe());
        }
        if (!da.dtype().isFloatingPoint() || !Arrays.equals(da.shape(), gate.shape())
                || !da.device().equals(gate.device())) {
            throw new IllegalArgumentException(OP + ": da must be a float tensor of the gate's shape "
                    + Arrays.toString(gate.shape()) + " on " + gate.device() + ", got " + da.describe());
        }
        ctx.requireOn(OP, gate);
    }
}
