package io.tpkernels.ops;

import io.tpkernels.ffm.cublas.Cublas;
import io.tpkernels.ffm.cublas.CublasApi;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * cuBLAS's GEMM on tensors ({@code cublasGemmEx}, f32 compute): the yardstick the hand-written kernels are
 * measured against, and an optional LM-head path. Handles are pooled per device and stream (see {@link #IDLE}).
 */
public final class CublasGemm {
    static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    static final MemorySegment ZERO = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    /**
     * Idle handles per device and stream. A handle must not be used by two threads at once, but may pass from one
     * thread to another: each call takes one and gives it back, so there are never more than the most calls made
     * at once (a handle per thread, kept for the thread's life, leaked one per rank thread of every LocalGroup
     * run). A handle stays with one stream: its workspace is then only ever used in that stream's order.
     */
    private static final Map<StreamKey, Queue<MemorySegment>> IDLE = new ConcurrentHashMap<>();

    private record StreamKey(CudaDevice device, long ctx) {
    }

    private CublasGemm() {
    }

    /**
     * Whether cuBLAS was found.
     *
     * @return whether the cuBLAS library was found and loaded
     */
    public static boolean isAvailable() {
        return Cublas.isAvailable();
    }

    /**
     * Whether {@code cublasGemmEx} with f32 compute takes inputs of {@code in} and an output of {@code out}: F16 and
     * BF16 into their own type or F32, F32 into F32 (cuBLAS's table of {@code CUBLAS_COMPUTE_32F} type combinations).
     *
     * @param in the dtype of both inputs
     * @param out the output's dtype
     * @return whether the combination is supported
     */
    public static boolean supports(DType in, DType out) {
        return switch (in) {
            case F32 -> out == DType.F32;
            case F16, BF16 -> out == in || out == DType.F32;
            default -> false;
        };
    }

    /**
     * Queues {@code out[t, j] = Σ_k x[t, k]·w[j, k]} for {@code j < w.rows} on {@code stream}; {@code out}'s other
     * columns are left alone. {@code x}, {@code w} F32, F16 or BF16 (the same), {@code out} as {@link #supports}
     * says, all on the stream's device.
     *
     * @param ctx the context whose stream the GEMM is queued on; every tensor lives on its device
     * @param x {@code [T, K]} F32, F16 or BF16
     * @param w {@code [N, K]} of x's dtype
     * @param out {@code [T, S]} with {@code S >= N}, of a dtype {@link #supports} accepts
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     * @throws IllegalStateException on the CPU context, or when cuBLAS is not available
     * @throws io.tpkernels.ffm.cublas.CublasException when cuBLAS fails the call
     */
    public static void multiplyNT(ExecutionContext ctx, Tensor x, Tensor w, Tensor out) {
        multiplyNT(ctx, x, w, out, ONE, ZERO);
    }

    /**
     * {@code out = alpha·x·wᵀ + beta·out} on the valid columns; {@code alpha}, {@code beta} f32 in host memory.
     *
     * @param ctx the context whose stream the GEMM is queued on; every tensor lives on its device
     * @param x {@code [T, K]} F32, F16 or BF16
     * @param w {@code [N, K]} of x's dtype
     * @param out {@code [T, S]} with {@code S >= N}, of a dtype {@link #supports} accepts
     * @param alpha the product's factor, a host f32 ({@link #scalar})
     * @param beta the factor of {@code out}'s old values, a host f32 ({@link #scalar})
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     * @throws IllegalStateException on the CPU context, or when cuBLAS is not available
     * @throws io.tpkernels.ffm.cublas.CublasException when cuBLAS fails the call
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public static void multiplyNT(ExecutionContext ctx, Tensor x, Tensor w, Tensor out, MemorySegment alpha,
                                  MemorySegment beta) {
        try (Memory.Access use = Tensor.acquireAll(x, w, out)) {
            check(x, w, out, ctx);
            CudaDevice device = ctx.cudaDevice();
            device.makeCurrent();
            int t = Math.toIntExact(x.dim(0));
            int k = Math.toIntExact(x.dim(1));
            int n = Math.toIntExact(w.dim(0));
            if (t == 0 || n == 0) {
                return;
            }
            withHandle(ctx, handle ->
                    // Row-major out[T, S] is column-major [S, T]: out = W·Xᵀ there, with W read transposed.
                    Cublas.gemmEx(handle, CublasApi.CUBLAS_OP_T, CublasApi.CUBLAS_OP_N, n, t, k, alpha,
                            w.devicePointer(), type(w.dtype()), Math.max(1, k), x.devicePointer(), type(x.dtype()),
                            Math.max(1, k), beta, out.devicePointer(), type(out.dtype()), Math.toIntExact(out.dim(1)),
                            CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT));
        }
    }

    /**
     * Queues, on row-major matrices given by device pointer and row stride (elements), the F32
     * {@code c[M, N] = alpha·op(a)·b + beta·c}: {@code op(a) = a} stored {@code [M, K]}, or {@code aᵀ} with {@code a}
     * stored {@code [K, M]} when {@code transposeA}; {@code b} stored {@code [K, N]}; {@code a} and {@code b} of one
     * dtype. The caller has checked shapes, strides and devices and holds the memory; {@code alpha}, {@code beta}
     * are host f32.
     */
    static void multiplyRowMajor(ExecutionContext ctx, boolean transposeA, int m, int n, int k, DType dtype, long a,
                                 long lda, long b, long ldb, MemorySegment alpha, MemorySegment beta, long c,
                                 long ldc) {
        ctx.cudaDevice().makeCurrent();
        // Row-major c[M, N] is column-major cᵀ [N, M] = bᵀ·op(a)ᵀ: b as stored is column-major bᵀ, and a as stored is
        // column-major aᵀ, read as it is (op(a)ᵀ = aᵀ) or transposed back (op(a)ᵀ = a).
        withHandle(ctx, handle -> Cublas.gemmEx(handle, CublasApi.CUBLAS_OP_N,
                transposeA ? CublasApi.CUBLAS_OP_T : CublasApi.CUBLAS_OP_N, n, m, k, alpha, b, type(dtype),
                Math.toIntExact(ldb), a, type(dtype), Math.toIntExact(lda), beta, c, CublasApi.CUDA_R_32F,
                Math.toIntExact(ldc), CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT));
    }

    /** Runs {@code call} with an idle handle of {@code ctx}'s device and stream (see {@link #IDLE}), bound to it. */
    private static void withHandle(ExecutionContext ctx, Consumer<MemorySegment> call) {
        Queue<MemorySegment> idle = IDLE.computeIfAbsent(new StreamKey(ctx.cudaDevice(),
                ctx.stream().handle().address()), key -> new ConcurrentLinkedQueue<>());
        MemorySegment handle = idle.poll();
        if (handle == null) {
            handle = Cublas.create();
        }
        try {
            Cublas.setStream(handle, ctx.stream().handle());
            call.accept(handle);
        } finally {
            idle.add(handle);
        }
    }

    /** Shapes, dtypes and devices, checked here: cuBLAS would write past {@code out} without a word. */
    private static void check(Tensor x, Tensor w, Tensor out, ExecutionContext ctx) {
        if (x.rank() != 2 || w.rank() != 2 || out.rank() != 2 || w.dim(1) != x.dim(1) || out.dim(0) != x.dim(0)
                || out.dim(1) < w.dim(0)) {
            throw new IllegalArgumentException("cuBLAS GEMM: x [T, K], w [N, K] and out [T, >= N], got x "
                    + x.describe() + ", w " + w.describe() + ", out " + out.describe());
        }
        if (x.dtype() != w.dtype() || !supports(x.dtype(), out.dtype())) {
            throw new IllegalArgumentException("cuBLAS GEMM: x and w of one type (F32, F16 or BF16) and out of that "
                    + "type or F32 (F32 only into F32), got x " + x.describe() + ", w " + w.describe() + ", out "
                    + out.describe());
        }
        for (Tensor t : new Tensor[] {x, w, out}) {
            if (!t.device().isCuda() || t.cudaDevice() != ctx.cudaDevice()) {
                throw new IllegalArgumentException("cuBLAS GEMM: every tensor on the stream's device "
                        + ctx.cudaDevice() + ", got " + t.describe() + " on " + t.device());
            }
        }
    }

    /**
     * A host f32 scalar for
     * {@link #multiplyNT(ExecutionContext, Tensor, Tensor, Tensor, MemorySegment, MemorySegment)}.
     *
     * @param v the value
     * @return host memory holding {@code v}, kept for the life of the process (make such scalars once, not per call)
     */
    public static MemorySegment scalar(float v) {
        return Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, v);
    }

    private static int type(DType d) {
        return switch (d) {
            case F32 -> CublasApi.CUDA_R_32F;
            case F16 -> CublasApi.CUDA_R_16F;
            case BF16 -> CublasApi.CUDA_R_16BF;
            default -> throw new IllegalArgumentException("cuBLAS GEMM takes F32, F16 or BF16, not " + d);
        };
    }
}
