package io.tpkernels.ops;

import io.tpkernels.ops.BackwardGemmCuda.Matrix;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * {@link LoraLinearBackward} on a GPU: the CPU path's steps as GEMMs queued on the context's stream
 * ({@link BackwardGemmCuda}, F32 out), no host wait; the two {@code [T, R]} intermediates are allocated and freed in
 * stream order.
 */
final class LoraLinearBackwardCuda {
    private LoraLinearBackwardCuda() {
    }

    static void run(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor dy, Tensor dx,
                    Tensor dA, Tensor dB) {
        long t = x.dim(0);
        long r = a.dim(0);
        try (Tensor xs = Tensor.allocate(ctx, LoraLinear.intermediateDtype(x.dtype()), t, r);
             Tensor g = Tensor.allocate(ctx, DType.F32, t, r)) {
            // xs = round(s·x·Aᵀ): the forward's own shrink, by the forward's own GEMM, rounded as it rounds it.
            GemmCuda.launch(x, a, null, null, null, null, r, scale, xs, ctx);
            BackwardGemmCuda.nn(ctx, Matrix.of(dy), Matrix.of(b), 1f, false, g);   // g = dy·B
            BackwardGemmCuda.nn(ctx, Matrix.of(dy), Matrix.of(w), 1f, false, dx);  // dx = dy·W
            BackwardGemmCuda.nn(ctx, Matrix.of(g), Matrix.of(a), scale, true, dx); // dx += s·g·A
            BackwardGemmCuda.tn(ctx, Matrix.of(g), Matrix.of(x), scale, false, dA); // dA = s·gᵀ·x
            BackwardGemmCuda.tn(ctx, Matrix.of(dy), Matrix.of(xs), 1f, false, dB); // dB = dyᵀ·xs
        }
    }
}
