package io.tpkernels.ops;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;

/**
 * {@link LmHead} on a GPU: the shared GEMM ({@link GemmCuda}) with −∞ padding columns, or cuBLAS where the context's
 * tuning asks ({@link Tuning.LmHeadBackend}): {@code KERNEL} the hand-written kernels; {@code CUBLAS} cuBLAS for the
 * valid columns and the padding kernel for the rest; {@code AUTO} times both once per shape (the token count rounded
 * up to a power of two above 16) and takes cuBLAS only where the hand-written kernel is more than 10% slower
 * ({@link MeasuredChoice}). cuBLAS is never taken where it is missing or where {@code cublasGemmEx} does not take the
 * dtypes ({@link CublasGemm#supports}). While the stream is being captured into a CUDA graph nothing is timed (timing
 * waits for the stream): {@code AUTO} takes the answer already found for the shape, else the hand-written kernel, so
 * a graph captured after a warm-up runs what the same call runs outside it.
 */
final class LmHeadCuda {
    private record Shape(CudaDevice device, DType in, DType out, long tokens, long hidden, long valid, long shard) {
    }

    private static final MeasuredChoice<Shape> AUTO = new MeasuredChoice<>();

    private LmHeadCuda() {
    }

    static void run(Tensor x, Tensor w, Tensor out, ExecutionContext ctx) {
        if (usesCublas(ctx.tuning().lmHeadBackend(), x, w, out, ctx)) {
            runCublas(x, w, out, ctx);
        } else {
            runKernel(x, w, out, ctx);
        }
    }

    /** Whether {@code backend} sends this product to cuBLAS (for {@code AUTO}, timing it first if it is new). */
    static boolean usesCublas(Tuning.LmHeadBackend backend, Tensor x, Tensor w, Tensor out, ExecutionContext ctx) {
        if (backend == Tuning.LmHeadBackend.KERNEL || !CublasGemm.isAvailable()
                || !CublasGemm.supports(x.dtype(), out.dtype()) || x.dim(0) == 0 || w.dim(0) == 0) {
            return false;
        }
        if (backend == Tuning.LmHeadBackend.CUBLAS) {
            return true;
        }
        Shape shape = new Shape(ctx.cudaDevice(), x.dtype(), out.dtype(), tokenBucket(x.dim(0)), x.dim(1), w.dim(0),
                out.dim(1));
        if (ctx.stream().isCapturing()) {
            return AUTO.known(shape).orElse(false);
        }
        return AUTO.useAlternative(shape, ctx, () -> runKernel(x, w, out, ctx),
                () -> runCublas(x, w, out, ctx));
    }

    /** Decode counts as they are (each is its own kernel shape); larger counts by the next power of two. */
    static long tokenBucket(long t) {
        return t <= GemmCuda.DECODE_MAX_T ? t : Long.highestOneBit(t - 1) << 1;
    }

    static void runKernel(Tensor x, Tensor w, Tensor out, ExecutionContext ctx) {
        GemmCuda.launch(x, w, null, null, null, null, w.dim(0), 1f, out, ctx);
    }

    /** cuBLAS for the valid columns, then the padding kernel for the −∞ columns. */
    static void runCublas(Tensor x, Tensor w, Tensor out, ExecutionContext ctx) {
        CublasGemm.multiplyNT(ctx, x, w, out);
        GemmCuda.padColumns(out, w.dim(0), ctx);
    }
}
