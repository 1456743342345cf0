package io.tpkernels.ops;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.Locale;

/**
 * {@link LmHead} on a GPU: the shared GEMM ({@link GemmCuda}) with −∞ padding columns, or cuBLAS where asked.
 *
 * <p>{@code -Dtpk.lmhead.backend} picks: {@code kernel} (the default) the hand-written kernels; {@code cublas} cuBLAS
 * for the valid columns and the padding kernel for the rest; {@code auto} times both once per shape (the token
 * count rounded up to a power of two above 16) and takes cuBLAS only where the hand-written kernel is more than 10%
 * slower ({@link MeasuredChoice}). cuBLAS is never taken where it is missing or where {@code cublasGemmEx} does
 * not take the dtypes ({@link CublasGemm#supports}). While the stream is being captured into a CUDA graph nothing is
 * timed (timing waits for the stream): {@code auto} takes the answer already found for the shape, else the
 * hand-written kernel, so a graph captured after a warm-up runs what the same call runs outside it.
 */
final class LmHeadCuda {
    enum Backend { KERNEL, CUBLAS, AUTO }

    private record Shape(CudaDevice device, DType in, DType out, long tokens, long hidden, long valid, long shard) {
    }

    private static final MeasuredChoice<Shape> AUTO = new MeasuredChoice<>();

    private LmHeadCuda() {
    }

    /** The backend {@code -Dtpk.lmhead.backend} names, read at each call so that a bad value is an error each time. */
    static Backend configured() {
        return backend(System.getProperty("tpk.lmhead.backend", "kernel"));
    }

    static Backend backend(String name) {
        try {
            return Backend.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tpk.lmhead.backend must be kernel, cublas or auto, got '" + name + "'");
        }
    }

    static void run(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        if (usesCublas(configured(), x, w, out, stream)) {
            runCublas(x, w, out, stream);
        } else {
            runKernel(x, w, out, stream);
        }
    }

    /** Whether {@code backend} sends this product to cuBLAS (for {@code AUTO}, timing it first if it is new). */
    static boolean usesCublas(Backend backend, Tensor x, Tensor w, Tensor out, CudaStream stream) {
        if (backend == Backend.KERNEL || !CublasGemm.isAvailable() || !CublasGemm.supports(x.dtype(), out.dtype())
                || x.dim(0) == 0 || w.dim(0) == 0) {
            return false;
        }
        if (backend == Backend.CUBLAS) {
            return true;
        }
        Shape shape = new Shape(stream.device(), x.dtype(), out.dtype(), tokenBucket(x.dim(0)), x.dim(1), w.dim(0),
                out.dim(1));
        if (stream.isCapturing()) {
            return AUTO.known(shape).orElse(false);
        }
        return AUTO.useAlternative(shape, stream, () -> runKernel(x, w, out, stream),
                () -> runCublas(x, w, out, stream));
    }

    /** Decode counts as they are (each is its own kernel shape); larger counts by the next power of two. */
    static long tokenBucket(long t) {
        return t <= GemmCuda.DECODE_MAX_T ? t : Long.highestOneBit(t - 1) << 1;
    }

    static void runKernel(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        GemmCuda.launch(x, w, null, null, null, null, w.dim(0), 1f, out, stream);
    }

    /** cuBLAS for the valid columns, then the padding kernel for the −∞ columns. */
    static void runCublas(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        CublasGemm.multiplyNT(x, w, out, stream);
        GemmCuda.padColumns(out, w.dim(0), stream);
    }
}
