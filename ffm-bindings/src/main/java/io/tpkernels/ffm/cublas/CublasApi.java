package io.tpkernels.ffm.cublas;

import static io.tpkernels.ffm.CType.CONST_CHAR_PTR;
import static io.tpkernels.ffm.CType.CONST_VOID_PTR;
import static io.tpkernels.ffm.CType.INT;
import static io.tpkernels.ffm.CType.VOID_PTR;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.CFunction;
import io.tpkernels.ffm.CType;
import java.util.List;

/**
 * cuBLAS as this project uses it (the yardstick GEMM), declared in C terms for the signature test against
 * {@code cublas_v2.h}. The {@code _v2} names are what {@code cublas_v2.h} maps the plain names to.
 */
public final class CublasApi {
    private CublasApi() {
    }

    static final CType STATUS = CType.int32("cublasStatus_t");
    static final CType HANDLE = CType.pointer("cublasHandle_t");
    static final CType HANDLE_PTR = CType.pointer("cublasHandle_t *");
    static final CType STREAM = CType.pointer("cudaStream_t");
    static final CType OPERATION = CType.int32("cublasOperation_t");
    static final CType DATA_TYPE = CType.int32("cudaDataType");
    static final CType COMPUTE_TYPE = CType.int32("cublasComputeType_t");
    static final CType GEMM_ALGO = CType.int32("cublasGemmAlgo_t");
    static final CType INT_PTR = CType.pointer("int *");

    /** Creates a handle in the current context. */
    public static final CFunction cublasCreate_v2 = CFunction.of("cublasCreate_v2", STATUS, HANDLE_PTR);
    /** Destroys a handle. */
    public static final CFunction cublasDestroy_v2 = CFunction.of("cublasDestroy_v2", STATUS, HANDLE);
    /** Sets the stream a handle queues on. */
    public static final CFunction cublasSetStream_v2 = CFunction.of("cublasSetStream_v2", STATUS, HANDLE, STREAM);
    /** cuBLAS's version. */
    public static final CFunction cublasGetVersion_v2 = CFunction.of("cublasGetVersion_v2", STATUS, HANDLE, INT_PTR);
    /** The symbolic name of a {@code cublasStatus_t}. */
    public static final CFunction cublasGetStatusName = CFunction.of("cublasGetStatusName", CONST_CHAR_PTR, STATUS);
    /** The description of a {@code cublasStatus_t}. */
    public static final CFunction cublasGetStatusString = CFunction.of("cublasGetStatusString", CONST_CHAR_PTR, STATUS);
    /** A GEMM with per-operand data types and a compute type. */
    public static final CFunction cublasGemmEx = CFunction.of("cublasGemmEx", STATUS, HANDLE, OPERATION, OPERATION,
            INT, INT, INT, CONST_VOID_PTR, CONST_VOID_PTR, DATA_TYPE, INT, CONST_VOID_PTR, DATA_TYPE, INT,
            CONST_VOID_PTR, VOID_PTR, DATA_TYPE, INT, COMPUTE_TYPE, GEMM_ALGO);

    /** Every function bound. */
    public static final List<CFunction> FUNCTIONS = List.of(cublasCreate_v2, cublasDestroy_v2, cublasSetStream_v2,
            cublasGetVersion_v2, cublasGetStatusName, cublasGetStatusString, cublasGemmEx);

    /** {@code cublasOperation_t}: the operand as stored. */
    public static final int CUBLAS_OP_N = 0;
    /** {@code cublasOperation_t}: the operand transposed. */
    public static final int CUBLAS_OP_T = 1;
    /** {@code cudaDataType}: binary32. */
    public static final int CUDA_R_32F = 0;
    /** {@code cudaDataType}: binary16. */
    public static final int CUDA_R_16F = 2;
    /** {@code cudaDataType}: bfloat16. */
    public static final int CUDA_R_16BF = 14;
    /** {@code cublasComputeType_t}: f32 accumulation. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    /** {@code cublasGemmAlgo_t}: cuBLAS's heuristic choice. */
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    /** The constants above and the statuses, for the signature test. */
    public static final List<CConstant> CONSTANTS = List.of(
            new CConstant("CUBLAS_OP_N", CUBLAS_OP_N), new CConstant("CUBLAS_OP_T", CUBLAS_OP_T),
            new CConstant("CUDA_R_32F", CUDA_R_32F), new CConstant("CUDA_R_16F", CUDA_R_16F),
            new CConstant("CUDA_R_16BF", CUDA_R_16BF), new CConstant("CUBLAS_COMPUTE_32F", CUBLAS_COMPUTE_32F),
            new CConstant("CUBLAS_GEMM_DEFAULT", CUBLAS_GEMM_DEFAULT),
            new CConstant("CUBLAS_STATUS_SUCCESS", 0), new CConstant("CUBLAS_STATUS_NOT_INITIALIZED", 1),
            new CConstant("CUBLAS_STATUS_ALLOC_FAILED", 3), new CConstant("CUBLAS_STATUS_INVALID_VALUE", 7),
            new CConstant("CUBLAS_STATUS_ARCH_MISMATCH", 8), new CConstant("CUBLAS_STATUS_MAPPING_ERROR", 11),
            new CConstant("CUBLAS_STATUS_EXECUTION_FAILED", 13), new CConstant("CUBLAS_STATUS_INTERNAL_ERROR", 14),
            new CConstant("CUBLAS_STATUS_NOT_SUPPORTED", 15), new CConstant("CUBLAS_STATUS_LICENSE_ERROR", 16));
}
