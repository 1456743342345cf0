package io.tpkernels.ops;

import static io.tpkernels.cuda.sources.KernelConstants.BACKWARD_GEMM_BM;
import static io.tpkernels.cuda.sources.KernelConstants.BACKWARD_GEMM_BN;
import static io.tpkernels.cuda.sources.KernelConstants.BACKWARD_GEMM_THREADS;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * The GEMMs of the backward on a GPU, queued on the context's stream, F32 out with f32 accumulation:
 * <pre>
 *   out[M, N] = alpha·op(A)·B  (+ out when accumulating)      op(A) = A [M, K] or Aᵀ (A stored [K, M]), B [K, N]
 * </pre>
 * cuBLAS ({@link CublasGemm}) where it is found and A and B share a dtype; otherwise {@code tpk_backward_gemm_<a>_<b>}
 * (backward_gemm.cu), which reads each operand in its own dtype, so an F32 gradient meets a BF16 weight without a
 * copy of either.
 */
final class BackwardGemmCuda {
    private BackwardGemmCuda() {
    }

    /** {@code rows × cols} of {@code tensor}'s elements, row-major, rows {@code ld} elements apart. */
    record Matrix(Tensor tensor, long rows, long cols, long ld) {
        static Matrix of(Tensor t) {
            return new Matrix(t, t.dim(0), t.dim(1), t.dim(1));
        }
    }

    /** {@code out = alpha·a·b (+ out)}: {@code a [M, K]}, {@code b [K, N]}, {@code out} F32 {@code [M, N]}. */
    static void nn(ExecutionContext ctx, Matrix a, Matrix b, float alpha, boolean accumulate, Tensor out) {
        multiply(ctx, a, false, b, alpha, accumulate, out, CublasGemm.isAvailable());
    }

    /** {@code out = alpha·aᵀ·b (+ out)}: {@code a [K, M]}, {@code b [K, N]}, {@code out} F32 {@code [M, N]}. */
    static void tn(ExecutionContext ctx, Matrix a, Matrix b, float alpha, boolean accumulate, Tensor out) {
        multiply(ctx, a, true, b, alpha, accumulate, out, CublasGemm.isAvailable());
    }

    /** As {@link #nn} or {@link #tn}; {@code cublas} false keeps to the kernel of backward_gemm.cu. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void multiply(ExecutionContext ctx, Matrix a, boolean transposeA, Matrix b, float alpha, boolean accumulate,
                         Tensor out, boolean cublas) {
        long m = transposeA ? a.cols() : a.rows();
        long k = transposeA ? a.rows() : a.cols();
        long n = b.cols();
        check(ctx, a, b, k, m, n, out);
        if (m == 0 || n == 0) {
            return;
        }
        try (Memory.Access use = Tensor.acquireAll(a.tensor(), b.tensor(), out)) {
            if (k == 0) { // nothing to sum: zeros, or out unchanged (no operand pointer is read)
                if (!accumulate) {
                    ctx.cudaDevice().makeCurrent();
                    CudaDriver.memsetD8Async(out.devicePointer(), (byte) 0, out.byteSize(), ctx.stream().handle());
                }
            } else if (cublas && a.tensor().dtype() == b.tensor().dtype()) {
                // cuBLAS reads a host alpha during the call: the arena may close when it returns.
                try (Arena scalars = Arena.ofConfined()) {
                    CublasGemm.multiplyRowMajor(ctx, transposeA, Math.toIntExact(m), Math.toIntExact(n),
                            Math.toIntExact(k), a.tensor().dtype(), a.tensor().devicePointer(), a.ld(),
                            b.tensor().devicePointer(), b.ld(), scalars.allocateFrom(ValueLayout.JAVA_FLOAT, alpha),
                            accumulate ? CublasGemm.ONE : CublasGemm.ZERO, out.devicePointer(), out.dim(1));
                }
            } else {
                ctx.kernel(KernelNames.MODULE_BACKWARD_GEMM, kernelName(a.tensor().dtype(), b.tensor().dtype()))
                        .launch(ctx, Math.toIntExact((m + BACKWARD_GEMM_BM - 1) / BACKWARD_GEMM_BM),
                                Math.toIntExact((n + BACKWARD_GEMM_BN - 1) / BACKWARD_GEMM_BN), 1,
                                BACKWARD_GEMM_THREADS, 1, 1, 0,
                                KernelArgs.begin().ptr(out.devicePointer()).ptr(a.tensor().devicePointer())
                                        .ptr(b.tensor().devicePointer()).i32(Math.toIntExact(m))
                                        .i32(Math.toIntExact(n)).i32(Math.toIntExact(k)).i64(a.ld()).i64(b.ld())
                                        .i64(out.dim(1)).i32(transposeA ? 1 : 0).f32(alpha).i32(accumulate ? 1 : 0));
            }
        }
        ctx.wrote(out);
    }

    private static String kernelName(DType a, DType b) {
        return "tpk_backward_gemm_" + a.name().toLowerCase(Locale.ROOT) + "_" + b.name().toLowerCase(Locale.ROOT);
    }

    /** Shapes, strides, dtypes and devices, checked here: a kernel would read or write past them without a word. */
    private static void check(ExecutionContext ctx, Matrix a, Matrix b, long k, long m, long n, Tensor out) {
        if (b.rows() != k || out.dtype() != DType.F32 || out.rank() != 2 || out.dim(0) != m || out.dim(1) != n) {
            throw new IllegalArgumentException("backward GEMM: op(A) [" + m + ", " + k + "], B [" + b.rows() + ", "
                    + n + "] and out F32 [" + m + ", " + n + "], got out " + out.describe());
        }
        for (Matrix x : new Matrix[] {a, b}) {
            Tensor t = x.tensor();
            boolean fits = x.rows() == 0 || x.cols() == 0 || (x.ld() >= x.cols()
                    && (x.rows() - 1) * x.ld() + x.cols() <= t.numel());
            if (!t.dtype().isFloatingPoint() || !fits) {
                throw new IllegalArgumentException("backward GEMM: a " + x.rows() + " x " + x.cols() + " operand, rows "
                        + x.ld() + " apart, of F32, F16 or BF16 does not fit " + t.describe());
            }
        }
        for (Tensor t : new Tensor[] {a.tensor(), b.tensor(), out}) {
            ctx.requireOn("backward GEMM", t);
        }
    }
}
