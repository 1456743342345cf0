package io.tpkernels.ffm.cublas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibrary;
import io.tpkernels.ffm.OutParams;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuBLAS ({@code libcublas.so.13}, else {@code .12}) through FFM, found like the driver: the yardstick GEMM for
 * benchmarks and an optional dispatch. Every non-zero status becomes a {@link CublasException}.
 */
public final class Cublas {
    private Cublas() {
    }

    private static final NativeLibrary LIB = NativeLibrary.load(LibraryName.CUBLAS);

    private static final MethodHandle cublasCreate_v2 = LIB.downcall(CublasApi.cublasCreate_v2);
    private static final MethodHandle cublasDestroy_v2 = LIB.downcall(CublasApi.cublasDestroy_v2);
    private static final MethodHandle cublasSetStream_v2 = LIB.downcall(CublasApi.cublasSetStream_v2);
    private static final MethodHandle cublasGetVersion_v2 = LIB.downcall(CublasApi.cublasGetVersion_v2);
    private static final MethodHandle cublasGetStatusName = LIB.downcall(CublasApi.cublasGetStatusName);
    private static final MethodHandle cublasGemmEx = LIB.downcall(CublasApi.cublasGemmEx);

    /**
     * The library as loaded (or why not).
     *
     * @return the library, loaded or not
     */
    public static NativeLibrary library() {
        return LIB;
    }

    /**
     * Whether cuBLAS was loaded.
     *
     * @return {@code true} when cuBLAS can be used
     */
    public static boolean isAvailable() {
        return LIB.isLoaded();
    }

    /**
     * The symbolic name of a status: from {@code cublas_api.h}'s table (checked against the header at build time),
     * else from cuBLAS (a status newer than the table), else {@code CUBLAS_STATUS_UNKNOWN_STATUS_<n>}, as the
     * driver binding names a status it does not know.
     *
     * @param status a {@code cublasStatus_t}
     * @return its name
     */
    public static String statusName(int status) {
        for (CConstant c : CublasApi.CONSTANTS) {
            if (c.name().startsWith("CUBLAS_STATUS_") && c.value() == status) {
                return c.name();
            }
        }
        if (LIB.isLoaded()) {
            try {
                MemorySegment s = (MemorySegment) cublasGetStatusName.invokeExact(status);
                if (!s.equals(MemorySegment.NULL)) {
                    String name = s.reinterpret(128).getString(0);
                    if (!name.isEmpty() && !name.equals("CUBLAS_STATUS_UNKNOWN")) {
                        return name;
                    }
                }
            } catch (Throwable ignored) {
                // fall through to the generic name
            }
        }
        return "CUBLAS_STATUS_UNKNOWN_STATUS_" + status;
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new CublasException(status, call);
        }
    }

    /**
     * {@code cublasCreate_v2} in the calling thread's current context.
     *
     * @return the {@code cublasHandle_t}, which the caller destroys
     * @throws CublasException when cuBLAS returns an error status
     */
    public static MemorySegment create() {
        MemorySegment out = OutParams.get();
        try {
            check((int) cublasCreate_v2.invokeExact(out), "cublasCreate_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cublasDestroy_v2}.
     *
     * @param handle the {@code cublasHandle_t}
     * @throws CublasException when cuBLAS returns an error status
     */
    public static void destroy(MemorySegment handle) {
        try {
            check((int) cublasDestroy_v2.invokeExact(handle), "cublasDestroy_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cublasSetStream_v2}.
     *
     * @param handle the {@code cublasHandle_t}
     * @param stream the {@code CUstream} the handle's work is queued on from now on
     * @throws CublasException when cuBLAS returns an error status
     */
    public static void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check((int) cublasSetStream_v2.invokeExact(handle, stream), "cublasSetStream_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cublasGetVersion_v2}: e.g. 130000 for 13.0.0.
     *
     * @param handle the {@code cublasHandle_t}
     * @return the version, {@code 10000·major + 100·minor + patch}
     * @throws CublasException when cuBLAS returns an error status
     */
    public static int version(MemorySegment handle) {
        MemorySegment out = OutParams.get();
        try {
            check((int) cublasGetVersion_v2.invokeExact(handle, out), "cublasGetVersion_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cublasGemmEx} (column-major): {@code C = alpha·op(A)·op(B) + beta·C}. {@code alpha} and {@code beta}
     * point at f32 scalars in host memory (compute type 32F).
     *
     * @param handle the {@code cublasHandle_t}, bound to the stream to queue on
     * @param transA {@code CUBLAS_OP_N} or {@code CUBLAS_OP_T} for {@code A}
     * @param transB {@code CUBLAS_OP_N} or {@code CUBLAS_OP_T} for {@code B}
     * @param m the rows of {@code op(A)} and {@code C}
     * @param n the columns of {@code op(B)} and {@code C}
     * @param k the columns of {@code op(A)}, rows of {@code op(B)}
     * @param alpha host f32 scalar
     * @param a device address of {@code A}
     * @param aType {@code A}'s {@code cudaDataType}
     * @param lda {@code A}'s leading dimension, in elements
     * @param b device address of {@code B}
     * @param bType {@code B}'s {@code cudaDataType}
     * @param ldb {@code B}'s leading dimension, in elements
     * @param beta host f32 scalar
     * @param c device address of {@code C}
     * @param cType {@code C}'s {@code cudaDataType}
     * @param ldc {@code C}'s leading dimension, in elements
     * @param computeType a {@code cublasComputeType_t}
     * @param algo a {@code cublasGemmAlgo_t}
     * @throws CublasException when cuBLAS returns an error status
     */
    public static void gemmEx(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha,
                              long a, int aType, int lda, long b, int bType, int ldb, MemorySegment beta,
                              long c, int cType, int ldc, int computeType, int algo) {
        int s;
        try {
            s = (int) cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, alpha, MemorySegment.ofAddress(a),
                    aType, lda, MemorySegment.ofAddress(b), bType, ldb, beta, MemorySegment.ofAddress(c), cType, ldc,
                    computeType, algo);
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        if (s != 0) {
            throw new CublasException(s, "cublasGemmEx(m=" + m + ", n=" + n + ", k=" + k + ", lda=" + lda + ", ldb="
                    + ldb + ", ldc=" + ldc + ")");
        }
    }
}
