package io.tpkernels.ops;

import io.tpkernels.ffm.cublas.Cublas;
import io.tpkernels.ffm.cublas.CublasApi;
import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * cuBLAS's GEMM on tensors ({@code cublasGemmEx}, f32 compute): the yardstick the hand-written kernels are
 * measured against, and an optional LM-head path. One handle per thread and device (cuBLAS handles must not
 * be shared between threads), created on first use and kept for the life of the thread.
 */
public final class CublasGemm {
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    private static final MemorySegment ZERO = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    private static final ThreadLocal<Map<CudaDevice, MemorySegment>> HANDLES = ThreadLocal.withInitial(HashMap::new);

    private CublasGemm() {
    }

    /** Whether cuBLAS was found. */
    public static boolean isAvailable() {
        return Cublas.isAvailable();
    }

    /**
     * Queues {@code out[t, j] = Σ_k x[t, k]·w[j, k]} for {@code j < w.rows} on {@code stream}; {@code out}'s other
     * columns are left alone. {@code x}, {@code w} F32, F16 or BF16 (the same), {@code out} F32 or BF16.
     */
    public static void multiplyNT(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        multiplyNT(x, w, out, ONE, ZERO, stream);
    }

    /** {@code out = alpha·x·wᵀ + beta·out} on the valid columns; {@code alpha}, {@code beta} f32 in host memory. */
    public static void multiplyNT(Tensor x, Tensor w, Tensor out, MemorySegment alpha, MemorySegment beta,
                                  CudaStream stream) {
        CudaDevice device = stream.device();
        device.makeCurrent();
        MemorySegment handle = HANDLES.get().computeIfAbsent(device, d -> Cublas.create());
        Cublas.setStream(handle, stream.handle());
        int t = Math.toIntExact(x.dim(0));
        int k = Math.toIntExact(x.dim(1));
        int n = Math.toIntExact(w.dim(0));
        if (t == 0 || n == 0) {
            return;
        }
        // Row-major out[T, S] is column-major [S, T]: out = W·Xᵀ there, with W read transposed.
        Cublas.gemmEx(handle, CublasApi.CUBLAS_OP_T, CublasApi.CUBLAS_OP_N, n, t, k, alpha,
                w.devicePointer(), type(w.dtype()), k, x.devicePointer(), type(x.dtype()), k, beta,
                out.devicePointer(), type(out.dtype()), Math.toIntExact(out.dim(1)),
                CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT);
    }

    /** A host f32 scalar for {@link #multiplyNT(Tensor, Tensor, Tensor, MemorySegment, MemorySegment, CudaStream)}. */
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
